"""Schedules page (being built)."""

from django.http import Http404


def schedule_list(request):
    raise Http404


def schedule_edit(request, pk=None):
    raise Http404
