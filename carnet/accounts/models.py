"""Users log in with their e-mail; patients are the people appointments are for."""

import uuid
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carnet.core.models import BaseModel
from carnet.vault.fields import SealedDateField, SealedTextField


class UserManager(BaseUserManager["User"]):
    """Creates users identified by e-mail."""

    use_in_migrations = True

    def create_user(
        self, email: str, password: str | None = None, **extra: Any
    ) -> "User":
        """Create a user with a normalised e-mail and a hashed password."""
        if not email:
            raise ValueError("users need an e-mail address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(
        self, email: str, password: str | None = None, **extra: Any
    ) -> "User":
        """Create a platform administrator."""
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Someone who logs in: a patient, a practitioner, staff or an administrator."""

    class Language(models.TextChoices):
        FR = "fr", "Français"
        DE = "de", "Deutsch"
        IT = "it", "Italiano"
        EN = "en", "English"

    email = models.EmailField(_("e-mail address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"), max_length=2, choices=Language, default=Language.FR
    )
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Can log into the administration site."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        """First and last name, or the e-mail when they are empty."""
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_short_name(self) -> str:
        """First name, or the e-mail."""
        return self.first_name or self.email


class Patient(BaseModel):
    """A person appointments are booked for (FHIR Patient).

    An account holder has one patient profile (`account`); the relatives they
    book for (children, parents...) are patients `managed_by` that profile and
    have no account of their own.
    """

    class Relationship(models.TextChoices):
        SELF = "self", pgettext_lazy("relationship", "self")
        CHILD = "child", pgettext_lazy("relationship", "child")
        PARENT = "parent", pgettext_lazy("relationship", "parent")
        SPOUSE = "spouse", pgettext_lazy("relationship", "spouse")
        OTHER = "other", pgettext_lazy("relationship", "other relative")

    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="patient",
    )
    managed_by = models.ForeignKey(
        "self",
        verbose_name=_("managed by"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="relatives",
    )
    relationship = models.CharField(
        _("relationship"),
        max_length=16,
        choices=Relationship,
        default=Relationship.SELF,
    )
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    # Health and contact data: ciphertext only, under this patient's data key.
    birth_date = SealedDateField(_("date of birth"), blank=True)
    phone = SealedTextField(_("phone"), blank=True, max_length=32)
    email = SealedTextField(_("contact e-mail"), blank=True, max_length=254)
    address = SealedTextField(_("postal address"), blank=True, max_length=500)
    national_health_id = SealedTextField(
        _("national health identifier"), blank=True, max_length=32
    )
    # Keyed blind indexes for exact-match lookups (carnet.vault.services.blind_index).
    phone_index = models.CharField(
        _("phone index"), max_length=64, blank=True, db_index=True
    )
    email_index = models.CharField(
        _("e-mail index"), max_length=64, blank=True, db_index=True
    )
    nhi_index = models.CharField(
        _("national health identifier index"), max_length=64, blank=True, db_index=True
    )
    # Keyed blind index of the date of birth (carnet.accounts.staff_patients), so
    # that the front desk can find a caller by it without the date in clear.
    birth_date_index = models.CharField(
        _("date of birth index"), max_length=64, blank=True, db_index=True
    )
    # The practice whose staff created this patient (booked by phone, no account):
    # it counts them among its patients before their first appointment.
    registered_by_practice = models.ForeignKey(
        "directory.Practice",
        verbose_name=_("registered by practice"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    vault_row = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=True) | Q(managed_by__isnull=True),
                name="patient_account_xor_managed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def vault_subject(self) -> str:
        """Each patient's data is sealed under their own key (erasable alone)."""
        return f"patient:{self.vault_row}"


class ApiToken(BaseModel):
    """A bearer token for the JSON API; only its SHA-256 digest is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"

    @property
    def is_active(self) -> bool:
        """Whether the token still authenticates."""
        return self.revoked_at is None


class StaffMembership(BaseModel):
    """A user's role at a practice: practitioner, secretary or practice admin.

    Platform administrators are superusers and need no membership. Every
    member must use multi-factor authentication before any access to
    patient data (carnet.accounts.roles.require_mfa).
    """

    class Role(models.TextChoices):
        PRACTITIONER = "practitioner", pgettext_lazy("staff role", "practitioner")
        SECRETARY = "secretary", pgettext_lazy("staff role", "secretary")
        PRACTICE_ADMIN = "practice_admin", pgettext_lazy("staff role", "practice admin")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    practice = models.ForeignKey(
        "directory.Practice",
        verbose_name=_("practice"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=16, choices=Role)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "practice", "role"], name="staff_membership_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} @ {self.practice_id}"


INVITATION_OPEN_CONSTRAINT = "invitation_one_open_per_role"


class Invitation(BaseModel):
    """An e-mailed invitation to join a practice's team in one role.

    Only the SHA-256 digest of the token is stored: the raw token travels in
    the e-mail once. An invitation is open until it is accepted, revoked or
    past `expires_at`; at most one per practice, address and role is open
    (expired ones included: sending a new one revokes them).
    """

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("invitation status", "pending")
        EXPIRED = "expired", pgettext_lazy("invitation status", "expired")
        ACCEPTED = "accepted", pgettext_lazy("invitation status", "accepted")
        REVOKED = "revoked", pgettext_lazy("invitation status", "withdrawn")

    practice = models.ForeignKey(
        "directory.Practice",
        verbose_name=_("practice"),
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=16, choices=StaffMembership.Role)
    token_digest = models.CharField(_("token digest"), max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("team invitation")
        verbose_name_plural = _("team invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "email", "role"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name=INVITATION_OPEN_CONSTRAINT,
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="invitation_not_accepted_and_revoked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} {self.role} @ {self.practice_id}"

    def status(self, now: datetime) -> str:
        """Where the invitation stands at `now` (a Status value)."""
        if self.accepted_at is not None:
            return self.Status.ACCEPTED
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if now >= self.expires_at:
            return self.Status.EXPIRED
        return self.Status.PENDING


class ReminderOffset(models.IntegerChoices):
    """When a reminder may be sent, in hours before the appointment."""

    ONE_WEEK = 168, _("one week before")
    TWO_DAYS = 48, _("two days before")
    ONE_DAY = 24, _("the day before")
    TWO_HOURS = 2, _("two hours before")


def default_reminder_offsets() -> list[int]:
    """The reminder times of a user who never chose: a week, two days and a day before."""
    return [
        ReminderOffset.ONE_WEEK.value,
        ReminderOffset.TWO_DAYS.value,
        ReminderOffset.ONE_DAY.value,
    ]


class NotificationPreferences(BaseModel):
    """How a user wants to be reminded of their (and their relatives') appointments.

    Read by the notifications context; a user without a row gets the
    defaults (carnet.accounts.selectors.get_notification_preferences).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    email_reminders = models.BooleanField(_("reminders by e-mail"), default=True)
    sms_reminders = models.BooleanField(_("reminders by SMS"), default=False)
    # ReminderOffset values, in hours, sorted from the earliest reminder.
    reminder_offsets = models.JSONField(
        _("reminder times (hours before)"), default=default_reminder_offsets
    )

    class Meta:
        verbose_name = _("notification preferences")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.reminder_offsets}"
