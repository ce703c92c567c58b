from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = _("Access")

    def ready(self) -> None:
        from .models import forget_permission_ids

        # migrate and flush may make the permission rows anew, with other ids.
        post_migrate.connect(forget_permission_ids, dispatch_uid="access.forget_permission_ids")
