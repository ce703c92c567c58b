from django.urls import path

from . import archive_views, views

app_name = "reports"

urlpatterns = [
    path("", views.report, name="report"),
    path("export/", archive_views.export, name="export"),
    path("archive/", archive_views.archive_list, name="archive"),
    path("archive/compare/", archive_views.compare, name="compare"),
    path("archive/<int:pk>/", archive_views.archived, name="archived"),
    path("archive/<int:pk>/files/", archive_views.add_file, name="add_file"),
    path("files/<int:pk>/progress/", archive_views.file_progress, name="file_progress"),
    path("files/<int:pk>/download/", archive_views.download, name="download"),
]
