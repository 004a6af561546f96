"""The reminder switches a practice's team sets: per channel for the practice, per motive.

The reminders engine (carnet.notifications.outbox) reads them when it plans
a patient's reminders; a patient's own choices (channels, times) only
narrow what the practice allows. Each change re-plans the reminders already
owed in the same transaction, so a switch turned off stops them and one
turned back on plans them again. The gate is the settings one
(MANAGE_SETTINGS: practitioners and practice administrators, with a second
factor), as for opening hours and motives.
"""

from datetime import datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest

from carnet.directory.models import Practice
from carnet.notifications import outbox
from carnet.scheduling import services as scheduling_services
from carnet.scheduling.errors import AgendaSettingsNotFound, MotiveNotFound
from carnet.scheduling.models import VisitMotive
from carnet.scheduling.selectors import (
    SETTINGS_PERMISSION,
    check_settings_access,
    get_managed_object,
)


@transaction.atomic
def update_practice_reminders(
    *,
    actor: AbstractBaseUser,
    practice_id: int,
    email_reminders_enabled: bool,
    sms_reminders_enabled: bool,
    now: datetime,
    request: HttpRequest | None = None,
) -> Practice:
    """Set whether the practice's reminders go by e-mail and by SMS.

    Locks the practice's row; re-plans its upcoming appointments' reminders
    when a switch changed (saving the same values changes nothing). Raises
    AgendaSettingsNotFound (no such practice, or not part of its team),
    SettingsForbidden or MfaRequired; nothing changes then.
    """
    check_settings_access(
        actor=actor,
        practice_id=practice_id,
        permission=SETTINGS_PERMISSION,
        request=request,
    )
    practice = Practice.objects.select_for_update().filter(pk=practice_id).first()
    if practice is None:
        raise AgendaSettingsNotFound()
    wanted = {
        "email_reminders_enabled": bool(email_reminders_enabled),
        "sms_reminders_enabled": bool(sms_reminders_enabled),
    }
    changed = [
        name for name, value in wanted.items() if getattr(practice, name) != value
    ]
    if changed:
        for name in changed:
            setattr(practice, name, wanted[name])
        practice.save(update_fields=[*changed, "updated_at"])
        outbox.replan_for_practice(practice_id=practice.pk, now=now)
    return practice


@transaction.atomic
def set_motive_reminders(
    *,
    actor: AbstractBaseUser,
    motive_id: int,
    reminders_enabled: bool,
    now: datetime,
    request: HttpRequest | None = None,
) -> VisitMotive:
    """Set whether appointments for motive `motive_id` get reminders.

    Locks the motive's row; re-plans its upcoming appointments' reminders
    when the switch changed. Raises MotiveNotFound (missing, or another
    practice's), SettingsForbidden or MfaRequired; nothing changes then.
    """
    get_managed_object(
        actor=actor,
        model=VisitMotive,
        pk=motive_id,
        permission=SETTINGS_PERMISSION,
        not_found=MotiveNotFound,
        request=request,
    )
    motive = VisitMotive.objects.select_for_update().get(pk=motive_id)
    if motive.reminders_enabled != bool(reminders_enabled):
        motive.reminders_enabled = bool(reminders_enabled)
        motive.save(update_fields=["reminders_enabled", "updated_at"])
        outbox.replan_for_motive(motive_id=motive.pk, now=now)
    return motive


@transaction.atomic
def create_motive(
    *,
    actor: AbstractBaseUser,
    agenda_id: int,
    reminders_enabled: bool,
    now: datetime,
    request: HttpRequest | None = None,
    **fields: Any,
) -> VisitMotive:
    """Add a visit motive (carnet.scheduling.services.create_motive) with its reminder switch.

    `fields` are create_motive's. A new motive has no appointment yet:
    nothing to re-plan. Raises create_motive's errors; nothing is created then.
    """
    motive = scheduling_services.create_motive(
        actor=actor, agenda_id=agenda_id, request=request, **fields
    )
    if not reminders_enabled:
        motive.reminders_enabled = False
        motive.save(update_fields=["reminders_enabled", "updated_at"])
    return motive


@transaction.atomic
def update_motive(
    *,
    actor: AbstractBaseUser,
    motive_id: int,
    reminders_enabled: bool,
    now: datetime,
    request: HttpRequest | None = None,
    **fields: Any,
) -> VisitMotive:
    """Change a visit motive (carnet.scheduling.services.update_motive) and its reminder switch.

    `fields` are update_motive's. Re-plans the motive's reminders when the
    switch changed (set_motive_reminders). Raises update_motive's errors;
    nothing changes then.
    """
    scheduling_services.update_motive(
        actor=actor, motive_id=motive_id, request=request, **fields
    )
    return set_motive_reminders(
        actor=actor,
        motive_id=motive_id,
        reminders_enabled=reminders_enabled,
        now=now,
        request=request,
    )
