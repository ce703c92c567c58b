"""Keyset pages: every asset exactly once, in order, forwards and backwards, ties included."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import DataAsset
from catalog.pagination import SORT_ORDERS, InvalidCursor, paginate, read_cursor

from ..factories import DataAssetFactory, InstitutionFactory, region

pytestmark = pytest.mark.django_db

PAGE = 4


@pytest.fixture
def assets():
    holder = InstitutionFactory(region=region("330106"))
    made = []
    # Ties on purpose: three names shared by several assets, grades 1–5 repeated.
    names = ["乙肝登记", "门诊病历", "乙肝登记", "检验结果", "门诊病历", "乙肝登记", "影像报告",
             "检验结果", "出生登记", "门诊病历", "住院病案", "乙肝登记", "慢病随访", "出生登记"]
    for i, name in enumerate(names):
        made.append(DataAssetFactory(holder=holder, name=name, grade=1 + i % 5))
    # Ties on the update time too: five assets share one timestamp.
    same = timezone.now() - datetime.timedelta(days=1)
    DataAsset.objects.filter(pk__in=[a.pk for a in made[3:8]]).update(updated_at=same)
    return list(DataAsset.objects.all())


def expected_order(rows, key: str) -> list[int]:
    if key == "name":
        ordered = sorted(rows, key=lambda a: (a.name, a.pk))
    elif key == "code":
        ordered = sorted(rows, key=lambda a: (a.code, a.pk))
    elif key == "-grade":
        ordered = sorted(rows, key=lambda a: (a.grade, a.pk), reverse=True)
    elif key == "-updated":
        ordered = sorted(rows, key=lambda a: (a.updated_at, a.pk), reverse=True)
    else:
        raise AssertionError(key)
    return [a.pk for a in ordered]


def walk_forward(key, size=PAGE):
    pages, cursor = [], None
    while True:
        page = paginate(DataAsset.objects.all(), SORT_ORDERS[key], cursor, size)
        pages.append(page)
        if not page.next_cursor:
            return pages
        cursor = page.next_cursor
        assert len(pages) <= DataAsset.objects.count(), "the walk does not end"


def test_the_fixture_has_ties(assets):
    assert len({a.name for a in assets}) < len(assets)
    assert len({a.grade for a in assets}) < len(assets)
    assert len({a.updated_at for a in assets}) < len(assets)


@pytest.mark.parametrize("key", list(SORT_ORDERS))
def test_forward_walk_visits_every_asset_once_in_order(assets, key):
    pages = walk_forward(key)
    seen = [a.pk for page in pages for a in page.items]
    assert seen == expected_order(assets, key)
    assert all(len(page.items) == PAGE for page in pages[:-1])
    assert pages[0].previous_cursor is None
    assert all(page.previous_cursor for page in pages[1:])


@pytest.mark.parametrize("key", list(SORT_ORDERS))
def test_backward_walk_returns_the_same_pages(assets, key):
    forward = walk_forward(key)
    backward = [forward[-1]]
    while backward[-1].previous_cursor:
        backward.append(
            paginate(DataAsset.objects.all(), SORT_ORDERS[key], backward[-1].previous_cursor, PAGE)
        )
        assert len(backward) <= len(forward)
    backward.reverse()
    assert [[a.pk for a in p.items] for p in backward] == [[a.pk for a in p.items] for p in forward]
    assert backward[0].previous_cursor is None
    assert all(page.next_cursor for page in backward[:-1])


@pytest.mark.parametrize("size", [1, 3, 14, 15, 50])
def test_page_sizes_at_the_edges(assets, size):
    pages = walk_forward("name", size)
    assert [a.pk for page in pages for a in page.items] == expected_order(assets, "name")
    assert len(pages) == max(1, -(-len(assets) // size))
    assert pages[-1].next_cursor is None


def test_empty_result_has_no_cursors(db):
    page = paginate(DataAsset.objects.none(), SORT_ORDERS["name"], None, PAGE)
    assert (page.items, page.next_cursor, page.previous_cursor) == ([], None, None)


def test_pages_hold_when_rows_are_added_before_the_cursor(assets):
    first = paginate(DataAsset.objects.all(), SORT_ORDERS["code"], None, PAGE)
    second_before = paginate(DataAsset.objects.all(), SORT_ORDERS["code"], first.next_cursor, PAGE)
    DataAssetFactory(code="AAA-0001")  # sorts before everything on the first page
    second_after = paginate(DataAsset.objects.all(), SORT_ORDERS["code"], first.next_cursor, PAGE)
    assert [a.pk for a in second_after.items] == [a.pk for a in second_before.items]


def test_cursor_for_another_sort_of_the_wrong_type_is_refused(assets):
    page = paginate(DataAsset.objects.all(), SORT_ORDERS["name"], None, PAGE)
    with pytest.raises(InvalidCursor):
        read_cursor(page.next_cursor, SORT_ORDERS["-grade"])
    with pytest.raises(InvalidCursor):
        read_cursor(page.next_cursor, SORT_ORDERS["-updated"])


@pytest.mark.parametrize("key", list(SORT_ORDERS))
def test_list_page_walk_follows_the_links(client, settings, assets, key):
    """Through the page: follow the rendered next links, then the previous links back."""
    settings.CATALOG_PAGE_SIZE = PAGE
    DataAsset.objects.update(sharing_type="unconditional", sharing_condition="",
                             open_attribute="open", grade=1)
    visible = list(DataAsset.objects.all())
    url = reverse("catalog:asset_list")
    pages, params = [], {"sort": key}
    while True:
        response = client.get(url, params)
        assert response.status_code == 200
        page = response.context["page"]
        pages.append([a.pk for a in page.items])
        html = response.content.decode()
        if not page.next_cursor:
            break
        assert len(pages) <= len(visible), "the walk does not end"
        assert f"cursor={page.next_cursor}" in html
        params = {"sort": key, "cursor": page.next_cursor}
    assert [pk for p in pages for pk in p] == expected_order(visible, key)

    back = [pages[-1]]
    previous = response.context["page"].previous_cursor
    while previous:
        assert len(back) <= len(pages), "the walk back does not end"
        response = client.get(url, {"sort": key, "cursor": previous})
        back.append([a.pk for a in response.context["page"].items])
        previous = response.context["page"].previous_cursor
    assert back[::-1] == pages


# --- Scope branches paginated apart --------------------------------------------------------


@pytest.fixture
def branched_world(assets, province_commission):
    """Assets reached through several branches at once: the open catalog, a province, an
    explicit grant — overlapping, so that one asset is reached twice."""
    from django.contrib.auth.models import Permission

    from access.models import AssetUserGrant
    from accounts.choices import Role

    from ..factories import MembershipFactory, UserFactory

    far = InstitutionFactory(region=region("440106"))
    extra = [DataAssetFactory(holder=far, open=True, name=f"开放{i}") for i in range(5)]
    extra += [DataAssetFactory(holder=far, name=f"隐藏{i}") for i in range(5)]
    user = MembershipFactory(user=UserFactory(username="branches"),
                             institution=province_commission, role=Role.COMMISSION_STAFF).user
    view = Permission.objects.get(codename="view_dataasset")
    for asset in [extra[0], extra[5], extra[6], assets[0]]:  # open, hidden, hidden, in province
        AssetUserGrant.objects.create(user=user, permission=view, content_object=asset,
                                      reason="t")
    return user


@pytest.mark.parametrize("key", list(SORT_ORDERS))
@pytest.mark.parametrize("grade", [None, 1, 3])
def test_branch_pages_equal_the_scoped_order(branched_world, key, grade):
    user = branched_world
    filtered = DataAsset.objects.all() if grade is None else DataAsset.objects.filter(grade=grade)
    expected = expected_order(list(filtered.filter(
        pk__in=DataAsset.objects.visible_to(user).values("pk"))), key)
    assert len(expected) > PAGE
    branches = DataAsset.objects.scope_branches(user)
    assert len(branches) == 3  # open catalog, province, grants
    seen, cursor, backward = [], None, []
    while True:
        page = paginate(filtered, SORT_ORDERS[key], cursor, PAGE, branches=branches)
        seen += [a.pk for a in page.items]
        backward.append(page)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == expected
    if len(backward) > 1:
        previous = paginate(filtered, SORT_ORDERS[key], backward[-1].previous_cursor, PAGE,
                            branches=branches)
        assert [a.pk for a in previous.items] == [a.pk for a in backward[-2].items]


def test_no_branch_means_no_rows(assets):
    assert paginate(DataAsset.objects.all(), SORT_ORDERS["code"], None, PAGE, branches=[]).items \
        == []
