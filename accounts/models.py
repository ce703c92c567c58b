"""People, institutions and the administrative regions they sit in."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.querysets import AuditedQuerySet

from .choices import InstitutionType, RegionLevel, Role
from .credit_code import validate_credit_code
from .scoping import COMMISSION_ROLES, INSTITUTION_REGION_FIELDS, Action, reach, reach_q

region_code_validator = RegexValidator(
    r"^[1-9]\d{5}$", _("An administrative division code has six digits (GB/T 2260).")
)


class AccountManager(UserManager.from_queryset(AuditedQuerySet)):
    """Django's user manager whose bulk updates are audited row by row like single saves."""


class User(AbstractUser):
    """A person who signs in: a registrar, steward, commission officer, auditor, …"""

    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    objects = AccountManager()

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username


class Region(models.Model):
    """An administrative division (GB/T 2260): province, city or county.

    ``province`` and ``city`` point up the tree (a province points to itself), so that
    "everything in province 33" is one equality on an indexed column.
    """

    code = models.CharField(
        _("division code"), max_length=6, primary_key=True, validators=[region_code_validator]
    )
    name = models.CharField(_("name"), max_length=60)
    level = models.CharField(_("level"), max_length=10, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent region"),
    )
    province = models.ForeignKey(
        "self", models.PROTECT, related_name="+", verbose_name=_("province")
    )
    city = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("city")
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        """Province, city and county names joined, skipping the municipal placeholders."""
        parts = []
        if self.level != RegionLevel.PROVINCE:
            parts.append(self.province.name)
        if self.level == RegionLevel.COUNTY and self.city and self.city.name not in (
            "市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划",
        ):
            parts.append(self.city.name)
        parts.append(self.name)
        return "".join(parts)


class InstitutionQuerySet(models.QuerySet):
    def restrict(self, user, action: Action = Action.VIEW) -> InstitutionQuerySet:
        """The institutions ``user`` reaches for ``action`` (the same rule as for assets)."""
        condition = reach_q(
            reach(user, action), institution_field="pk", region_fields=INSTITUTION_REGION_FIELDS
        )
        return self if condition is None else self.filter(condition)

    def visible_to(self, user) -> InstitutionQuerySet:
        """The institutions ``user`` may read about: those in their reach, and the holders of
        the assets they may see (for the anonymous public, the holders of the open catalog).
        The pages show an institution where they show its assets; the API and the DCAT
        publishers show the same and no more."""
        from catalog.models import DataAsset  # the catalog builds on accounts

        in_reach = reach_q(
            reach(user, Action.VIEW), institution_field="pk",
            region_fields=INSTITUTION_REGION_FIELDS,
        )
        if in_reach is None:
            return self
        holds_visible = models.Exists(
            DataAsset.objects.visible_to(user).filter(holder=models.OuterRef("pk"))
        )
        return self.filter(in_reach | holds_visible)


class Institution(models.Model):
    """A legal entity that holds or governs health data: hospital, CDC, commission, …

    ``parent`` is the supervising institution (a county hospital's county commission, a
    county commission's city commission …); a commission's jurisdiction is its region.
    A commission without a region is the national commission.
    """

    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True,
        validators=[validate_credit_code],
        error_messages={"unique": _("An institution with this credit code already exists.")},
    )
    type = models.CharField(_("institution type"), max_length=30, choices=InstitutionType.choices)
    region = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="institutions",
        verbose_name=_("administrative division"),
        help_text=_("Empty only for the national health commission."),
    )
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("supervising institution"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = InstitutionQuerySet.as_manager()

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["type", "region"], name="accounts_inst_type_region_idx")]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role at an institution; a user may hold several."""

    user = models.ForeignKey(
        User, models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    institution = models.ForeignKey(
        Institution, models.CASCADE, related_name="memberships", verbose_name=_("institution")
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "institution", "role"],
                name="accounts_membership_unique_role",
                violation_error_message=_("This user already has this role here."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.institution}"

    def clean(self) -> None:
        if (
            self.role in COMMISSION_ROLES
            and self.institution_id is not None
            and self.institution.type != InstitutionType.HEALTH_COMMISSION
        ):
            raise ValidationError({"role": _(
                "A data steward, commission staff or auditor role is held at a health "
                "commission; its jurisdiction is the commission's region."
            )})
