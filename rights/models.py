"""Rights allocation: who holds which right over a data asset, on what basis, until when."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.models import Institution
from catalog.history import history_user
from catalog.models import DataAsset

from .choices import AllocationStatus, PartyKind, Right
from .querysets import RightsAllocationQuerySet
from .rules import EXPIRING_WITHIN_DAYS, allocation_errors

# The fields a steward sets; the rest (asset, author, timestamps) are set by the service.
EDITABLE_FIELDS = (
    "party_kind", "party_institution", "party_description", "right", "legal_basis", "purpose",
    "scope", "valid_from", "valid_until", "status",
)


class RightsAllocation(models.Model):
    """One right over one asset, given to an institution or to the data subjects."""

    asset = models.ForeignKey(
        DataAsset, models.PROTECT, related_name="allocations", verbose_name=_("data asset")
    )
    party_kind = models.CharField(_("party"), max_length=20, choices=PartyKind.choices)
    party_institution = models.ForeignKey(
        Institution, models.PROTECT, null=True, blank=True, related_name="allocations",
        verbose_name=_("institution"),
    )
    party_description = models.CharField(
        _("data-subject group"), max_length=200, blank=True,
        help_text=_("Who the data is about, e.g. the patients of this hospital."),
    )
    right = models.CharField(_("right"), max_length=20, choices=Right.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=500)
    purpose = models.CharField(_("purpose"), max_length=500, blank=True)
    scope = models.CharField(
        _("scope"), max_length=500, blank=True,
        help_text=_("Which part of the data, and what may be done with it."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=AllocationStatus.choices,
        default=AllocationStatus.ACTIVE,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, editable=False,
        related_name="+", verbose_name=_("created by"),
    )

    history = HistoricalRecords(get_user=history_user, cascade_delete_history=False)

    objects = RightsAllocationQuerySet.as_manager()

    class Meta:
        verbose_name = _("rights allocation")
        verbose_name_plural = _("rights allocations")
        ordering = ["asset", "right", "id"]
        indexes = [
            models.Index(fields=["asset", "status"], name="rights_alloc_asset_idx"),
            models.Index(fields=["party_institution", "status"], name="rights_alloc_party_idx"),
            models.Index(
                fields=["valid_until"], condition=Q(status=AllocationStatus.ACTIVE),
                name="rights_alloc_active_until_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(party_kind=PartyKind.INSTITUTION, party_institution__isnull=False)
                | Q(party_kind=PartyKind.DATA_SUBJECTS, party_institution__isnull=True),
                name="rights_alloc_party_matches_kind",
                violation_error_message=_("Name the institution, or choose data subjects."),
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="rights_alloc_period_order",
                violation_error_message=_("The allocation must start before it ends."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_right_display()} · {self.party_name}"

    @property
    def party_name(self) -> str:
        if self.party_kind == PartyKind.INSTITUTION and self.party_institution_id:
            return self.party_institution.name
        return self.party_description or str(PartyKind.DATA_SUBJECTS.label)

    @property
    def is_ended(self) -> bool:
        return self.status == AllocationStatus.ENDED

    @property
    def past_end(self) -> bool:
        """Not ended, though its end date has passed."""
        return (not self.is_ended and self.valid_until is not None
                and self.valid_until < timezone.localdate())

    @property
    def ending_soon(self) -> bool:
        """Not ended, and its end date falls within the next EXPIRING_WITHIN_DAYS days."""
        if self.is_ended or self.valid_until is None:
            return False
        days = (self.valid_until - timezone.localdate()).days
        return 0 <= days <= EXPIRING_WITHIN_DAYS

    def clean(self) -> None:
        errors = {}
        if self.party_kind == PartyKind.INSTITUTION and not self.party_institution_id:
            errors["party_institution"] = [_("Choose the institution that receives the right.")]
        if self.party_kind == PartyKind.DATA_SUBJECTS:
            if self.party_institution_id:
                errors["party_institution"] = [
                    _("Data subjects are not an institution: leave it empty.")]
            if not self.party_description.strip():
                errors["party_description"] = [_("Say whose data it is.")]
        rule_errors = allocation_errors(
            party_kind=self.party_kind,
            right=self.right,
            party_institution=self.party_institution if self.party_institution_id else None,
            asset=self.asset if self.asset_id else None,
            purpose=self.purpose,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )
        for field, messages in rule_errors.items():
            errors.setdefault(field, []).extend(messages)
        if errors:
            raise ValidationError(errors)
