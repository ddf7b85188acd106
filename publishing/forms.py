"""Trusted-publisher forms (docs/trusted-publishing.md §4.2): parse and normalise.

The settings page and ``prefixhub addpublisher`` validate through the same forms.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

from .models import Provider

_GITHUB_OWNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$")
_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
_BAD_ENV_CHARS = re.compile(r"[\x00-\x1f\x7f\"'`,;\\]")


def _environment(value: str) -> str:
    if value != value.strip():
        raise forms.ValidationError("No leading or trailing spaces.")
    if _BAD_ENV_CHARS.search(value):
        raise forms.ValidationError(
            "No control characters, quotes, backticks, commas, semicolons or "
            "backslashes."
        )
    return value


def _workflow_file(value: str, *, allow_dirs: bool) -> str:
    if not value.endswith((".yml", ".yaml")):
        raise forms.ValidationError("The file name ends in .yml or .yaml.")
    if "\\" in value or (not allow_dirs and "/" in value):
        raise forms.ValidationError("Give the file name only, without a folder.")
    if value.startswith("/") or ".." in value.split("/"):
        raise forms.ValidationError("A relative path without '..'.")
    return value


class _PublisherForm(forms.Form):
    provider: str = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("prefix", self.provider)
        super().__init__(*args, **kwargs)

    def publisher_fields(self) -> dict[str, Any]:
        """The model fields of the publisher, normalised (after is_valid)."""
        raise NotImplementedError


class GitHubPublisherForm(_PublisherForm):
    provider = Provider.GITHUB
    owner = forms.CharField(max_length=39, help_text="User or organisation.")
    repository = forms.CharField(max_length=100)
    workflow = forms.CharField(
        max_length=255, label="Workflow file", help_text="e.g. release.yml"
    )
    environment = forms.CharField(max_length=255, required=False, strip=False)
    owner_id = forms.CharField(
        max_length=20,
        required=False,
        label="Owner ID",
        help_text="Optional: the numeric ID of the owner, recommended for "
        "important channels.",
    )

    def clean_owner(self) -> str:
        value: str = self.cleaned_data["owner"]
        if not _GITHUB_OWNER.match(value):
            raise forms.ValidationError("Letters, digits and '-', not first.")
        return value

    def clean_repository(self) -> str:
        value: str = self.cleaned_data["repository"]
        if not _NAME.match(value) or value in (".", ".."):
            raise forms.ValidationError("Letters, digits, '.', '_' and '-'.")
        return value

    def clean_workflow(self) -> str:
        return _workflow_file(self.cleaned_data["workflow"], allow_dirs=False)

    def clean_environment(self) -> str:
        return _environment(self.cleaned_data["environment"]).lower()

    def clean_owner_id(self) -> str:
        value: str = self.cleaned_data["owner_id"].strip()
        if value and (not value.isdigit() or int(value) <= 0):
            raise forms.ValidationError("A positive number.")
        return value

    def publisher_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "owner": data["owner"],
            "repository": data["repository"],
            "workflow_filename": data["workflow"],
            "environment": data["environment"],
            "owner_id": data["owner_id"] or None,
        }


class GitLabPublisherForm(_PublisherForm):
    provider = Provider.GITLAB
    namespace = forms.CharField(max_length=255, help_text="Group path or user name.")
    project = forms.CharField(max_length=255)
    pipeline_file = forms.CharField(
        max_length=255, required=False, help_text="Default: .gitlab-ci.yml"
    )
    environment = forms.CharField(max_length=255, required=False, strip=False)

    def clean_namespace(self) -> str:
        value: str = self.cleaned_data["namespace"]
        segments = value.split("/")
        if any(not _NAME.match(s) or s in (".", "..") for s in segments):
            raise forms.ValidationError(
                "'/'-separated segments of letters, digits, '.', '_' and '-'."
            )
        return value

    def clean_project(self) -> str:
        value: str = self.cleaned_data["project"]
        if not _NAME.match(value) or value.endswith((".git", ".atom")):
            raise forms.ValidationError(
                "Letters, digits, '.', '_' and '-'; not ending in .git or .atom."
            )
        return value

    def clean_pipeline_file(self) -> str:
        value = self.cleaned_data["pipeline_file"] or ".gitlab-ci.yml"
        return _workflow_file(value, allow_dirs=True)

    def clean_environment(self) -> str:
        return _environment(self.cleaned_data["environment"])

    def publisher_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "owner": data["namespace"],
            "repository": data["project"],
            "workflow_filename": data["pipeline_file"],
            "environment": data["environment"],
        }


class GooglePublisherForm(_PublisherForm):
    provider = Provider.GOOGLE
    email = forms.EmailField(max_length=254, label="Service account email")
    sub = forms.CharField(max_length=32, label="Unique ID")

    def clean_email(self) -> str:
        value: str = self.cleaned_data["email"].lower()
        if not value.endswith("gserviceaccount.com"):
            raise forms.ValidationError("A service account (…gserviceaccount.com).")
        return value

    def clean_sub(self) -> str:
        value: str = self.cleaned_data["sub"].strip()
        if not value.isdigit():
            raise forms.ValidationError("The account's numeric unique ID.")
        return value

    def publisher_fields(self) -> dict[str, Any]:
        return {"email": self.cleaned_data["email"], "sub": self.cleaned_data["sub"]}


FORMS: dict[str, type[_PublisherForm]] = {
    Provider.GITHUB: GitHubPublisherForm,
    Provider.GITLAB: GitLabPublisherForm,
    Provider.GOOGLE: GooglePublisherForm,
}
