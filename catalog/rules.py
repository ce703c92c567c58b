"""Catalog business rules that several parts of the product apply, kept in one place."""

from django.db.models import Q

from .choices import AssetStatus, DataCategory, OpenAttribute, SharingType

# The open catalog: what anyone, signed in or not, may browse (metadata only, never data).
OPEN_CATALOG = Q(
    status=AssetStatus.REGISTERED,
    sharing_type=SharingType.UNCONDITIONAL,
    open_attribute=OpenAttribute.OPEN,
)

# Highest sensitivity grade whose data may be opened to the public (GB/T 39725 §6.2: grade 1
# "may be fully public", grade 2 "a wide range after application").
MAX_OPEN_GRADE = 2

# Lowest grade each category implies (a product rule, kept as data so it can be corrected).
CATEGORY_MIN_GRADE = {
    DataCategory.PERSONAL_ATTRIBUTES: 3,
    DataCategory.HEALTH_STATUS: 3,
    DataCategory.MEDICAL_APPLICATION: 3,
    DataCategory.MEDICAL_PAYMENT: 3,
    DataCategory.HEALTH_RESOURCES: 1,
    DataCategory.PUBLIC_HEALTH: 2,
}


def minimum_grade(categories) -> int:
    """The lowest grade an asset with these categories should carry."""
    return max((CATEGORY_MIN_GRADE.get(c, 1) for c in categories), default=1)
