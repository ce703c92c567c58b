"""Telling institutions what a run found new about their assets: one message per person."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.choices import Role
from accounts.models import Membership
from inbox.services import notify

from .models import Finding, Run

# Who answers an institution's findings.
OWNER_ROLES = (Role.REGISTRAR, Role.INSTITUTION_ADMIN)


def notify_new_findings(run: Run) -> int:
    """Notify the owners of each institution with new findings; return the messages sent."""
    per_institution = dict(
        Finding.objects.filter(first_run=run).values("institution")
        .annotate(n=Count("id")).values_list("institution", "n")
    )
    if not per_institution:
        return 0
    owners: dict[int, list] = {}
    memberships = Membership.objects.filter(
        institution__in=per_institution, role__in=OWNER_ROLES, is_active=True,
        user__is_active=True,
    ).select_related("user")
    for membership in memberships:
        owners.setdefault(membership.institution_id, []).append(membership.user)
    sent = 0
    for institution_id, users in owners.items():
        # The institution's open findings: its people may read those, not the run itself.
        link = reverse("inventory:finding_list") + f"?institution={institution_id}"
        count = per_institution[institution_id]
        kind = run.get_kind_display()
        notify(
            users,
            lambda count=count, kind=kind: ngettext(
                "%(kind)s: %(count)d new finding about your institution's data",
                "%(kind)s: %(count)d new findings about your institution's data", count,
            ) % {"kind": kind, "count": count},
            lambda: _("Please answer each finding, or correct the ledger so that the next "
                      "run no longer finds it."),
            link=link,
        )
        sent += len(users)
    return sent
