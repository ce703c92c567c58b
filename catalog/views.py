"""Catalog pages: browse with facets and search, asset detail with history, steward edit.

Every queryset here comes from ``DataAsset.objects.restrict(user, action)`` through
:class:`ScopedAssetMixin`; no view filters by hand.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from accounts.models import Institution
from accounts.scoping import Action
from rights.models import RightsAllocation

from . import freshness
from .changes import PRIVATE_HISTORY_FIELDS, asset_changes
from .choices import AssetStatus
from .facets import facet_counts, rows_to_count
from .filtersets import DataAssetFilterSet
from .forms import DataAssetForm, add_validation_error
from .models import DataAsset
from .pagination import DEFAULT_SORT, SORT_ORDERS, InvalidCursor, paginate
from .services import StaleVersionError, update_asset

# Current allocations shown on the asset page; the rights page shows them all.
RIGHTS_SUMMARY_ROWS = 10


class ScopedAssetMixin:
    """Gives a view the assets its user may reach for ``action``, and nothing else."""

    action = Action.VIEW

    def scoped_assets(self):
        return DataAsset.objects.restrict(self.request.user, self.action)

    def get_asset(self, pk: int) -> DataAsset:
        # A hidden asset answers 404, exactly like a missing one.
        return get_object_or_404(
            self.scoped_assets().select_related(
                "holder", "holder__region", "catalog_class", "spatial_coverage", "region",
                "created_by", "updated_by",
            ),
            pk=pk,
        )


@dataclass(frozen=True)
class ScopedFiltered:
    """The filtered assets in scope, and the same filters without the scope plus the
    scope's branches, from which the rows and counts are computed branch by branch."""

    assets: object
    unscoped: object
    branches: list | None


class FilteredAssetsMixin(ScopedAssetMixin):
    """The scoped assets narrowed by the page's filters, with the errors of bad input."""

    def filtered(self):
        params = self.request.GET
        filterset = DataAssetFilterSet(params, queryset=self.scoped_assets())
        errors = []
        if not filterset.is_valid():
            errors += [str(e) for field_errors in filterset.errors.values() for e in field_errors]
        return filterset, errors

    def scoped_filtered(self, filterset) -> ScopedFiltered:
        return ScopedFiltered(
            assets=filterset.qs,
            unscoped=filterset.filter_queryset(DataAsset.objects.all()),
            branches=DataAsset.objects.scope_branches(self.request.user, self.action),
        )

    def count_facets(self, scoped: ScopedFiltered, filterset, *, count: bool = True):
        cleaned = filterset.form.cleaned_data
        selected = {
            key: str(getattr(value, "code", value))
            for key, value in cleaned.items() if value not in (None, "")
        }
        if settings.CATALOG_FACET_CACHE_SECONDS and "stamp" not in self.__dict__:
            self.stamp = freshness.stamp(self.request.user)
        return facet_counts(
            scoped.assets, selected, cleaned.get("region"), count=count,
            unscoped=scoped.unscoped, branches=scoped.branches,
            stamp=self.__dict__.get("stamp", ""),
        )


class AssetListView(FilteredAssetsMixin, TemplateView):
    template_name = "catalog/asset_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET
        filterset, errors = self.filtered()
        sort_key = params.get("sort") or DEFAULT_SORT
        if sort_key not in SORT_ORDERS:
            errors.append(_("Unknown sort order."))
        page = facets = None
        deferred = False
        if not errors:
            # The rows and the counts: the same filters and the same scope, whose branches
            # are paginated and counted apart (see paginate and facet_counts).
            scoped = self.scoped_filtered(filterset)
            try:
                page = paginate(
                    scoped.unscoped.select_related("holder", "region_province"),
                    SORT_ORDERS[sort_key], params.get("cursor"), settings.CATALOG_PAGE_SIZE,
                    branches=scoped.branches,
                )
            except InvalidCursor:
                errors.append(_("This page link is no longer valid; start from the first page."))
            else:
                facets, deferred = self.facets(scoped, filterset)
        context.update(
            filterset=filterset, page=page, facets=facets, facets_deferred=deferred,
            errors=errors, sort_orders=SORT_ORDERS.values(), sort_key=sort_key,
            query_without_cursor=_query(params, drop=("cursor", "counts")),
        )
        return context

    def facets(self, scoped: ScopedFiltered, filterset):
        """The counts, when they are quick to give: cached, or over few rows (or asked for
        explicitly). Otherwise the page is served without them and they are fetched from
        the facets endpoint, so a wide scope never holds up its first rows."""
        found = self.count_facets(scoped, filterset, count=False)
        if found is not None:
            return found, False
        if self.request.GET.get("counts") != "1":
            rows = rows_to_count(
                scoped.assets, filterset.form.cleaned_data.get("region"),
                unscoped=scoped.unscoped, branches=scoped.branches,
            )
            if rows is not None and rows > settings.CATALOG_FACETS_INLINE_MAX_ROWS:
                return None, True
        return self.count_facets(scoped, filterset), False


class FacetsView(FilteredAssetsMixin, TemplateView):
    """The facet sidebar alone, for the list page to fetch when it deferred the counts."""

    template_name = "catalog/_facets.html"

    def get(self, request, *args, **kwargs):
        filterset, errors = self.filtered()
        if errors:
            return HttpResponseBadRequest(" ".join(errors))
        facets = self.count_facets(self.scoped_filtered(filterset), filterset)
        return self.render_to_response({"facets": facets, "show_total": True})


class AssetDetailView(ScopedAssetMixin, TemplateView):
    template_name = "catalog/asset_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        asset = self.get_asset(kwargs["pk"])
        context.update(
            asset=asset,
            elements=asset.elements.all(),
            history=asset_changes(
                asset, hidden=frozenset() if self.request.user.is_authenticated
                else PRIVATE_HISTORY_FIELDS,
            ),
            can_edit=DataAsset.objects.editable_by(self.request.user).filter(pk=asset.pk).exists(),
            can_grant=DataAsset.objects.restrict(self.request.user, Action.GRANT)
            .filter(pk=asset.pk).exists(),
            can_apply=asset.status == AssetStatus.REGISTERED
            and Institution.objects.restrict(self.request.user, Action.APPLY)
            .filter(pk=asset.holder_id).exists(),
            **self.rights_summary(asset),
        )
        return context

    def rights_summary(self, asset: DataAsset) -> dict:
        """The current allocations, briefly (one query), for signed-in users."""
        if not self.request.user.is_authenticated:
            return {}
        rows = list(
            RightsAllocation.objects.current().filter(asset=asset)
            .select_related("party_institution")
            .in_right_order()[: RIGHTS_SUMMARY_ROWS + 1]
        )
        return {"allocations": rows[:RIGHTS_SUMMARY_ROWS],
                "more_allocations": len(rows) > RIGHTS_SUMMARY_ROWS, "show_rights": True}


class AssetEditView(LoginRequiredMixin, ScopedAssetMixin, TemplateView):
    template_name = "catalog/asset_edit.html"
    action = Action.CHANGE

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("asset", self.get_asset(kwargs["pk"]))
        context.setdefault("form", DataAssetForm(instance=context["asset"]))
        return context

    def post(self, request, pk: int):
        asset = self.get_asset(pk)
        # The form validates on a copy, so the page still shows the stored values.
        form = DataAssetForm(request.POST, instance=copy.copy(asset))
        if form.is_valid():
            try:
                saved, changed = update_asset(
                    asset.pk, form.changes(),
                    expected_version=form.cleaned_data["version"],
                    actor=request.user, reason=form.cleaned_data["change_reason"],
                )
            except StaleVersionError as stale:
                form.add_error(None, _(
                    "Someone else saved this asset (now version %(current)d) after you opened "
                    "it (version %(yours)d). Nothing was saved. Reload the page to see their "
                    "changes, then make yours again."
                ) % {"current": stale.current.version, "yours": form.cleaned_data["version"]})
            except ValidationError as error:
                add_validation_error(form, error)
            except PermissionDenied as denied:
                form.add_error(None, str(denied))
            except DataAsset.DoesNotExist:
                raise Http404 from None
            else:
                if changed:
                    messages.success(request, _("Saved as version %(version)d.") % {
                        "version": saved.version})
                else:
                    messages.info(request, _("Nothing was changed."))
                return HttpResponseRedirect(saved.get_absolute_url())
        return self.render_to_response(self.get_context_data(pk=pk, asset=asset, form=form))



def _query(params, drop=()) -> str:
    copy = params.copy()
    for key in drop:
        copy.pop(key, None)
    return copy.urlencode()

