"""How the API represents institutions, data assets and their history (read side).

Writes to an asset go through the edit page's form and service (see views), not through a
serializer's ``update``: one path for validation, history and audit.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Institution
from catalog.changes import PRIVATE_CONTACT_FIELDS  # signed-in users only, as on the page
from catalog.choices import DataCategory, Purpose
from catalog.models import DataAsset


class InstitutionBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Institution
        fields = ["id", "name", "credit_code"]


class InstitutionSerializer(serializers.ModelSerializer):
    type_label = serializers.CharField(source="get_type_display", read_only=True)
    region = serializers.CharField(source="region_id", read_only=True, allow_null=True)
    parent = serializers.IntegerField(source="parent_id", read_only=True, allow_null=True)

    class Meta:
        model = Institution
        fields = ["id", "name", "credit_code", "type", "type_label", "region", "parent",
                  "is_active", "created_at", "updated_at"]
        read_only_fields = fields


class _Labels:
    """An enumeration's labels in the request's language, translated once per serializer
    (DRF copies the fields for each serializer, so each request has its own)."""

    def __init__(self, choices):
        self.choices = choices
        self.translated: dict | None = None

    def __getitem__(self, code):
        if self.translated is None:
            self.translated = {value: str(label) for value, label in self.choices}
        return self.translated.get(code, code)


@extend_schema_field({"type": "string"})
class ChoiceLabelField(serializers.Field):
    """The label of an enumeration code (``get_FOO_display`` without its per-call cost)."""

    def __init__(self, choices, **kwargs):
        self.labels = _Labels(choices)
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return "" if value is None or value == "" else self.labels[value]


def _label_field(name: str):
    return ChoiceLabelField(DataAsset._meta.get_field(name).choices, source=name)


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class ChoiceLabelsField(serializers.Field):
    """The labels of a list of enumeration codes, in the request's language."""

    def __init__(self, choice_class, **kwargs):
        self.labels = _Labels(choice_class.choices)
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return [self.labels[code] for code in value or []]


class DataAssetSerializer(serializers.ModelSerializer):
    """The ledger row. Enumerations are given as their stored codes, each with a
    ``*_label`` in the request's language; regions as GB/T 2260 codes."""

    holder = InstitutionBriefSerializer(read_only=True)
    region = serializers.CharField(source="region_id", read_only=True, allow_null=True)
    region_province = serializers.CharField(
        source="region_province_id", read_only=True, allow_null=True
    )
    region_city = serializers.CharField(source="region_city_id", read_only=True, allow_null=True)
    catalog_class = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    spatial_coverage = serializers.CharField(
        source="spatial_coverage_id", read_only=True, allow_null=True
    )
    categories = serializers.ListField(child=serializers.CharField(), read_only=True)
    categories_label = ChoiceLabelsField(DataCategory, source="categories")
    purposes = serializers.ListField(child=serializers.CharField(), read_only=True)
    purposes_label = ChoiceLabelsField(Purpose, source="purposes")
    grade_label = _label_field("grade")
    security_class_label = _label_field("security_class")
    sharing_type_label = _label_field("sharing_type")
    open_attribute_label = _label_field("open_attribute")
    update_frequency_label = _label_field("update_frequency")
    source_system_label = _label_field("source_system")
    collection_method_label = _label_field("collection_method")
    data_format_label = _label_field("data_format")
    deidentification_label = _label_field("deidentification")
    status_label = _label_field("status")
    responsible_phone = serializers.CharField(read_only=True, required=False)
    responsible_email = serializers.CharField(read_only=True, required=False)

    class Meta:
        model = DataAsset
        fields = [
            "id", "code", "name", "name_en", "description", "catalog_class",
            "data_format", "data_format_label",
            "holder", "region", "region_province", "region_city",
            "categories", "categories_label", "grade", "grade_label",
            "security_class", "security_class_label",
            "sharing_type", "sharing_type_label", "sharing_condition",
            "open_attribute", "open_attribute_label",
            "update_frequency", "update_frequency_label", "last_data_update",
            "record_count", "storage_bytes", "individual_count",
            "storage_location", "stored_in_country",
            "source_system", "source_system_label",
            "collection_method", "collection_method_label",
            "purposes", "purposes_label",
            "contains_personal_info", "deidentification", "deidentification_label",
            "temporal_start", "temporal_end", "spatial_coverage",
            "responsible_person", "responsible_phone", "responsible_email",
            "status", "status_label", "registration_number", "registered_at",
            "version", "created_at", "updated_at",
        ]
        read_only_fields = fields

    # What the representation reads beyond the row itself (one join each, no N+1).
    SELECT_RELATED = ("holder", "catalog_class")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            for name in PRIVATE_CONTACT_FIELDS:
                data.pop(name, None)
        return data


class HistoryActorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field's name, as in the asset representation.")
    label = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class HistoryEntrySerializer(serializers.Serializer):
    """One recorded version of the ledger row: who, when, why and what changed."""

    id = serializers.IntegerField(source="history_id")
    date = serializers.DateTimeField(source="history_date")
    type = serializers.ChoiceField(
        source="history_type", choices=[("+", "created"), ("~", "changed"), ("-", "deleted")]
    )
    version = serializers.IntegerField(allow_null=True)
    actor = serializers.SerializerMethodField()
    reason = serializers.CharField(source="history_change_reason", allow_null=True)
    changes = FieldChangeSerializer(many=True, source="field_changes")

    @extend_schema_field(HistoryActorSerializer(allow_null=True))
    def get_actor(self, record):
        user = record.history_user
        if user is None:
            return None
        return {"id": user.pk, "name": str(user)}

