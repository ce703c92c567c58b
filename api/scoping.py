"""Which institutions a user may read through the API.

Institutions have no page of their own for the public; the pages show an institution
where they show its assets (the holder on an asset page, a holder facet) and, to its
people and commissions, through ``Institution.objects.restrict``. The API shows the same
and no more: the institutions in the user's reach, and the holders of the assets the user
may see (for the anonymous public: the holders of the open catalog).
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import Institution
from accounts.scoping import INSTITUTION_REGION_FIELDS, Action, reach, reach_q
from catalog.models import DataAsset


def institutions_visible_to(user) -> QuerySet[Institution]:
    in_reach = reach_q(
        reach(user, Action.VIEW), institution_field="pk", region_fields=INSTITUTION_REGION_FIELDS
    )
    if in_reach is None:
        return Institution.objects.all()
    holds_visible = Exists(DataAsset.objects.visible_to(user).filter(holder=OuterRef("pk")))
    return Institution.objects.filter(in_reach | holds_visible)
