from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = _("Inventory and rights review")

    def ready(self) -> None:
        from . import signals  # noqa: F401
