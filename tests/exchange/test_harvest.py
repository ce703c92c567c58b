"""Harvest: a DCAT file into draft registration applications; export → harvest round trip."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from catalog.choices import DataCategory, Purpose, SharingType, UpdateFrequency
from exchange.harvest import NOT_IN_DCAT, harvest, parse
from registry import ledger
from registry.choices import ApplicationKind, ApplicationState
from registry.models import RegistrationApplication

from ..factories import DataAssetFactory, region

pytestmark = pytest.mark.django_db

MAPPED = [
    "code", "name", "name_en", "description", "data_format", "purposes", "record_count",
    "individual_count", "update_frequency", "responsible_person", "responsible_phone",
    "responsible_email", "categories", "sharing_type", "sharing_condition",
    "contains_personal_info", "temporal_start", "temporal_end", "spatial_coverage",
]


@pytest.fixture
def assets(hospital):
    return [
        DataAssetFactory(
            holder=hospital, code="MD-RT-0001", name="传染病报告数据", name_en="Case reports",
            description="法定传染病个案报告", update_frequency=UpdateFrequency.SEMIANNUAL,
            record_count=4321, individual_count=4000, purposes=[Purpose.PUBLIC_HEALTH,
                                                                Purpose.RESEARCH],
            categories=[DataCategory.PUBLIC_HEALTH, DataCategory.HEALTH_STATUS],
            contains_personal_info=True, deidentification="pseudonymised",
            temporal_start=date(2019, 1, 1), temporal_end=date(2023, 6, 30),
            spatial_coverage=region("3301"), responsible_email="li@example.org",
            responsible_phone="0571-12345678",
        ),
        DataAssetFactory(holder=hospital, code="MD-RT-0002", sharing_type=SharingType.NOT_SHARED,
                         sharing_condition="《数据安全法》第二十一条", description=""),
        DataAssetFactory(holder=hospital, code="MD-RT-0003", open=True, record_count=None),
    ]


@pytest.mark.parametrize("fmt", ["ttl", "jsonld"])
def test_round_trip_gives_the_same_ledger_values(client, registrar, hospital, assets, fmt):
    client.force_login(registrar)
    response = client.get(f"/catalog/dcat/?format={fmt}")
    graph = parse(response.content, filename=f"catalog.{fmt}")

    report = harvest(graph, institution=hospital, actor=registrar)

    assert len(report.created) == 3
    for asset in assets:
        application = RegistrationApplication.objects.get(
            pk=next(d.application_id for d in report.datasets if d.code == asset.code))
        assert application.kind == ApplicationKind.REGISTER
        assert application.state == ApplicationState.DRAFT
        assert application.institution == hospital
        assert application.applicant == registrar
        expected = ledger.form_data_of(asset)
        expected["code"] = asset.code
        got = application.payload
        for name in MAPPED:
            want, have = expected[name], got[name]
            if isinstance(want, list):
                want, have = sorted(want), sorted(have)
            assert have == want, (asset.code, name)
    # Every dataset's code is taken (they were exported from this catalog): reported.
    assert all(any("already in the catalog" in p for p in d.problems) for d in report.datasets)
    assert set(report.to_complete) == set(NOT_IN_DCAT)


FOREIGN = """
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
<https://example.eu/ds/1> a dcat:Dataset ;
    dct:identifier "EU-DS-0001" ;
    dct:title "Cancer registry"@en, "肿瘤登记"@zh ;
    dct:description "Registry"@en ;
    dct:accrualPeriodicity <http://publications.europa.eu/resource/authority/frequency/BIWEEKLY> ;
    dct:accessRights <http://publications.europa.eu/resource/authority/access-right/RESTRICTED> ;
    dcat:landingPage <https://example.eu/ds/1.html> .
"""


def test_unmapped_values_are_reported(registrar, hospital):
    report = harvest(parse(FOREIGN), institution=hospital, actor=registrar)
    [result] = report.datasets
    payload = RegistrationApplication.objects.get(pk=result.application_id).payload
    assert payload["code"] == "EU-DS-0001"
    assert payload["name"] == "肿瘤登记" and payload["name_en"] == "Cancer registry"
    assert payload["sharing_type"] == SharingType.CONDITIONAL
    assert payload["update_frequency"] == ""
    problems = " ".join(result.problems)
    assert "BIWEEKLY" in problems
    assert "landingPage" in problems
    assert "\n".join(report.lines())


def test_harvest_needs_the_right_to_apply(steward, far_hospital):
    with pytest.raises(PermissionDenied):
        harvest(parse(FOREIGN), institution=far_hospital, actor=steward)
    assert not RegistrationApplication.objects.exists()


def test_command(tmp_path, registrar, hospital):
    path = tmp_path / "catalog.ttl"
    path.write_text(FOREIGN)
    call_command("harvest_dcat", str(path), institution=hospital.credit_code, user="registrar")
    assert RegistrationApplication.objects.filter(institution=hospital).count() == 1
    with pytest.raises(CommandError):
        call_command("harvest_dcat", str(path), institution="X" * 18, user="registrar")
    bad = tmp_path / "bad.ttl"
    bad.write_text("not turtle at all {")
    with pytest.raises(CommandError):
        call_command("harvest_dcat", str(bad), institution=hospital.credit_code, user="registrar")
