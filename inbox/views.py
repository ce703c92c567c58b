"""The user's inbox: newest first, unread marked; opening a notification marks it read."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from .models import Notification


class InboxView(LoginRequiredMixin, TemplateView):
    template_name = "inbox/inbox.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["notifications"] = Notification.objects.filter(user=self.request.user)[:100]
        return context


class OpenNotificationView(LoginRequiredMixin, View):
    def post(self, request, pk: int):
        notification = get_object_or_404(Notification, pk=pk, user=request.user)
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
        target = notification.link
        if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
            target = reverse("inbox:inbox")
        return HttpResponseRedirect(target)


class ReadAllView(LoginRequiredMixin, View):
    def post(self, request):
        Notification.objects.filter(user=request.user, read_at__isnull=True).update(
            read_at=timezone.now())
        return HttpResponseRedirect(reverse("inbox:inbox"))
