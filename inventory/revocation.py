"""The rights review revokes explicit permissions past their expiry, set by set: each
revocation goes into the audit trail and becomes a resolved finding of the run."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from access.models import AssetGroupGrant, AssetUserGrant
from audit import recorder
from audit.models import AuditAction, AuditEvent

from .choices import FindingRule, FindingStatus, Severity


def revoke_expired_grants(assets: QuerySet, run, now: datetime, *, first_id: int = 0,
                          last_id: int = 2**63 - 1) -> int:
    """Delete the expired grants on ``assets``; return how many went."""
    from .models import Finding

    revoked = 0
    actor = recorder.actor_name()
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
        snapshot = recorder.audited_models()[model].snapshot
        events, findings = [], []
        for grant in expired:
            asset, before = grant.content_object, snapshot(grant)
            events.append(recorder.event(
                AuditAction.GRANT_REVOKED, grant, before=before, after=None,
                institution=asset.holder, actor=actor,
            ))
            findings.append(Finding(
                rule=FindingRule.GRANT_REVOKED, severity=Severity.INFO, asset=asset,
                subject=f"{prefix}{grant.pk}", evidence=before["grantee"][:500],
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
