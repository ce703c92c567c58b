"""The rights a party may hold over a data asset (数据二十条 Art. 3; PIPL Art. 44–47)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Right(models.TextChoices):
    # The three separable data-resource rights: for institutions.
    HOLD = "hold", _("Holding (持有权)")
    PROCESS_USE = "process_use", _("Processing and use (加工使用权)")
    PRODUCT_OPERATE = "product_operate", _("Product operation (经营权)")
    # The data subject's personal rights: for the people the data is about.
    KNOW = "know", _("Right to know")
    ACCESS = "access", _("Right of access")
    COPY = "copy", _("Right to a copy")
    CORRECT = "correct", _("Right to correction")
    DELETE = "delete", _("Right to deletion")
    WITHDRAW_CONSENT = "withdraw_consent", _("Right to withdraw consent")


RESOURCE_RIGHTS = frozenset({Right.HOLD, Right.PROCESS_USE, Right.PRODUCT_OPERATE})
PERSONAL_RIGHTS = frozenset(set(Right) - RESOURCE_RIGHTS)


class PartyKind(models.TextChoices):
    INSTITUTION = "institution", _("Institution")
    DATA_SUBJECTS = "data_subjects", _("Data subjects")


class AllocationStatus(models.TextChoices):
    ACTIVE = "active", _("In force")
    SUSPENDED = "suspended", _("Suspended")
    ENDED = "ended", _("Ended")
