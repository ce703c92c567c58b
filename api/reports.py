"""The inventory report through the API: its figures, the report archive, exports and their
files, and two archived reports compared.

Each endpoint mirrors a page of ``reports`` through the same functions: the figures are the
report page's snapshot for the same query string (:func:`reports.views.report_filters`,
:func:`reports.cache.report_figures`, :func:`reports.snapshot.take_snapshot`); an export is
:func:`reports.archive.request_export`; every archived report and file is reached through
``ArchivedReport.objects.restrict`` (the monthly reports of the user's report jurisdiction and
the user's own exports), so anything else answers 404 like a missing one. Where the page
ignores an invalid filter value, the API refuses it (400, with the filter form's messages).
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import BaseRouter

from accounts.scoping import Action, reach
from catalog import history
from reports import archive
from reports.cache import report_figures
from reports.choices import CONTENT_TYPES, ExportFormat, FileStatus, ReportKind
from reports.compare import compare_snapshots
from reports.forms import FILTER_NAMES, ReportFilterForm
from reports.models import ArchivedReport, ReportFile
from reports.snapshot import take_snapshot
from reports.views import report_filters

from .pagination import MAX_ID, IdCursorPagination
from .schema_parts import ERROR, FIELD_ERRORS, NOT_FOUND, NOT_SIGNED_IN
from .serializers import ChoiceLabelField, InstitutionBriefSerializer

NO_REACH = OpenApiResponse(
    ERROR, description="You do not report on any jurisdiction (reports are for a health "
    "commission's staff, stewards and auditors)."
)


class HasReportReach(permissions.BasePermission):
    """Reports are read by those who report on a jurisdiction (as the report pages)."""

    message = gettext_lazy(
        "Reports are for the staff, stewards and auditors of a health commission."
    )

    def has_permission(self, request, view) -> bool:
        return not reach(request.user, Action.REPORT).empty


# --- Filters --------------------------------------------------------------------------------


def _filter_field(form_field) -> serializers.Field:
    """The API's description of one of the report form's filters (the form validates)."""
    if isinstance(form_field, forms.RegexField):
        return serializers.RegexField(
            form_field.regex.pattern, required=False,
            help_text="A region of your jurisdiction (GB/T 2260 code): the drill-down.",
        )
    return serializers.ChoiceField(
        [(value, label) for value, label in form_field.choices if value != ""],
        required=False, help_text=str(form_field.label),
    )


class ReportFilters(serializers.Serializer):
    """The report page's filters; each narrows every figure at once."""


class ExportRequest(serializers.Serializer):
    """The file to make, and the filters of the report to archive."""

    format = serializers.ChoiceField(ExportFormat.choices)


for _name in FILTER_NAMES:
    ReportFilters._declared_fields[_name] = _filter_field(ReportFilterForm.base_fields[_name])
    ExportRequest._declared_fields[_name] = _filter_field(ReportFilterForm.base_fields[_name])


class FileRequest(serializers.Serializer):
    format = serializers.ChoiceField(
        ExportFormat.choices, error_messages={"invalid_choice": gettext_lazy(
            "Choose CSV, Excel or PDF.")},
    )


def valid_filters(
    request: Request, data, errors: dict | None = None
) -> tuple[ReportFilterForm, dict]:
    """The report form and filters of ``data``, as the page takes them (a region outside
    the jurisdiction: 404), but an invalid value refused (400) together with ``errors``."""
    errors = dict(errors or {})
    form = ReportFilterForm(data)
    if not form.is_valid():
        for name, messages in form.errors.items():
            errors.setdefault(name, []).extend(str(message) for message in messages)
    if errors:
        raise exceptions.ValidationError(errors)
    return report_filters(request, data)


# --- Representations ------------------------------------------------------------------------


class ReportScopeSerializer(serializers.Serializer):
    code = serializers.CharField(allow_null=True, help_text="GB/T 2260 code; null: nationwide.")
    name = serializers.CharField()


class ReportBreakdownRowSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="What the row counts (a code, an id, a region).")
    label = serializers.CharField()
    count = serializers.IntegerField()
    drill = serializers.CharField(help_text="The filter value that narrows to this row "
                                  "(empty: none).")


class ReportBreakdownSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    rows = ReportBreakdownRowSerializer(many=True)


class ReportFindingCountSerializer(serializers.Serializer):
    rule = serializers.CharField()
    label = serializers.CharField()
    severity = serializers.IntegerField()
    severity_label = serializers.CharField()
    count = serializers.IntegerField()


class ReportCountRowSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class ReportRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    scope_name = serializers.CharField()
    finished_at = serializers.DateTimeField(allow_null=True)
    found = serializers.IntegerField()
    new = serializers.IntegerField()
    resolved = serializers.IntegerField()


class ReportFiguresSerializer(serializers.Serializer):
    """The report's figures as the report page draws them and the archive keeps them
    (``reports.snapshot``); labels in the language of the request (archived: of the day the
    report was made)."""

    version = serializers.IntegerField(help_text="Changes when the shape does.")
    generated_at = serializers.DateTimeField()
    as_of = serializers.DateTimeField(
        allow_null=True, help_text="When the asset figures were counted, if earlier."
    )
    title = serializers.CharField(required=False, help_text="Monthly reports only.")
    scope = ReportScopeSerializer()
    filters = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        help_text="The chosen filters other than the region, as [label, value label].",
    )
    total = serializers.IntegerField()
    breakdowns = ReportBreakdownSerializer(many=True)
    findings = ReportFindingCountSerializer(many=True)
    findings_total = serializers.IntegerField()
    stale_institutions = ReportCountRowSerializer(many=True)
    without_holder = serializers.IntegerField()
    grants_expiring = serializers.IntegerField()
    runs = ReportRunSerializer(many=True, help_text="Oldest first.")
    registered_by_month = ReportCountRowSerializer(many=True)


@extend_schema_field(ReportFiguresSerializer)
class SnapshotField(serializers.JSONField):
    """The stored snapshot, as it was kept."""


class ReportFileSerializer(serializers.ModelSerializer):
    """One file of an archived report, and how far its job has come."""

    report = serializers.IntegerField(source="report_id", read_only=True)
    format_label = ChoiceLabelField(ExportFormat.choices, source="format")
    status_label = ChoiceLabelField(FileStatus.choices, source="status")
    percent = serializers.IntegerField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ReportFile
        fields = ["id", "report", "format", "format_label", "status", "status_label",
                  "percent", "rows_done", "rows_total", "size", "error", "created_at",
                  "finished_at", "download_url"]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_download_url(self, file: ReportFile) -> str | None:
        if file.status != FileStatus.DONE:
            return None
        return reverse("api:report-file-download", args=[file.report_id, file.pk],
                       request=self.context.get("request"))


class ArchivedReportSerializer(serializers.ModelSerializer):
    """An archived report: a monthly report of a commission, or an export you asked for."""

    title = serializers.CharField(source="__str__", read_only=True)
    kind_label = ChoiceLabelField(ReportKind.choices, source="kind")
    commission = InstitutionBriefSerializer(read_only=True, allow_null=True)
    scope = serializers.CharField(source="scope_id", read_only=True, allow_null=True,
                                  help_text="GB/T 2260 code; null: nationwide.")
    scope_name = serializers.CharField(read_only=True)
    requested_by = serializers.IntegerField(source="requested_by_id", read_only=True,
                                            allow_null=True)
    filters = serializers.DictField(read_only=True, help_text="As query values.")
    files = ReportFileSerializer(many=True, read_only=True)

    class Meta:
        model = ArchivedReport
        fields = ["id", "title", "kind", "kind_label", "period", "commission", "scope",
                  "scope_name", "requested_by", "filters", "created_at", "expires_at", "files"]
        read_only_fields = fields


class ArchivedReportDetailSerializer(ArchivedReportSerializer):
    snapshot = SnapshotField(read_only=True, help_text="The figures as they were.")

    class Meta(ArchivedReportSerializer.Meta):
        fields = [*ArchivedReportSerializer.Meta.fields, "snapshot"]
        read_only_fields = fields


class ReportChangeSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="What the row counts (a code, a region, a rule).")
    label = serializers.CharField()
    older = serializers.IntegerField()
    newer = serializers.IntegerField()
    delta = serializers.IntegerField()


class ReportComparedTableSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    rows = ReportChangeSerializer(many=True)


class ReportComparisonSerializer(serializers.Serializer):
    older = ArchivedReportSerializer()
    newer = ArchivedReportSerializer()
    key_figures = ReportChangeSerializer(many=True)
    tables = ReportComparedTableSerializer(many=True)


class CompareQuery(serializers.Serializer):
    a = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="A report's id.")
    b = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="Another's.")

    def validate(self, attrs: dict) -> dict:
        if attrs["a"] == attrs["b"]:
            raise serializers.ValidationError({"b": [_("Choose two different reports.")]})
        return attrs


class ArchivedReportFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ReportKind.choices)

    class Meta:
        model = ArchivedReport
        fields = ["kind"]


# --- The endpoints --------------------------------------------------------------------------

FILE_MEDIA_TYPES = [CONTENT_TYPES[value].split(";")[0] for value in ExportFormat.values]
FILE_BODY = OpenApiResponse(
    OpenApiTypes.BINARY, description="The file, as an attachment (CSV: the asset list; "
    "Excel: summary, breakdowns, assets and findings; PDF: the summary with charts).",
)
COMMON = {401: NOT_SIGNED_IN, 403: NO_REACH}


def _is_id(value) -> bool:
    text = str(value)
    return text.isascii() and text.isdigit() and int(text) <= MAX_ID


@extend_schema(tags=["reports"])
class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The inventory report of the user's jurisdiction and its archive: the monthly reports
    of that jurisdiction and the user's own exports."""

    serializer_class = ArchivedReportSerializer
    filterset_class = ArchivedReportFilterSet
    pagination_class = IdCursorPagination
    permission_classes = [permissions.IsAuthenticated, HasReportReach]
    parser_classes = [JSONParser]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[ArchivedReport]:
        if getattr(self, "swagger_fake_view", False):
            return ArchivedReport.objects.none()
        reports = ArchivedReport.objects.restrict(self.request.user).select_related(
            "scope", "commission").prefetch_related("files")
        # The figures are kept for the detail; a page of the list does not read them.
        return reports.defer("snapshot") if self.action == "list" else reports

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ArchivedReportDetailSerializer
        return super().get_serializer_class()

    def filter_queryset(self, queryset):
        # The filters narrow the list; they do not hide the report a detail URL names.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def perform_content_negotiation(self, request, force=False):
        # A download is its file whatever the client accepts; its errors are JSON.
        return super().perform_content_negotiation(
            request, force=force or self.action == "download")

    @extend_schema(responses={200: ArchivedReportSerializer, 400: FIELD_ERRORS, **COMMON})
    def list(self, request: Request, *args, **kwargs) -> Response:
        """The archived reports you may read, newest first (without their figures)."""
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: ArchivedReportDetailSerializer, **COMMON, 404: NOT_FOUND})
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        """One archived report: its filters, figures and files."""
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        parameters=[ReportFilters],
        responses={200: ReportFiguresSerializer, 400: FIELD_ERRORS, **COMMON, 404: OpenApiResponse(
            ERROR, description="The region is not one of your jurisdiction.")},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def figures(self, request: Request) -> Response:
        """The report of your jurisdiction with the page's filters: the figures the report
        page shows for the same query string."""
        form, filters = valid_filters(request, request.query_params)
        figures = report_figures(request.user, filters)
        return Response(take_snapshot(
            figures, scope=figures.region, filter_labels=form.filter_labels(filters)))

    @extend_schema(
        request=ExportRequest,
        responses={
            201: OpenApiResponse(ReportFileSerializer, description="Archived, and its file "
                                 "queued (follow its status in the report)."),
            200: OpenApiResponse(ReportFileSerializer, description="The same file was being "
                                 "made for you already: that one."),
            400: FIELD_ERRORS, **COMMON,
            404: OpenApiResponse(ERROR, description="The region is not one of your "
                                 "jurisdiction."),
        },
        examples=[OpenApiExample("A county's registered assets as CSV", request_only=True,
                                 value={"format": "csv", "region": "330106",
                                        "status": "registered"})],
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Archive the report with these filters and make its file in the background, as
        the report page's export. Reporting on several jurisdictions, choose a region."""
        chosen = FileRequest(data=request.data)
        chosen.is_valid()
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError(chosen.errors)
        form, filters = valid_filters(request, request.data, chosen.errors)
        whole, scope = archive.export_scope(request.user, filters)
        if not whole:
            raise exceptions.ValidationError({"region": [
                _("You report on several jurisdictions: choose one of them as the region.")]})
        snapshot = take_snapshot(
            report_figures(request.user, filters), scope=scope,
            filter_labels=form.filter_labels(filters),
        )
        asked = timezone.now()
        file = archive.request_export(
            request.user, filters, chosen.validated_data["format"], snapshot)
        # A file made before this request is one being produced already, which was joined.
        created = file.created_at >= asked
        headers = {"Location": reverse("api:report-detail", args=[file.report_id],
                                       request=request)}
        return Response(ReportFileSerializer(file, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
                        headers=headers)

    @extend_schema(
        request=FileRequest,
        responses={
            201: OpenApiResponse(ReportFileSerializer, description="Queued (again, if it "
                                 "had failed)."),
            200: OpenApiResponse(ReportFileSerializer, description="Made, or being made, "
                                 "already."),
            400: FIELD_ERRORS, **COMMON, 404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["post"], url_path="files", pagination_class=None,
            filter_backends=[])
    def files(self, request: Request, pk: str | None = None) -> Response:
        """The report's file in another format, as on the report's page."""
        report = self.get_object()
        chosen = FileRequest(data=request.data)
        chosen.is_valid(raise_exception=True)
        format = chosen.validated_data["format"]
        before = next((f for f in report.files.all() if f.format == format), None)
        file = archive.add_file(report, format)
        queued = before is None or before.status == FileStatus.FAILED
        return Response(ReportFileSerializer(file, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED if queued else status.HTTP_200_OK)

    @extend_schema(
        parameters=[OpenApiParameter("file_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={
            **{(200, media_type): FILE_BODY for media_type in FILE_MEDIA_TYPES},
            **COMMON,
            404: OpenApiResponse(ERROR, description="Missing, hidden from you, or not ready."),
        },
    )
    @action(detail=True, methods=["get"], url_path=r"files/(?P<file_id>[^/.]+)/download",
            url_name="file-download", pagination_class=None, filter_backends=[])
    def download(self, request: Request, pk: str | None = None,
                 file_id: str | None = None) -> FileResponse:
        """A ready file of the report; the download goes to the audit trail, in the
        report's jurisdiction."""
        if not (_is_id(pk) and _is_id(file_id)):
            raise exceptions.NotFound()
        file = ReportFile.objects.select_related("report", "report__scope").filter(
            pk=file_id, report_id=pk,
            report__in=ArchivedReport.objects.restrict(request.user),
        ).first()
        if file is None or file.status != FileStatus.DONE:
            raise exceptions.NotFound()
        try:
            handle = archive.archive_storage().open(file.path, "rb")
        except FileNotFoundError:
            raise exceptions.NotFound() from None
        # Token requests are authenticated here, after the middleware set the actor.
        with history.ledger_context(actor=request.user):
            archive.record_download(file)
        return FileResponse(handle, as_attachment=True, filename=file.filename,
                            content_type=CONTENT_TYPES[file.format])

    @extend_schema(
        parameters=[CompareQuery],
        responses={200: ReportComparisonSerializer, 400: FIELD_ERRORS, **COMMON,
                   404: NOT_FOUND},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def compare(self, request: Request) -> Response:
        """Two archived reports side by side, older first: every figure and its change."""
        query = CompareQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        ids = {query.validated_data["a"], query.validated_data["b"]}
        found = list(self.get_queryset().filter(pk__in=ids))
        if len(found) != len(ids):
            raise exceptions.NotFound()
        older, newer = sorted(found, key=lambda report: (report.created_at, report.pk))
        comparison = compare_snapshots(older.snapshot, newer.snapshot)
        return Response(ReportComparisonSerializer({
            "older": older, "newer": newer,
            "key_figures": comparison.key_figures, "tables": comparison.tables,
        }, context=self.get_serializer_context()).data)


def register(router: BaseRouter) -> None:
    """Add this module's viewsets to the API router."""
    router.register("reports", ReportViewSet, basename="report")
