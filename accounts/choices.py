"""Enumerations of the accounts app: region levels, institution types, roles."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")


class InstitutionType(models.TextChoices):
    TERTIARY_HOSPITAL = "hospital_tertiary", _("Tertiary hospital")
    SECONDARY_HOSPITAL = "hospital_secondary", _("Secondary hospital")
    PRIMARY_HOSPITAL = "hospital_primary", _("Primary hospital")
    COMMUNITY_HEALTH_CENTRE = "community_centre", _("Community health centre")
    TOWNSHIP_HEALTH_CENTRE = "township_centre", _("Township health centre")
    CDC = "cdc", _("CDC / public-health agency")
    HEALTH_COMMISSION = "commission", _("Health commission")
    RESEARCH_INSTITUTE = "research", _("Research institute")
    ENTERPRISE = "enterprise", _("Enterprise")


class Role(models.TextChoices):
    REGISTRAR = "registrar", _("Institution registrar")
    INSTITUTION_ADMIN = "institution_admin", _("Institution administrator")
    STEWARD = "steward", _("Data steward")
    COMMISSION_STAFF = "commission_staff", _("Commission staff")
    PUBLIC_HEALTH_OFFICER = "public_health_officer", _("Public-health officer")
    AUDITOR = "auditor", _("Auditor")

