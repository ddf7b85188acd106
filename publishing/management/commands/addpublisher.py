from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.credentials import ANONYMOUS
from channels.models import Channel
from publishing.exceptions import PublisherError
from publishing.forms import FORMS
from publishing.publishers import add_publisher

# Command-line option -> form field, per provider.
_OPTIONS = {
    "github": {"owner": "owner", "repository": "repository", "workflow": "workflow",
               "environment": "environment", "owner_id": "owner_id"},
    "gitlab": {"namespace": "namespace", "project": "project",
               "pipeline_file": "pipeline_file", "environment": "environment"},
    "google": {"email": "email", "sub": "sub"},
}  # fmt: skip


class Command(BaseCommand):
    help = (
        "Register a trusted publisher on a channel (for scripted deployments; the "
        "website's settings page does the same for the channel owner)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("channel")
        providers = parser.add_subparsers(dest="provider", required=True)
        github = providers.add_parser("github")
        github.add_argument("--owner", required=True)
        github.add_argument("--repository", required=True)
        github.add_argument("--workflow", required=True, help="e.g. release.yml")
        github.add_argument("--environment", default="")
        github.add_argument("--owner-id", dest="owner_id", default="")
        gitlab = providers.add_parser("gitlab")
        gitlab.add_argument("--namespace", required=True)
        gitlab.add_argument("--project", required=True)
        gitlab.add_argument("--pipeline-file", dest="pipeline_file", default="")
        gitlab.add_argument("--environment", default="")
        google = providers.add_parser("google")
        google.add_argument("--email", required=True)
        google.add_argument("--sub", required=True, help="the unique (numeric) ID")

    def handle(self, *args: Any, **options: Any) -> None:
        channel = Channel.objects.filter(name=options["channel"].lower()).first()
        if channel is None:
            raise CommandError(f"No channel named '{options['channel']}'.")
        provider = options["provider"]
        form_class = FORMS[provider]
        data = {
            f"{provider}-{field}": options[option]
            for option, field in _OPTIONS[provider].items()
        }
        form = form_class(data)
        if not form.is_valid():
            problems = "; ".join(
                f"{name}: {' '.join(str(e) for e in errors)}"
                for name, errors in form.errors.items()
            )
            raise CommandError(problems)
        try:
            publisher = add_publisher(
                channel,
                provider=provider,
                fields=form.publisher_fields(),
                actor=ANONYMOUS,
            )
        except PublisherError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Added trusted publisher {publisher.pk}: {publisher}")
