"""Bulk registration pages: the upload (and its templates), every problem of a file that
does not pass, and a staged batch with its applications, which a steward may approve at
once. The work is done by :mod:`registry.bulk`; these views only ask and show.

A batch reaches a user like its applications do: through the holding institution, with the
role × jurisdiction rule (``Institution.objects.restrict``); any other batch answers 404.
"""

from __future__ import annotations

import secrets
from pathlib import PurePath

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View

from accounts.models import Institution
from accounts.scoping import Action

from . import bulk
from .choices import ApplicationState
from .models import RegistrationBatch

SHOWN_ERRORS = 500  # on the page; the downloadable report has them all
REPORT_SECONDS = 60 * 60  # how long the error report of an upload can be downloaded
REPORT_KEY = "registry-bulk-errors:{token}"
BATCH_PAGE_SIZE = 100
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def visible_batches(user):
    """The batches ``user`` may see: those of the institutions in their reach."""
    return RegistrationBatch.objects.filter(
        institution__in=Institution.objects.restrict(user, Action.VIEW)
    ).select_related("institution", "created_by")


class UploadForm(forms.Form):
    institution = forms.ModelChoiceField(
        queryset=Institution.objects.none(), label=gettext_lazy("Holding institution"),
        empty_label=None,
    )
    file = forms.FileField(label=gettext_lazy("Spreadsheet"))

    def __init__(self, *args, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions
        self.fields["file"].help_text = _(
            "An Excel workbook (.xlsx), or a CSV file in UTF-8 or GBK; at most %(size)s and "
            "%(rows)s rows.") % {"size": filesizeformat(bulk.max_bytes()),
                                 "rows": f"{bulk.max_rows():,}"}
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.csv"


class UploadView(LoginRequiredMixin, View):
    """Upload a spreadsheet: it is checked and, if every row passes, staged as one batch."""

    template_name = "registry/bulk_upload.html"

    def institutions(self):
        found = Institution.objects.restrict(self.request.user, Action.APPLY).filter(
            is_active=True).order_by("name", "id")
        if not found.exists():
            raise PermissionDenied(_("You may not file applications for any institution."))
        return found

    def get(self, request):
        return self.show(UploadForm(institutions=self.institutions()))

    def post(self, request):
        form = UploadForm(request.POST, request.FILES, institutions=self.institutions())
        if not form.is_valid():
            if form.has_error("institution", "invalid_choice"):
                raise PermissionDenied(_("You may not file applications for this institution."))
            return self.show(form)
        upload = form.cleaned_data["file"]
        try:
            with bulk.read_rows(upload) as sheet:
                batch = bulk.stage(sheet, form.cleaned_data["institution"], request.user,
                                   upload.name)
        except bulk.BulkError as error:
            return self.show(form, errors=error.errors, truncated=error.truncated,
                             token=self.keep(error.errors, upload.name))
        messages.success(request, ngettext(
            "%(count)d registration application was submitted for review.",
            "%(count)d registration applications were submitted for review, as one batch.",
            batch.rows) % {"count": batch.rows})
        return redirect("registry_bulk:batch", batch.pk)

    def keep(self, errors: list[bulk.RowError], file_name: str) -> str:
        """Keep the problems for the downloadable report; the token that finds them."""
        token = secrets.token_urlsafe(18)
        cache.set(REPORT_KEY.format(token=token), {
            "user": self.request.user.pk, "file_name": file_name,
            "errors": [error.as_tuple() for error in errors],
        }, REPORT_SECONDS)
        return token

    def show(self, form, **context):
        errors = context.get("errors") or []
        return render(self.request, self.template_name, {
            "form": form, "columns": bulk.column_notes(),
            "shown_errors": errors[:SHOWN_ERRORS], "error_count": len(errors),
            "more_errors": len(errors) > SHOWN_ERRORS, **context,
        })


class TemplateDownloadView(LoginRequiredMixin, View):
    """The template: the columns' Chinese headers and an example row."""

    format = "xlsx"

    def get(self, request):
        name = _("bulk-registration-template")
        if self.format == "xlsx":
            content, content_type = bulk.template_xlsx(), XLSX_TYPE
        else:
            content, content_type = bulk.template_csv(), "text/csv; charset=utf-8"
        return HttpResponse(content, content_type=content_type, headers={
            "Content-Disposition": content_disposition_header(True, f"{name}.{self.format}")})


class ErrorReportView(LoginRequiredMixin, View):
    """The problems of the user's last uploads, as CSV, for an hour."""

    def get(self, request, token):
        kept = cache.get(REPORT_KEY.format(token=token))
        if kept is None or kept["user"] != request.user.pk:
            raise Http404(_("This error report is no longer available: upload the file again."))
        name = _("%(name)s-errors.csv") % {"name": PurePath(kept["file_name"]).stem}
        return HttpResponse(bulk.error_report_csv(kept["errors"]),
                            content_type="text/csv; charset=utf-8", headers={
                                "Content-Disposition": content_disposition_header(True, name)})


class BatchView(LoginRequiredMixin, View):
    """A batch: its rows as applications, with their states; the steward's approval."""

    template_name = "registry/bulk_batch.html"

    def get(self, request, pk):
        batch = get_object_or_404(visible_batches(request.user), pk=pk)
        applications = batch.applications.order_by("batch_row", "pk")
        state = request.GET.get("state", "")
        if state in ApplicationState.values:
            applications = applications.filter(state=state)
        page = Paginator(applications, BATCH_PAGE_SIZE).get_page(request.GET.get("page"))
        counts = dict(batch.applications.order_by().values_list("state")
                      .annotate(n=Count("pk")).values_list("state", "n"))
        waiting = counts.get(ApplicationState.SUBMITTED, 0)
        return render(request, self.template_name, {
            "batch": batch, "page": page, "state": state,
            "state_counts": [(value, label, counts.get(value, 0))
                             for value, label in ApplicationState.choices
                             if counts.get(value)],
            "waiting": waiting,
            "can_review": waiting > 0 and bulk.can_review(request.user, batch),
            "uploaded_by_me": batch.created_by_id == request.user.pk,
        })


class ApproveBatchView(LoginRequiredMixin, View):
    """Approve every submitted application of a batch, or none."""

    def post(self, request, pk):
        batch = get_object_or_404(visible_batches(request.user), pk=pk)
        try:
            approved = bulk.approve_batch(batch.pk, actor=request.user,
                                          comment=request.POST.get("comment", "")[:2000])
        except bulk.BatchRefused as refused:
            messages.error(request, str(refused))
        else:
            if approved:
                messages.success(request, ngettext(
                    "%(count)d application of the batch was approved.",
                    "%(count)d applications of the batch were approved.",
                    approved) % {"count": approved})
            else:
                messages.info(request, _("No application of the batch is waiting for review."))
        return redirect("registry_bulk:batch", batch.pk)
