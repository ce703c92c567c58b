"""Telling people: a notification in their inbox and an email (Django's email backend), sent
after the transaction that caused it commits — a rolled-back step tells nobody."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils.translation import override

from .models import Notification

log = logging.getLogger(__name__)


def notify(users, subject_for, body_for, *, link: str = "") -> None:
    """Notify each active user; ``subject_for`` and ``body_for`` are called in the site's
    language (the UI language is per request, the message is stored once)."""
    recipients = [user for user in {user.pk: user for user in users}.values() if user.is_active]
    if not recipients:
        return
    with override(settings.LANGUAGE_CODE):
        subject, body = str(subject_for()), str(body_for())
    Notification.objects.bulk_create([
        Notification(user=user, subject=subject, body=body, link=link) for user in recipients
    ])
    emails = [user.email for user in recipients if user.email]
    if emails:
        messages = [(subject, f"{body}\n\n{link}".strip(), settings.DEFAULT_FROM_EMAIL, [email])
                    for email in emails]
        transaction.on_commit(lambda: _send(messages))


def _send(messages) -> None:
    try:
        send_mass_mail(messages, fail_silently=False)
    except OSError:  # the inbox still has it; the mail server is somebody else's outage
        log.exception("Could not send %d notification emails", len(messages))
