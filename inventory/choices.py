"""The vocabularies of runs and findings."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RunKind(models.TextChoices):
    INVENTORY = "inventory", _("Inventory (清查)")
    RIGHTS_REVIEW = "rights_review", _("Rights review")


class RunStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("run status", "Queued")
    RUNNING = "running", pgettext_lazy("run status", "Running")
    SUCCEEDED = "succeeded", pgettext_lazy("run status", "Finished")
    FAILED = "failed", pgettext_lazy("run status", "Failed")


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class ChunkState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Severity(models.IntegerChoices):
    INFO = 1, pgettext_lazy("severity", "Information")
    LOW = 2, pgettext_lazy("severity", "Low")
    MEDIUM = 3, pgettext_lazy("severity", "Medium")
    HIGH = 4, pgettext_lazy("severity", "High")


class FindingStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("finding status", "Open")
    ANSWERED = "answered", pgettext_lazy("finding status", "Answered")
    CLOSED = "closed", pgettext_lazy("finding status", "Closed by a steward")
    RESOLVED = "resolved", pgettext_lazy("finding status", "Resolved")


# A finding is "current" until the condition is gone: one current finding per subject.
CURRENT_STATUSES = (FindingStatus.OPEN, FindingStatus.ANSWERED, FindingStatus.CLOSED)


class FindingRule(models.TextChoices):
    # Inventory (清查): the asset against its own declarations.
    STALE = "stale", _("No data update within the declared frequency")
    MISSING_FIELDS = "missing_fields", _("Mandatory ledger fields missing")
    RESPONSIBLE_GONE = "responsible_gone", _("Responsible person missing or inactive")
    HOLDER_INACTIVE = "holder_inactive", _("Holding institution inactive")
    VOLUME_JUMP = "volume_jump", _("Volume changed implausibly since the last run")
    STORED_ABROAD = "stored_abroad", _("Grade 3 or higher stored outside China")
    GRADE_BELOW_CATEGORY = "grade_below_category", _("Grade lower than its categories imply")
    SHARING_ABOVE_GRADE = "sharing_above_grade", _("Shared more openly than its grade allows")
    # Rights review.
    ALLOCATION_EXPIRED = "allocation_expired", _("Rights allocation past its end date")
    ALLOCATION_EXPIRING = "allocation_expiring", _("Rights allocation ending within 30 days")
    GRANT_EXPIRING = "grant_expiring", _("Access permission ending within 30 days")
    GRANT_REVOKED = "grant_revoked", _("Expired access permission revoked")
    PUBLIC_HEALTH_UNBOUNDED = "public_health_unbounded", _(
        "Public-health agency right without a purpose or an end date")
    PUBLIC_HEALTH_EXCESSIVE = "public_health_excessive", _(
        "Public-health agency given more than its purpose needs")
    SUBJECT_RESOURCE_RIGHT = "subject_resource_right", _(
        "Resource right given to data subjects")
    NO_HOLDER = "no_holder", _("No holding right allocated")
    GRADE5_PRODUCT = "grade5_product", _("Grade 5 data with product-operation rights")
