"""Bulk registration pages (included at /registry/bulk/)."""

from django.urls import path

from . import bulk_views as views

app_name = "registry_bulk"
urlpatterns = [
    path("", views.UploadView.as_view(), name="upload"),
    path("template.xlsx", views.TemplateDownloadView.as_view(format="xlsx"),
         name="template_xlsx"),
    path("template.csv", views.TemplateDownloadView.as_view(format="csv"), name="template_csv"),
    path("errors/<str:token>.csv", views.ErrorReportView.as_view(), name="error_report"),
    path("batches/<int:pk>/", views.BatchView.as_view(), name="batch"),
    path("batches/<int:pk>/approve/", views.ApproveBatchView.as_view(), name="approve"),
]
