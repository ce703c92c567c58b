"""The registration workflow: draft → submitted → (returned → submitted)* → approved or
rejected. Every step is checked here — who may take it, from which state — runs in one
transaction, and is recorded as an application step and in the audit trail.

    step      from                 to         who
    submit    draft, returned      submitted  a registrar or administrator of the holder
    return    submitted            returned   a steward with jurisdiction, not the applicant
    approve   submitted            approved   a steward with jurisdiction, not the applicant
    reject    submitted            rejected   a steward with jurisdiction, not the applicant
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Institution
from accounts.scoping import Action
from audit.models import AuditAction
from audit.recorder import record
from catalog.choices import AssetStatus
from catalog.history import ledger_context
from catalog.models import DataAsset
from catalog.services import StaleVersionError, update_asset

from . import elements, ledger, numbers
from .choices import ApplicationKind, ApplicationState, Transition
from .models import ApplicationEvent, RegistrationApplication
from .reviewers import reviewers_of

S = ApplicationState


@dataclass(frozen=True)
class Step:
    sources: frozenset[str]
    target: str
    by_reviewer: bool
    needs_comment: bool = False


STEPS = {
    Transition.SUBMIT: Step(frozenset({S.DRAFT, S.RETURNED}), S.SUBMITTED, by_reviewer=False),
    Transition.RETURN: Step(frozenset({S.SUBMITTED}), S.RETURNED, by_reviewer=True,
                            needs_comment=True),
    Transition.APPROVE: Step(frozenset({S.SUBMITTED}), S.APPROVED, by_reviewer=True),
    Transition.REJECT: Step(frozenset({S.SUBMITTED}), S.REJECTED, by_reviewer=True,
                            needs_comment=True),
}
AUDIT_ACTIONS = {
    Transition.SUBMIT: AuditAction.APPLICATION_SUBMITTED,
    Transition.RETURN: AuditAction.APPLICATION_RETURNED,
    Transition.APPROVE: AuditAction.APPLICATION_APPROVED,
    Transition.REJECT: AuditAction.APPLICATION_REJECTED,
}


class WorkflowError(Exception):
    """A step that cannot be taken; the message says why, for the user."""


class StateConflict(WorkflowError):
    """The step does not fit the application's state now (another step came first)."""


class StaleBase(WorkflowError):
    """The asset changed after the change application was based on it."""


class InvalidApplication(WorkflowError):
    """The proposed ledger values do not pass; ``form`` carries the errors by field."""

    def __init__(self, form):
        super().__init__(_("The application has errors; correct the fields marked."))
        self.form = form


def _institution_for(actor, institution_id: int, action: Action) -> Institution:
    found = Institution.objects.restrict(actor, action).filter(pk=institution_id).first()
    if found is None:
        raise PermissionDenied(
            _("You may not file applications for this institution.") if action == Action.APPLY
            else _("Only a data steward with jurisdiction over the holding institution may "
                   "review this application.")
        )
    return found


def create(kind: str, *, institution_id: int, actor, asset_id: int | None = None
           ) -> RegistrationApplication:
    """A new draft. A change or deregistration starts from the asset as it is now."""
    with transaction.atomic():
        institution = _institution_for(actor, institution_id, Action.APPLY)
        application = RegistrationApplication(kind=kind, institution=institution,
                                              applicant=actor)
        if kind != ApplicationKind.REGISTER:
            asset = DataAsset.objects.visible_to(actor).filter(
                pk=asset_id, holder=institution).first()
            if asset is None:
                raise PermissionDenied(_("This asset is not one of the institution's."))
            if asset.status != AssetStatus.REGISTERED:
                raise WorkflowError(_("Only a registered asset can be changed or deregistered."))
            application.asset = asset
            application.base_version = asset.version
            application.base = ledger.form_data_of(asset)
            application.payload = dict(application.base)
        application.full_clean()
        application.save()
    return application


def save_draft(application_id: int, *, actor, payload: dict, grade_reason: str = "",
               statement: str = "") -> RegistrationApplication:
    """Keep what the applicant entered so far, valid or not."""
    with transaction.atomic():
        application = _locked(application_id)
        _institution_for(actor, application.institution_id, Action.APPLY)
        if application.state not in (S.DRAFT, S.RETURNED):
            raise StateConflict(_("A submitted or decided application can no longer be edited."))
        application.payload = payload
        application.grade_reason = grade_reason
        application.statement = statement
        application.save()
    return application


def refresh(application_id: int, *, actor) -> RegistrationApplication:
    """Carry a change application's own changes onto the asset as it is now."""
    with transaction.atomic():
        application = _locked(application_id)
        _institution_for(actor, application.institution_id, Action.APPLY)
        if application.kind == ApplicationKind.REGISTER:
            raise WorkflowError(_("Only an open change or deregistration can be refreshed."))
        if not application.is_open:
            raise StateConflict(_("Only an open change or deregistration can be refreshed."))
        if application.state == S.SUBMITTED:
            raise StateConflict(_("A submitted application is with its reviewer; it can be "
                                  "refreshed once returned."))
        asset = DataAsset.objects.get(pk=application.asset_id)
        current = ledger.form_data_of(asset)
        application.payload = ledger.rebased(application.base, application.payload, current)
        application.base = current
        application.base_version = asset.version
        application.save()
    return application


def take(application_id: int, transition: str, *, actor, comment: str = ""
         ) -> RegistrationApplication:
    """Take a workflow step; refused with a clear message when it is not allowed."""
    step = STEPS[transition]
    comment = comment.strip()
    with transaction.atomic():
        application = _locked(application_id)
        if application.state not in step.sources:
            raise StateConflict(_(
                "This application is %(state)s: “%(step)s” is not possible now."
            ) % {"state": application.get_state_display(),
                 "step": Transition(transition).label})
        if step.by_reviewer:
            _institution_for(actor, application.institution_id, Action.REVIEW)
            if actor.pk == application.applicant_id:
                raise PermissionDenied(_("Nobody reviews their own application."))
        else:
            _institution_for(actor, application.institution_id, Action.APPLY)
        if step.needs_comment and not comment:
            raise WorkflowError(_("Say why, for the applicant: a comment is required."))
        with ledger_context(actor=actor, reason=comment or None):
            if transition == Transition.SUBMIT:
                _check(application)
                application.submitted_at = timezone.now()
            if transition == Transition.APPROVE:
                _apply(application, actor)
            if transition in (Transition.APPROVE, Transition.REJECT):
                application.decided_at = timezone.now()
                application.decided_by = actor
            before = application.state
            application.state = step.target
            application.save()
            ApplicationEvent.objects.create(
                application=application, transition=transition, from_state=before,
                to_state=step.target, actor=actor, comment=comment,
            )
            record(AUDIT_ACTIONS[transition], application, before={"state": before},
                   after={"state": step.target, "kind": application.kind},
                   institution=application.institution)
            _tell(application, transition, actor, comment)
    return application


def _tell(application: RegistrationApplication, transition: str, actor, comment: str) -> None:
    """The reviewers learn of a submission; the applicant of a decision or a return."""
    from inbox.services import notify

    if transition == Transition.SUBMIT:
        people = [user for user in reviewers_of(application.institution) if user.pk != actor.pk]

        def subject() -> str:
            return _("To review: %(application)s from %(institution)s") % {
                "application": application, "institution": application.institution}
    else:
        people = [application.applicant]

        def subject() -> str:
            return _("%(application)s: %(state)s") % {
                "application": application, "state": application.get_state_display()}

    notify(people, subject, lambda: comment,
           link=reverse("registry:detail", args=[application.pk]))


def _locked(application_id: int) -> RegistrationApplication:
    return RegistrationApplication.objects.select_for_update(of=("self",)).select_related(
        "institution__region"
    ).get(pk=application_id)


def _form(application: RegistrationApplication, data: dict | None = None):
    asset = None
    if application.asset_id:
        asset = DataAsset.objects.select_related("holder").get(pk=application.asset_id)
    return ledger.form_for(application.kind, application.institution, asset=asset,
                           data=application.payload if data is None else data,
                           grade_reason=application.grade_reason)


def _check(application: RegistrationApplication):
    if application.kind == ApplicationKind.DEREGISTER:
        if not application.statement.strip():
            raise WorkflowError(_("Say why the asset is deregistered."))
        return None
    if application.kind == ApplicationKind.CHANGE and not ledger.proposed_changes(
        application.base, application.payload
    ):
        raise WorkflowError(_("This change application changes nothing."))
    form = _form(application)
    if not form.is_valid():
        raise InvalidApplication(form)
    if problems := elements.errors(application.payload.get("elements", [])):
        raise WorkflowError(" ".join(problems))
    return form


def _apply(application: RegistrationApplication, reviewer) -> None:
    """Make the approved application true in the ledger, in the approving transaction."""
    form = _check(application)
    reason = _("Registration application #%(id)d approved") % {"id": application.pk}
    if application.kind == ApplicationKind.REGISTER:
        asset = form.save(commit=False)
        asset.holder = application.institution
        asset.status = AssetStatus.REGISTERED
        asset.registered_at = timezone.now()
        asset.registration_number = numbers.allocate(
            application.institution.region_id, at=asset.registered_at)
        asset.created_by = asset.updated_by = reviewer
        with ledger_context(actor=reviewer, reason=reason):
            asset.save()
            elements.create(asset, application.payload.get("elements", []))
        application.asset = asset
        application.registration_number = asset.registration_number
        return
    if application.kind == ApplicationKind.CHANGE:
        proposed = ledger.proposed_changes(application.base, application.payload)
        changes = {name: form.cleaned_data[name] for name in proposed}
    else:
        changes = {"status": AssetStatus.DEREGISTERED}
    try:
        update_asset(application.asset_id, changes, expected_version=application.base_version,
                     actor=reviewer, reason=reason)
    except StaleVersionError as stale:
        raise StaleBase(_(
            "The asset changed after this application was made (it is now at version "
            "%(current)d; the application is based on version %(base)d). Return it so that "
            "the applicant refreshes it against the current ledger."
        ) % {"current": stale.current.version, "base": application.base_version}) from None
    except ValidationError as error:
        raise WorkflowError(" ".join(error.messages)) from None
