"""Writes on accounts: users, patient profiles, relatives, API tokens."""

import hashlib
import secrets
from datetime import date

from django.db import transaction
from django.utils import timezone

from carnet.accounts.models import ApiToken, Patient, User

TOKEN_PREFIX = "crt_"  # noqa: S105 - a public prefix, not a secret


def hash_token(raw: str) -> str:
    """SHA-256 hex digest of a raw bearer token (tokens are high-entropy: no salt needed)."""
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def mint_api_token(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the raw token, shown once only."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:12], digest=hash_token(raw)
    )
    return token, raw


def revoke_api_token(*, token: ApiToken) -> None:
    """Revoke `token`; revoking twice keeps the first revocation instant."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@transaction.atomic
def create_patient_account(
    *,
    email: str,
    password: str | None,
    first_name: str,
    last_name: str,
    language: str = User.Language.FR,
    birth_date: date | None = None,
    phone: str = "",
) -> User:
    """Create a user with their own patient profile."""
    user = User.objects.create_user(
        email, password, first_name=first_name, last_name=last_name, language=language
    )
    Patient.objects.create(
        account=user,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
        phone=phone,
    )
    return user


def add_relative(
    *,
    holder: Patient,
    first_name: str,
    last_name: str,
    relationship: str,
    birth_date: date | None = None,
) -> Patient:
    """Add a relative that `holder` may book for."""
    return Patient.objects.create(
        managed_by=holder,
        relationship=relationship,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
    )
