from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("assets/<int:pk>/", views.dataset, name="dataset"),
]
