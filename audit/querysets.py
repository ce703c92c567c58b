"""A queryset for audited models whose bulk writes still leave one audit event per row.

Django sends no signal for ``QuerySet.update()`` or ``bulk_create()``; here they go through
``save()`` row by row (audited models are small tables: accounts, roles, grants).
"""

from __future__ import annotations

from django.db import models, transaction


class AuditedQuerySet(models.QuerySet):
    def update(self, **kwargs) -> int:
        with transaction.atomic(using=self.db):
            rows = list(self.select_for_update())
            for row in rows:
                for name, value in kwargs.items():
                    setattr(row, name, value)
                row.save(using=self.db)
        return len(rows)

    update.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            from .recorder import record_created

            for obj in created:
                if obj.pk is not None:
                    record_created(obj)
        return created

    bulk_create.alters_data = True
