from datetime import datetime

from django import template
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from access.models import GRANTABLE_PERMISSIONS
from accounts.choices import Role

register = template.Library()

# How the snapshot keys read on the page.
LABELS = {
    "username": _("username"), "full_name": _("full name"), "email": _("email"),
    "is_active": _("active"), "is_staff": _("staff"), "is_superuser": _("superuser"),
    "password": _("password"), "user": _("user"), "institution": _("institution"),
    "role": _("role"), "grantee": _("grantee"), "grantee_kind": _("kind"),
    "permission": _("permission"), "asset": _("asset"), "expires_at": _("valid until"),
    "reason": _("reason"), "names": _("names"),
}


def _display(key: str, value):
    if key == "role" and value in Role.values:
        return Role(value).label
    if key == "permission" and value in GRANTABLE_PERMISSIONS:
        return GRANTABLE_PERMISSIONS[value]
    if key == "grantee_kind":
        return {"user": _("user"), "group": _("group")}.get(value, value)
    if key == "expires_at" and value:
        return date_format(localtime(datetime.fromisoformat(value)), "Y-m-d H:i")
    if key == "password":
        return "••••••" if value else "—"  # only a digest is kept, to show that it changed
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    return "—" if value in (None, "") else value


@register.filter
def audit_values(event, side: str) -> list[tuple[str, object]]:
    """The changed values of one side of an event (all of them for an addition or removal)."""
    values = getattr(event, side) or {}
    keys = event.changed_keys if event.before and event.after else list(values)
    return [(LABELS.get(key, key), _display(key, values.get(key))) for key in keys
            if key in values]
