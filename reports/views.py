"""The inventory report of the user's jurisdiction."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from accounts.choices import RegionLevel
from accounts.models import Region
from accounts.scoping import Action, reach

from .cache import report_figures
from .figures import region_in_reach
from .forms import FILTER_NAMES, ReportFilterForm
from .snapshot import take_snapshot


def report_filters(request: HttpRequest, data) -> tuple[ReportFilterForm, dict]:
    """The form and valid filters of a report request; refused (403) without report reach,
    not found (404) for a region outside the jurisdiction."""
    if reach(request.user, Action.REPORT).empty:
        raise PermissionDenied
    form = ReportFilterForm(data)
    filters = form.valid_filters()
    if "region" in filters:
        region = (
            Region.objects.select_related("province", "city")
            .filter(code=filters["region"]).first()
        )
        if region is None or not region_in_reach(request.user, region):
            raise Http404
        filters["region"] = region
    return form, filters


@login_required
def report(request: HttpRequest) -> HttpResponse:
    form, filters = report_filters(request, request.GET)
    figures = report_figures(request.user, filters)
    kept = {name: request.GET[name] for name in FILTER_NAMES if name in filters}
    return render(request, "reports/report.html", {
        "form": form,
        "report": figures,
        # The figures as data, for the charts (json_script).
        "snapshot": take_snapshot(
            figures, scope=figures.region, filter_labels=form.filter_labels(filters)
        ),
        "filters": filters,
        "crumbs": _crumbs(request.user, figures.region),
        "kept_filters": kept,  # repeated by the export form
        # The query string of the filters other than the region (for the drill-down links).
        "other_filters": urlencode({k: v for k, v in kept.items() if k != "region"}),
    })


def _crumbs(user, region: Region | None) -> list[Region]:
    """The regions above the drill-down level that the user may still open."""
    if region is None:
        return []
    chain = [region.province] if region.level != RegionLevel.PROVINCE else []
    if region.level == RegionLevel.COUNTY and region.city_id and region.city_id != region.code:
        chain.append(region.city)
    return [r for r in chain if region_in_reach(user, r)] + [region]
