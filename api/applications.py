"""Registration applications through the API: read what the one scoping rule lets the user
see, file and edit drafts, and take workflow steps — always through ``registry.workflow``
(the pages' checks, events, audit and notifications), never by writing a row here.

Answers: a hidden application is 404 like a missing one; a visible one the user may not act
on is 403; input that cannot be used is 400 (ledger fields by name); a step that does not
fit the application's state now, or a change based on an asset version that is no longer
current, is 409 with ``code`` ``wrong_state`` or ``stale_base``.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import F, Prefetch, QuerySet
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
from rest_framework.response import Response

from accounts.scoping import Action
from catalog.models import CatalogClass, DataAsset
from registry import elements, ledger, workflow
from registry.choices import ApplicationKind, ApplicationState, Transition
from registry.models import ApplicationEvent, RegistrationApplication

from .exceptions import Conflict
from .filtersets import IdFilter
from .pagination import MAX_ID, IdCursorPagination
from .schema_parts import ERROR, FIELD_ERRORS, NOT_FOUND, NOT_SIGNED_IN
from .serializers import ChoiceLabelField, InstitutionBriefSerializer

# --- The proposed ledger values: stored form data ⇄ JSON ---------------------------------

ELEMENTS = "elements"
CATALOG_CLASS = "catalog_class"


def _editable_fields(kind: str) -> set[str]:
    """The payload keys an application of ``kind`` proposes."""
    if kind == ApplicationKind.REGISTER:
        return {*ledger.REGISTER_FIELDS, ELEMENTS}
    if kind == ApplicationKind.CHANGE:
        return set(ledger.CHANGE_FIELDS)
    return set()  # a deregistration proposes no values, only its statement


def _is_multiple(name: str) -> bool:
    return isinstance(ledger.ApplicationLedgerForm.base_fields[name],
                      forms.MultipleChoiceField)


def _is_boolean(name: str) -> bool:
    return isinstance(ledger.ApplicationLedgerForm.base_fields[name], forms.BooleanField)


def _text_problem(value: str) -> str | None:
    # PostgreSQL's jsonb refuses NUL, UTF-8 refuses lone surrogates: neither may reach it.
    if "\x00" in value or any("\ud800" <= char <= "\udfff" for char in value):
        return _("Null characters and unpaired surrogates are not allowed.")
    return None


def _shown(names) -> str:
    """Names the client sent, fit to be said back (short, and encodable)."""
    return ", ".join(str(name)[:40].encode("utf-8", "replace").decode() for name in names[:10])


def _scalar(value, *, boolean: bool) -> tuple[str | None, str | None]:
    """(form data, None) for a JSON value of a one-value field, or (None, message)."""
    if boolean:
        if isinstance(value, bool) or value is None:
            return ("on" if value else ""), None
        return None, _("Expected true or false.")
    if value is None:
        return "", None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value), None
    if isinstance(value, str):
        problem = _text_problem(value)
        return (None, problem) if problem else (value, None)
    return None, _("Expected a string.")


def _elements_data(value) -> tuple[list[dict] | None, str | None]:
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        return None, _("Expected a list of objects.")
    rows = []
    for row in value:
        unknown = sorted(set(row) - set(elements.ELEMENT_FIELDS))
        if unknown:
            return None, _("Unknown data element fields: %(names)s.") % {
                "names": _shown(unknown)}
        stored = {}
        for name in elements.ELEMENT_FIELDS:
            data, problem = _scalar(row.get(name), boolean=name == "is_personal")
            if problem:
                return None, problem
            stored[name] = data
        rows.append(stored)
    return rows, None


def payload_data(kind: str, payload) -> tuple[dict, dict[str, list[str]]]:
    """The JSON ``payload`` of a request as the form data the application stores, or the
    errors that keep it from being stored (by ledger field name)."""
    if not isinstance(payload, dict):
        return {}, {"payload": [_("Expected an object of ledger values.")]}
    allowed = _editable_fields(kind)
    unknown = sorted(name for name in payload if name not in allowed)
    if unknown:
        return {}, {"payload": [_(
            "Not a ledger value this kind of application proposes: %(names)s."
        ) % {"names": _shown(unknown)}]}
    data, errors = {}, {}
    for name, value in payload.items():
        if name == ELEMENTS:
            stored, problem = _elements_data(value)
        elif _is_multiple(name):
            ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
            stored, problem = (value, None) if ok else (None, _("Expected a list of codes."))
            if ok:
                problem = next(filter(None, map(_text_problem, value)), None)
        else:
            stored, problem = _scalar(value, boolean=_is_boolean(name))
        if problem:
            errors[name] = [problem]
        else:
            data[name] = stored
    code = data.get(CATALOG_CLASS)
    if code:
        found = CatalogClass.objects.filter(code=code).values_list("pk", flat=True).first()
        if found is None:
            errors[CATALOG_CLASS] = [_("No catalog class has this code.")]
        else:
            data[CATALOG_CLASS] = str(found)
    return data, errors


def _is_id(value) -> bool:
    text = str(value or "")
    return text.isascii() and text.isdigit() and len(text) < 19


def _class_codes(applications) -> dict[str, str]:
    """Catalog class id (as stored) → code, for every application given: one query."""
    ids = {str(values.get(CATALOG_CLASS)) for application in applications
           for values in (application.payload, application.base)
           if _is_id(values.get(CATALOG_CLASS))}
    if not ids:
        return {}
    return {str(pk): code for pk, code in
            CatalogClass.objects.filter(pk__in=ids).values_list("pk", "code")}


def _as_json(name: str, value, codes: dict[str, str]):
    if name == CATALOG_CLASS:
        return codes.get(str(value)) if value not in (None, "") else None
    if name == ELEMENTS and isinstance(value, list):
        return [{**row, "is_personal": forms.BooleanField().to_python(row.get("is_personal"))}
                if isinstance(row, dict) else row for row in value]
    if name in ledger.ApplicationLedgerForm.base_fields and _is_boolean(name):
        return forms.BooleanField().to_python(value)
    return value


# --- Representation ----------------------------------------------------------------------


class ApplicationPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)


class ApplicationEventSerializer(serializers.ModelSerializer):
    """One workflow step: who took it, when, from which state to which, and their comment."""

    transition_label = ChoiceLabelField(Transition.choices, source="transition")
    actor = ApplicationPersonSerializer(read_only=True)

    class Meta:
        model = ApplicationEvent
        fields = ["id", "transition", "transition_label", "from_state", "to_state", "actor",
                  "comment", "at"]
        read_only_fields = fields


class ApplicationChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The ledger field, as in the payload.")
    label = serializers.CharField()
    current = serializers.JSONField(help_text="Its value on the asset the change is based on.")
    proposed = serializers.JSONField()


class _ApplicationList(serializers.ListSerializer):
    def to_representation(self, data):
        rows = list(data.all() if isinstance(data, QuerySet) else data)
        self.context["class_codes"] = _class_codes(rows)
        return super().to_representation(rows)


class ApplicationSerializer(serializers.ModelSerializer):
    """A registration application. ``payload`` holds the proposed ledger values as the
    form keeps them: text as strings (a draft may hold anything), multiple choices as
    lists of codes, yes/no as true/false, the catalog class by its code, and (for a
    registration) ``elements`` as a list of objects."""

    kind_label = ChoiceLabelField(ApplicationKind.choices, source="kind")
    state_label = ChoiceLabelField(ApplicationState.choices, source="state")
    institution = InstitutionBriefSerializer(read_only=True)
    asset = serializers.IntegerField(
        source="asset_id", read_only=True, allow_null=True,
        help_text="The asset to change or deregister; for a registration, the asset it "
        "created once approved.",
    )
    applicant = ApplicationPersonSerializer(read_only=True)
    decided_by = ApplicationPersonSerializer(read_only=True, allow_null=True)
    payload = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()
    stale = serializers.SerializerMethodField()
    events = ApplicationEventSerializer(many=True, read_only=True)

    class Meta:
        model = RegistrationApplication
        fields = ["id", "kind", "kind_label", "state", "state_label", "institution", "asset",
                  "applicant", "payload", "changes", "base_version", "stale", "grade_reason",
                  "statement", "registration_number", "submitted_at", "decided_at",
                  "decided_by", "created_at", "updated_at", "events"]
        read_only_fields = fields
        list_serializer_class = _ApplicationList

    def _codes(self, application) -> dict[str, str]:
        if "class_codes" not in self.context:
            self.context["class_codes"] = _class_codes([application])
        return self.context["class_codes"]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_payload(self, application) -> dict:
        codes = self._codes(application)
        return {name: _as_json(name, value, codes)
                for name, value in application.payload.items() if not name.startswith("_")}

    @extend_schema_field(ApplicationChangeSerializer(many=True))
    def get_changes(self, application) -> list[dict]:
        """For a change: each field whose proposed value differs from the base."""
        if application.kind != ApplicationKind.CHANGE:
            return []
        codes = self._codes(application)
        return [{"field": name, "label": ledger.label(name),
                 "current": _as_json(name, application.base.get(name), codes),
                 "proposed": _as_json(name, value, codes)}
                for name, value in ledger.proposed_changes(application.base,
                                                           application.payload).items()]

    @extend_schema_field(serializers.BooleanField(
        help_text="The asset changed after this open application was based on it: refresh "
        "it (once returned) before it can be approved."))
    def get_stale(self, application) -> bool:
        current = getattr(application, "asset_version", None)
        return bool(application.kind != ApplicationKind.REGISTER and application.is_open
                    and application.base_version and current
                    and current != application.base_version)


# --- Requests ----------------------------------------------------------------------------


class _ChoiceField(serializers.ChoiceField):
    """DRF's choice field, saying a refused value back only as far as it can be written
    (a lone surrogate in the message would make the error response itself fail)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and _text_problem(data):
            self.fail("invalid_choice", input=_shown([data]))
        return super().to_internal_value(data)


class ApplicationCreateRequest(serializers.Serializer):
    kind = _ChoiceField(choices=ApplicationKind.choices)
    institution = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True,
        help_text="The holding institution (for a registration); for a change or "
        "deregistration it is the asset's holder.",
    )
    asset = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True,
        help_text="The registered asset to change or deregister.",
    )

    def validate(self, attrs):
        if attrs["kind"] == ApplicationKind.REGISTER:
            if not attrs.get("institution"):
                raise serializers.ValidationError(
                    {"institution": [_("Name the institution that holds the asset.")]})
            if attrs.get("asset"):
                raise serializers.ValidationError(
                    {"asset": [_("A registration proposes a new asset; leave this out.")]})
        elif not attrs.get("asset"):
            raise serializers.ValidationError(
                {"asset": [_("Name the asset to change or deregister.")]})
        return attrs


class ApplicationDraftRequest(serializers.Serializer):
    payload = serializers.JSONField(
        required=False,
        help_text="Ledger values to set, as in the representation; the others keep their "
        "saved values. The values are checked when the application is submitted.",
    )
    grade_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=1000,
        help_text="Why a grade below the one its categories suggest fits.",
    )
    statement = serializers.CharField(
        required=False, allow_blank=True, max_length=2000,
        help_text="The applicant's statement (a deregistration says why).",
    )


class ApplicationStepRequest(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="",
        help_text="For the applicant or the reviewer; required to return or reject.",
    )


# --- Filters -----------------------------------------------------------------------------


class ApplicationFilterSet(django_filters.FilterSet):
    """What the registry's home page groups applications by: state, kind, institution
    (and the asset, to find an asset's applications)."""

    state = django_filters.ChoiceFilter(label=gettext_lazy("State"),
                                        choices=ApplicationState.choices)
    kind = django_filters.ChoiceFilter(label=gettext_lazy("Kind"),
                                       choices=ApplicationKind.choices)
    institution = IdFilter(label=gettext_lazy("Holding institution"),
                           field_name="institution_id", min_value=1, max_value=MAX_ID)
    asset = IdFilter(label=gettext_lazy("Data asset"), field_name="asset_id", min_value=1,
                     max_value=MAX_ID)

    class Meta:
        model = RegistrationApplication
        fields: list[str] = []


# --- Views -------------------------------------------------------------------------------

WRONG_STATE = "wrong_state"
STALE_BASE = "stale_base"

NOT_YOURS = OpenApiResponse(ERROR, description="You may see this application but not take "
                            "this step on it.")
CONFLICT = OpenApiResponse(ERROR, description="The step does not fit the application's state "
                           "now (code wrong_state), or the asset changed after the application "
                           "was based on it (code stale_base). Nothing was changed.")
STEP_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT, description="The step cannot be taken with what the application "
    "holds: the ledger values' problems by field name, or non_field_errors (a comment "
    "required, a change that changes nothing, …). Nothing was changed.",
)
WRITE_RESPONSES = {400: FIELD_ERRORS, 401: NOT_SIGNED_IN, 403: NOT_YOURS, 404: NOT_FOUND,
                   409: CONFLICT}


def _refusal(error: Exception) -> exceptions.APIException:
    """The API's answer to a step refused by the workflow."""
    if isinstance(error, workflow.InvalidApplication):
        return exceptions.ValidationError({
            ("non_field_errors" if name == "__all__" else name): [str(m) for m in messages]
            for name, messages in error.form.errors.items()
        })
    if isinstance(error, workflow.StaleBase):
        return Conflict(str(error), code=STALE_BASE)
    if isinstance(error, workflow.StateConflict):
        return Conflict(str(error), code=WRONG_STATE)
    if isinstance(error, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(error) or None)
    return exceptions.ValidationError({"non_field_errors": [str(error)]})


@extend_schema(tags=["applications"])
class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         viewsets.GenericViewSet):
    """Registration applications of the institutions in the user's reach, newest first."""

    queryset = RegistrationApplication.objects.none()  # the model, for the schema
    serializer_class = ApplicationSerializer
    filterset_class = ApplicationFilterSet
    pagination_class = IdCursorPagination
    parser_classes = [JSONParser]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            RegistrationApplication.objects.restrict(self.request.user, Action.VIEW)
            .select_related("institution", "applicant", "decided_by")
            .annotate(asset_version=F("asset__version"))
            .prefetch_related(Prefetch("events",
                                       queryset=ApplicationEvent.objects.select_related("actor")))
        )

    def filter_queryset(self, queryset):
        # The filters narrow the list; they do not hide the object a detail URL names.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def _answer(self, application_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=application_id)
        return Response(self.get_serializer(fresh).data, status=status_code)

    def _may(self, application: RegistrationApplication, action_: Action) -> None:
        """403 unless the user's reach covers the application for ``action_`` (a reviewer
        never reviews their own application)."""
        user = self.request.user
        if not RegistrationApplication.objects.restrict(user, action_).filter(
                pk=application.pk).exists():
            raise exceptions.PermissionDenied(
                _("You may not file applications for this institution.")
                if action_ == Action.APPLY else
                _("Only a data steward with jurisdiction over the holding institution may "
                  "review this application."))
        if action_ == Action.REVIEW and application.applicant_id == user.pk:
            raise exceptions.PermissionDenied(_("Nobody reviews their own application."))

    @extend_schema(responses={200: ApplicationSerializer, 400: FIELD_ERRORS})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: ApplicationSerializer, 404: NOT_FOUND})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=ApplicationCreateRequest,
        responses={201: ApplicationSerializer, 400: FIELD_ERRORS, 401: NOT_SIGNED_IN,
                   403: OpenApiResponse(ERROR, description="You may not file applications "
                                        "for this institution (or it does not exist).")},
        examples=[
            OpenApiExample("Register a new asset", request_only=True,
                           value={"kind": "register", "institution": 12}),
            OpenApiExample("Change a registered asset", request_only=True,
                           value={"kind": "change", "asset": 345}),
        ],
    )
    def create(self, request, *args, **kwargs):
        """Start a draft, as the registry's "new application" does: a registration for an
        institution, or a change or deregistration of one of its registered assets
        (starting from the asset's current values)."""
        body = ApplicationCreateRequest(data=request.data)
        body.is_valid(raise_exception=True)
        kind, institution_id = body.validated_data["kind"], body.validated_data.get("institution")
        asset_id = body.validated_data.get("asset")
        if kind != ApplicationKind.REGISTER:
            holder = DataAsset.objects.visible_to(request.user).filter(pk=asset_id).values_list(
                "holder_id", flat=True).first()
            if holder is None:
                raise exceptions.ValidationError(
                    {"asset": [_("No data asset you may see has this id.")]})
            if institution_id and institution_id != holder:
                raise exceptions.ValidationError(
                    {"institution": [_("The asset is held by another institution.")]})
            institution_id = holder
        try:
            application = workflow.create(kind, institution_id=institution_id,
                                          actor=request.user, asset_id=asset_id)
        except (workflow.WorkflowError, DjangoPermissionDenied) as refused:
            raise _refusal(refused) from None
        return self._answer(application.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=ApplicationDraftRequest,
        responses={200: ApplicationSerializer, **WRITE_RESPONSES},
        examples=[OpenApiExample("Set the volume", request_only=True, value={
            "payload": {"record_count": 120000, "stored_in_country": True},
        })],
    )
    def partial_update(self, request, *args, **kwargs):
        """Save the draft (or the returned application): the ledger values given replace
        the saved ones, the others stay. Nothing is checked until it is submitted, except
        that each value has the right shape."""
        application = self.get_object()
        self._may(application, Action.APPLY)
        body = ApplicationDraftRequest(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        payload = dict(application.payload)
        if "payload" in values:
            data, errors = payload_data(application.kind, values["payload"])
            if errors:
                raise exceptions.ValidationError(errors)
            payload.update(data)
        try:
            workflow.save_draft(
                application.pk, actor=request.user, payload=payload,
                grade_reason=values.get("grade_reason", application.grade_reason),
                statement=values.get("statement", application.statement),
            )
        except (workflow.WorkflowError, DjangoPermissionDenied) as refused:
            raise _refusal(refused) from None
        return self._answer(application.pk)

    def _step(self, request, transition: str) -> Response:
        application = self.get_object()
        self._may(application, Action.APPLY if transition == Transition.SUBMIT
                  else Action.REVIEW)
        body = ApplicationStepRequest(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            workflow.take(application.pk, transition, actor=request.user,
                          comment=body.validated_data["comment"])
        except (workflow.WorkflowError, DjangoPermissionDenied) as refused:
            raise _refusal(refused) from None
        return self._answer(application.pk)

    @extend_schema(request=ApplicationStepRequest,
                   responses={200: ApplicationSerializer, **WRITE_RESPONSES, 400: STEP_ERRORS})
    @action(detail=True, methods=["post"])
    def submit(self, request, *args, **kwargs):
        """Submit the draft (or the returned application) for review: its ledger values
        are checked as the catalog would; the reviewers are told."""
        return self._step(request, Transition.SUBMIT)

    @extend_schema(request=ApplicationStepRequest,
                   responses={200: ApplicationSerializer, **WRITE_RESPONSES, 400: STEP_ERRORS})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, *args, **kwargs):
        """Return a submitted application to its applicant for revision (a comment says
        what to revise). For a steward with jurisdiction who is not the applicant."""
        return self._step(request, Transition.RETURN)

    @extend_schema(request=ApplicationStepRequest,
                   responses={200: ApplicationSerializer, **WRITE_RESPONSES, 400: STEP_ERRORS})
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        """Approve a submitted application and make it true in the ledger: a registration
        creates the asset with its registration number, a change applies its difference, a
        deregistration deregisters the asset. For a steward with jurisdiction who is not the
        applicant."""
        return self._step(request, Transition.APPROVE)

    @extend_schema(request=ApplicationStepRequest,
                   responses={200: ApplicationSerializer, **WRITE_RESPONSES, 400: STEP_ERRORS})
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        """Reject a submitted application (a comment says why). For a steward with
        jurisdiction who is not the applicant."""
        return self._step(request, Transition.REJECT)

    @extend_schema(request=None,
                   responses={200: ApplicationSerializer, **WRITE_RESPONSES})
    @action(detail=True, methods=["post"])
    def refresh(self, request, *args, **kwargs):
        """Carry an open change's or deregistration's own changes onto the asset as it is
        now (after someone else changed the asset). Not while it is with its reviewer."""
        application = self.get_object()
        self._may(application, Action.APPLY)
        try:
            workflow.refresh(application.pk, actor=request.user)
        except (workflow.WorkflowError, DjangoPermissionDenied) as refused:
            raise _refusal(refused) from None
        return self._answer(application.pk)


def register(router) -> None:
    """Add this module's viewsets to the API router."""
    router.register("applications", ApplicationViewSet, basename="application")
