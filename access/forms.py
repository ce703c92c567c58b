"""The steward's form for granting explicit access to an asset."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from .models import GRANTABLE_PERMISSIONS


class GrantForm(forms.Form):
    grantee_kind = forms.ChoiceField(
        label=_("Grant to"), choices=[("user", _("a user")), ("group", _("a group"))],
        initial="user", widget=forms.RadioSelect,
    )
    grantee = forms.CharField(
        label=_("Username or group name"), max_length=150,
    )
    permission = forms.ChoiceField(
        label=_("Permission"), choices=list(GRANTABLE_PERMISSIONS.items()),
    )
    valid_until = forms.DateField(
        label=_("Valid until (inclusive)"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for a grant that lasts until it is revoked."),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example the approved request or project it serves. Kept in the audit "
                    "trail."),
    )

    def clean(self):
        cleaned = super().clean()
        name = (cleaned.get("grantee") or "").strip()
        kind = cleaned.get("grantee_kind")
        if name and kind == "user":
            user = User.objects.filter(username=name).first()
            if user is None:
                self.add_error("grantee", _("There is no user with this username."))
            elif not user.is_active:
                self.add_error("grantee", _("This account is deactivated."))
            cleaned["grantee_object"] = user
        elif name and kind == "group":
            group = Group.objects.filter(name=name).first()
            if group is None:
                self.add_error("grantee", _("There is no group with this name."))
            cleaned["grantee_object"] = group
        until = cleaned.get("valid_until")
        if until is not None:
            if until < timezone.localdate():
                self.add_error("valid_until", _("The end of the grant must lie in the future."))
            # Valid through the whole of the chosen day, in the commission's time zone.
            cleaned["expires_at"] = timezone.make_aware(
                datetime.combine(until + timedelta(days=1), time.min)
            )
        else:
            cleaned["expires_at"] = None
        return cleaned


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason for revoking"), max_length=500)
