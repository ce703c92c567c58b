from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from . import allocations, applications, findings, reports, views

app_name = "api"

router = DefaultRouter()
router.register("assets", views.DataAssetViewSet, basename="asset")
router.register("institutions", views.InstitutionViewSet, basename="institution")
for resource in (applications, allocations, findings, reports):
    resource.register(router)

urlpatterns = [
    path("", include(router.urls)),
    path("token/", obtain_auth_token, name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
