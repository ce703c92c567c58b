from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="catalog:asset_list", permanent=False)),
    path("catalog/", include("catalog.urls")),
    path("catalog/", include("access.urls")),
    path("catalog/", include("rights.urls")),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    path("registry/bulk/", include("registry.bulk_urls")),
    path("registry/", include("registry.urls")),
    path("inbox/", include("inbox.urls")),
    path("inventory/", include("inventory.urls")),
    path("reports/", include("reports.urls")),
    path("api/", include("api.urls")),
    path("catalog/dcat/", include("exchange.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
