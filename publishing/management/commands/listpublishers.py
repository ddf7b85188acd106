from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels.models import Channel
from publishing.models import TrustedPublisher


class Command(BaseCommand):
    help = "List the trusted publishers of a channel."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("channel")

    def handle(self, *args: Any, **options: Any) -> None:
        channel = Channel.objects.filter(name=options["channel"].lower()).first()
        if channel is None:
            raise CommandError(f"No channel named '{options['channel']}'.")
        for p in TrustedPublisher.objects.filter(channel=channel):
            details = [p.workflow_filename, p.environment and f"env={p.environment}"]
            if p.provider == "google":
                details = [f"sub={p.sub}"]
            elif p.owner_id:
                details.append(f"id={p.owner_id}")
            else:
                details.append("id not yet pinned")
            shown = " ".join(d for d in details if d)
            self.stdout.write(f"{p.pk}\t{p.provider}\t{p.identity}\t{shown}")
