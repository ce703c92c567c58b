"""The allocations a user may reach: those over the assets they may reach."""

from __future__ import annotations

from django.db import models

from accounts.scoping import Action

from .choices import AllocationStatus, Right

# Resource rights first, then the data subjects' rights, as the enumeration lists them.
RIGHT_ORDER = models.Case(
    *(models.When(right=right, then=models.Value(position))
      for position, right in enumerate(Right)),
    default=models.Value(len(Right)),
)


class RightsAllocationQuerySet(models.QuerySet):
    def restrict(self, user, action: Action = Action.VIEW) -> RightsAllocationQuerySet:
        """Allocations over the assets ``user`` may reach for ``action`` (one subquery)."""
        from catalog.models import DataAsset

        assets = DataAsset.objects.all()
        if assets.scope_branches(user, action) is None:
            return self
        return self.filter(asset__in=assets.restrict(user, action).values("pk"))

    def visible_to(self, user) -> RightsAllocationQuerySet:
        return self.restrict(user, Action.VIEW)

    def current(self) -> RightsAllocationQuerySet:
        """In force or suspended: not ended."""
        return self.exclude(status=AllocationStatus.ENDED)

    def ended(self) -> RightsAllocationQuerySet:
        return self.filter(status=AllocationStatus.ENDED)

    def in_right_order(self) -> RightsAllocationQuerySet:
        """By right (holding first), then by start."""
        return self.order_by(RIGHT_ORDER, "valid_from", "id")
