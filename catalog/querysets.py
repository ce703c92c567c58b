"""The data-asset queryset: the one scoping rule, and ledger writes that leave a trace."""

from __future__ import annotations

import operator
from functools import reduce
from itertools import islice

from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.choices import Role
from accounts.scoping import Action, holds_role, is_signed_in, jurisdiction_q, reach, reach_q

from . import history
from .rules import OPEN_CATALOG

WRITE_BATCH = 2000
# Fields whose change means the derived columns (search document, region copies) are stale.
DERIVED_FROM = frozenset({"code", "name", "name_en", "description", "holder", "holder_id"})


def batched(items, size: int):
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class DataAssetQuerySet(models.QuerySet):
    # --- The one scoping rule -----------------------------------------------------------

    def scope_branches(self, user, action: Action = Action.VIEW) -> list[Q] | None:
        """The ways ``user`` reaches assets for ``action``, each one condition: the open
        catalog (for viewing), their institutions, each jurisdiction, their live explicit
        grants (one subquery). None: everything. An asset is in reach when it meets any."""
        from access.models import granted_asset_ids

        found = reach(user, action)
        if reach_q(found) is None:
            return None
        branches = [OPEN_CATALOG] if action == Action.VIEW else []
        if found.institution_ids:
            branches.append(Q(holder__in=sorted(found.institution_ids)))
        branches += [jurisdiction_q(level, code) for level, code in sorted(found.jurisdictions)]
        # An auditor changes nothing: not even through an explicit grant.
        if action == Action.CHANGE and holds_role(user, Role.AUDITOR):
            return branches
        if is_signed_in(user) and (granted := granted_asset_ids(user, action)) is not None:
            branches.append(Q(pk__in=granted))
        return branches

    def restrict(self, user, action: Action = Action.VIEW) -> DataAssetQuerySet:
        """The assets ``user`` may reach for ``action``. Every user-facing query uses it:
        the branches of :meth:`scope_branches` OR-ed into one WHERE clause."""
        branches = self.scope_branches(user, action)
        if branches is None:
            return self
        if not branches:
            return self.none()
        return self.filter(reduce(operator.or_, branches))

    def visible_to(self, user) -> DataAssetQuerySet:
        return self.restrict(user, Action.VIEW)

    def editable_by(self, user) -> DataAssetQuerySet:
        return self.restrict(user, Action.CHANGE)

    # --- Writes that keep the ledger's history --------------------------------------------

    def update(self, **kwargs) -> int:
        """Update the rows and record a history entry for each, with actor and reason."""
        if getattr(self, "_unrecorded", False) or not kwargs:
            return super().update(**kwargs)
        model = self.model
        context = history.current()
        kwargs.setdefault("updated_at", timezone.now())
        kwargs["version"] = F("version") + 1
        if context.actor_id is not None:
            kwargs.setdefault("updated_by_id", context.actor_id)
        refresh_derived = bool(DERIVED_FROM & kwargs.keys())
        updated = 0
        with transaction.atomic(using=self.db):
            pks = list(self.order_by().values_list("pk", flat=True))
            for chunk in batched(pks, WRITE_BATCH):
                updated += model.objects.using(self.db).filter(pk__in=chunk)._raw_update(kwargs)
                rows = list(model._base_manager.using(self.db).filter(pk__in=chunk))
                if refresh_derived:
                    _refresh_derived(rows, self.db)
                _record(model, rows, context, update=True, using=self.db)
        return updated

    update.alters_data = True

    def _raw_update(self, values: dict) -> int:
        self._unrecorded = True
        return self.update(**values)

    def bulk_create(self, objs, *args, **kwargs):
        """Insert the rows with their derived fields and record a history entry for each."""
        objs = list(objs)
        context = history.current()
        _refresh_derived(objs, self.db)
        for obj in objs:
            obj.created_by_id = obj.created_by_id or context.actor_id
            obj.updated_by_id = obj.updated_by_id or context.actor_id
        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            _record(self.model, [obj for obj in created if obj.pk], context, using=self.db)
        return created

    bulk_create.alters_data = True

    def search(self, tokens: list[str]) -> DataAssetQuerySet:
        if not tokens:
            return self
        return self.filter(search_document__matches_all=tokens)


def _refresh_derived(objs, using: str) -> None:
    from accounts.models import Institution

    holder_ids = {obj.holder_id for obj in objs}
    regions = {
        inst.pk: inst.region
        for inst in Institution.objects.using(using).filter(pk__in=holder_ids).select_related(
            "region"
        )
    }
    changed = []
    for obj in objs:
        before = (obj.search_document, obj.region_id)
        obj.refresh_derived_fields(holder_region=regions.get(obj.holder_id))
        if (obj.search_document, obj.region_id) != before:
            changed.append(obj)
    if changed and changed[0].pk:
        type(changed[0])._base_manager.using(using).bulk_update(
            changed, ["search_document", "region", "region_province", "region_city"]
        )


def _record(model, rows, context: history.LedgerContext, *, update=False, using="default"):
    from django.contrib.auth import get_user_model

    from .freshness import scope_changed

    scope_changed(using)
    actor = get_user_model()(pk=context.actor_id) if context.actor_id else None
    model.history.bulk_history_create(
        rows,
        update=update,
        default_user=actor,
        default_change_reason=context.reason or "",
        batch_size=WRITE_BATCH,
    )

