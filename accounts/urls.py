from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("institutions/", views.InstitutionListView.as_view(), name="institutions"),
    path("institutions/<int:pk>/members/", views.MembersView.as_view(), name="members"),
    path(
        "institutions/<int:pk>/members/<int:membership_id>/<str:operation>/",
        views.MembershipActionView.as_view(), name="membership_action",
    ),
]
