"""Which party may hold which right over which asset: the allocation rules, codified once.

The form refuses an allocation that breaks them; the rights review finds the ones that
reached the database some other way (an import, an older rule, a changed grade).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.choices import InstitutionType

from .choices import PERSONAL_RIGHTS, RESOURCE_RIGHTS, PartyKind, Right

# Institutions that serve public health: they get only the rights a stated public-interest
# purpose needs, for a stated time.
PUBLIC_HEALTH_TYPES = frozenset({InstitutionType.CDC})

# Rights that are never necessary for a public-health purpose on another's data.
NOT_FOR_PUBLIC_HEALTH = frozenset({Right.PRODUCT_OPERATE})

# The highest grade whose data may feed a product that is licensed or operated.
MAX_PRODUCT_GRADE = 4

# How far ahead an ending allocation or grant is reported as expiring.
EXPIRING_WITHIN_DAYS = 30


def allocation_errors(
    *,
    party_kind: str,
    right: str,
    party_institution=None,
    asset=None,
    purpose: str = "",
    valid_from=None,
    valid_until=None,
) -> dict[str, list]:
    """Field → messages for an allocation that breaks a rule (empty when it is sound)."""
    errors: dict[str, list] = {}

    def add(field: str, message) -> None:
        errors.setdefault(field, []).append(message)

    if party_kind == PartyKind.DATA_SUBJECTS and right in RESOURCE_RIGHTS:
        add("right", _("Data subjects hold personal rights over their data, not resource "
                       "rights: give holding, use or operation rights to an institution."))
    if party_kind == PartyKind.INSTITUTION and right in PERSONAL_RIGHTS:
        add("right", _("Personal rights belong to the data subjects, not to an institution."))
    if valid_from and valid_until and valid_until < valid_from:
        add("valid_until", _("The allocation must start before it ends."))
    if asset is None:
        return errors
    if right == Right.HOLD and party_institution is not None and (
        party_institution.pk != asset.holder_id
    ):
        add("party_institution", _("The holding right belongs to the holding institution "
                                   "named in the ledger."))
    if right == Right.PRODUCT_OPERATE and asset.grade and asset.grade > MAX_PRODUCT_GRADE:
        add("right", _("Data of grade %(grade)d cannot be operated as a product.")
            % {"grade": asset.grade})
    if (
        party_institution is not None
        and party_institution.type in PUBLIC_HEALTH_TYPES
        and party_institution.pk != asset.holder_id
    ):
        if right in NOT_FOR_PUBLIC_HEALTH:
            add("right", _("A public-health agency receives only the rights its purpose "
                           "needs: product operation is not one of them."))
        if not purpose.strip():
            add("purpose", _("State the public-interest purpose this right serves."))
        if not valid_until:
            add("valid_until", _("A public-health agency's right must have an end date."))
    return errors
