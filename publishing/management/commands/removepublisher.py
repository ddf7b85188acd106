from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.credentials import ANONYMOUS
from channels.models import Channel
from publishing.models import TrustedPublisher
from publishing.publishers import remove_publisher


class Command(BaseCommand):
    help = "Remove a trusted publisher; the tokens it granted stop working at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("channel")
        parser.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        channel = Channel.objects.filter(name=options["channel"].lower()).first()
        publisher = TrustedPublisher.objects.filter(
            pk=options["id"], channel=channel
        ).first()
        if channel is None or publisher is None:
            raise CommandError(
                f"Channel '{options['channel']}' has no trusted publisher "
                f"{options['id']}."
            )
        remove_publisher(publisher, actor=ANONYMOUS)
        self.stdout.write(f"Removed trusted publisher {options['id']}: {publisher}")
