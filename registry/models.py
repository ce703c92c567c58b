"""Registration applications (登记申请): an institution asks for an asset to be registered,
changed or deregistered; a steward with jurisdiction over the holder reviews it.

The ledger values an application proposes are kept as the form data the registrar entered
(``payload``), valid or not while it is a draft; they are validated by the same form on
submission and again on approval (``registry.ledger``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import INSTITUTION_REGION_FIELDS, Action, reach, reach_q

from .choices import ApplicationKind, ApplicationState, Transition


class ApplicationQuerySet(models.QuerySet):
    def restrict(self, user, action: Action = Action.VIEW) -> ApplicationQuerySet:
        """The applications ``user`` may reach for ``action``: by the holding institution,
        with the same role × jurisdiction rule as the assets."""
        condition = reach_q(
            reach(user, action), institution_field="institution",
            region_fields={level: f"institution__{field}"
                           for level, field in INSTITUTION_REGION_FIELDS.items()},
        )
        return self if condition is None else self.filter(condition)


class RegistrationBatch(models.Model):
    """Applications staged together from one uploaded spreadsheet."""

    institution = models.ForeignKey(
        "accounts.Institution", models.PROTECT, related_name="+", verbose_name=_("institution")
    )
    file_name = models.CharField(_("file name"), max_length=255)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("registration batch")
        verbose_name_plural = _("registration batches")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.rows})"


class RegistrationApplication(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=ApplicationKind.choices)
    state = models.CharField(
        _("state"), max_length=20, choices=ApplicationState.choices,
        default=ApplicationState.DRAFT,
    )
    institution = models.ForeignKey(
        "accounts.Institution", models.PROTECT, related_name="applications",
        verbose_name=_("holding institution"),
    )
    asset = models.ForeignKey(
        "catalog.DataAsset", models.PROTECT, null=True, blank=True, related_name="applications",
        verbose_name=_("data asset"),
        help_text=_("The asset to change or deregister; for a registration, the asset it "
                    "created once approved."),
    )
    base_version = models.PositiveIntegerField(
        _("based on version"), null=True, blank=True,
        help_text=_("The asset's version the change was made against."),
    )
    payload = models.JSONField(_("proposed ledger values"), default=dict, blank=True)
    base = models.JSONField(
        _("ledger values it was based on"), default=dict, blank=True,
        help_text=_("For a change: the asset's values at the base version, as form data."),
    )
    grade_reason = models.TextField(
        _("reason for a grade below the suggested one"), max_length=1000, blank=True,
    )
    statement = models.TextField(_("applicant's statement"), max_length=2000, blank=True)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="registration_applications",
        verbose_name=_("applicant"),
    )
    batch = models.ForeignKey(
        RegistrationBatch, models.CASCADE, null=True, blank=True, related_name="applications",
        verbose_name=_("batch"),
    )
    batch_row = models.PositiveIntegerField(_("row in the file"), null=True, blank=True)
    registration_number = models.CharField(
        _("registration number"), max_length=40, blank=True, editable=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("decided by"),
    )

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("registration application")
        verbose_name_plural = _("registration applications")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["institution", "state", "-id"], name="registry_app_inst_idx"),
            models.Index(fields=["state", "-id"], name="registry_app_state_idx"),
            # "Is this code already proposed by a registration under review?" (bulk uploads).
            models.Index(
                KeyTextTransform("code", "payload"), name="registry_app_pending_code_idx",
                condition=models.Q(kind=ApplicationKind.REGISTER,
                                   state__in=[ApplicationState.SUBMITTED,
                                              ApplicationState.RETURNED]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind=ApplicationKind.REGISTER) | models.Q(asset__isnull=False),
                name="registry_app_change_needs_asset",
                violation_error_message=_("A change or deregistration names its asset."),
            ),
        ]

    def __str__(self) -> str:
        name = self.payload.get("name") or (self.asset.name if self.asset_id else "")
        return f"#{self.pk} {self.get_kind_display()} {name}".strip()

    @property
    def is_open(self) -> bool:
        return self.state not in (ApplicationState.APPROVED, ApplicationState.REJECTED)


class ApplicationEvent(models.Model):
    """One step of an application's workflow, with who took it and what they said."""

    application = models.ForeignKey(
        RegistrationApplication, models.CASCADE, related_name="events",
        verbose_name=_("application"),
    )
    transition = models.CharField(_("step"), max_length=20, choices=Transition.choices)
    from_state = models.CharField(_("from"), max_length=20, choices=ApplicationState.choices)
    to_state = models.CharField(_("to"), max_length=20, choices=ApplicationState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("by")
    )
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("application step")
        verbose_name_plural = _("application steps")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.from_state} → {self.to_state}"


class RegistrationCounter(models.Model):
    """The last registration number issued per province prefix and year."""

    prefix = models.CharField(max_length=2)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="registry_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"
