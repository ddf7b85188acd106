from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from channels.exceptions import ChannelError
from channels.services import create_channel


class Command(BaseCommand):
    help = "Create a channel owned by an existing user."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--owner", required=True)
        parser.add_argument("--private", action="store_true")
        parser.add_argument("--description", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = User.objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"No user named '{options['owner']}'.")
        try:
            channel = create_channel(
                options["name"],
                owner=owner,
                is_private=options["private"],
                description=options["description"],
            )
        except ChannelError as exc:
            raise CommandError(exc.message) from None
        kind = "private" if channel.is_private else "public"
        self.stdout.write(f"Created {kind} channel {channel.name}")
