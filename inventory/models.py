"""Runs of the inventory (清查) and the rights review, and the findings they keep.

A run covers a jurisdiction and is split into chunks of asset ids; a chunk's findings and
its "done" mark are written in one transaction, so a chunk is either wholly counted or not
at all, and a chunk delivered twice does its work once. A finding is identified by its rule
and subject: while its condition lasts, every run updates the same row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.choices import RegionLevel
from accounts.models import Institution, Region
from accounts.scoping import Action, Reach, reach, reach_q
from catalog.models import DataAsset

from .choices import (
    ACTIVE_RUN_STATUSES,
    CURRENT_STATUSES,
    ChunkState,
    FindingRule,
    FindingStatus,
    RunKind,
    RunStatus,
    Severity,
)

# A run's scope, as the jurisdiction fields of the scoping rule see it.
RUN_SCOPE_FIELDS = {
    RegionLevel.PROVINCE: "scope_province", RegionLevel.CITY: "scope_city",
    RegionLevel.COUNTY: "scope",
}


class ScopedQuerySet(models.QuerySet):
    def restrict(self, user, action: Action = Action.VIEW_FINDINGS) -> ScopedQuerySet:
        """Rows whose whole scope lies inside the user's jurisdiction."""
        found = reach(user, action)
        # A run spans institutions: only a jurisdiction (never one institution) reaches it.
        found = Reach(found.everything, frozenset(), found.jurisdictions)
        if found.empty:
            return self.none()
        condition = reach_q(found, region_fields=RUN_SCOPE_FIELDS)
        return self if condition is None else self.filter(condition)



class RunQuerySet(ScopedQuerySet):
    def active(self) -> RunQuerySet:
        return self.filter(status__in=ACTIVE_RUN_STATUSES)


class JurisdictionScoped(models.Model):
    """A jurisdiction (empty: the whole country), with its province and city copied so
    that the scoping rule reads it like an asset's region."""

    scope = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("jurisdiction"),
    )
    scope_province = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="+", editable=False,
        db_index=False,
    )
    scope_city = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="+", editable=False,
        db_index=False,
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.scope_province_id = self.scope.province_id if self.scope_id else None
        self.scope_city_id = self.scope.city_id if self.scope_id else None
        super().save(*args, **kwargs)

    @property
    def scope_name(self) -> str:
        return self.scope.name if self.scope_id else str(_("Nationwide"))


class Run(JurisdictionScoped):
    kind = models.CharField(_("kind"), max_length=20, choices=RunKind.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("started by"),
    )
    schedule = models.ForeignKey(
        "Schedule", models.SET_NULL, null=True, blank=True, related_name="runs",
        verbose_name=_("schedule"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    # The moment the rules are judged at (the database's clock when the run was planned).
    reference_time = models.DateTimeField(_("checked as of"), null=True, blank=True)
    assets_total = models.BigIntegerField(_("assets in scope"), default=0)
    assets_done = models.BigIntegerField(_("assets checked"), default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    chunks_failed = models.PositiveIntegerField(default=0)
    # {rule: {"found": n, "new": n, "resolved": n}} summed over the chunks at the end.
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        verbose_name = _("run")
        verbose_name_plural = _("runs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["scope_province", "-created_at"], name="inventory_run_prov_idx"),
            models.Index(fields=["kind", "-created_at"], name="inventory_run_kind_idx"),
        ]
        constraints = [
            # One active run per kind and scope: a second start joins the first.
            models.UniqueConstraint(
                fields=["kind", "scope"], condition=Q(status__in=ACTIVE_RUN_STATUSES),
                name="inventory_one_active_run_per_scope",
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(status__in=ACTIVE_RUN_STATUSES, scope__isnull=True),
                name="inventory_one_active_national_run",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.scope_name} · {self.created_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("inventory:run_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES

    @property
    def percent(self) -> int:
        if self.status == RunStatus.SUCCEEDED:
            return 100
        if not self.assets_total:
            return 0
        return min(100, int(100 * self.assets_done / self.assets_total))


class RunChunk(models.Model):
    """A range of asset ids ``[first_id, last_id]`` of a run, worked as one transaction."""

    run = models.ForeignKey(Run, models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    assets = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=10, choices=ChunkState.choices, default=ChunkState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["run", "seq"], name="inventory_chunk_unique_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.seq} [{self.first_id}, {self.last_id}]"


class FindingQuerySet(models.QuerySet):
    def restrict(self, user, action: Action = Action.VIEW_FINDINGS) -> FindingQuerySet:
        """Findings of the user's institutions and jurisdictions (the one scoping rule)."""
        found = reach(user, action)
        if found.empty:
            return self.none()
        condition = reach_q(found, institution_field="institution")
        return self if condition is None else self.filter(condition)

    def current(self) -> FindingQuerySet:
        return self.filter(status__in=CURRENT_STATUSES)


class Finding(models.Model):
    """Something a run found wrong with an asset or with a right over it."""

    rule = models.CharField(_("finding"), max_length=40, choices=FindingRule.choices)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity.choices)
    asset = models.ForeignKey(
        DataAsset, models.PROTECT, related_name="findings", verbose_name=_("data asset"),
        db_index=False,  # led by inventory_finding_current_uniq
    )
    # What exactly, within the asset: "" for the asset itself, else e.g. "allocation:12".
    subject = models.CharField(_("subject"), max_length=60, blank=True, default="")
    evidence = models.CharField(_("evidence"), max_length=500, blank=True, default="")
    # The asset's holder and regions when last seen: who answers it, who may read it.
    institution = models.ForeignKey(
        Institution, models.PROTECT, related_name="+", verbose_name=_("institution"),
        db_index=False,
    )
    region = models.ForeignKey(Region, models.PROTECT, null=True, related_name="+",
                               db_index=False)
    region_province = models.ForeignKey(Region, models.PROTECT, null=True, related_name="+",
                                        db_index=False)
    region_city = models.ForeignKey(Region, models.PROTECT, null=True, related_name="+",
                                    db_index=False)
    status = models.CharField(
        _("status"), max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    first_run = models.ForeignKey(Run, models.PROTECT, related_name="+", db_index=False)
    last_run = models.ForeignKey(Run, models.PROTECT, related_name="+", db_index=False)
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"))
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    closing_note = models.TextField(_("closing note"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    objects = FindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["-severity", "-last_seen_at", "-id"]
        constraints = [
            # While its condition lasts, a finding is one row, whichever runs see it.
            models.UniqueConstraint(
                fields=["asset", "rule", "subject"], condition=Q(status__in=CURRENT_STATUSES),
                name="inventory_finding_current_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["last_run", "rule"], name="inventory_finding_last_run_idx"),
            # The findings list filtered by one rule, newest first (a rare rule would
            # otherwise walk the whole list).
            models.Index(fields=["rule", "-id"], condition=Q(status__in=CURRENT_STATUSES),
                         name="inventory_finding_rule_idx"),
            models.Index(fields=["first_run", "institution"], name="inventory_finding_first_idx"),
            models.Index(fields=["institution", "status"], name="inventory_finding_inst_idx"),
            models.Index(fields=["region_province", "status"], name="inventory_finding_prov_idx"),
            models.Index(fields=["region_city", "status"], name="inventory_finding_city_idx"),
            models.Index(fields=["region", "status"], name="inventory_finding_region_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} · {self.asset_id}"

    def get_absolute_url(self) -> str:
        return reverse("inventory:finding_detail", args=[self.pk])


class VolumeSnapshot(models.Model):
    """An asset's declared volume as the last inventory saw it (for the volume check)."""

    asset = models.OneToOneField(
        DataAsset, models.CASCADE, primary_key=True, related_name="volume_snapshot"
    )
    record_count = models.BigIntegerField(null=True)
    storage_bytes = models.BigIntegerField(null=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.asset_id}: {self.record_count} / {self.storage_bytes}"


class Schedule(JurisdictionScoped):
    """A recurring run for a jurisdiction, kept in step with a django-celery-beat task."""

    kind = models.CharField(_("kind"), max_length=20, choices=RunKind.choices)
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", models.SET_NULL, null=True, blank=True,
        related_name="+", editable=False,
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        editable=False,
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        ordering = ["kind", "scope"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "scope"], name="inventory_one_schedule_per_scope",
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(scope__isnull=True),
                name="inventory_one_national_schedule",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.scope_name}"

