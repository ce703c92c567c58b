"""The rights review revokes explicit permissions past their expiry, set by set: each
revocation goes into the audit trail and becomes a resolved finding of the run."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from access.models import AssetGroupGrant, AssetUserGrant
from audit.models import AuditAction, AuditEvent
from audit.recorder import audited_models
from catalog.history import current

from .choices import FindingRule, FindingStatus, Severity


def revoke_expired_grants(assets: QuerySet, run, now: datetime, *, first_id: int = 0,
                          last_id: int = 2**63 - 1) -> int:
    """Delete the expired grants on ``assets``; return how many went."""
    from .models import Finding

    revoked = 0
    context = current()
    actor_name = ""
    if context.actor_id is not None:
        actor_name = get_user_model().objects.filter(pk=context.actor_id).values_list(
            "username", flat=True).first() or ""
    for model, prefix in ((AssetUserGrant, "usergrant:"), (AssetGroupGrant, "groupgrant:")):
        expired = list(
            model.objects.filter(content_object__in=assets.values("id"), expires_at__lte=now,
                                 content_object_id__gte=first_id,
                                 content_object_id__lte=last_id)
            .select_related(
                "permission", "content_object__holder__region",
                "user" if model is AssetUserGrant else "group",
            )
        )
        if not expired:
            continue
        spec = audited_models()[model]
        target_type = ContentType.objects.get_for_model(model)
        events, findings = [], []
        for grant in expired:
            holder = grant.content_object.holder
            region = holder.region
            events.append(AuditEvent(
                actor_id=context.actor_id, actor_name=actor_name, action=AuditAction.GRANT_REVOKED,
                target_type=target_type, target_id=str(grant.pk), target_repr=str(grant)[:300],
                institution=holder, region=region,
                region_province_id=region.province_id if region else None,
                region_city_id=region.city_id if region else None,
                before=spec.snapshot(grant), after=None, reason=context.reason,
                request_id=context.request_id,
            ))
            asset = grant.content_object
            findings.append(Finding(
                rule=FindingRule.GRANT_REVOKED, severity=Severity.INFO, asset=asset,
                subject=f"{prefix}{grant.pk}", evidence=spec.snapshot(grant)["grantee"][:500],
                institution_id=asset.holder_id, region_id=asset.region_id,
                region_province_id=asset.region_province_id,
                region_city_id=asset.region_city_id, status=FindingStatus.RESOLVED,
                first_run=run, last_run=run, first_seen_at=now, last_seen_at=now,
                resolved_at=now,
            ))
        AuditEvent.objects.bulk_create(events)
        Finding.objects.bulk_create(findings)
        # Recorded above, event by event: the rows go in one statement.
        model.objects.filter(pk__in=[grant.pk for grant in expired])._raw_delete(
            model.objects.db
        )
        revoked += len(expired)
    return revoked
