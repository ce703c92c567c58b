"""The catalog: data assets (the ledger rows), their classification and data elements."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.models import Institution, Region

from . import search
from .choices import (
    AssetStatus,
    CollectionMethod,
    DataCategory,
    DataFormat,
    DeidentificationState,
    ElementDataType,
    OpenAttribute,
    Purpose,
    SecurityClass,
    SensitivityGrade,
    SharingType,
    SourceSystem,
    UpdateFrequency,
)
from .fields import ChoiceListField
from .history import current, history_user
from .querysets import DataAssetQuerySet
from .rules import MAX_OPEN_GRADE, OPEN_CATALOG

asset_code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{3,39}$",
    _("Use 4–40 capital letters, digits and hyphens, starting with a letter or digit."),
)


class CatalogClass(models.Model):
    """A node of the resource catalog's classification tree (类 / 项 / 目 / 细目)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent class"),
    )

    class Meta:
        verbose_name = _("catalog class")
        verbose_name_plural = _("catalog classes")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class DataAsset(models.Model):
    """One row of the ledger (台账): a health data resource held by an institution.

    The seven ledger dimensions — source, purpose, location, volume, update frequency,
    owner and sensitivity — are typed fields. Every write is recorded in ``history`` (see
    :class:`~catalog.querysets.DataAssetQuerySet`); ``version`` guards against lost updates.
    """

    # Identity and description.
    code = models.CharField(
        _("asset code"), max_length=40, unique=True, validators=[asset_code_validator],
        error_messages={"unique": _("An asset with this code already exists.")},
    )
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    catalog_class = models.ForeignKey(
        CatalogClass, models.PROTECT, null=True, blank=True, related_name="assets",
        verbose_name=_("catalog class"),
    )
    data_format = models.CharField(
        _("format"), max_length=20, choices=DataFormat.choices, default=DataFormat.STRUCTURED
    )

    # Source.
    source_system = models.CharField(
        _("source system"), max_length=20, choices=SourceSystem.choices
    )
    collection_method = models.CharField(
        _("collection method"), max_length=20, choices=CollectionMethod.choices
    )
    # Purpose.
    purposes = ChoiceListField(_("purposes"), choice_class=Purpose)
    # Location.
    storage_location = models.CharField(
        _("storage location"), max_length=200,
        help_text=_("System, data centre or cloud region where the data is kept."),
    )
    stored_in_country = models.BooleanField(_("stored inside China"), default=True)
    # Volume.
    record_count = models.BigIntegerField(
        _("records"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    storage_bytes = models.BigIntegerField(
        _("storage size (bytes)"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    individual_count = models.BigIntegerField(
        _("unique individuals"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    # Update frequency.
    update_frequency = models.CharField(
        _("update frequency"), max_length=20, choices=UpdateFrequency.choices
    )
    last_data_update = models.DateTimeField(_("last data update"), null=True, blank=True)
    # Owner.
    holder = models.ForeignKey(
        Institution, models.PROTECT, related_name="assets", verbose_name=_("holding institution"),
        db_index=False,  # covered by catalog_asset_holder_idx
    )
    responsible_person = models.CharField(_("responsible person"), max_length=100)
    responsible_phone = models.CharField(
        _("responsible person's phone"), max_length=30, blank=True,
        validators=[RegexValidator(r"^[0-9+\-() ]{5,30}$", _("Enter a valid phone number."))],
    )
    responsible_email = models.EmailField(_("responsible person's email"), blank=True)
    responsible_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("responsible person's account"),
    )
    # Sensitivity.
    categories = ChoiceListField(_("data categories"), choice_class=DataCategory, blank=False)
    grade = models.PositiveSmallIntegerField(
        _("sensitivity grade"), choices=SensitivityGrade.choices,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    security_class = models.CharField(
        _("data-security class"), max_length=20, choices=SecurityClass.choices,
        default=SecurityClass.GENERAL,
    )
    # Sharing and openness.
    sharing_type = models.CharField(_("sharing type"), max_length=20, choices=SharingType.choices)
    sharing_condition = models.CharField(
        _("sharing condition or legal basis"), max_length=500, blank=True,
        help_text=_("Required for conditional sharing (the conditions) and for not shared "
                    "(the law, regulation or policy it rests on)."),
    )
    open_attribute = models.CharField(
        _("open attribute"), max_length=20, choices=OpenAttribute.choices,
        default=OpenAttribute.NOT_OPEN,
    )
    # Personal information.
    contains_personal_info = models.BooleanField(_("contains personal information"))
    deidentification = models.CharField(
        _("de-identification"), max_length=20, choices=DeidentificationState.choices,
        default=DeidentificationState.NOT_APPLICABLE,
    )
    # Coverage.
    temporal_start = models.DateField(_("covers from"), null=True, blank=True)
    temporal_end = models.DateField(_("covers until"), null=True, blank=True)
    spatial_coverage = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("spatial coverage"), help_text=_("Empty means nationwide."),
    )
    # Registration.
    status = models.CharField(
        _("status"), max_length=20, choices=AssetStatus.choices, default=AssetStatus.DRAFT
    )
    registration_number = models.CharField(
        _("registration number"), max_length=40, unique=True, null=True, blank=True,
        editable=False,
    )
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True, editable=False)

    # The holder's region, copied here so that jurisdiction and region facets need no join.
    region = models.ForeignKey(
        Region, models.PROTECT, null=True, editable=False, related_name="+", db_index=False,
        verbose_name=_("region"),
    )
    region_province = models.ForeignKey(
        Region, models.PROTECT, null=True, editable=False, related_name="+", db_index=False,
        verbose_name=_("province"),
    )
    region_city = models.ForeignKey(
        Region, models.PROTECT, null=True, editable=False, related_name="+", db_index=False,
        verbose_name=_("city"),
    )
    search_document = search.SearchDocumentField()

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, editable=False,
        related_name="+", verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, editable=False,
        related_name="+", verbose_name=_("updated by"),
    )

    history = HistoricalRecords(
        excluded_fields=["search_document", "region", "region_province", "region_city"],
        get_user=history_user,
        cascade_delete_history=False,
    )
    objects = DataAssetQuerySet.as_manager()

    SEARCH_FIELDS = ("code", "name", "name_en", "description")

    class Meta:
        verbose_name = _("data asset")
        verbose_name_plural = _("data assets")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["-updated_at", "-id"], name="catalog_asset_updated_idx"),
            models.Index(fields=["name", "id"], name="catalog_asset_name_idx"),
            models.Index(fields=["-grade", "-id"], name="catalog_asset_grade_idx"),
            models.Index(fields=["region_province", "id"], name="catalog_asset_province_idx"),
            models.Index(fields=["region_city", "id"], name="catalog_asset_city_idx"),
            models.Index(fields=["region", "id"], name="catalog_asset_region_idx"),
            models.Index(fields=["holder", "id"], name="catalog_asset_holder_idx"),
            # The open catalog in its default order: the public's list walks only open rows.
            models.Index(
                fields=["-updated_at", "-id"], condition=OPEN_CATALOG,
                name="catalog_asset_open_updated_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grade__gte=1, grade__lte=5),
                name="catalog_asset_grade_range",
                violation_error_message=_("The sensitivity grade must be between 1 and 5."),
            ),
            models.CheckConstraint(
                condition=models.Q(record_count__gte=0) | models.Q(record_count__isnull=True),
                name="catalog_asset_records_nonnegative",
                violation_error_message=_("The number of records cannot be negative."),
            ),
            models.CheckConstraint(
                condition=models.Q(storage_bytes__gte=0) | models.Q(storage_bytes__isnull=True),
                name="catalog_asset_bytes_nonnegative",
                violation_error_message=_("The storage size cannot be negative."),
            ),
            models.CheckConstraint(
                condition=models.Q(individual_count__gte=0)
                | models.Q(individual_count__isnull=True),
                name="catalog_asset_individuals_nonnegative",
                violation_error_message=_("The number of individuals cannot be negative."),
            ),
            models.CheckConstraint(
                condition=models.Q(temporal_start__lte=models.F("temporal_end"))
                | models.Q(temporal_start__isnull=True)
                | models.Q(temporal_end__isnull=True),
                name="catalog_asset_temporal_order",
                violation_error_message=_("The coverage must start before it ends."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs) -> None:
        actor_id = current().actor_id
        if self._state.adding:
            self.created_by_id = self.created_by_id or actor_id
        else:
            self.version += 1
        self.updated_by_id = actor_id or self.updated_by_id
        self.refresh_derived_fields()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("catalog:asset_detail", args=[self.pk])


    def clean(self) -> None:
        errors: dict[str, list] = {}

        def add(field, message):
            errors.setdefault(field, []).append(message)

        if self.sharing_type == SharingType.CONDITIONAL and not self.sharing_condition.strip():
            add("sharing_condition", _("State the conditions under which it is shared."))
        if self.sharing_type == SharingType.NOT_SHARED and not self.sharing_condition.strip():
            add("sharing_condition",
                _("Not sharing must rest on a law, regulation or policy: cite it."))
        if self.open_attribute == OpenAttribute.OPEN and self.grade and self.grade > MAX_OPEN_GRADE:
            add("open_attribute",
                _("Data of grade %(grade)d cannot be opened to the public (at most grade "
                  "%(max)d).") % {"grade": self.grade, "max": MAX_OPEN_GRADE})
        if self.contains_personal_info and (
            self.deidentification == DeidentificationState.NOT_APPLICABLE
        ):
            add("deidentification",
                _("Say how personal information in this data is de-identified."))
        if not self.contains_personal_info and self.deidentification not in (
            DeidentificationState.NOT_APPLICABLE, DeidentificationState.ANONYMISED,
        ):
            add("deidentification",
                _("Without personal information, de-identification does not apply."))
        if self.temporal_start and self.temporal_end and self.temporal_start > self.temporal_end:
            add("temporal_end", _("The coverage must start before it ends."))
        if errors:
            raise ValidationError(errors)

    def refresh_derived_fields(self, holder_region: Region | None = None) -> None:
        """Recompute the search document and the holder's region copies."""
        self.search_document = search.document(*(getattr(self, f) for f in self.SEARCH_FIELDS))
        if holder_region is None and self.holder_id:
            holder_region = (
                Institution.objects.select_related("region").get(pk=self.holder_id).region
            )
        self.region = holder_region
        self.region_province_id = holder_region.province_id if holder_region else None
        self.region_city_id = holder_region.city_id if holder_region else None

    @property
    def eu_frequency_uri(self) -> str:
        return UpdateFrequency(self.update_frequency).eu_uri

class DataElement(models.Model):
    """A field of a data asset, with its standard data-element identifier where one exists
    (WS 363 / WS/T 303, e.g. DE02.01.039.00)."""

    asset = models.ForeignKey(
        DataAsset, models.CASCADE, related_name="elements", verbose_name=_("data asset")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    data_type = models.CharField(_("data type"), max_length=2, choices=ElementDataType.choices)
    standard_identifier = models.CharField(
        _("standard data-element identifier"), max_length=30, blank=True,
        validators=[RegexValidator(
            r"^DE\d{2}\.\d{2}\.\d{3}\.\d{2}$",
            _("A data-element identifier looks like DE02.01.039.00."),
        )],
    )
    is_personal = models.BooleanField(_("personal information"), default=False)
    description = models.CharField(_("description"), max_length=500, blank=True)

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = _("data element")
        verbose_name_plural = _("data elements")
        ordering = ["asset", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "name"], name="catalog_element_unique_name",
                violation_error_message=_("This asset already has a data element of this name."),
            )
        ]

    def __str__(self) -> str:
        return self.name
