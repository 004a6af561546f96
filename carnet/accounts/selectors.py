"""Reads on accounts: token lookup, the patients a user may act for."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from carnet.accounts.errors import NoPatientProfile, RelativeNotFound
from carnet.accounts.models import ApiToken, Patient, User
from carnet.accounts.services import TOKEN_PREFIX, hash_token


def get_user_for_token(*, raw: str) -> User | None:
    """The active user a raw bearer token belongs to, or None; stamps its last use."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def get_own_patient(*, user: User) -> Patient:
    """The user's own patient profile; raises NoPatientProfile."""
    patient = Patient.objects.filter(account=user).first()
    if patient is None:
        raise NoPatientProfile()
    return patient


def list_patients_for_user(*, user: User) -> QuerySet[Patient]:
    """The user's own profile and their relatives: everyone they may book for."""
    return Patient.objects.filter(Q(account=user) | Q(managed_by__account=user))


def get_patient_for_user(*, user: User, patient_id: int | None) -> Patient:
    """The user's profile (no id) or one of their relatives; RelativeNotFound otherwise."""
    if patient_id is None:
        return get_own_patient(user=user)
    patient = list_patients_for_user(user=user).filter(pk=patient_id).first()
    if patient is None:
        raise RelativeNotFound()
    return patient
