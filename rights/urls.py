from django.urls import path

from . import views

app_name = "rights"
urlpatterns = [
    path("assets/<int:pk>/rights/", views.AssetRightsView.as_view(), name="asset_rights"),
    path("assets/<int:pk>/rights/add/", views.AllocationFormView.as_view(), name="allocate"),
    path(
        "assets/<int:pk>/rights/<int:allocation_id>/edit/",
        views.AllocationFormView.as_view(), name="change_allocation",
    ),
    path(
        "assets/<int:pk>/rights/<int:allocation_id>/end/",
        views.EndAllocationView.as_view(), name="end_allocation",
    ),
]
