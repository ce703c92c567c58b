"""Enumerations of the registry: application kinds and states, workflow actions."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ApplicationKind(models.TextChoices):
    REGISTER = "register", _("Register a new asset")
    CHANGE = "change", _("Change a registered asset")
    DEREGISTER = "deregister", _("Deregister an asset")


class ApplicationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for revision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Transition(models.TextChoices):
    SUBMIT = "submit", _("Submit")
    RETURN = "return", _("Return for revision")
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
