from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("assets/<int:pk>/", views.dataset, name="dataset"),
    # The URIs the export mints (without a trailing slash, as minted).
    path("vocab/region/<str:code>", views.region, name="region"),
    path("vocab/<str:scheme>", views.scheme, name="scheme"),
    path("vocab/<str:scheme>/<str:code>", views.concept, name="concept"),
    path("agents/<str:credit_code>", views.agent, name="agent"),
]
