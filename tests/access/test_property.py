"""Property: in any world, the scoped querysets answer what a plain reference says.

Hypothesis draws small worlds — institutions at real seeded regions (national, provincial,
municipal and county commissions, hospitals, CDCs; some inactive), users (some inactive,
some platform administrators), memberships with any role (some inactive), assets of any
status / sharing type / open attribute / grade, and explicit user and group grants of
either permission, live, expired or open-ended. For every user (and the anonymous public):

* ``DataAsset.objects.visible_to`` / ``editable_by`` / ``restrict(GRANT)`` equal the sets a
  reference function computes in pure Python from the drawn world. The reference restates
  the policy by hand (no ``reach``, ``reach_q`` or ``ACTION_ROLES``).
* ``access.explain.who_has_access`` names, for every asset, exactly the signed-in users the
  querysets let view / change / grant it (the public entry standing for everyone).

Each example builds its world inside a transaction that is rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.db import models, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from access.explain import who_has_access
from access.models import AssetGroupGrant, AssetUserGrant
from accounts.choices import InstitutionType, Role
from accounts.models import Institution, Membership, Region, User
from accounts.scoping import Action
from catalog.choices import (
    AssetStatus,
    CollectionMethod,
    DataCategory,
    OpenAttribute,
    Purpose,
    SharingType,
    SourceSystem,
    UpdateFrequency,
)
from catalog.models import DataAsset

from ..factories import credit_code

pytestmark = pytest.mark.django_db

# Real seeded divisions: two provinces, some of their cities and counties.
REGION_CODES = [
    "330000", "330100", "330106", "330102", "330200", "330203",
    "440000", "440100", "440106",
]
INSTITUTION_KINDS = {
    "commission": InstitutionType.HEALTH_COMMISSION,
    "hospital": InstitutionType.TERTIARY_HOSPITAL,
    "cdc": InstitutionType.CDC,
}

# The policy, by hand: which roles reach what.
OWN_INSTITUTION_READERS = {Role.REGISTRAR, Role.INSTITUTION_ADMIN}
OWN_INSTITUTION_EDITORS = {Role.REGISTRAR, Role.INSTITUTION_ADMIN}
JURISDICTION_READERS = {Role.STEWARD, Role.COMMISSION_STAFF, Role.AUDITOR}
JURISDICTION_EDITORS = {Role.STEWARD}
JURISDICTION_GRANTERS = {Role.STEWARD}

PAST, FUTURE, NEVER = "past", "future", "never"


# --- Drawing a world (plain data) ---------------------------------------------------------------

often_true = st.sampled_from([True, True, True, True, False])
rarely_true = st.sampled_from([False, False, False, False, False, True])


@st.composite
def institutions(draw):
    kind = draw(st.sampled_from(list(INSTITUTION_KINDS)))
    # Only a commission may sit nowhere (the national commission).
    codes = REGION_CODES + [None] if kind == "commission" else REGION_CODES
    return {"kind": kind, "region": draw(st.sampled_from(codes)), "active": draw(often_true)}


@st.composite
def assets(draw, n_institutions):
    open_attribute = draw(st.sampled_from(OpenAttribute.values))
    # Only grade 1–2 data may be opened (DataAsset.clean).
    grades = [1, 2] if open_attribute == OpenAttribute.OPEN else [1, 2, 3, 4, 5]
    return {
        "holder": draw(st.integers(0, n_institutions - 1)),
        "status": draw(st.sampled_from(AssetStatus.values)),
        "sharing_type": draw(st.sampled_from(SharingType.values)),
        "open_attribute": open_attribute,
        "grade": draw(st.sampled_from(grades)),
    }


@st.composite
def worlds(draw):
    n_inst = draw(st.integers(1, 8))
    insts = draw(st.lists(institutions(), min_size=n_inst, max_size=n_inst))
    n_users = draw(st.integers(1, 10))
    users = draw(st.lists(
        st.fixed_dictionaries({"active": often_true, "superuser": rarely_true}),
        min_size=n_users, max_size=n_users,
    ))
    memberships = draw(st.lists(
        st.tuples(st.integers(0, n_users - 1), st.integers(0, n_inst - 1),
                  st.sampled_from(Role.values), often_true),
        max_size=14, unique_by=lambda m: m[:3],
    ))
    groups = draw(st.lists(
        st.sets(st.integers(0, n_users - 1), max_size=4), max_size=3,
    ))
    n_assets = draw(st.integers(0, 20))
    drawn_assets = draw(st.lists(assets(n_inst), min_size=n_assets, max_size=n_assets))
    user_grants, group_grants = [], []
    if n_assets:
        expiry = st.sampled_from([PAST, FUTURE, NEVER])
        permission = st.sampled_from(["view_dataasset", "change_dataasset"])
        user_grants = draw(st.lists(
            st.tuples(st.integers(0, n_users - 1), st.integers(0, n_assets - 1), permission,
                      expiry),
            max_size=14, unique_by=lambda g: g[:3],
        ))
        if groups:
            group_grants = draw(st.lists(
                st.tuples(st.integers(0, len(groups) - 1), st.integers(0, n_assets - 1),
                          permission, expiry),
                max_size=8, unique_by=lambda g: g[:3],
            ))
    return {
        "institutions": insts, "users": users, "memberships": memberships, "groups": groups,
        "assets": drawn_assets, "user_grants": user_grants, "group_grants": group_grants,
    }


# --- The reference: the policy in plain Python over the drawn world ---------------------------


@dataclass(frozen=True)
class RegionInfo:
    code: str
    level: str
    province: str
    city: str | None


def within(holder_region: str | None, jurisdiction: str | None, regions) -> bool:
    """Whether a holder sitting in ``holder_region`` lies in the jurisdiction of a
    commission (or other institution) sitting in ``jurisdiction`` (None: the country)."""
    if jurisdiction is None:
        return True
    if holder_region is None:
        return False
    holder, area = regions[holder_region], regions[jurisdiction]
    if area.level == "province":
        return holder.province == area.code
    if area.level == "city":
        return holder.city == area.code
    return holder.code == area.code


def is_open(asset: dict) -> bool:
    return (asset["status"] == AssetStatus.REGISTERED
            and asset["sharing_type"] == SharingType.UNCONDITIONAL
            and asset["open_attribute"] == OpenAttribute.OPEN)


def expected_access(world: dict, regions, user_index: int | None, action: str) -> set[int]:
    """Indexes of the assets the user (None: anonymous) may reach for ``action``."""
    assets = world["assets"]
    result = set()
    if action == Action.VIEW:
        result |= {i for i, asset in enumerate(assets) if is_open(asset)}
    if user_index is None or not world["users"][user_index]["active"]:
        return result
    if world["users"][user_index]["superuser"]:
        return set(range(len(assets)))
    own_roles, area_roles = {
        Action.VIEW: (OWN_INSTITUTION_READERS, JURISDICTION_READERS),
        Action.CHANGE: (OWN_INSTITUTION_EDITORS, JURISDICTION_EDITORS),
        Action.GRANT: (set(), JURISDICTION_GRANTERS),
    }[action]
    is_auditor = False
    for u, inst, role, active in world["memberships"]:
        institution = world["institutions"][inst]
        if u != user_index or not active or not institution["active"]:
            continue
        is_auditor = is_auditor or role == Role.AUDITOR
        # A jurisdiction belongs to a health commission: the same role elsewhere reaches none.
        covers = institution["kind"] == "commission"
        for i, asset in enumerate(assets):
            holder = world["institutions"][asset["holder"]]
            if role in own_roles and asset["holder"] == inst:
                result.add(i)
            if (role in area_roles and covers
                    and within(holder["region"], institution["region"], regions)):
                result.add(i)
    if action == Action.CHANGE and is_auditor:
        return result  # an auditor changes nothing, not even through a grant
    permissions = {
        Action.VIEW: {"view_dataasset", "change_dataasset"},
        Action.CHANGE: {"change_dataasset"},
        Action.GRANT: set(),
    }[action]
    for u, a, permission, expiry in world["user_grants"]:
        if u == user_index and permission in permissions and expiry != PAST:
            result.add(a)
    for g, a, permission, expiry in world["group_grants"]:
        if user_index in world["groups"][g] and permission in permissions and expiry != PAST:
            result.add(a)
    return result


# --- Building the drawn world in the database --------------------------------------------------


def _asset_row(index: int, drawn: dict, holder: Institution) -> DataAsset:
    sharing = drawn["sharing_type"]
    return DataAsset(
        code=f"PROP-{index:03d}", name=f"属性资产{index}", source_system=SourceSystem.EMR,
        collection_method=CollectionMethod.SYSTEM_GENERATED, purposes=[Purpose.CLINICAL_CARE],
        storage_location="院内数据中心", update_frequency=UpdateFrequency.DAILY, holder=holder,
        responsible_person="张三", categories=[DataCategory.HEALTH_RESOURCES],
        grade=drawn["grade"], sharing_type=sharing,
        sharing_condition="" if sharing == SharingType.UNCONDITIONAL else "依法审批",
        open_attribute=drawn["open_attribute"], contains_personal_info=False,
        status=drawn["status"],
    )


def _insert(model, objs):
    """Insert rows without the per-row audit events of the audited managers: the audit
    trail is not under test here, and the property must stay fast over 500 worlds."""
    return models.QuerySet(model).bulk_create(objs)


def build(world: dict, permissions: dict[str, Permission]):
    now = timezone.now()
    expiry_at = {PAST: now - timedelta(days=3), FUTURE: now + timedelta(days=3), NEVER: None}
    insts = Institution.objects.bulk_create([
        Institution(
            name=f"机构{i}", credit_code=credit_code(900_000 + i),
            type=INSTITUTION_KINDS[drawn["kind"]], region_id=drawn["region"],
            is_active=drawn["active"],
        )
        for i, drawn in enumerate(world["institutions"])
    ])
    users = _insert(User, [
        User(username=f"prop{i}", password="!", is_active=drawn["active"],
             is_superuser=drawn["superuser"], is_staff=drawn["superuser"])
        for i, drawn in enumerate(world["users"])
    ])
    _insert(Membership, [
        Membership(user=users[u], institution=insts[i], role=role, is_active=active)
        for u, i, role, active in world["memberships"]
    ])
    groups = Group.objects.bulk_create([
        Group(name=f"prop-group-{g}") for g in range(len(world["groups"]))
    ])
    User.groups.through.objects.bulk_create([
        User.groups.through(user_id=users[u].pk, group_id=groups[g].pk)
        for g, members in enumerate(world["groups"]) for u in members
    ])
    assets = DataAsset.objects.bulk_create([
        _asset_row(i, drawn, insts[drawn["holder"]]) for i, drawn in enumerate(world["assets"])
    ])
    _insert(AssetUserGrant, [
        AssetUserGrant(user=users[u], content_object=assets[a], permission=permissions[p],
                       expires_at=expiry_at[e], reason="property")
        for u, a, p, e in world["user_grants"]
    ])
    _insert(AssetGroupGrant, [
        AssetGroupGrant(group=groups[g], content_object=assets[a], permission=permissions[p],
                        expires_at=expiry_at[e], reason="property")
        for g, a, p, e in world["group_grants"]
    ])
    return users, assets


def explained(asset: DataAsset) -> dict[str, tuple[bool, set[int]]]:
    """For each action: (public?, ids of the users) who_has_access says may do it."""
    found = {action: (False, set()) for action in (Action.VIEW, Action.CHANGE, Action.GRANT)}
    for entry in who_has_access(asset):
        if not entry.live:
            continue
        for action in entry.actions:
            public, users = found[action]
            if entry.kind == "public":
                found[action] = (True, users)
            elif entry.kind == "user":
                users.add(entry.who.pk)
            else:  # a group: its members who can sign in and do the action through it
                users |= {member.pk for member in entry.members_for(action)}
    return found


# --- The property ------------------------------------------------------------------------------


@pytest.fixture
def regions():
    return {
        r.code: RegionInfo(r.code, r.level, r.province_id, r.city_id)
        for r in Region.objects.filter(code__in=REGION_CODES)
    }


@pytest.fixture
def permissions():
    return {
        p.codename: p for p in Permission.objects.filter(
            content_type__app_label="catalog",
            codename__in=["view_dataasset", "change_dataasset"])
    }


@settings(
    max_examples=500, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_scoping_agrees_with_the_reference(regions, permissions, world):
    assert set(regions) == set(REGION_CODES)
    with transaction.atomic():
        created_users, assets = build(world, permissions)
        index_of = {asset.pk: i for i, asset in enumerate(assets)}
        # Fresh user objects, as a request would load them.
        by_pk = User.objects.in_bulk([u.pk for u in created_users])
        users = [by_pk[u.pk] for u in created_users]

        def reached(user, action) -> set[int]:
            scoped = {
                Action.VIEW: DataAsset.objects.visible_to,
                Action.CHANGE: DataAsset.objects.editable_by,
                Action.GRANT: lambda u: DataAsset.objects.restrict(u, Action.GRANT),
            }[action](user)
            return {index_of[pk] for pk in scoped.values_list("pk", flat=True)}

        actual: dict[tuple[int | None, str], set[int]] = {}
        for action in (Action.VIEW, Action.CHANGE, Action.GRANT):
            expected_anonymous = expected_access(world, regions, None, action)
            assert reached(AnonymousUser(), action) == expected_anonymous, action
            for i, user in enumerate(users):
                actual[i, action] = reached(user, action)
                assert actual[i, action] == expected_access(world, regions, i, action), (
                    f"user {i} {action}")

        # "Who has access" names exactly the signed-in users the querysets let in.
        signed_in = {i for i, user in enumerate(users) if user.is_active}
        for a, asset in enumerate(assets):
            for action, (public, listed) in explained(asset).items():
                assert public == (action == Action.VIEW and is_open(world["assets"][a]))
                listed_indexes = {i for i, user in enumerate(users) if user.pk in listed}
                assert listed == {users[i].pk for i in listed_indexes}, "unknown user listed"
                assert listed_indexes <= signed_in, ("an inactive user listed", a, action)
                if public:
                    listed_indexes = signed_in
                assert listed_indexes == {i for i in signed_in if a in actual[i, action]}, (
                    f"asset {a} {action}")
        transaction.set_rollback(True)


def test_the_reference_reads_regions_like_the_division_codes(regions):
    """The reference's region test against hand-checked facts (a test of the test)."""
    assert within("330106", "330000", regions)
    assert within("330106", "330100", regions)
    assert within("330106", "330106", regions)
    assert within("330100", "330100", regions)
    assert within("330000", "330000", regions)
    assert not within("330102", "330106", regions)
    assert not within("330203", "330100", regions)
    assert not within("330000", "330100", regions)
    assert not within("440106", "330000", regions)
    assert not within(None, "330000", regions)
    assert within(None, None, regions)

