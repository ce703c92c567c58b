"""The audit trail page: permission, role and account changes the user may audit."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.views.generic import TemplateView

from accounts.scoping import Action, reach

from .models import AuditAction, AuditEvent


class AuditTrailView(LoginRequiredMixin, TemplateView):
    template_name = "audit/event_list.html"

    def get_context_data(self, **kwargs):
        if reach(self.request.user, Action.AUDIT).empty:
            raise PermissionDenied
        context = super().get_context_data(**kwargs)
        events = AuditEvent.objects.visible_to(self.request.user).select_related("target_type")
        action = self.request.GET.get("action", "")
        if action in AuditAction.values:
            events = events.filter(action=action)
        before = self.request.GET.get("before", "")
        if before.isdigit():
            events = events.filter(pk__lt=int(before))
        size = settings.CATALOG_PAGE_SIZE
        page = list(events.order_by("-id")[: size + 1])
        context.update(
            events=page[:size],
            next_before=page[size - 1].pk if len(page) > size else None,
            actions=AuditAction.choices, action=action,
        )
        return context
