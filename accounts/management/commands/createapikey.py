from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import ApiKey, User

MAX_DAYS = 3650  # ten years; beyond that a key should simply not expire


class Command(BaseCommand):
    help = "Create an API key for a user and print it (alone, on stdout). Shown once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user")
        parser.add_argument("--name", default="command line")
        parser.add_argument("--expires-in-days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user named '{options['user']}'.")
        days = options["expires_in_days"]
        if days is not None and not 0 < days <= MAX_DAYS:
            raise CommandError(f"--expires-in-days must be between 1 and {MAX_DAYS}.")
        _, secret = ApiKey.issue(user, name=options["name"], expires_in_days=days)
        self.stdout.write(secret)
