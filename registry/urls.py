from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("applications/new/", views.NewApplicationView.as_view(), name="new"),
    path("applications/<int:pk>/", views.DetailView.as_view(), name="detail"),
    path("applications/<int:pk>/edit/<str:step>/", views.EditStepView.as_view(), name="edit"),
    path("applications/<int:pk>/step/", views.TransitionView.as_view(), name="transition"),
    path("applications/<int:pk>/refresh/", views.RefreshView.as_view(), name="refresh"),
    path("applications/<int:pk>/certificate.pdf", views.CertificateView.as_view(),
         name="certificate"),
]
