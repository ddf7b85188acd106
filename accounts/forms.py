from __future__ import annotations

from typing import Any

from django import forms

from channels.models import Channel

from .models import ApiKey

EXPIRY_CHOICES = [
    ("30", "30 days"),
    ("90", "90 days"),
    ("365", "365 days"),
    ("never", "No expiry"),
]


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=ApiKey._meta.get_field("name").max_length,
        help_text="What the key is for, e.g. “laptop” or “GitHub Actions”.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    expiry = forms.ChoiceField(choices=EXPIRY_CHOICES, initial="90")
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.none(),
        required=False,
        to_field_name="name",
        empty_label="All my channels",
        help_text="Narrow the key to one channel.",
    )
    is_read_only = forms.BooleanField(
        required=False,
        label="Read-only",
        help_text="The key can download from private channels but not upload or "
        "delete.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only channels the user belongs to: anything else is "not a valid choice".
        self.fields["channel"].queryset = Channel.objects.filter(  # type: ignore[attr-defined]
            memberships__user=user
        ).order_by("name")

    @property
    def expires_in_days(self) -> int | None:
        value = self.cleaned_data["expiry"]
        return None if value == "never" else int(value)
