"""The patient file kept by a practice: clinical notes and flags.

Their content is health data: it is sealed under the patient's own data key
(carnet.vault), so crypto-shredding the patient erases it everywhere.

Notes are append-only in substance: a note can be corrected by its author,
and every correction keeps the text it replaces in a NoteRevision (sealed
the same way). Nothing is ever deleted, except by erasing the patient.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carnet.core.models import BaseModel
from carnet.vault.fields import SealedTextField

NOTE_MAX_LENGTH = 20000
FLAG_LABEL_MAX_LENGTH = 200


class ClinicalNote(BaseModel):
    """A practitioner's note about a patient, kept by one practice (FHIR DocumentReference).

    `text` is ciphertext at rest, under the patient's data key. `updated_at`
    moves when the author corrects it; the earlier texts are its revisions.
    """

    patient = models.ForeignKey(
        "accounts.Patient",
        verbose_name=_("patient"),
        on_delete=models.CASCADE,
        related_name="clinical_notes",
    )
    practice = models.ForeignKey(
        "directory.Practice",
        verbose_name=_("practice"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    appointment = models.ForeignKey(
        "booking.Appointment",
        verbose_name=_("appointment"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="clinical_notes",
    )
    text = SealedTextField(_("text"), max_length=NOTE_MAX_LENGTH)
    vault_row = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)

    class Meta:
        verbose_name = _("clinical note")
        verbose_name_plural = _("clinical notes")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["practice", "patient", "-created_at"],
                name="clinicalnote_practice_patient",
            ),
        ]

    def __str__(self) -> str:
        return f"note {self.pk} ({self.patient_id} @ {self.practice_id})"

    def vault_subject(self) -> str:
        """Sealed under the patient's own data key."""
        return self.patient.vault_subject()


class NoteRevision(models.Model):
    """A text a clinical note held before its author corrected it.

    Written by carnet.records.services.edit_note only, never changed.
    `written_at` is when that text was written (or last corrected),
    `replaced_at` when the correction replaced it.
    """

    note = models.ForeignKey(
        ClinicalNote,
        verbose_name=_("note"),
        on_delete=models.CASCADE,
        related_name="revisions",
    )
    text = SealedTextField(_("text"), max_length=NOTE_MAX_LENGTH)
    written_at = models.DateTimeField(_("written at"))
    replaced_at = models.DateTimeField(_("replaced at"))
    vault_row = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)

    class Meta:
        verbose_name = _("note revision")
        verbose_name_plural = _("note revisions")
        ordering = ["-replaced_at", "-pk"]

    def __str__(self) -> str:
        return f"revision {self.pk} of note {self.note_id}"

    def vault_subject(self) -> str:
        """Sealed under the patient's own data key, like the note."""
        return self.note.patient.vault_subject()


class PatientFlag(BaseModel):
    """Something the team must know before seeing the patient (FHIR Flag).

    Allergies and medical alerts are clinical: only those who read clinical
    notes see them. Mobility, interpreter and other practical flags are for
    the whole team (the front desk books a longer slot or an interpreter).
    The label is sealed under the patient's data key. A flag that no longer
    applies is removed (kept, with `removed_at`).
    """

    class Kind(models.TextChoices):
        ALLERGY = "allergy", pgettext_lazy("patient flag", "allergy")
        MEDICAL = "medical", pgettext_lazy("patient flag", "medical alert")
        MOBILITY = "mobility", pgettext_lazy("patient flag", "reduced mobility")
        INTERPRETER = "interpreter", pgettext_lazy("patient flag", "interpreter")
        OTHER = "other", pgettext_lazy("patient flag", "other")

    patient = models.ForeignKey(
        "accounts.Patient",
        verbose_name=_("patient"),
        on_delete=models.CASCADE,
        related_name="flags",
    )
    practice = models.ForeignKey(
        "directory.Practice",
        verbose_name=_("practice"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    label = SealedTextField(_("label"), max_length=FLAG_LABEL_MAX_LENGTH)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("removed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    vault_row = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)

    class Meta:
        verbose_name = _("patient flag")
        verbose_name_plural = _("patient flags")
        ordering = ["kind", "created_at", "pk"]
        indexes = [
            models.Index(
                fields=["practice", "patient"],
                condition=Q(removed_at__isnull=True),
                name="patientflag_active",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True) | Q(removed_by__isnull=False),
                name="patientflag_removed_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} flag {self.pk} ({self.patient_id} @ {self.practice_id})"

    def vault_subject(self) -> str:
        """Sealed under the patient's own data key."""
        return self.patient.vault_subject()

    @property
    def is_clinical(self) -> bool:
        """Whether only those who read clinical notes may see it."""
        return self.kind in CLINICAL_FLAG_KINDS


CLINICAL_FLAG_KINDS = frozenset({PatientFlag.Kind.ALLERGY, PatientFlag.Kind.MEDICAL})
