"""The checks of the inventory (清查) and of the rights review, each a set-based query.

Each rule turns the assets of one chunk into rows ``(asset_id, subject, evidence)``: one row
per thing found wrong. The engine wraps the query in one ``INSERT … SELECT … ON CONFLICT``,
so a chunk of 50,000 assets is a handful of statements whatever it finds. The thresholds
are data here, so that a commission can correct them in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat, Substr
from django.utils import timezone

from access.models import AssetGroupGrant, AssetUserGrant
from accounts.choices import Role
from accounts.models import Membership
from catalog.choices import (
    EXPECTED_UPDATE_INTERVAL,
    AssetStatus,
    OpenAttribute,
    SharingType,
    UpdateFrequency,
)
from catalog.models import DataAsset
from catalog.rules import CATEGORY_MIN_GRADE, MAX_OPEN_GRADE
from rights.choices import RESOURCE_RIGHTS, AllocationStatus, PartyKind, Right
from rights.models import RightsAllocation
from rights.rules import (
    EXPIRING_WITHIN_DAYS,
    MAX_PRODUCT_GRADE,
    NOT_FOR_PUBLIC_HEALTH,
    PUBLIC_HEALTH_TYPES,
)

from .choices import FindingRule, RunKind, Severity

# How late an update may be before it counts as missing: the declared interval plus this.
UPDATE_GRACE = {
    UpdateFrequency.REALTIME: timedelta(days=1),
    UpdateFrequency.DAILY: timedelta(days=2),
    UpdateFrequency.WEEKLY: timedelta(days=3),
    UpdateFrequency.MONTHLY: timedelta(days=7),
    UpdateFrequency.QUARTERLY: timedelta(days=14),
    UpdateFrequency.SEMIANNUAL: timedelta(days=30),
    UpdateFrequency.YEARLY: timedelta(days=30),
}

# A volume is implausible when it grew more than tenfold, or lost more than half, between
# two inventories.
VOLUME_GROWTH_FACTOR = 10
VOLUME_SHRINK_FACTOR = 2

# The grade from which data may not be stored outside China, and from which it may not be
# shared unconditionally.
MIN_GRADE_KEPT_IN_COUNTRY = 3
MIN_GRADE_NOT_UNCONDITIONAL = 4

# Ledger fields every registered asset must fill (the others have their own checks).
MANDATORY_FIELDS: dict[str, Q] = {
    "source_system": Q(source_system=""),
    "collection_method": Q(collection_method=""),
    "purposes": Q(purposes=[]),
    "storage_location": Q(storage_location=""),
    "volume": Q(record_count__isnull=True, storage_bytes__isnull=True),
    "update_frequency": Q(update_frequency=""),
    "categories": Q(categories=[]),
    "responsible_contact": Q(responsible_phone="", responsible_email=""),
    "sharing_condition": Q(
        sharing_type__in=[SharingType.CONDITIONAL, SharingType.NOT_SHARED], sharing_condition=""
    ),
}


@dataclass(frozen=True)
class Context:
    """What the rules of one chunk are judged against."""

    assets: QuerySet  # the chunk's assets in scope
    at: datetime  # the run's reference time
    # The chunk's id range, repeated on the tables that point at assets: the planner derives
    # no range on them from "asset_id IN (the chunk's assets)" and would scan them whole.
    first_id: int = 0
    last_id: int = 2**63 - 1

    def range_of(self, field: str) -> dict:
        return {f"{field}__gte": self.first_id, f"{field}__lte": self.last_id}


@dataclass(frozen=True)
class Rule:
    code: FindingRule
    kind: RunKind
    severity: Severity
    rows: Callable[[Context], QuerySet]  # → values(asset_id, subject, evidence)
    # A condition that lasts; False for an event (a volume jump), which only a steward closes.
    resolves_itself: bool = True


def _asset_rows(assets: QuerySet, evidence=None) -> QuerySet:
    return assets.order_by().annotate(
        asset_id=F("id"), subject=Value("", output_field=CharField()),
        evidence=evidence if evidence is not None else Value("", output_field=CharField()),
    ).values("asset_id", "subject", "evidence")


def _text(expression) -> Cast:
    return Cast(expression, output_field=CharField())


def _day(expression) -> Substr:
    """A date or time as YYYY-MM-DD, the same on PostgreSQL and SQLite."""
    return Substr(_text(expression), 1, 10)


def _concat(*parts):
    return Concat(*parts, output_field=CharField())


# --- Inventory ------------------------------------------------------------------------------

def stale(ctx: Context) -> QuerySet:
    last_update = Coalesce("last_data_update", "registered_at", "created_at")
    overdue = Q(pk__in=[])
    for frequency, interval in EXPECTED_UPDATE_INTERVAL.items():
        if interval is not None:
            cutoff = ctx.at - interval - UPDATE_GRACE[frequency]
            overdue |= Q(update_frequency=frequency, last_update__lt=cutoff)
    return _asset_rows(ctx.assets.alias(last_update=last_update).filter(overdue),
                       _day(last_update))


def missing_fields(ctx: Context) -> QuerySet:
    any_missing = Q(pk__in=[])
    parts = []
    for name, missing in MANDATORY_FIELDS.items():
        any_missing |= missing
        parts.append(Case(When(missing, then=Value(f"{name} ")), default=Value(""),
                          output_field=CharField()))
    return _asset_rows(ctx.assets.filter(any_missing), _concat(*parts))


def responsible_gone(ctx: Context) -> QuerySet:
    member = Membership.objects.filter(
        user=OuterRef("responsible_user"), institution=OuterRef("holder"), is_active=True
    )
    blank = Q(responsible_person="")
    inactive = Q(responsible_user__isnull=False, responsible_user__is_active=False)
    left = Q(responsible_user__isnull=False) & ~Exists(member)
    evidence = Case(
        When(blank, then=Value("blank")), When(inactive, then=Value("inactive")),
        default=Value("left"), output_field=CharField(),
    )
    return _asset_rows(ctx.assets.filter(blank | inactive | left), evidence)


def holder_inactive(ctx: Context) -> QuerySet:
    return _asset_rows(ctx.assets.filter(holder__is_active=False))


def volume_jump(ctx: Context) -> QuerySet:
    old_records = F("volume_snapshot__record_count")
    old_bytes = F("volume_snapshot__storage_bytes")
    jumped = Q(volume_snapshot__isnull=False) & (
        Q(old_records__gt=0, record_count__gt=old_records * VOLUME_GROWTH_FACTOR)
        | Q(old_records__gt=0, record_count__lt=old_records / VOLUME_SHRINK_FACTOR)
        | Q(old_bytes__gt=0, storage_bytes__gt=old_bytes * VOLUME_GROWTH_FACTOR)
        | Q(old_bytes__gt=0, storage_bytes__lt=old_bytes / VOLUME_SHRINK_FACTOR)
    )
    change = _concat(
        Coalesce(_text(old_records), Value("-")), Value(">"),
        Coalesce(_text("record_count"), Value("-")), Value(" "),
        Coalesce(_text(old_bytes), Value("-")), Value(">"),
        Coalesce(_text("storage_bytes"), Value("-")),
    )
    # Each jump is its own event: the change itself names the subject.
    return (
        ctx.assets.order_by().alias(old_records=old_records, old_bytes=old_bytes)
        .filter(jumped, **ctx.range_of("volume_snapshot__asset_id"))
        .annotate(asset_id=F("id"), subject=Substr(change, 1, 60), evidence=change)
        .values("asset_id", "subject", "evidence")
    )


def stored_abroad(ctx: Context) -> QuerySet:
    return _asset_rows(ctx.assets.filter(
        grade__gte=MIN_GRADE_KEPT_IN_COUNTRY, stored_in_country=False
    ), F("storage_location"))


def grade_below_category(ctx: Context) -> QuerySet:
    low = Q(pk__in=[])
    for category, floor in CATEGORY_MIN_GRADE.items():
        if floor > 1:
            low |= Q(categories__has=category, grade__lt=floor)
    return _asset_rows(ctx.assets.filter(low), _text("grade"))


def sharing_above_grade(ctx: Context) -> QuerySet:
    return _asset_rows(ctx.assets.filter(
        Q(grade__gte=MIN_GRADE_NOT_UNCONDITIONAL, sharing_type=SharingType.UNCONDITIONAL)
        | Q(grade__gt=MAX_OPEN_GRADE, open_attribute=OpenAttribute.OPEN)
    ), _concat(_text("grade"), Value(" "), F("sharing_type"), Value(" "), F("open_attribute")))


# --- Rights review --------------------------------------------------------------------------

def _today(ctx: Context) -> date:
    """The run's day where the commission is (dates of rights are local dates)."""
    return timezone.localdate(ctx.at)


def _allocations(ctx: Context) -> QuerySet:
    return RightsAllocation.objects.filter(
        asset__in=ctx.assets.values("id"), status=AllocationStatus.ACTIVE,
        **ctx.range_of("asset_id"),
    )


def _allocation_rows(allocations: QuerySet, evidence=None) -> QuerySet:
    return allocations.order_by().annotate(
        subject=_concat(Value("allocation:"), _text("id")),
        evidence=evidence if evidence is not None else _concat(
            F("right"), Value(" "), Coalesce(_text("valid_until"), Value("-"))),
    ).values("asset_id", "subject", "evidence")


def _public_health_party(allocations: QuerySet) -> QuerySet:
    return allocations.filter(party_institution__type__in=PUBLIC_HEALTH_TYPES).exclude(
        party_institution=F("asset__holder")
    )


def allocation_expired(ctx: Context) -> QuerySet:
    return _allocation_rows(_allocations(ctx).filter(valid_until__lt=_today(ctx)))


def allocation_expiring(ctx: Context) -> QuerySet:
    return _allocation_rows(_allocations(ctx).filter(
        valid_until__gte=_today(ctx),
        valid_until__lte=_today(ctx) + timedelta(days=EXPIRING_WITHIN_DAYS),
    ))


def _grant_rows(grants: QuerySet, prefix: str) -> QuerySet:
    return grants.order_by().annotate(
        asset_id=F("content_object_id"),
        subject=_concat(Value(prefix), _text("id")),
        evidence=_day("expires_at"),
    ).values("asset_id", "subject", "evidence")


def grant_expiring(ctx: Context) -> QuerySet:
    window = {"expires_at__gt": ctx.at,
              "expires_at__lte": ctx.at + timedelta(days=EXPIRING_WITHIN_DAYS)}
    chunk = {"content_object__in": ctx.assets.values("id"),
             **ctx.range_of("content_object_id")}
    return _grant_rows(AssetUserGrant.objects.filter(**chunk, **window), "usergrant:").union(
        _grant_rows(AssetGroupGrant.objects.filter(**chunk, **window), "groupgrant:"), all=True
    )


def public_health_unbounded(ctx: Context) -> QuerySet:
    allocations = _public_health_party(_allocations(ctx)).filter(
        Q(purpose="") | Q(valid_until__isnull=True)
    )
    officer = Membership.objects.filter(
        user=OuterRef("user"), role=Role.PUBLIC_HEALTH_OFFICER, is_active=True
    )
    grants = AssetUserGrant.objects.filter(
        Exists(officer), Q(expires_at__isnull=True) | Q(reason=""),
        content_object__in=ctx.assets.values("id"), **ctx.range_of("content_object_id"),
    )
    return _allocation_rows(allocations).union(_grant_rows(grants, "usergrant:"), all=True)


def public_health_excessive(ctx: Context) -> QuerySet:
    return _allocation_rows(
        _public_health_party(_allocations(ctx)).filter(right__in=NOT_FOR_PUBLIC_HEALTH)
    )


def subject_resource_right(ctx: Context) -> QuerySet:
    return _allocation_rows(_allocations(ctx).filter(
        party_kind=PartyKind.DATA_SUBJECTS, right__in=RESOURCE_RIGHTS
    ))


def no_holder(ctx: Context) -> QuerySet:
    day = _today(ctx)
    holding = RightsAllocation.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=day),
        asset=OuterRef("pk"), right=Right.HOLD, status=AllocationStatus.ACTIVE,
        valid_from__lte=day, **ctx.range_of("asset_id"),
    )
    return _asset_rows(ctx.assets.filter(status=AssetStatus.REGISTERED).exclude(Exists(holding)))


def grade5_product(ctx: Context) -> QuerySet:
    return _allocation_rows(_allocations(ctx).filter(
        right=Right.PRODUCT_OPERATE, asset__grade__gt=MAX_PRODUCT_GRADE
    ))


INVENTORY, REVIEW = RunKind.INVENTORY, RunKind.RIGHTS_REVIEW
RULES: tuple[Rule, ...] = (
    Rule(FindingRule.STALE, INVENTORY, Severity.MEDIUM, stale),
    Rule(FindingRule.MISSING_FIELDS, INVENTORY, Severity.MEDIUM, missing_fields),
    Rule(FindingRule.RESPONSIBLE_GONE, INVENTORY, Severity.MEDIUM, responsible_gone),
    Rule(FindingRule.HOLDER_INACTIVE, INVENTORY, Severity.HIGH, holder_inactive),
    Rule(FindingRule.VOLUME_JUMP, INVENTORY, Severity.LOW, volume_jump, resolves_itself=False),
    Rule(FindingRule.STORED_ABROAD, INVENTORY, Severity.HIGH, stored_abroad),
    Rule(FindingRule.GRADE_BELOW_CATEGORY, INVENTORY, Severity.MEDIUM, grade_below_category),
    Rule(FindingRule.SHARING_ABOVE_GRADE, INVENTORY, Severity.HIGH, sharing_above_grade),
    Rule(FindingRule.ALLOCATION_EXPIRED, REVIEW, Severity.MEDIUM, allocation_expired),
    Rule(FindingRule.ALLOCATION_EXPIRING, REVIEW, Severity.LOW, allocation_expiring),
    Rule(FindingRule.GRANT_EXPIRING, REVIEW, Severity.LOW, grant_expiring),
    Rule(FindingRule.PUBLIC_HEALTH_UNBOUNDED, REVIEW, Severity.MEDIUM, public_health_unbounded),
    Rule(FindingRule.PUBLIC_HEALTH_EXCESSIVE, REVIEW, Severity.MEDIUM, public_health_excessive),
    Rule(FindingRule.SUBJECT_RESOURCE_RIGHT, REVIEW, Severity.HIGH, subject_resource_right),
    Rule(FindingRule.NO_HOLDER, REVIEW, Severity.HIGH, no_holder),
    Rule(FindingRule.GRADE5_PRODUCT, REVIEW, Severity.HIGH, grade5_product),
)
RULES_BY_CODE = {rule.code: rule for rule in RULES}
# What the rights review does rather than checks: revoking expired permissions.
ACTION_SEVERITY = {FindingRule.GRANT_REVOKED: Severity.INFO}


def severity_of(code: str) -> Severity:
    rule = RULES_BY_CODE.get(code)
    return Severity(rule.severity) if rule else ACTION_SEVERITY[code]


def rules_of(kind: str) -> tuple[Rule, ...]:
    return tuple(rule for rule in RULES if rule.kind == kind)


def checked_assets(kind: str) -> QuerySet:
    """The assets a run of ``kind`` looks at: the inventory checks registered assets (their
    ledger is declared); the rights review every asset, whatever its status (an expired
    grant on a draft or a deregistered asset must still go)."""
    if kind == RunKind.INVENTORY:
        return DataAsset.objects.filter(status=AssetStatus.REGISTERED)
    return DataAsset.objects.all()
