"""The asset's access page: who can see it and why; grant and revoke explicit access."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from accounts.scoping import Action
from catalog.models import DataAsset
from catalog.views import ScopedAssetMixin

from . import services
from .explain import who_has_access
from .forms import GrantForm, RevokeForm
from .models import AssetGroupGrant, AssetUserGrant

GRANT_MODELS = {"user": AssetUserGrant, "group": AssetGroupGrant}


class AssetAccessView(LoginRequiredMixin, ScopedAssetMixin, TemplateView):
    template_name = "access/asset_access.html"

    def grantable_asset(self, pk: int) -> DataAsset:
        # Hidden: 404 as everywhere; visible but not the user's to manage: 403.
        asset = self.get_asset(pk)
        if not DataAsset.objects.restrict(self.request.user, Action.GRANT).filter(
            pk=asset.pk
        ).exists():
            raise PermissionDenied
        return asset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        asset = context.get("asset") or self.grantable_asset(kwargs["pk"])
        context.update(
            asset=asset,
            entries=who_has_access(asset),
            form=context.get("form") or GrantForm(),
            revoke_form=RevokeForm(),
        )
        return context

    def post(self, request, pk: int):
        asset = self.grantable_asset(pk)
        form = GrantForm(request.POST)
        if form.is_valid():
            try:
                services.grant(
                    asset.pk, form.cleaned_data["grantee_object"],
                    form.cleaned_data["permission"],
                    expires_at=form.cleaned_data["expires_at"],
                    reason=form.cleaned_data["reason"], actor=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Access granted to %(who)s.") % {
                    "who": form.cleaned_data["grantee_object"]})
                return HttpResponseRedirect(reverse("access:asset_access", args=[asset.pk]))
        return self.render_to_response(self.get_context_data(pk=pk, asset=asset, form=form))


class RevokeGrantView(LoginRequiredMixin, ScopedAssetMixin, TemplateView):
    http_method_names = ["post"]

    def post(self, request, pk: int, kind: str, grant_id: int):
        asset = AssetAccessView(request=request).grantable_asset(pk)
        model = GRANT_MODELS.get(kind)
        if model is None:
            raise PermissionDenied
        grant = get_object_or_404(model, pk=grant_id, content_object=asset)
        form = RevokeForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Say why this access is revoked."))
        else:
            services.revoke(grant, reason=form.cleaned_data["reason"], actor=request.user)
            messages.success(request, _("The grant was revoked."))
        return HttpResponseRedirect(reverse("access:asset_access", args=[asset.pk]))
