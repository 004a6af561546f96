from django.core.management.base import BaseCommand, CommandError

from carnet.accounts.models import User
from carnet.accounts.services import (
    mint_api_token,
)


class Command(BaseCommand):
    help = "Print a new bearer token for an existing user (stored hashed; shown once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="cli")

    def handle(self, *args, email: str, name: str, **options) -> None:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user with e-mail {email!r}.")
        _token, raw = mint_api_token(user=user, name=name)
        self.stdout.write(raw)
