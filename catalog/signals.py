"""Keep the assets' copies of their holder's region true when an institution moves."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.translation import gettext as _

from accounts.models import Institution

from .history import ledger_context
from .models import DataAsset


@receiver(post_save, sender=Institution, dispatch_uid="catalog_follow_holder_region")
def follow_holder_region(sender, instance: Institution, created: bool, **kwargs) -> None:
    if created:
        return
    region = instance.region
    stale = DataAsset.objects.filter(holder=instance).exclude(region=region)
    if region is None:
        stale = DataAsset.objects.filter(holder=instance, region__isnull=False)
    with ledger_context(reason=_("The holding institution moved to another region")):
        stale.update(
            region=region,
            region_province=region.province if region else None,
            region_city=region.city if region else None,
        )
