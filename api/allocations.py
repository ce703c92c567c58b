"""The API's rights allocations: who holds which right over a data asset, on what basis,
until when.

Reads are for signed-in users, as on the rights pages, and show the allocations over the
assets the user may see (:meth:`RightsAllocationQuerySet.visible_to`); a hidden one answers
404 exactly like a missing one. Writes go through the rights pages' forms
(:class:`rights.forms.AllocationForm`, :class:`rights.forms.EndAllocationForm`: the same
fields, rules and messages) and services (:mod:`rights.services`: the permission re-check,
history with actor and reason). A visible asset the user may not allocate over answers 403.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.scoping import Action
from catalog.models import DataAsset
from rights import services
from rights.choices import AllocationStatus, PartyKind, Right
from rights.forms import AllocationForm, EndAllocationForm
from rights.models import EDITABLE_FIELDS, RightsAllocation

from .filtersets import IdFilter
from .history import HistoryPagination, add_field_changes
from .pagination import MAX_ID, IdCursorPagination
from .schema_parts import ERROR, FIELD_ERRORS, NOT_FOUND, NOT_SIGNED_IN
from .serializers import (
    ChoiceLabelField,
    HistoryActorSerializer,
    HistoryEntrySerializer,
    InstitutionBriefSerializer,
)

# The API's names for the forms' fields, where they differ.
REASON = "reason"
API_NAMES = {"change_reason": REASON, "__all__": "non_field_errors"}
# What a new allocation is, for the fields a request leaves out (the model's defaults).
NEW_DEFAULTS = {
    "party_institution": None, "party_description": "", "purpose": "", "scope": "",
    "valid_until": None, "status": AllocationStatus.ACTIVE,
}
# The furthest ahead the "ending within N days" filter looks (ten years).
MAX_ENDING_WITHIN_DAYS = 3660


def _when(value):
    return value.isoformat() if isinstance(value, date) else value


# --- Filters -------------------------------------------------------------------------------

@extend_schema_field(OpenApiTypes.INT)
class DaysFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class AllocationFilterSet(django_filters.FilterSet):
    """The allocations list's filters. Ids and day counts are bounded whole numbers and
    codes are checked against their enumerations, so bad input answers 400."""

    asset = IdFilter(
        label=gettext_lazy("data asset"), field_name="asset_id", min_value=1, max_value=MAX_ID
    )
    party_kind = django_filters.ChoiceFilter(
        label=gettext_lazy("party"), choices=PartyKind.choices
    )
    party_institution = IdFilter(
        label=gettext_lazy("institution"), field_name="party_institution_id",
        min_value=1, max_value=MAX_ID,
    )
    right = django_filters.ChoiceFilter(label=gettext_lazy("right"), choices=Right.choices)
    status = django_filters.ChoiceFilter(
        label=gettext_lazy("status"), choices=AllocationStatus.choices
    )
    ending_within_days = DaysFilter(
        label=gettext_lazy("Not ended, and ending within this many days (0: today)"),
        method="filter_ending_within", min_value=0, max_value=MAX_ENDING_WITHIN_DAYS,
    )
    past_end = django_filters.ChoiceFilter(
        label=gettext_lazy("Not ended, though past its end date"),
        choices=[("true", "true"), ("false", "false")], method="filter_past_end",
    )

    class Meta:
        model = RightsAllocation
        fields: list[str] = []

    def filter_ending_within(self, queryset, name: str, value: int):
        today = timezone.localdate()
        return queryset.current().filter(
            valid_until__gte=today, valid_until__lte=today + timedelta(days=value)
        )

    def filter_past_end(self, queryset, name: str, value: str):
        past = Q(valid_until__lt=timezone.localdate()) & ~Q(status=AllocationStatus.ENDED)
        return queryset.filter(past) if value == "true" else queryset.exclude(past)


# --- Representation ------------------------------------------------------------------------

class AllocationAssetSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataAsset
        fields = ["id", "code", "name"]
        read_only_fields = fields


def _label(name: str) -> ChoiceLabelField:
    return ChoiceLabelField(RightsAllocation._meta.get_field(name).choices, source=name)


class AllocationSerializer(serializers.ModelSerializer):
    """One right over one asset. Enumerations are given as their codes, each with a
    ``*_label`` in the request's language."""

    asset = AllocationAssetSerializer(read_only=True)
    party_kind_label = _label("party_kind")
    party_institution = InstitutionBriefSerializer(read_only=True, allow_null=True)
    party_name = serializers.CharField(
        read_only=True, help_text="The institution's name, or the data-subject group."
    )
    right_label = _label("right")
    status_label = _label("status")
    is_ended = serializers.BooleanField(read_only=True)
    past_end = serializers.BooleanField(
        read_only=True, help_text="Not ended, though its end date has passed."
    )
    ending_soon = serializers.BooleanField(
        read_only=True, help_text="Not ended, and its end date falls within 30 days."
    )
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = RightsAllocation
        fields = [
            "id", "asset", "party_kind", "party_kind_label", "party_institution",
            "party_description", "party_name", "right", "right_label", "legal_basis",
            "purpose", "scope", "valid_from", "valid_until", "status", "status_label",
            "is_ended", "past_end", "ending_soon", "created_at", "updated_at", "created_by",
        ]
        read_only_fields = fields

    # What the representation reads beyond the row itself (one join each, no N+1).
    SELECT_RELATED = ("asset", "party_institution", "created_by")

    @extend_schema_field(HistoryActorSerializer(allow_null=True))
    def get_created_by(self, allocation: RightsAllocation) -> dict | None:
        user = allocation.created_by
        return None if user is None else {"id": user.pk, "name": str(user)}


class AllocationFieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField(
        help_text="The field's name, as in the allocation's representation."
    )
    label = serializers.CharField()
    old = serializers.JSONField(allow_null=True, help_text="A code, an id or an ISO date.")
    new = serializers.JSONField(allow_null=True, help_text="A code, an id or an ISO date.")


# The statuses a request may set (ending has its own operation). Its schema name is set in
# SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]: two request components share it.
CURRENT_STATUS_CHOICES = [
    choice for choice in AllocationStatus.choices if choice[0] != AllocationStatus.ENDED
]


class AllocationHistoryEntrySerializer(HistoryEntrySerializer):
    """One recorded version of the allocation: who, when, why and what changed."""

    version = None  # allocations have no version number
    changes = AllocationFieldChangeSerializer(many=True, source="field_changes")


# --- Requests (described for the schema; checked by the pages' forms) ---------------------

@extend_schema_field({
    "oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "maxLength": 18}],
    "nullable": True,
    "description": "The receiving institution: its id or its unified social credit code. "
    "Empty (null) for data subjects.",
})
class PartyInstitutionField(serializers.Field):
    pass


def _fields(*, partial: bool) -> dict[str, serializers.Field]:
    required = {"required": not partial}
    optional = {"required": False}
    return {
        "party_kind": serializers.ChoiceField(PartyKind.choices, **required),
        "party_institution": PartyInstitutionField(**optional),
        "party_description": serializers.CharField(
            max_length=200, allow_blank=True, **optional,
            help_text="Whose data it is (for data subjects)."),
        "right": serializers.ChoiceField(Right.choices, **required),
        "legal_basis": serializers.CharField(max_length=500, **required),
        "purpose": serializers.CharField(max_length=500, allow_blank=True, **optional),
        "scope": serializers.CharField(max_length=500, allow_blank=True, **optional),
        "valid_from": serializers.DateField(**required),
        "valid_until": serializers.DateField(allow_null=True, **optional),
        "status": serializers.ChoiceField(
            CURRENT_STATUS_CHOICES, **optional,
            help_text="In force or suspended; ending has its own operation."),
    }


class AllocationCreateRequest(serializers.Serializer):
    """The asset, the allocation's fields and an optional note for the history."""

    asset = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    reason = serializers.CharField(
        max_length=500, required=False, allow_blank=True,
        help_text="A note for the allocation's history (kept with your name).",
    )


class AllocationChangeRequest(serializers.Serializer):
    """The fields to change and the reason for the change."""

    reason = serializers.CharField(
        max_length=500, help_text="Why: kept in the allocation's history with your name."
    )


AllocationCreateRequest._declared_fields.update(_fields(partial=False))
AllocationChangeRequest._declared_fields.update(_fields(partial=True))


class AllocationEndRequest(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500, help_text="Why the allocation ends: kept in its history."
    )


# --- From JSON to the pages' forms ---------------------------------------------------------

def _json_object(payload, message: str) -> dict:
    if not isinstance(payload, dict):
        raise exceptions.ValidationError({"non_field_errors": [message]})
    return payload


def _value_error(name: str, value) -> str | None:
    """A message when ``value`` has the wrong JSON type for the form field ``name``."""
    if value is None:
        return None  # the form says whether it may be empty
    if name == "party_institution":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return _("Expected an institution's id or unified social credit code.")
    elif not isinstance(value, str):
        return _("Expected a string.")
    return None


def _form_data(payload: dict, base: dict, *, skip: tuple[str, ...] = ()) -> dict:
    """``base`` (the form's data) overlaid with ``payload``, or 400 with the fields whose
    JSON cannot reach the form (unknown fields, wrong types). ``skip``: request fields
    handled before (a new allocation's asset)."""
    data, errors = dict(base), {}
    for name, value in payload.items():
        if name in skip:
            continue
        if name not in EDITABLE_FIELDS and name != REASON:
            errors[name] = [_("This field cannot be changed through this operation.")]
        elif message := _value_error(name, value):
            errors[name] = [message]
        else:
            data["change_reason" if name == REASON else name] = value
    if errors:
        raise exceptions.ValidationError(errors)
    return data


def _form_errors(form: forms.Form) -> dict[str, list[str]]:
    return {
        API_NAMES.get(name, name): [str(message) for message in messages]
        for name, messages in form.errors.items()
    }


def _api_errors(error: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(error, "error_dict"):
        return exceptions.ValidationError(
            {API_NAMES.get(k, k): v for k, v in error.message_dict.items()})
    return exceptions.ValidationError({"non_field_errors": error.messages})


# --- The endpoints -------------------------------------------------------------------------

NOT_ALLOCATABLE = OpenApiResponse(
    ERROR, description="You may see this asset but not allocate rights over it."
)


@extend_schema(tags=["allocations"])
class AllocationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Rights allocations over the assets the user may see (signed-in users, as on the
    rights pages); allocating, changing and ending for those who may allocate over the
    asset."""

    serializer_class = AllocationSerializer
    filterset_class = AllocationFilterSet
    pagination_class = IdCursorPagination
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            RightsAllocation.objects.visible_to(self.request.user)
            .select_related(*AllocationSerializer.SELECT_RELATED)
            .defer("asset__search_document")
        )

    def filter_queryset(self, queryset):
        # The filters narrow the list; they do not hide the object a detail URL names.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    # --- reads ---

    @extend_schema(responses={200: AllocationSerializer, 400: FIELD_ERRORS, 401: NOT_SIGNED_IN})
    def list(self, request, *args, **kwargs):
        """Newest first, a cursor page at a time."""
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: AllocationSerializer, 401: NOT_SIGNED_IN, 404: NOT_FOUND})
    def retrieve(self, request, *args, **kwargs):
        """One allocation over an asset you may see."""
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        responses={200: AllocationHistoryEntrySerializer(many=True), 400: FIELD_ERRORS,
                   401: NOT_SIGNED_IN, 404: NOT_FOUND},
        description="The recorded versions of the allocation, newest first: who changed "
        "it, when, why, and each field's value before and after (the institution by id).",
    )
    @action(detail=True, methods=["get"], pagination_class=HistoryPagination,
            serializer_class=AllocationHistoryEntrySerializer, filterset_class=None)
    def history(self, request, *args, **kwargs):
        allocation = self.get_object()
        records = allocation.history.select_related("history_user")
        page = self.paginate_queryset(records)
        add_field_changes(allocation, page,
                          [RightsAllocation._meta.get_field(name) for name in EDITABLE_FIELDS],
                          represent=_when)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    # --- writes ---

    @extend_schema(
        request=AllocationCreateRequest,
        responses={
            201: AllocationSerializer, 400: FIELD_ERRORS, 401: NOT_SIGNED_IN,
            403: NOT_ALLOCATABLE,
            404: OpenApiResponse(ERROR, description="The asset is missing, or hidden from you."),
        },
        examples=[OpenApiExample("The holder's holding right", request_only=True, value={
            "asset": 1, "party_kind": "institution", "party_institution": 1, "right": "hold",
            "legal_basis": "《数据二十条》第三条；《医疗机构管理条例》",
            "valid_from": "2025-01-01", "reason": "年度确权",
        })],
    )
    def create(self, request, *args, **kwargs):
        """Allocate a right over an asset, with the same checks and history as the
        allocation page."""
        payload = _json_object(request.data, _("Send a JSON object."))
        asset = self._requested_asset(payload.get("asset"), "asset" in payload)
        self._require_allocate(asset)
        data = _form_data(payload, {**NEW_DEFAULTS, "change_reason": ""}, skip=("asset",))
        form = AllocationForm(data, asset=asset)
        if not form.is_valid():
            raise exceptions.ValidationError(_form_errors(form))
        allocation = self._call(
            services.allocate, asset, form.cleaned_data, request.user,
            reason=form.cleaned_data["change_reason"],
        )
        return Response(
            self._represent(allocation), status=status.HTTP_201_CREATED,
            headers={"Location": reverse("api:allocation-detail", args=[allocation.pk])},
        )

    @extend_schema(
        request=AllocationChangeRequest,
        responses={200: AllocationSerializer, 400: FIELD_ERRORS, 401: NOT_SIGNED_IN,
                   403: NOT_ALLOCATABLE, 404: NOT_FOUND},
        examples=[OpenApiExample("Suspend", request_only=True, value={
            "status": "suspended", "reason": "合作项目暂停",
        })],
    )
    def partial_update(self, request, *args, **kwargs):
        """Change some fields of an allocation that has not ended; ``reason`` is required.
        Fields left out keep their stored values; an unchanged request writes nothing."""
        allocation = self.get_object()
        self._require_allocate(allocation.asset)
        payload = _json_object(request.data, _("Send a JSON object of the fields to change."))
        if allocation.is_ended:
            raise exceptions.ValidationError({"non_field_errors": [
                _("This allocation has ended and can no longer be changed: allocate the right "
                  "anew.")]})
        stored = AllocationForm(instance=allocation, asset=allocation.asset)
        base = {name: stored[name].value() for name in EDITABLE_FIELDS}
        data = _form_data(payload, base)
        # The form validates on a copy, so the stored allocation is untouched by a failed check.
        form = AllocationForm(data, instance=copy.copy(allocation), asset=allocation.asset)
        if not form.is_valid():
            raise exceptions.ValidationError(_form_errors(form))
        saved, _changed = self._call(
            services.change_allocation, allocation, form.cleaned_data, request.user,
            reason=form.cleaned_data["change_reason"],
        )
        return Response(self._represent(saved))

    @extend_schema(
        request=AllocationEndRequest,
        responses={200: AllocationSerializer, 400: FIELD_ERRORS, 401: NOT_SIGNED_IN,
                   403: NOT_ALLOCATABLE, 404: NOT_FOUND},
        description="End the allocation: it stays on record, ended, with an end date no "
        "later than today (today, if it had none or a later one).",
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def end(self, request, *args, **kwargs):
        allocation = self.get_object()
        self._require_allocate(allocation.asset)
        payload = _json_object(request.data, _("Send a JSON object."))
        errors = {
            name: [_("This field cannot be changed through this operation.")]
            for name in payload if name != REASON
        }
        if REASON in payload and (message := _value_error(REASON, payload[REASON])):
            errors[REASON] = [message]
        if errors:
            raise exceptions.ValidationError(errors)
        if allocation.is_ended:
            raise exceptions.ValidationError(
                {"non_field_errors": [_("This allocation has already ended.")]})
        form = EndAllocationForm({REASON: payload.get(REASON)})
        if not form.is_valid():
            raise exceptions.ValidationError(_form_errors(form))
        ended = self._call(services.end_allocation, allocation, request.user,
                           form.cleaned_data[REASON])
        return Response(self._represent(ended))

    # --- helpers ---

    def _requested_asset(self, value, given: bool) -> DataAsset:
        """The asset a new allocation is for: 400 for a value that is no id, 404 for one
        the user may not see (or that does not exist)."""
        if not given or value is None:
            raise exceptions.ValidationError(
                {"asset": [str(forms.Field.default_error_messages["required"])]})
        if isinstance(value, bool) or not isinstance(value, int):
            raise exceptions.ValidationError({"asset": [_("Expected a whole number.")]})
        asset = None
        if 1 <= value <= MAX_ID:
            asset = DataAsset.objects.visible_to(self.request.user).filter(pk=value).first()
        if asset is None:
            raise exceptions.NotFound()
        return asset

    def _require_allocate(self, asset: DataAsset) -> None:
        if not DataAsset.objects.restrict(self.request.user, Action.ALLOCATE).filter(
            pk=asset.pk
        ).exists():
            raise exceptions.PermissionDenied(_("You may not allocate rights over this asset."))

    @staticmethod
    def _call(service, *args, **kwargs):
        """Run a rights service, its refusals as the API's errors."""
        try:
            return service(*args, **kwargs)
        except DjangoValidationError as error:
            raise _api_errors(error) from None
        except DjangoPermissionDenied as denied:
            raise exceptions.PermissionDenied(str(denied)) from None
        except RightsAllocation.DoesNotExist:
            raise exceptions.NotFound() from None

    def _represent(self, allocation: RightsAllocation) -> dict:
        return AllocationSerializer(
            self.get_queryset().get(pk=allocation.pk), context=self.get_serializer_context()
        ).data


def register(router) -> None:
    """Add this module's viewsets to the API router."""
    router.register("allocations", AllocationViewSet, basename="allocation")
