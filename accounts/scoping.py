"""What a user may reach: the role × jurisdiction rules, as query conditions.

The one scoping rule of the product is built here and applied through the querysets'
``visible_to(user)`` / ``editable_by(user)``; nothing else decides who sees what.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Q

from .choices import INSTITUTION_ROLES, JURISDICTION_ROLES, RegionLevel, Role


class Action(StrEnum):
    VIEW = "view"
    CHANGE = "change"


# Which roles reach which objects for each action.
READ_ROLES = JURISDICTION_ROLES | INSTITUTION_ROLES
EDIT_INSTITUTION_ROLES = frozenset({Role.REGISTRAR, Role.INSTITUTION_ADMIN})
EDIT_JURISDICTION_ROLES = frozenset({Role.STEWARD})


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


def reach(user, action: Action) -> Reach:
    """The user's reach for ``action``, computed once per user object and action."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Reach(False, frozenset(), frozenset())
    cache = user.__dict__.setdefault("_reach_cache", {})
    if action in cache:
        return cache[action]
    if user.is_superuser:
        result = Reach(True, frozenset(), frozenset())
    else:
        institution_roles = INSTITUTION_ROLES if action == Action.VIEW else EDIT_INSTITUTION_ROLES
        jurisdiction_roles = (
            JURISDICTION_ROLES if action == Action.VIEW else EDIT_JURISDICTION_ROLES
        )
        institutions, jurisdictions = set(), set()
        memberships = user.memberships.filter(
            is_active=True, institution__is_active=True
        ).select_related("institution__region")
        for membership in memberships:
            if membership.role in institution_roles:
                institutions.add(membership.institution_id)
            if membership.role in jurisdiction_roles:
                region = membership.institution.region
                jurisdictions.add((region.level, region.code) if region else (None, None))
        result = Reach(False, frozenset(institutions), frozenset(jurisdictions))
    cache[action] = result
    return result


def jurisdiction_q(level: str | None, code: str | None, *, prefix: str = "") -> Q:
    """Objects whose region lies in the jurisdiction (``prefix`` names the region fields)."""
    if level is None:
        return Q()
    field = {
        RegionLevel.PROVINCE: "region_province",
        RegionLevel.CITY: "region_city",
        RegionLevel.COUNTY: "region",
    }[level]
    return Q(**{f"{prefix}{field}": code})


def reach_q(found: Reach, *, holder_field: str = "holder") -> Q | None:
    """The condition for the objects in reach; None means everything."""
    if found.everything or (None, None) in found.jurisdictions:
        return None
    condition = Q(pk__in=[])
    if found.institution_ids:
        condition |= Q(**{f"{holder_field}__in": sorted(found.institution_ids)})
    for level, code in sorted(found.jurisdictions):
        condition |= jurisdiction_q(level, code)
    return condition
