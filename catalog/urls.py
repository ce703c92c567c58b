from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("", views.AssetListView.as_view(), name="asset_list"),
    path("facets/", views.FacetsView.as_view(), name="facets"),
    path("assets/<int:pk>/", views.AssetDetailView.as_view(), name="asset_detail"),
    path("assets/<int:pk>/edit/", views.AssetEditView.as_view(), name="asset_edit"),
]
