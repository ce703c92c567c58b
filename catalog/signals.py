"""Signal receivers of the catalog: history attribution, and the assets' copies of their
holder's region kept true when an institution moves."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils.translation import gettext as _
from simple_history.signals import pre_create_historical_record

from accounts.models import Institution

from .freshness import scope_changed
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


def _scope_changed(sender, using="default", update_fields=None, **kwargs) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in changes nobody's scope
    scope_changed(using)


def connect_scope_signals() -> None:
    """Writes that change who may see what, or what there is to see, make cached counts
    stale (``catalog.freshness``)."""
    from django.contrib.auth import get_user_model
    from django.db.models.signals import m2m_changed, post_delete

    from access.models import AssetGroupGrant, AssetUserGrant
    from accounts.models import Membership

    User = get_user_model()
    from .models import CatalogClass

    for model in (DataAsset, Institution, Membership, User, AssetUserGrant, AssetGroupGrant,
                  CatalogClass):
        post_save.connect(_scope_changed, sender=model, dispatch_uid=f"scope_save_{model}")
        post_delete.connect(_scope_changed, sender=model, dispatch_uid=f"scope_delete_{model}")
    m2m_changed.connect(_scope_changed, sender=User.groups.through,
                        dispatch_uid="scope_groups")
