"""Who can see an asset, and why: the two permission layers read back for one asset.

The answer is derived from the same role × action table (``accounts.scoping``) and the same
grant rule (``access.models``) that scope the querysets, so the page cannot drift from
what the catalog really lets each person do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.choices import InstitutionType, Role
from accounts.models import Membership, User
from accounts.scoping import ACTION_ROLES, Action, role_abilities
from catalog.models import DataAsset
from catalog.rules import OPEN_CATALOG

from .models import AssetGroupGrant, AssetUserGrant

SHOWN_ACTIONS = (Action.VIEW, Action.CHANGE, Action.GRANT)


@dataclass
class AccessEntry:
    kind: str  # "public", "user" or "group"
    who: object | None  # the user or group; None for the public
    actions: list[Action]
    reason: str
    until: datetime | None = None
    live: bool = True
    grant: AssetUserGrant | AssetGroupGrant | None = None
    members: list[User] = field(default_factory=list)
    # Members of a group granted editing who may still only view (auditors).
    view_only: set[int] = field(default_factory=set)

    def members_for(self, action: Action) -> list[User]:
        """The group's members who may do ``action`` through this grant."""
        return [
            member for member in self.members
            if member.is_active and not (action == Action.CHANGE and member.pk in self.view_only)
        ]


def _jurisdiction_roles() -> set[str]:
    return {role for roles in ACTION_ROLES.values() for role in roles.jurisdiction}


def _institution_roles() -> set[str]:
    return {role for roles in ACTION_ROLES.values() for role in roles.institution}


def who_has_access(asset: DataAsset) -> list[AccessEntry]:
    """Everyone with access to ``asset``: the public, platform administrators, each role
    reaching it through an institution or jurisdiction, and each explicit grant (expired
    ones included, marked as no longer counting)."""
    entries: list[AccessEntry] = []
    if DataAsset.objects.filter(OPEN_CATALOG, pk=asset.pk).exists():
        entries.append(AccessEntry(
            "public", None, [Action.VIEW],
            _("Open catalog: everyone, signed in or not, may read its description"),
        ))
    for admin in User.objects.filter(is_superuser=True, is_active=True).order_by("username"):
        entries.append(AccessEntry(
            "user", admin, list(SHOWN_ACTIONS), _("Platform administrator"),
        ))
    entries += _role_entries(asset)
    entries += _grant_entries(asset)
    return entries


def _role_entries(asset: DataAsset) -> list[AccessEntry]:
    regions = [
        code for code in (asset.region_province_id, asset.region_city_id, asset.region_id) if code
    ]
    memberships = (
        Membership.objects.filter(
            is_active=True, user__is_active=True, user__is_superuser=False,
            institution__is_active=True,
        )
        .filter(
            Q(institution_id=asset.holder_id, role__in=_institution_roles())
            | Q(role__in=_jurisdiction_roles(), institution__type=InstitutionType.HEALTH_COMMISSION)
            & (Q(institution__region__isnull=True) | Q(institution__region__in=regions))
        )
        .select_related(
            "user", "institution__region__province", "institution__region__city"
        )
        .order_by("institution__region_id", "institution__name", "role", "user__username")
    )
    entries = []
    for membership in memberships:
        actions: set[Action] = set()
        reasons = []
        if membership.institution_id == asset.holder_id:
            own = role_abilities(membership.role, own_institution=True)
            if own:
                actions.update(own)
                reasons.append(_("%(role)s of the holding institution") % {
                    "role": membership.get_role_display()})
        commission = membership.institution
        if commission.type == InstitutionType.HEALTH_COMMISSION and (
            commission.region_id is None or commission.region_id in regions
        ):
            covering = role_abilities(membership.role, own_institution=False)
            if covering:
                actions.update(covering)
                area = commission.region.full_name if commission.region else _("the whole country")
                reasons.append(_("%(role)s of %(institution)s, whose jurisdiction (%(area)s) "
                                 "covers the holder") % {
                    "role": membership.get_role_display(), "institution": commission.name,
                    "area": area,
                })
        shown = [action for action in SHOWN_ACTIONS if action in actions]
        if shown:
            entries.append(AccessEntry("user", membership.user, shown, "; ".join(reasons)))
    return entries


def _grant_entries(asset: DataAsset) -> list[AccessEntry]:
    entries = []
    user_grants = (
        AssetUserGrant.objects.filter(content_object=asset)
        .select_related("user", "permission", "granted_by").order_by("user__username")
    )
    group_grants = (
        AssetGroupGrant.objects.filter(content_object=asset)
        .select_related("group", "permission", "granted_by")
        .prefetch_related("group__user_set").order_by("group__name")
    )
    grants = [*user_grants, *group_grants]
    people = {g.user_id for g in grants if isinstance(g, AssetUserGrant)} | {
        member.pk for g in grants if isinstance(g, AssetGroupGrant)
        for member in g.group.user_set.all()
    }
    auditors = set(
        Membership.objects.filter(
            user_id__in=people, role=Role.AUDITOR, is_active=True, institution__is_active=True,
        ).values_list("user_id", flat=True)
    )
    for grant in grants:
        is_user = isinstance(grant, AssetUserGrant)
        actions = [Action.VIEW, Action.CHANGE] if grant.codename == "change_dataasset" else [
            Action.VIEW]
        if is_user and grant.user_id in auditors:
            actions = [Action.VIEW]  # an auditor changes nothing, whatever the grant says
        live = grant.is_live() and (not is_user or grant.user.is_active)
        reason = _("Explicit grant: %(reason)s") % {"reason": grant.reason}
        entries.append(AccessEntry(
            "user" if is_user else "group", grant.user if is_user else grant.group,
            actions, reason, until=grant.expires_at, live=live, grant=grant,
            members=[] if is_user else sorted(grant.group.user_set.all(), key=str),
            view_only=set() if is_user else auditors,
        ))
    return entries
