"""Registry pages: the registrar's home and the review queue, the step-by-step application
form with drafts, and an application's page with its history and workflow actions.

Applications reach a user through ``RegistrationApplication.objects.restrict`` (the same
role × jurisdiction rule as assets); every step goes through ``registry.workflow``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.models import Institution
from accounts.scoping import Action
from catalog.models import DataAsset
from catalog.rules import minimum_grade

from . import elements, ledger, workflow
from .certificate import CertificateUnavailable, render_certificate
from .choices import ApplicationKind, ApplicationState, Transition
from .models import RegistrationApplication

OPEN_STATES = (ApplicationState.DRAFT, ApplicationState.SUBMITTED, ApplicationState.RETURNED)


def applications_for(user, action: Action = Action.VIEW):
    return RegistrationApplication.objects.restrict(user, action).select_related(
        "institution", "asset", "applicant")


class HomeView(LoginRequiredMixin, TemplateView):
    """A registrar's institutions, their applications by state; a steward's review queue."""

    template_name = "registry/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        institutions = list(Institution.objects.restrict(user, Action.APPLY).order_by("name")[:50])
        queue = applications_for(user, Action.REVIEW).filter(
            state=ApplicationState.SUBMITTED).exclude(applicant=user).order_by("submitted_at")
        if not institutions and not queue.exists():
            raise PermissionDenied
        own = applications_for(user, Action.APPLY)
        counts = dict(
            DataAsset.objects.filter(holder__in=institutions).order_by().values_list("holder")
            .annotate(n=Count("pk")).values_list("holder", "n"))
        from inventory.models import Finding

        open_findings = dict(
            Finding.objects.restrict(user, Action.ANSWER).current()
            .filter(institution__in=institutions).order_by()
            .values_list("institution").annotate(n=Count("pk")).values_list("institution", "n"))
        context.update(
            institutions=[(institution, counts.get(institution.pk, 0),
                           open_findings.get(institution.pk, 0))
                          for institution in institutions],
            state_counts=_state_counts(own),
            open_applications=own.filter(state__in=OPEN_STATES).order_by("-updated_at")[:50],
            queue=queue[:100],
        )
        return context


def _state_counts(applications) -> list[tuple[str, str, int]]:
    counts = dict(applications.order_by().values_list("state").annotate(n=Count("pk"))
                  .values_list("state", "n"))
    return [(value, label, counts.get(value, 0)) for value, label in ApplicationState.choices]


class NewApplicationView(LoginRequiredMixin, View):
    def post(self, request):
        kind = request.POST.get("kind")
        if kind not in ApplicationKind.values:
            raise Http404
        asset_id = request.POST.get("asset")
        institution_id = request.POST.get("institution")
        if kind != ApplicationKind.REGISTER:
            asset = get_object_or_404(DataAsset.objects.visible_to(request.user), pk=asset_id)
            institution_id = asset.holder_id
        try:
            application = workflow.create(kind, institution_id=int(institution_id or 0),
                                          actor=request.user, asset_id=asset_id)
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(reverse("registry:home"))
        if kind == ApplicationKind.DEREGISTER:
            return HttpResponseRedirect(reverse("registry:detail", args=[application.pk]))
        first = ledger.step_fields(kind)[0][0]
        return HttpResponseRedirect(reverse("registry:edit", args=[application.pk, first]))


class ApplicationMixin(LoginRequiredMixin):
    def application(self, pk: int, action: Action = Action.VIEW) -> RegistrationApplication:
        return get_object_or_404(applications_for(self.request.user, action), pk=pk)


class EditStepView(ApplicationMixin, TemplateView):
    """One step of the application form; every save keeps a draft."""

    template_name = "registry/edit.html"

    def steps(self, application):
        registering = application.kind == ApplicationKind.REGISTER
        return [step for step in ledger.step_fields(application.kind)
                if step[2] or (step[0] == "elements" and registering)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = context.get("application") or self.application(kwargs["pk"], Action.APPLY)
        if application.state not in (ApplicationState.DRAFT, ApplicationState.RETURNED):
            raise Http404
        steps = self.steps(application)
        keys = [key for key, _title, _names in steps]
        if kwargs["step"] not in keys:
            raise Http404
        index = keys.index(kwargs["step"])
        key, title, names = steps[index]
        visited = set(application.payload.get("_visited", []))
        form = ledger.form_for(application.kind, application.institution, asset=application.asset,
                               data=application.payload, grade_reason=application.grade_reason)
        if key not in visited:
            form = ledger.ApplicationLedgerForm(
                initial=application.payload, kind=application.kind,
                grade_reason=application.grade_reason)
        categories = application.payload.get("categories") or []
        context.update(
            application=application, steps=steps, step_key=key, step_title=title,
            fields=[form[name] for name in names],
            previous=keys[index - 1] if index else None,
            next=keys[index + 1] if index + 1 < len(keys) else None,
            elements=elements.formset(stored=application.payload.get("elements"))
            if key == "elements" else None,
            suggested_grade=minimum_grade(categories) if categories else None,
            grade_reason=application.grade_reason,
        )
        return context

    def post(self, request, pk: int, step: str):
        application = self.application(pk, Action.APPLY)
        steps = {key: names for key, _title, names in self.steps(application)}
        if step not in steps:
            raise Http404
        payload = dict(application.payload)
        if step == "elements":
            payload["elements"] = elements.stored_from(elements.formset(request.POST))
        else:
            payload.update(ledger.normalise_step(request.POST, steps[step]))
        payload["_visited"] = sorted(set(payload.get("_visited", [])) | {step})
        grade_reason = request.POST.get("grade_reason", application.grade_reason)
        try:
            workflow.save_draft(application.pk, actor=request.user, payload=payload,
                                grade_reason=grade_reason, statement=application.statement)
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
            return HttpResponseRedirect(reverse("registry:detail", args=[pk]))
        target = request.POST.get("go")
        if target in steps:
            return HttpResponseRedirect(reverse("registry:edit", args=[pk, target]))
        if target == "review":
            return HttpResponseRedirect(reverse("registry:detail", args=[pk]))
        messages.success(request, _("Draft saved."))
        return HttpResponseRedirect(reverse("registry:edit", args=[pk, step]))


class DetailView(ApplicationMixin, TemplateView):
    template_name = "registry/detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = self.application(kwargs["pk"])
        user = self.request.user
        may_apply = applications_for(user, Action.APPLY).filter(pk=application.pk).exists()
        may_review = (
            applications_for(user, Action.REVIEW).filter(pk=application.pk).exists()
            and application.applicant_id != user.pk
        )
        payload = application.payload
        fields = (ledger.REGISTER_FIELDS if application.kind == ApplicationKind.REGISTER
                  else ledger.CHANGE_FIELDS)
        context.update(
            application=application,
            events=application.events.select_related("actor"),
            values=[(ledger.label(name), ledger.display(name, payload.get(name)))
                    for name in fields] if application.kind == ApplicationKind.REGISTER else [],
            difference=ledger.difference(application.base, payload)
            if application.kind == ApplicationKind.CHANGE else [],
            stored_elements=payload.get("elements", []),
            editable=may_apply and application.state in (ApplicationState.DRAFT,
                                                         ApplicationState.RETURNED),
            may_submit=may_apply and application.state in (ApplicationState.DRAFT,
                                                           ApplicationState.RETURNED),
            may_review=may_review and application.state == ApplicationState.SUBMITTED,
            stale=application.asset_id and application.base_version
            and application.asset.version != application.base_version and application.is_open,
            first_step=ledger.step_fields(application.kind)[0][0],
            errors=context.get("errors"),
        )
        return context


class TransitionView(ApplicationMixin, View):
    def post(self, request, pk: int):
        application = self.application(pk)
        transition = request.POST.get("transition")
        if transition not in Transition.values:
            raise Http404
        if application.kind == ApplicationKind.DEREGISTER and transition == Transition.SUBMIT:
            workflow.save_draft(application.pk, actor=request.user, payload=application.payload,
                                statement=request.POST.get("statement", ""))
        try:
            workflow.take(application.pk, transition, actor=request.user,
                          comment=request.POST.get("comment", ""))
        except workflow.InvalidApplication as invalid:
            for field, problems in invalid.form.errors.items():
                name = ledger.label(field) if field != "__all__" else ""
                for problem in problems:
                    messages.error(request, f"{name}: {problem}" if name else problem)
        except (workflow.WorkflowError, PermissionDenied) as refused:
            messages.error(request, str(refused) or _("This step is not yours to take."))
        else:
            messages.success(request, _("Done: %(step)s.") % {
                "step": Transition(transition).label})
        return HttpResponseRedirect(reverse("registry:detail", args=[pk]))


class CertificateView(ApplicationMixin, View):
    """The registration certificate of an approved registration, as a PDF."""

    def get(self, request, pk: int):
        application = self.application(pk)
        if application.asset_id is None:
            raise Http404
        try:
            pdf = render_certificate(
                application, request.build_absolute_uri(application.asset.get_absolute_url()),
                language=getattr(request, "LANGUAGE_CODE", None),
            )
        except CertificateUnavailable as unavailable:
            messages.error(request, str(unavailable))
            return HttpResponseRedirect(reverse("registry:detail", args=[pk]))
        except ValueError:
            raise Http404 from None
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'inline; filename="{application.registration_number}.pdf"')
        return response


class RefreshView(ApplicationMixin, View):
    def post(self, request, pk: int):
        application = self.application(pk, Action.APPLY)
        try:
            workflow.refresh(application.pk, actor=request.user)
        except workflow.WorkflowError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The application now rests on the current ledger."))
        return HttpResponseRedirect(reverse("registry:detail", args=[pk]))
