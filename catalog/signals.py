"""Signal receivers of the catalog: history attribution, and the assets' copies of their
holder's region kept true when an institution moves."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.translation import gettext as _
from simple_history.signals import pre_create_historical_record

from accounts.models import Institution

from .history import current, ledger_context
from .models import DataAsset


@receiver(pre_create_historical_record, dispatch_uid="catalog_history_reason")
def attach_reason(sender, history_instance, **kwargs) -> None:
    """Every history row written by a save carries the reason of the ledger context."""
    if not history_instance.history_change_reason and current().reason:
        history_instance.history_change_reason = current().reason


@receiver(post_save, sender=Institution, dispatch_uid="catalog_follow_holder_region")
def follow_holder_region(sender, instance: Institution, created: bool, **kwargs) -> None:
    if created:
        return
    region = instance.region
    stale = DataAsset.objects.filter(holder=instance).exclude(region=region)  # None: IS NULL
    with ledger_context(reason=_("The holding institution moved to another region")):
        stale.update(
            region=region,
            region_province=region.province if region else None,
            region_city=region.city if region else None,
        )
