"""Forms of the channel pages: they parse and validate, services do the work."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import User

from .models import Channel, Role
from .names import name_problem

VISIBILITY_CHOICES = [
    ("public", "Public: anyone can find and install its packages"),
    ("private", "Private: only members can see and install"),
]


def channel_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a new channel (format, reserved, taken), or None."""
    name = name.strip()
    if not name:
        return "Choose a name."
    problem = name_problem(name)
    if problem:
        return problem
    if Channel.objects.filter(name=name).exists():
        return f"A channel named '{name}' already exists."
    return None


class _Form(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class _ChannelFields(_Form):
    description = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One or two sentences shown on the channel page.",
    )
    visibility = forms.ChoiceField(
        choices=VISIBILITY_CHOICES, widget=forms.RadioSelect, initial="public"
    )
    logo_url = forms.URLField(
        required=False,
        max_length=500,
        label="Logo URL",
        assume_scheme="https",
        help_text="An https image URL, e.g. https://github.com/<org>.png",
    )

    def clean_logo_url(self) -> str:
        url: str = self.cleaned_data["logo_url"]
        if url and not url.startswith("https://"):
            raise forms.ValidationError("Use an https:// URL.")
        return url

    @property
    def is_private(self) -> bool:
        return self.cleaned_data["visibility"] == "private"


class ChannelCreateForm(_ChannelFields):
    name = forms.CharField(
        max_length=64,
        help_text="Lowercase letters, digits, '-' and '_'. It cannot change later.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autofocus": True}
        ),
    )
    field_order = ["name", "description", "visibility", "logo_url"]

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        problem = channel_name_problem(name)
        if problem:
            raise forms.ValidationError(problem)
        return name


class ChannelSettingsForm(_ChannelFields):
    @classmethod
    def for_channel(cls, channel: Channel, data: Any = None) -> ChannelSettingsForm:
        initial = {
            "description": channel.description,
            "visibility": "private" if channel.is_private else "public",
            "logo_url": channel.logo_url,
        }
        return cls(data=data, initial=initial)


MEMBER_ROLE_CHOICES = [
    (Role.CONTRIBUTOR.value, "Contributor"),
    (Role.VIEWER.value, "Viewer"),
]


class _ByUsername(_Form):
    username = forms.CharField(
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_username(self) -> User:
        # Exact match only: the page must never reveal or suggest other users.
        user = User.objects.filter(
            username=self.cleaned_data["username"].strip(), is_active=True
        ).first()
        if user is None:
            raise forms.ValidationError("No user with that username")
        return user


class AddMemberForm(_ByUsername):
    # The least privilege unless the owner asks for more.
    role = forms.ChoiceField(choices=MEMBER_ROLE_CHOICES, initial=Role.VIEWER)


class ChangeRoleForm(_Form):
    role = forms.ChoiceField(choices=MEMBER_ROLE_CHOICES)


class TransferForm(_ByUsername):
    """The new owner, by exact username; the service checks they are a member.

    ``confirmed`` is set by the second step, the page that names the new owner.
    """

    confirmed = forms.CharField(required=False, max_length=5, widget=forms.HiddenInput)

    @property
    def is_confirmed(self) -> bool:
        return self.cleaned_data.get("confirmed") == "true"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "New owner's username"


class DeleteChannelForm(_Form):
    confirm = forms.CharField(label="Type the channel's name to confirm", max_length=64)

    def __init__(self, *args: Any, channel: Channel, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channel = channel

    def clean_confirm(self) -> str:
        value: str = self.cleaned_data["confirm"].strip()
        if value != self.channel.name:
            raise forms.ValidationError("That is not this channel's name.")
        return value
