"""The API's views: each one a queryset from the one scoping rule, a serializer and (for
lists) the page's FilterSet. A hidden object answers 404 exactly like a missing one."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from accounts.models import Institution
from catalog.changes import HIDDEN_FIELDS, PRIVATE_CONTACT_FIELDS, PRIVATE_HISTORY_FIELDS
from catalog.forms import EDITABLE_FIELDS
from catalog.models import DataAsset
from catalog.services import StaleVersionError, update_asset

from . import writes
from .exceptions import Conflict
from .filtersets import AssetFilterSet
from .history import HistoryPagination, add_field_changes
from .pagination import IdCursorPagination
from .public_cache import public_page
from .rows import FlatRepresentation
from .schema_parts import ERROR, FIELD_ERRORS, NOT_FOUND
from .serializers import (
    DataAssetSerializer,
    HistoryEntrySerializer,
    InstitutionSerializer,
)

# The list's rows, represented as DataAssetSerializer does (see api/rows.py).
ASSET_ROWS = FlatRepresentation(DataAssetSerializer)


class PatchRequest(serializers.Serializer):
    """The fields to change (any of the asset's editable ledger fields), the version read
    and the reason for the change."""

    version = serializers.IntegerField(
        min_value=1, help_text="The asset's version when you read it; a stale one answers 409."
    )
    reason = serializers.CharField(
        max_length=500, help_text="Why: kept in the asset's history with your name."
    )


for _name in EDITABLE_FIELDS:
    PatchRequest._declared_fields[_name] = serializers.JSONField(
        required=False, help_text="As in the asset's representation."
    )


@extend_schema(tags=["assets"])
class DataAssetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Data assets (ledger rows) the user may see: the open catalog for everyone, and what
    the user's roles, jurisdiction and grants reach."""

    serializer_class = DataAssetSerializer
    filterset_class = AssetFilterSet
    pagination_class = IdCursorPagination
    parser_classes = [JSONParser]  # a PATCH is a JSON object
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return DataAsset.objects.visible_to(self.request.user).select_related(
            *DataAssetSerializer.SELECT_RELATED
        )

    def filter_queryset(self, queryset):
        # The filters narrow the list; they do not hide the object a detail URL names. A
        # request naming no filter skips building the FilterSet (it would filter nothing).
        if self.action != "list" or self.request.query_params.keys().isdisjoint(
            AssetFilterSet.base_filters
        ):
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(responses={200: DataAssetSerializer, 400: FIELD_ERRORS})
    def list(self, request, *args, **kwargs):
        def page() -> dict:
            queryset = self.filter_queryset(self.get_queryset())
            rows = self.paginate_queryset(queryset.values(*ASSET_ROWS.columns))
            omit = () if request.user.is_authenticated else PRIVATE_CONTACT_FIELDS
            return self.get_paginated_response(ASSET_ROWS.represent(rows, omit=omit)).data

        return Response(public_page(request, page))

    @extend_schema(responses={200: DataAssetSerializer, 404: NOT_FOUND})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=PatchRequest,
        responses={
            200: DataAssetSerializer, 400: FIELD_ERRORS,
            401: OpenApiResponse(ERROR, description="Not signed in."),
            403: OpenApiResponse(ERROR, description="You may see this asset but not edit it."),
            404: NOT_FOUND,
            409: OpenApiResponse(ERROR, description="Someone saved the asset after you read "
                                 "it (your version is stale); nothing was saved."),
        },
        examples=[OpenApiExample("Change the record count", request_only=True, value={
            "record_count": 120000, "version": 3, "reason": "年度清查更新数据量",
        })],
    )
    def partial_update(self, request, *args, **kwargs):
        """Change some ledger fields, through the same checks, history and audit as the
        edit page. Send the ``version`` you read and a ``reason``."""
        asset = self.get_object()
        user = request.user
        if not DataAsset.objects.editable_by(user).filter(pk=asset.pk).exists():
            raise exceptions.PermissionDenied(_("You may see this asset but not edit it."))
        payload = request.data
        if not isinstance(payload, dict):
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Send a JSON object of the fields to change.")]}
            )
        form, errors = writes.bind_form(asset, payload)
        if errors:
            raise exceptions.ValidationError(errors)
        if not form.is_valid():
            raise exceptions.ValidationError(writes.form_errors(form))
        yours = form.cleaned_data["version"]
        try:
            saved, _changed = update_asset(
                asset.pk, form.changes(), expected_version=yours, actor=user,
                reason=form.cleaned_data["change_reason"],
            )
        except StaleVersionError as stale:
            raise Conflict(
                _("Someone else saved this asset (now version %(current)d) after you read it "
                  "(version %(yours)d). Nothing was saved. Read it again and repeat your "
                  "change.") % {"current": stale.current.version, "yours": yours},
                extra={"current_version": stale.current.version},
            ) from None
        except DjangoValidationError as error:
            raise exceptions.ValidationError(
                {writes.API_NAMES.get(k, k): v for k, v in error.message_dict.items()}
                if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
            ) from None
        except DjangoPermissionDenied as denied:
            raise exceptions.PermissionDenied(str(denied)) from None
        except DataAsset.DoesNotExist:
            raise exceptions.NotFound() from None
        return Response(self.get_serializer(self.get_queryset().get(pk=saved.pk)).data)

    @extend_schema(
        responses={200: HistoryEntrySerializer(many=True), 404: NOT_FOUND},
        description="The recorded versions of the ledger row, newest first: who changed "
        "it, when, why, and each field's value before and after (related rows by id or code).",
    )
    @action(detail=True, methods=["get"], pagination_class=HistoryPagination,
            serializer_class=HistoryEntrySerializer, filterset_class=None)
    def history(self, request, *args, **kwargs):
        asset = self.get_object()
        records = asset.history.select_related("history_user")
        page = self.paginate_queryset(records)
        hidden = self._hidden_fields(request)
        history_names = {f.name for f in DataAsset.history.model._meta.get_fields()}
        add_field_changes(asset, page, (
            f for f in DataAsset._meta.concrete_fields
            if f.name in history_names and f.name not in hidden
        ))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @staticmethod
    def _hidden_fields(request) -> set[str]:
        hidden = set(HIDDEN_FIELDS)
        if not request.user.is_authenticated:
            hidden |= PRIVATE_HISTORY_FIELDS
        return hidden


@extend_schema(tags=["institutions"])
class InstitutionViewSet(viewsets.ReadOnlyModelViewSet):
    """Institutions: those in the user's reach and the holders of the assets the user may
    see (for the public, the holders of the open catalog)."""

    serializer_class = InstitutionSerializer
    pagination_class = IdCursorPagination

    def get_queryset(self):
        return Institution.objects.visible_to(self.request.user)

    @extend_schema(responses={200: InstitutionSerializer, 404: NOT_FOUND})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)
