"""Who reviews an institution's applications: stewards of the commissions whose jurisdiction
covers it (the rule of ``Action.REVIEW``), read back as people to notify."""

from __future__ import annotations

from django.db.models import Q

from accounts.choices import InstitutionType
from accounts.models import Institution, Membership, User
from accounts.scoping import ACTION_ROLES, Action


def reviewers_of(institution: Institution) -> list[User]:
    region = institution.region
    covering = [code for code in (
        region.province_id if region else None, region.city_id if region else None,
        region.code if region else None,
    ) if code]
    memberships = Membership.objects.filter(
        Q(institution__region__isnull=True) | Q(institution__region__in=covering),
        role__in=ACTION_ROLES[Action.REVIEW].jurisdiction,
        institution__type=InstitutionType.HEALTH_COMMISSION,
        institution__is_active=True, is_active=True, user__is_active=True,
    ).select_related("user")
    return [membership.user for membership in memberships]
