"""What a user may reach: the role × jurisdiction rules, as query conditions.

The one scoping rule of the product is built here and applied through the querysets'
``restrict(user, action)`` (``visible_to`` / ``editable_by``); nothing else decides who
sees what. Explicit per-object grants are the second layer, added by the querysets of the
objects that can be granted (``catalog.grants``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Q

from .choices import InstitutionType, RegionLevel, Role


class Action(StrEnum):
    VIEW = "view"  # list, search, read
    CHANGE = "change"  # edit the ledger
    GRANT = "grant"  # see who has access and grant or revoke explicit permissions
    AUDIT = "audit"  # read the audit trail
    MANAGE_MEMBERS = "manage_members"  # add, deactivate and re-role an institution's users
    APPLY = "apply"  # file registration applications for an institution's assets
    REVIEW = "review"  # review (return, approve, reject) registration applications
    ALLOCATE = "allocate"  # allocate rights over assets (hold, use, operate; personal rights)
    VIEW_FINDINGS = "view_findings"  # read inventory and rights-review runs and findings
    ANSWER = "answer"  # answer findings about an institution's assets
    RUN_CHECKS = "run_checks"  # start runs, close findings, keep the schedules
    REPORT = "report"  # read the inventory reports (totals and breakdowns) of a jurisdiction


@dataclass(frozen=True)
class ActionRoles:
    """Which roles reach their own institution and which their commission's jurisdiction."""

    institution: frozenset[Role]
    jurisdiction: frozenset[Role]


# The role × action table: the whole of the broad rules. Public-health officers are in no
# row: they read what is granted to them explicitly, and the open catalog like everyone.
ACTION_ROLES: dict[Action, ActionRoles] = {
    Action.VIEW: ActionRoles(
        institution=frozenset({Role.REGISTRAR, Role.INSTITUTION_ADMIN}),
        jurisdiction=frozenset({Role.STEWARD, Role.COMMISSION_STAFF, Role.AUDITOR}),
    ),
    Action.CHANGE: ActionRoles(
        institution=frozenset({Role.REGISTRAR, Role.INSTITUTION_ADMIN}),
        jurisdiction=frozenset({Role.STEWARD}),
    ),
    Action.GRANT: ActionRoles(
        institution=frozenset(), jurisdiction=frozenset({Role.STEWARD}),
    ),
    Action.AUDIT: ActionRoles(
        institution=frozenset({Role.INSTITUTION_ADMIN}),
        jurisdiction=frozenset({Role.STEWARD, Role.AUDITOR}),
    ),
    Action.MANAGE_MEMBERS: ActionRoles(
        institution=frozenset({Role.INSTITUTION_ADMIN}), jurisdiction=frozenset(),
    ),
    Action.APPLY: ActionRoles(
        institution=frozenset({Role.REGISTRAR, Role.INSTITUTION_ADMIN}),
        jurisdiction=frozenset(),
    ),
    Action.REVIEW: ActionRoles(
        institution=frozenset(), jurisdiction=frozenset({Role.STEWARD}),
    ),
    Action.ALLOCATE: ActionRoles(
        institution=frozenset(), jurisdiction=frozenset({Role.STEWARD}),
    ),
    Action.VIEW_FINDINGS: ActionRoles(
        institution=frozenset({Role.REGISTRAR, Role.INSTITUTION_ADMIN}),
        jurisdiction=frozenset({Role.STEWARD, Role.COMMISSION_STAFF, Role.AUDITOR}),
    ),
    Action.ANSWER: ActionRoles(
        institution=frozenset({Role.REGISTRAR, Role.INSTITUTION_ADMIN}),
        jurisdiction=frozenset(),
    ),
    Action.RUN_CHECKS: ActionRoles(
        institution=frozenset(), jurisdiction=frozenset({Role.STEWARD}),
    ),
    # Reports count a whole jurisdiction: an institution reads its own assets in the catalog.
    Action.REPORT: ActionRoles(
        institution=frozenset(),
        jurisdiction=frozenset({Role.STEWARD, Role.COMMISSION_STAFF, Role.AUDITOR}),
    ),
}

# Roles that reach a commission's jurisdiction: held only at a health commission.
COMMISSION_ROLES = frozenset(
    role for roles in ACTION_ROLES.values() for role in roles.jurisdiction
)

# The roles an institution administrator may give; steward, commission and audit roles
# are given only by a platform administrator.
INSTITUTION_ASSIGNABLE_ROLES = frozenset(
    {Role.REGISTRAR, Role.INSTITUTION_ADMIN, Role.PUBLIC_HEALTH_OFFICER}
)

# Which region field of a scoped row holds the code of each jurisdiction level.
ASSET_REGION_FIELDS = {
    RegionLevel.PROVINCE: "region_province",
    RegionLevel.CITY: "region_city",
    RegionLevel.COUNTY: "region",
}
INSTITUTION_REGION_FIELDS = {
    RegionLevel.PROVINCE: "region__province",
    RegionLevel.CITY: "region__city",
    RegionLevel.COUNTY: "region",
}


@dataclass(frozen=True)
class Reach:
    """The institutions and jurisdictions a user's active memberships reach for an action."""

    everything: bool
    institution_ids: frozenset[int]
    # (level, region code) pairs; level None means the whole country.
    jurisdictions: frozenset[tuple[str | None, str | None]]

    @property
    def empty(self) -> bool:
        return not (self.everything or self.institution_ids or self.jurisdictions)


NO_REACH = Reach(False, frozenset(), frozenset())


def is_signed_in(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def reach(user, action: Action) -> Reach:
    """The user's reach for ``action``, computed once per user object (one query)."""
    if not is_signed_in(user):
        return NO_REACH
    if user.is_superuser:
        return Reach(True, frozenset(), frozenset())
    cache = user.__dict__.setdefault("_reach_cache", {})
    memberships = active_memberships(user)
    if action not in cache:
        roles = ACTION_ROLES[action]
        institutions, jurisdictions = set(), set()
        for role, institution_id, institution_type, region in memberships:
            if role in roles.institution:
                institutions.add(institution_id)
            # A jurisdiction is a commission's: the same role elsewhere reaches nothing.
            if role in roles.jurisdiction and institution_type == InstitutionType.HEALTH_COMMISSION:
                jurisdictions.add((region.level, region.code) if region else (None, None))
        cache[action] = Reach(False, frozenset(institutions), frozenset(jurisdictions))
    return cache[action]


def active_memberships(user) -> list[tuple]:
    """(role, institution id, institution type, region) of the user's active memberships at
    active institutions; read once per user object."""
    if not is_signed_in(user):
        return []
    cache = user.__dict__.setdefault("_reach_cache", {})
    if "memberships" not in cache:
        cache["memberships"] = [
            (m.role, m.institution_id, m.institution.type, m.institution.region)
            for m in user.memberships.filter(
                is_active=True, institution__is_active=True
            ).select_related("institution__region")
        ]
    return cache["memberships"]


def holds_role(user, role: Role) -> bool:
    return any(held == role for held, *_rest in active_memberships(user))


def forget_reach(user) -> None:
    """Drop the cached reach (after the user's memberships changed)."""
    user.__dict__.pop("_reach_cache", None)


def jurisdiction_q(
    level: str | None, code: str | None, *, fields: dict[str, str] = ASSET_REGION_FIELDS
) -> Q:
    """Rows whose region lies in the jurisdiction (``fields`` names the region columns)."""
    if level is None:
        return Q()
    return Q(**{fields[level]: code})


def reach_q(
    found: Reach,
    *,
    institution_field: str = "holder",
    region_fields: dict[str, str] = ASSET_REGION_FIELDS,
) -> Q | None:
    """The condition for the rows in reach; None means everything."""
    if found.everything or (None, None) in found.jurisdictions:
        return None
    condition = Q(pk__in=[])
    if found.institution_ids:
        condition |= Q(**{f"{institution_field}__in": sorted(found.institution_ids)})
    for level, code in sorted(found.jurisdictions):
        condition |= jurisdiction_q(level, code, fields=region_fields)
    return condition


def role_abilities(role: str, *, own_institution: bool) -> list[Action]:
    """The actions ``role`` gives over an object of its own institution (True) or of its
    commission's jurisdiction (False), in the order of :class:`Action`."""
    return [
        action for action, roles in ACTION_ROLES.items()
        if role in (roles.institution if own_institution else roles.jurisdiction)
    ]
