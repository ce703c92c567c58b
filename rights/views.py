"""An asset's rights allocations: the list with each one's history, for everyone who may see
the asset; allocating, changing and ending, for those who may allocate over it.

A hidden asset answers 404 (as everywhere); a visible one the user may not allocate over
answers 403 on the writing pages.
"""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from accounts.scoping import Action
from catalog.forms import add_validation_error
from catalog.models import DataAsset
from catalog.views import ScopedAssetMixin

from . import services
from .forms import AllocationForm, EndAllocationForm
from .history import allocation_histories
from .models import RightsAllocation


class AssetRightsMixin(LoginRequiredMixin, ScopedAssetMixin):
    def may_allocate(self, asset: DataAsset) -> bool:
        return DataAsset.objects.restrict(self.request.user, Action.ALLOCATE).filter(
            pk=asset.pk).exists()

    def allocatable_asset(self, pk: int) -> DataAsset:
        asset = self.get_asset(pk)  # hidden: 404
        if not self.may_allocate(asset):
            raise PermissionDenied
        return asset

    def get_allocation(self, asset: DataAsset, allocation_id: int) -> RightsAllocation:
        return get_object_or_404(
            RightsAllocation.objects.select_related("party_institution"),
            pk=allocation_id, asset=asset,
        )

    def rights_url(self, asset: DataAsset) -> str:
        return reverse("rights:asset_rights", args=[asset.pk])


class AssetRightsView(AssetRightsMixin, TemplateView):
    template_name = "rights/asset_rights.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        asset = self.get_asset(kwargs["pk"])
        allocations = list(
            asset.allocations.select_related("party_institution", "created_by")
            .in_right_order()
        )
        histories = allocation_histories(asset)
        for allocation in allocations:
            allocation.changes = histories.get(allocation.pk, [])
        context.update(
            asset=asset,
            current=[a for a in allocations if not a.is_ended],
            ended=[a for a in allocations if a.is_ended],
            can_allocate=self.may_allocate(asset),
        )
        return context


class AllocationFormView(AssetRightsMixin, TemplateView):
    """Allocate a right (no ``allocation_id``), or change one that has not ended."""

    template_name = "rights/allocation_form.html"

    def get(self, request, pk: int, allocation_id: int | None = None):
        asset = self.allocatable_asset(pk)
        allocation = self.editable(asset, allocation_id)
        if allocation is not None and allocation.is_ended:
            return self.refuse_ended(asset)
        form = AllocationForm(instance=allocation, asset=asset)
        return self.render_to_response(self.context(asset, allocation, form))

    def post(self, request, pk: int, allocation_id: int | None = None):
        asset = self.allocatable_asset(pk)
        allocation = self.editable(asset, allocation_id)
        if allocation is not None and allocation.is_ended:
            return self.refuse_ended(asset)
        # The form validates on a copy, so that a refused change leaves the stored one alone.
        form = AllocationForm(request.POST, instance=copy.copy(allocation), asset=asset)
        if form.is_valid():
            reason = form.cleaned_data["change_reason"]
            try:
                if allocation is None:
                    services.allocate(asset, form.cleaned_data, request.user, reason=reason)
                    changed = True
                else:
                    _saved, changed = services.change_allocation(
                        allocation, form.cleaned_data, request.user, reason=reason)
            except ValidationError as error:
                add_validation_error(form, error)
            else:
                if allocation is None:
                    messages.success(request, _("The right was allocated."))
                elif changed:
                    messages.success(request, _("The allocation was changed."))
                else:
                    messages.info(request, _("Nothing was changed."))
                return HttpResponseRedirect(self.rights_url(asset))
        return self.render_to_response(self.context(asset, allocation, form))

    def editable(self, asset: DataAsset, allocation_id: int | None) -> RightsAllocation | None:
        if allocation_id is None:
            return None
        return self.get_allocation(asset, allocation_id)

    def refuse_ended(self, asset: DataAsset) -> HttpResponseRedirect:
        messages.error(self.request, _("This allocation has ended and can no longer be "
                                       "changed: allocate the right anew."))
        return HttpResponseRedirect(self.rights_url(asset))

    def context(self, asset, allocation, form) -> dict:
        return {"asset": asset, "allocation": allocation, "form": form,
                "suggestions": form.suggestions()}


class EndAllocationView(AssetRightsMixin, TemplateView):
    template_name = "rights/allocation_end.html"

    def get(self, request, pk: int, allocation_id: int):
        asset = self.allocatable_asset(pk)
        allocation = self.get_allocation(asset, allocation_id)
        return self.render_to_response(
            {"asset": asset, "allocation": allocation, "form": EndAllocationForm()})

    def post(self, request, pk: int, allocation_id: int):
        asset = self.allocatable_asset(pk)
        allocation = self.get_allocation(asset, allocation_id)
        form = EndAllocationForm(request.POST)
        if form.is_valid():
            try:
                services.end_allocation(allocation, request.user, form.cleaned_data["reason"])
            except ValidationError as error:
                add_validation_error(form, error)
            else:
                messages.success(request, _("The allocation was ended."))
                return HttpResponseRedirect(self.rights_url(asset))
        return self.render_to_response(
            {"asset": asset, "allocation": allocation, "form": form})
