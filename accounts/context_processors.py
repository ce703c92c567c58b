"""What the navigation offers the signed-in user (from the same reach as the querysets)."""

from django.utils.functional import SimpleLazyObject

from .scoping import Action, is_signed_in, reach


def navigation(request) -> dict:
    def compute() -> dict:
        user = getattr(request, "user", None)
        if not is_signed_in(user):
            return {}
        from inbox.models import Notification

        return {
            "members": not reach(user, Action.MANAGE_MEMBERS).empty,
            "audit": not reach(user, Action.AUDIT).empty,
            "registry": not (reach(user, Action.APPLY).empty and reach(user, Action.REVIEW).empty),
            # Starts runs and keeps their schedules somewhere (a steward of a commission).
            "checks": not reach(user, Action.RUN_CHECKS).empty,
            # Reads runs (a jurisdiction) or only its institutions' findings.
            "inventory": _inventory_page(reach(user, Action.VIEW_FINDINGS)),
            "reports": not reach(user, Action.REPORT).empty,
            "unread": Notification.objects.filter(user=user, read_at__isnull=True).count(),
        }

    return {"nav": SimpleLazyObject(compute)}


def _inventory_page(found) -> str:
    if found.everything or found.jurisdictions:
        return "inventory:run_list"
    return "inventory:finding_list" if found.institution_ids else ""
