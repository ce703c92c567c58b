from django.urls import path

from . import views

app_name = "access"
urlpatterns = [
    path("assets/<int:pk>/access/", views.AssetAccessView.as_view(), name="asset_access"),
    path(
        "assets/<int:pk>/access/<str:kind>/<int:grant_id>/revoke/",
        views.RevokeGrantView.as_view(), name="revoke_grant",
    ),
]
