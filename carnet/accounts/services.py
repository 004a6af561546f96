"""Writes on accounts: users, patient profiles, relatives, API tokens."""

import hashlib
import secrets
from datetime import date

from django.db import transaction
from django.utils import timezone

from carnet.accounts.models import ApiToken, Patient, User
from carnet.vault.services import blind_index, destroy_subject

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


def _blind_indexes(
    *, phone: str, email: str, national_health_id: str, country: str | None
) -> dict[str, str]:
    """Keyed blind indexes of the contact fields; raises BlindIndexValueInvalid on a bad phone."""
    return {
        "phone_index": blind_index(kind="phone", value=phone, country=country)
        if phone
        else "",
        "email_index": blind_index(kind="email", value=email) if email else "",
        "nhi_index": blind_index(kind="nhi", value=national_health_id)
        if national_health_id
        else "",
    }


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
    address: str = "",
    national_health_id: str = "",
    country: str | None = None,
    contact_email: str | None = None,
) -> User:
    """Create a user with their own patient profile.

    Date of birth, phone, address and national health identifier are sealed
    under the new patient's own data key; phone, e-mail and identifier get
    keyed blind indexes for exact-match lookups. The login e-mail stays in
    clear on the user (it is how one logs in); `contact_email`, when given,
    is the sealed contact address (by default the login one). Raises BlindIndexValueInvalid
    for a phone number that cannot be read (nothing is created).
    """
    contact_email = email if contact_email is None else contact_email
    indexes = _blind_indexes(
        phone=phone,
        email=contact_email,
        national_health_id=national_health_id,
        country=country,
    )
    user = User.objects.create_user(
        email, password, first_name=first_name, last_name=last_name, language=language
    )
    Patient.objects.create(
        account=user,
        first_name=first_name,
        last_name=last_name,
        birth_date=birth_date,
        phone=phone,
        email=contact_email,
        address=address,
        national_health_id=national_health_id,
        **indexes,
    )
    return user


@transaction.atomic
def erase_patient_data(*, patient: Patient) -> None:
    """Crypto-shred a patient: destroy their data key, so every sealed value is gone.

    Every copy of their sealed data (reasons, date of birth, contact details;
    in backups too, once the key-encryption key that wrapped the key is
    retired) becomes unreadable. Blind indexes are cleared. Irreversible.
    """
    destroy_subject(subject=patient.vault_subject())
    Patient.objects.filter(pk=patient.pk).update(
        phone_index="", email_index="", nhi_index=""
    )


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
