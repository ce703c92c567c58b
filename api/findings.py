"""Inventory runs and their findings through the API, as the run and finding pages show them.

Every queryset comes from ``Run.objects.restrict`` / ``Finding.objects.restrict`` (a hidden
row answers 404 like a missing one); the findings list uses the page's FilterSet; starting a
run, answering, closing and reopening a finding go through ``inventory.services``, the
pages' only way to write.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
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
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Region
from accounts.scoping import Action, reach
from inventory import services
from inventory.choices import FindingRule
from inventory.evidence import describe
from inventory.filtersets import FindingFilterSet
from inventory.forms import NATIONWIDE, AnswerForm, CloseForm
from inventory.models import Finding, Run
from inventory.rules import severity_of

from .pagination import IdCursorPagination
from .schema_parts import ERROR, FIELD_ERRORS, NOT_FOUND, NOT_SIGNED_IN
from .serializers import ChoiceLabelField, InstitutionBriefSerializer

NO_FINDINGS_REACH = OpenApiResponse(
    ERROR, description="Your roles give you no part in the inventory's runs and findings."
)
NOT_YOURS = OpenApiResponse(ERROR, description="You may see this finding but not do this.")


def _labels_of(model, name: str) -> ChoiceLabelField:
    return ChoiceLabelField(model._meta.get_field(name).choices, source=name)


def _refuse_without_reach(user) -> None:
    """The lists, like their pages, refuse users whose roles have no part in the checks."""
    if reach(user, Action.VIEW_FINDINGS).empty:
        raise exceptions.PermissionDenied(
            _("Your roles give you no part in the inventory's runs and findings.")
        )


# --- Representations --------------------------------------------------------------------------


class InventoryPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)


class RunCountSerializer(serializers.Serializer):
    rule = serializers.CharField()
    rule_label = serializers.CharField()
    severity = serializers.IntegerField()
    found = serializers.IntegerField(help_text="Seen by this run.")
    new = serializers.IntegerField(help_text="First found by this run.")
    resolved = serializers.IntegerField(help_text="Resolved since the last run.")


class RunSerializer(serializers.ModelSerializer):
    """A run of the inventory (清查) or of the rights review over a jurisdiction (``scope``:
    a GB/T 2260 code; null for the whole country), its progress and what it found."""

    kind_label = _labels_of(Run, "kind")
    scope = serializers.CharField(source="scope_id", read_only=True, allow_null=True)
    scope_name = serializers.CharField(read_only=True)
    status_label = _labels_of(Run, "status")
    active = serializers.BooleanField(source="is_active", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    started_by = InventoryPersonSerializer(read_only=True, allow_null=True)
    schedule = serializers.IntegerField(source="schedule_id", read_only=True, allow_null=True)
    counts = serializers.SerializerMethodField(
        help_text="Per kind of finding, the most severe first (empty until the run is done)."
    )

    class Meta:
        model = Run
        fields = [
            "id", "kind", "kind_label", "scope", "scope_name", "status", "status_label",
            "active", "percent", "assets_total", "assets_done", "chunks_total", "chunks_done",
            "chunks_failed", "reference_time", "started_by", "schedule", "created_at",
            "started_at", "finished_at", "counts",
        ]
        read_only_fields = fields

    SELECT_RELATED = ("scope", "started_by")

    @extend_schema_field(RunCountSerializer(many=True))
    def get_counts(self, run: Run) -> list[dict]:
        labels = dict(FindingRule.choices)
        rows = [
            {"rule": code, "rule_label": str(labels.get(code, code)),
             "severity": int(severity_of(code)), "found": numbers.get("found", 0),
             "new": numbers.get("new", 0), "resolved": numbers.get("resolved", 0)}
            for code, numbers in run.counts.items()
        ]
        return sorted(rows, key=lambda row: (-row["severity"], row["rule"]))


class FindingAssetSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class FindingSerializer(serializers.ModelSerializer):
    """Something a run found wrong with an asset or a right over it; the holder answers it,
    a steward closes it, and it resolves itself when a run no longer finds it."""

    rule_label = _labels_of(Finding, "rule")
    severity_label = _labels_of(Finding, "severity")
    status_label = _labels_of(Finding, "status")
    asset = FindingAssetSerializer(read_only=True)
    institution = InstitutionBriefSerializer(read_only=True)
    evidence = serializers.SerializerMethodField(
        help_text="What exactly the run saw, in the request's language."
    )
    first_run = serializers.IntegerField(source="first_run_id", read_only=True)
    last_run = serializers.IntegerField(source="last_run_id", read_only=True)
    answered_by = InventoryPersonSerializer(read_only=True, allow_null=True)
    closed_by = InventoryPersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Finding
        fields = [
            "id", "rule", "rule_label", "severity", "severity_label", "status", "status_label",
            "asset", "institution", "subject", "evidence", "first_run", "last_run",
            "first_seen_at", "last_seen_at", "answer", "answered_by", "answered_at",
            "closing_note", "closed_by", "closed_at", "resolved_at",
        ]
        read_only_fields = fields

    # What the representation reads beyond the row (one join each, no N+1).
    SELECT_RELATED = ("asset", "institution", "answered_by", "closed_by")

    def get_evidence(self, finding: Finding) -> str:
        return describe(finding)


# --- Requests -----------------------------------------------------------------------------------


class RunStartSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Run._meta.get_field("kind").choices)
    scope = serializers.CharField(
        max_length=6, allow_null=True,
        help_text='The jurisdiction to check: a GB/T 2260 division code; null (or "all") '
        "for the whole country.",
    )

    def validate_scope(self, value: str | None) -> Region | None:
        if value in (None, NATIONWIDE):
            return None
        region = Region.objects.filter(code=value).first()
        if region is None:
            raise serializers.ValidationError(
                _("No administrative division has the code %(code)s.") % {"code": value}
            )
        return region


class FindingAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(
        max_length=AnswerForm.base_fields["answer"].max_length,
        help_text="What was done about it, or why the ledger is right as it is.",
    )


class FindingCloseSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=CloseForm.base_fields["note"].max_length, help_text="Why it is closed.",
    )


# --- Views --------------------------------------------------------------------------------------


@extend_schema(tags=["inventory"])
class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                 viewsets.GenericViewSet):
    """Runs of the inventory and of the rights review over the user's jurisdictions."""

    serializer_class = RunSerializer
    pagination_class = IdCursorPagination
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Run]:
        return Run.objects.restrict(self.request.user).select_related(
            *RunSerializer.SELECT_RELATED
        )

    @extend_schema(responses={200: RunSerializer, 401: NOT_SIGNED_IN, 403: NO_FINDINGS_REACH})
    def list(self, request: Request, *args, **kwargs) -> Response:
        _refuse_without_reach(request.user)
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: RunSerializer, 401: NOT_SIGNED_IN, 404: NOT_FOUND})
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=RunStartSerializer,
        responses={
            201: OpenApiResponse(RunSerializer, description="Started (it works in the "
                                 "background: follow its status and percent)."),
            200: OpenApiResponse(RunSerializer, description="A run of this kind was already "
                                 "under way for this jurisdiction: here it is."),
            400: FIELD_ERRORS, 401: NOT_SIGNED_IN,
            403: OpenApiResponse(ERROR, description="This jurisdiction is not yours to check."),
        },
        examples=[OpenApiExample("Check a province", request_only=True,
                                 value={"kind": "inventory", "scope": "330000"})],
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Start a run over a jurisdiction of yours (or one inside it), as the runs page
        does; if one of the same kind is under way there, join it."""
        if not services.runnable_scopes(request.user):
            raise exceptions.PermissionDenied(_("This jurisdiction is not yours to check."))
        start = RunStartSerializer(data=request.data)
        start.is_valid(raise_exception=True)
        run, started = services.start_run(
            start.validated_data["kind"], start.validated_data["scope"], user=request.user
        )
        # Read again: in the embedded mode the run has already been worked.
        run = self.get_queryset().get(pk=run.pk)
        data = self.get_serializer(run).data
        if not started:
            return Response(data)
        location = reverse("api:run-detail", args=[run.pk])
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": location})


@extend_schema(tags=["inventory"])
class FindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Findings about the assets of the user's institutions and jurisdictions."""

    serializer_class = FindingSerializer
    filterset_class = FindingFilterSet
    pagination_class = IdCursorPagination
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[Finding]:
        return Finding.objects.restrict(self.request.user).select_related(
            *FindingSerializer.SELECT_RELATED
        )

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # The filters narrow the list; they do not hide the finding a detail URL names.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    @extend_schema(responses={200: FindingSerializer, 400: FIELD_ERRORS, 401: NOT_SIGNED_IN,
                              403: NO_FINDINGS_REACH})
    def list(self, request: Request, *args, **kwargs) -> Response:
        """The findings list of the page, with its filters: without ``status``, those not
        yet resolved. ``run`` must be a run you may see."""
        _refuse_without_reach(request.user)
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: FindingSerializer, 401: NOT_SIGNED_IN, 404: NOT_FOUND})
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def _act(self, needed: Action, act, body_class=None, field: str = "") -> Response:
        """Refuse (404 hidden, 403 not the user's to handle), check the request body, call
        the service (400 when the finding's state does not allow it: nothing is written)."""
        finding = self.get_object()
        user = self.request.user
        if not Finding.objects.restrict(user, needed).filter(pk=finding.pk).exists():
            raise exceptions.PermissionDenied(_("This finding is not yours to handle."))
        if body_class is None:
            act(finding, user=user)
        else:
            body = body_class(data=self.request.data)
            body.is_valid(raise_exception=True)
            act(finding, body.validated_data[field], user=user)
        return Response(self.get_serializer(self.get_queryset().get(pk=finding.pk)).data)

    @extend_schema(
        request=FindingAnswerSerializer,
        responses={200: FindingSerializer, 400: FIELD_ERRORS, 401: NOT_SIGNED_IN,
                   403: NOT_YOURS, 404: NOT_FOUND},
        examples=[OpenApiExample("Answer", request_only=True,
                                 value={"answer": "已迁回境内机房，见 2026 年 11 月迁移报告"})],
    )
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk=None) -> Response:
        """The holder's answer (an open or answered finding; a new answer replaces the
        last)."""
        return self._act(Action.ANSWER, services.answer, FindingAnswerSerializer, "answer")

    @extend_schema(
        request=FindingCloseSerializer,
        responses={200: FindingSerializer, 400: FIELD_ERRORS, 401: NOT_SIGNED_IN,
                   403: NOT_YOURS, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk=None) -> Response:
        """A steward closes an open or answered finding, saying why."""
        return self._act(Action.RUN_CHECKS, services.close, FindingCloseSerializer, "note")

    @extend_schema(
        request=None,
        responses={200: FindingSerializer, 400: FIELD_ERRORS, 401: NOT_SIGNED_IN,
                   403: NOT_YOURS, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk=None) -> Response:
        """A steward reopens a closed finding (answered again if it had an answer)."""
        return self._act(Action.RUN_CHECKS, services.reopen)


def register(router) -> None:
    """Add this module's viewsets to the API router."""
    router.register("runs", RunViewSet, basename="run")
    router.register("findings", FindingViewSet, basename="finding")
