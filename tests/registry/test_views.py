"""The registry's pages: the step form keeps drafts and shows errors beside fields, the
application page offers each person exactly their steps, notifications reach people."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from catalog.models import DataAsset
from inbox.models import Notification
from registry.choices import ApplicationKind, ApplicationState, Transition
from registry.models import RegistrationApplication

from ..factories import DataAssetFactory
from .conftest import ledger_data

pytestmark = pytest.mark.django_db


def new_registration(client, hospital) -> RegistrationApplication:
    response = client.post(reverse("registry:new"),
                           {"kind": ApplicationKind.REGISTER, "institution": hospital.pk})
    assert response.status_code == 302
    return RegistrationApplication.objects.latest("pk")


def post_step(client, application, step, go="", **extra):
    data = {k: v for k, v in ledger_data().items()}
    data.update(extra)
    data["go"] = go
    return client.post(reverse("registry:edit", args=[application.pk, step]), data)


def test_steps_save_a_draft_and_show_errors_in_chinese(zh_client, registrar, hospital):
    zh_client.force_login(registrar)
    application = new_registration(zh_client, hospital)
    post_step(zh_client, application, "basic", go="ledger", name="")
    application.refresh_from_db()
    assert application.state == ApplicationState.DRAFT
    assert application.payload["code"] == "REG-0001" and application.payload["name"] == ""
    page = zh_client.get(reverse("registry:edit", args=[application.pk, "basic"]))
    assert "字段是必填项" in page.content.decode()  # beside the empty name


def test_a_whole_registration_through_the_pages(client, registrar, steward, hospital,
                                                django_capture_on_commit_callbacks):
    client.force_login(registrar)
    application = new_registration(client, hospital)
    for step in ("basic", "ledger", "classification", "sharing"):
        assert post_step(client, application, step).status_code == 302
    client.post(reverse("registry:edit", args=[application.pk, "elements"]), {
        "elements-TOTAL_FORMS": "2", "elements-INITIAL_FORMS": "0",
        "elements-MIN_NUM_FORMS": "0", "elements-MAX_NUM_FORMS": "1000",
        "elements-0-name": "住院号", "elements-0-data_type": "S",
        "elements-0-standard_identifier": "DE01.00.004.00",
    })
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registry:transition", args=[application.pk]),
                    {"transition": Transition.SUBMIT})
    application.refresh_from_db()
    assert application.state == ApplicationState.SUBMITTED
    assert Notification.objects.filter(user=steward, link__endswith=f"/{application.pk}/")
    assert any(steward.email in message.to for message in mail.outbox)
    page = client.get(reverse("registry:detail", args=[application.pk]))
    assert not page.context["may_review"] and not page.context["may_submit"]

    client.force_login(steward)
    page = client.get(reverse("registry:detail", args=[application.pk]))
    assert page.context["may_review"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registry:transition", args=[application.pk]),
                    {"transition": Transition.APPROVE, "comment": "同意"})
    asset = DataAsset.objects.get(code="REG-0001")
    assert asset.elements.get().standard_identifier == "DE01.00.004.00"
    assert Notification.objects.filter(user=registrar).exists()


def test_refused_steps_show_a_message_and_change_nothing(client, registrar, hospital):
    client.force_login(registrar)
    application = new_registration(client, hospital)
    response = client.post(reverse("registry:transition", args=[application.pk]),
                           {"transition": Transition.APPROVE}, follow=True)
    application.refresh_from_db()
    assert application.state == ApplicationState.DRAFT
    assert "“Approve” is not possible now" in response.content.decode()


def test_invalid_submission_lists_the_fields(client, registrar, hospital):
    client.force_login(registrar)
    application = new_registration(client, hospital)
    post_step(client, application, "basic", name="")
    response = client.post(reverse("registry:transition", args=[application.pk]),
                           {"transition": Transition.SUBMIT}, follow=True)
    assert "Name" in response.content.decode()
    application.refresh_from_db()
    assert application.state == ApplicationState.DRAFT


def test_applications_of_other_institutions_are_404(client, registrar, far_hospital):
    from accounts.choices import Role

    from ..factories import MembershipFactory

    other = MembershipFactory(institution=far_hospital, role=Role.REGISTRAR).user
    client.force_login(other)
    application = new_registration(client, far_hospital)
    client.force_login(registrar)
    assert client.get(reverse("registry:detail", args=[application.pk])).status_code == 404
    assert client.get(reverse("registry:edit", args=[application.pk, "basic"])).status_code \
        == 404


def test_a_change_application_shows_its_difference(client, registrar, hospital):
    asset = DataAssetFactory(holder=hospital, record_count=1000)
    client.force_login(registrar)
    client.post(reverse("registry:new"), {"kind": ApplicationKind.CHANGE, "asset": asset.pk})
    application = RegistrationApplication.objects.get(asset=asset)
    data = dict(application.payload, record_count="2500", go="")
    client.post(reverse("registry:edit", args=[application.pk, "ledger"]), data)
    page = client.get(reverse("registry:detail", args=[application.pk]))
    assert ("Records", "1000", "2500") in page.context["difference"]


def test_asset_page_offers_change_and_deregistration_to_its_registrar(client, registrar,
                                                                      steward, hospital):
    asset = DataAssetFactory(holder=hospital)
    client.force_login(registrar)
    assert client.get(asset.get_absolute_url()).context["can_apply"]
    client.force_login(steward)
    assert not client.get(asset.get_absolute_url()).context["can_apply"]


def test_inbox_counts_and_marks_read(client, registrar):
    Notification.objects.create(user=registrar, subject="A", link="/registry/")
    client.force_login(registrar)
    assert "<span class=\"unread-count\">1</span>" in client.get(reverse("inbox:inbox")) \
        .content.decode()
    notification = Notification.objects.get()
    response = client.post(reverse("inbox:open", args=[notification.pk]))
    assert response.status_code == 302 and response["Location"] == "/registry/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_inbox_refuses_foreign_redirects(client, registrar):
    notification = Notification.objects.create(user=registrar, subject="A",
                                               link="https://evil.example/")
    client.force_login(registrar)
    response = client.post(reverse("inbox:open", args=[notification.pk]))
    assert response["Location"] == reverse("inbox:inbox")


def test_certificate_download_for_an_approved_registration(client, registrar, steward,
                                                           hospital):
    from registry import workflow

    application = workflow.create(ApplicationKind.REGISTER, institution_id=hospital.pk,
                                  actor=registrar)
    workflow.save_draft(application.pk, actor=registrar, payload=ledger_data())
    workflow.take(application.pk, Transition.SUBMIT, actor=registrar)
    client.force_login(registrar)
    url = reverse("registry:certificate", args=[application.pk])
    assert client.get(url).status_code == 404  # not approved yet
    workflow.take(application.pk, Transition.APPROVE, actor=steward)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_certificate_without_a_font_explains_what_to_install(client, registrar, steward,
                                                             hospital, settings):
    from registry import workflow

    settings.CJK_FONT = "/nonexistent/font.ttc"
    application = workflow.create(ApplicationKind.REGISTER, institution_id=hospital.pk,
                                  actor=registrar)
    workflow.save_draft(application.pk, actor=registrar, payload=ledger_data())
    workflow.take(application.pk, Transition.SUBMIT, actor=registrar)
    workflow.take(application.pk, Transition.APPROVE, actor=steward)
    client.force_login(registrar)
    response = client.get(reverse("registry:certificate", args=[application.pk]), follow=True)
    assert "fonts-wqy-microhei" in response.content.decode()
