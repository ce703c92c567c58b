"""A schedule removed by any path (admin, shell) takes its beat task with it."""

from __future__ import annotations

from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import Schedule


@receiver(post_delete, sender=Schedule, dispatch_uid="inventory_schedule_task")
def drop_beat_task(sender, instance: Schedule, **kwargs) -> None:
    from django_celery_beat.models import PeriodicTask

    if instance.periodic_task_id:
        PeriodicTask.objects.filter(pk=instance.periodic_task_id).delete()
