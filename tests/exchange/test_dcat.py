"""DCAT-AP 3 / HealthDCAT-AP export: mapping, mandatory properties, official shapes, scoping,
content negotiation, paging and query counts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from catalog.choices import DataCategory, DataFormat, Purpose, UpdateFrequency
from exchange.dcat import DPV, HEALTHDCATAP, HYDRA, VCARD

from ..factories import (
    AllocationFactory,
    DataAssetFactory,
    InstitutionFactory,
    MembershipFactory,
    UserFactory,
    region,
)

pytestmark = pytest.mark.django_db

BASE = "http://testserver"
SHAPES = Path(__file__).resolve().parents[3] / "shared" / "standards" / "dcat-ap-3.0.0-shacl.ttl"
FREQ = "http://publications.europa.eu/resource/authority/frequency/"
ACCESS = "http://publications.europa.eu/resource/authority/access-right/"


def asset_uri(asset) -> URIRef:
    return URIRef(f"{BASE}/catalog/assets/{asset.pk}/")


def fetch(client, url: str, **kwargs) -> Graph:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.content[:500]
    fmt = "json-ld" if response["Content-Type"].startswith("application/ld+json") else "turtle"
    return Graph().parse(data=response.content.decode(), format=fmt)


@pytest.fixture
def world(hospital, far_hospital):
    """Open assets in two provinces, one closed asset, a rich open asset."""
    from accounts.choices import Role

    rich = DataAssetFactory(
        holder=hospital, open=True, code="MD-OPEN-0001", name="医疗机构资源数据",
        name_en="Health facility resources", description="床位、人员与设备",
        update_frequency=UpdateFrequency.MONTHLY, record_count=12345, individual_count=678,
        purposes=[Purpose.MANAGEMENT, Purpose.RESEARCH],
        categories=[DataCategory.HEALTH_RESOURCES, DataCategory.PUBLIC_HEALTH], grade=2,
        temporal_start=date(2020, 1, 1), temporal_end=date(2024, 12, 31),
        spatial_coverage=region("330106"), data_format=DataFormat.STRUCTURED,
        responsible_email="zhang@example.org", registration_number="REG-2025-0001",
    )
    AllocationFactory(asset=rich)
    steward = MembershipFactory(
        user=UserFactory(username="steward33"),
        institution=InstitutionFactory(commission=True, name="浙江省卫健委", region=region("33")),
        role=Role.STEWARD,
    ).user
    return {
        "rich": rich,
        "open44": DataAssetFactory(holder=far_hospital, open=True),
        "closed33": DataAssetFactory(holder=hospital),
        "closed44": DataAssetFactory(holder=far_hospital),
        "steward": steward,
    }


# --- Parsing back, both formats ---------------------------------------------------------------


@pytest.mark.parametrize("query, accept", [
    ("?format=ttl", ""), ("?format=jsonld", ""), ("", "text/turtle"),
    ("", "application/ld+json"), ("", ""),
])
def test_catalog_parses_back_in_both_formats(client, world, query, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    graph = fetch(client, "/catalog/dcat/" + query, **headers)
    catalogs = list(graph.subjects(RDF.type, DCAT.Catalog))
    assert catalogs == [URIRef(f"{BASE}/catalog/dcat/")]
    assert set(graph.objects(catalogs[0], DCAT.dataset)) == {
        asset_uri(world["rich"]), asset_uri(world["open44"])}


def test_content_types_and_default(client, world):
    assert client.get("/catalog/dcat/")["Content-Type"].startswith("text/turtle")
    assert client.get("/catalog/dcat/", HTTP_ACCEPT="application/ld+json")[
        "Content-Type"].startswith("application/ld+json")
    assert client.get("/catalog/dcat/", HTTP_ACCEPT="text/html")["Content-Type"].startswith(
        "text/turtle")
    # The query parameter wins over the header; q-values are honoured.
    assert client.get("/catalog/dcat/?format=ttl", HTTP_ACCEPT="application/ld+json")[
        "Content-Type"].startswith("text/turtle")
    assert client.get(
        "/catalog/dcat/", HTTP_ACCEPT="text/turtle;q=0.5, application/ld+json;q=0.9"
    )["Content-Type"].startswith("application/ld+json")
    response = client.get("/catalog/dcat/?format=jsonld")
    json.loads(response.content)
    assert "Accept" in response["Vary"]


def test_bad_parameters_are_400(client, world):
    assert client.get("/catalog/dcat/?format=xml").status_code == 400
    assert client.get("/catalog/dcat/?limit=-1").status_code == 400
    assert client.get("/catalog/dcat/?after=x").status_code == 400
    assert client.get(f"/catalog/dcat/assets/{world['rich'].pk}/?format=rdf").status_code == 400
    assert client.post("/catalog/dcat/").status_code == 405


# --- The mapping ------------------------------------------------------------------------------


def test_dataset_carries_the_ledger_values(client, world):
    asset = world["rich"]
    graph = fetch(client, f"/catalog/dcat/assets/{asset.pk}/")
    node = asset_uri(asset)
    assert (node, RDF.type, DCAT.Dataset) in graph
    assert graph.value(node, DCTERMS.identifier) == Literal("MD-OPEN-0001")
    assert set(graph.objects(node, DCTERMS.title)) == {
        Literal("医疗机构资源数据", lang="zh"), Literal("Health facility resources", lang="en")}
    assert graph.value(node, DCTERMS.description) == Literal("床位、人员与设备", lang="zh")
    assert graph.value(node, DCTERMS.accrualPeriodicity) == URIRef(FREQ + "MONTHLY")
    assert graph.value(node, DCTERMS.accessRights) == URIRef(ACCESS + "PUBLIC")
    assert graph.value(node, HEALTHDCATAP.numberOfRecords) == Literal(
        12345, datatype=XSD.nonNegativeInteger)
    assert graph.value(node, HEALTHDCATAP.numberOfUniqueIndividuals).toPython() == 678
    assert graph.value(node, DPV.hasPersonalData) is None  # contains_personal_info is False

    publisher = graph.value(node, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in graph
    assert graph.value(publisher, FOAF.name) == Literal(asset.holder.name, lang="zh")
    assert graph.value(publisher, DCTERMS.identifier) == Literal(asset.holder.credit_code)

    spatial = graph.value(node, DCTERMS.spatial)
    assert graph.value(spatial, DCTERMS.identifier) == Literal("330106")
    assert "西湖区" in str(graph.value(spatial, SKOS.prefLabel))
    period = graph.value(node, DCTERMS.temporal)
    assert graph.value(period, DCAT.startDate) == Literal(date(2020, 1, 1), datatype=XSD.date)
    assert graph.value(period, DCAT.endDate) == Literal(date(2024, 12, 31), datatype=XSD.date)

    categories = {str(graph.value(c, SKOS.notation))
                  for c in graph.objects(node, HEALTHDCATAP.healthCategory)}
    assert categories == {"health_resources", "public_health"}
    assert URIRef("http://publications.europa.eu/resource/authority/data-theme/HEAL") in set(
        graph.objects(node, DCAT.theme))
    purposes = {str(graph.value(p, SKOS.notation)) for p in graph.objects(node, DPV.hasPurpose)}
    assert purposes == {"management", "research"}
    assert Literal("卫生资源数据", lang="zh") in set(graph.objects(node, DCAT.keyword)) or any(
        k.language == "zh" for k in graph.objects(node, DCAT.keyword))
    assert graph.value(node, DCTERMS.modified).datatype == XSD.dateTime

    distribution = graph.value(node, DCAT.distribution)
    assert graph.value(distribution, DCAT.accessURL) == node
    assert graph.value(graph.value(distribution, DCTERMS.format), SKOS.notation) == Literal(
        "structured")


def test_personal_data_and_frequency_mapping(client, world):
    asset = DataAssetFactory(
        holder=world["rich"].holder, open=True, contains_personal_info=True,
        deidentification="anonymised", update_frequency=UpdateFrequency.SEMIANNUAL,
        spatial_coverage=None,
    )
    graph = fetch(client, f"/catalog/dcat/assets/{asset.pk}/")
    node = asset_uri(asset)
    assert graph.value(node, DCTERMS.accrualPeriodicity) == URIRef(FREQ + "ANNUAL_2")
    assert graph.value(node, DPV.hasPersonalData) is not None
    assert graph.value(node, DCTERMS.spatial) == URIRef(
        "http://publications.europa.eu/resource/authority/country/CHN")


def test_contact_details_and_legal_basis_only_for_signed_in_users(client, world):
    asset = world["rich"]
    url = f"/catalog/dcat/assets/{asset.pk}/"
    contact_of = lambda g: g.value(asset_uri(asset), DCAT.contactPoint)  # noqa: E731

    anonymous = fetch(client, url)
    contact = contact_of(anonymous)
    assert anonymous.value(contact, VCARD.fn) == Literal("张三", lang="zh")
    assert anonymous.value(contact, VCARD.hasEmail) is None
    assert anonymous.value(contact, VCARD.hasTelephone) is None
    assert anonymous.value(asset_uri(asset), DPV.hasLegalBasis) is None
    assert b"zhang@example.org" not in client.get("/catalog/dcat/").content

    client.force_login(world["steward"])
    signed_in = fetch(client, url)
    contact = contact_of(signed_in)
    assert signed_in.value(contact, VCARD.hasEmail) == URIRef("mailto:zhang@example.org")
    assert signed_in.value(contact, VCARD.hasTelephone) == URIRef("tel:0571-88888888")
    basis = signed_in.value(asset_uri(asset), DPV.hasLegalBasis)
    assert "数据二十条" in str(signed_in.value(basis, RDFS.label))


def test_conditional_asset_maps_to_restricted_with_its_condition(client, world):
    client.force_login(world["steward"])
    asset = world["closed33"]
    graph = fetch(client, f"/catalog/dcat/assets/{asset.pk}/")
    node = asset_uri(asset)
    assert graph.value(node, DCTERMS.accessRights) == URIRef(ACCESS + "RESTRICTED")
    rights = graph.value(graph.value(node, DCAT.distribution), DCTERMS.rights)
    assert graph.value(rights, RDFS.label) == Literal("经审批后共享", lang="zh")


# --- DCAT-AP 3 mandatory properties, checked directly and against the official shapes ---------


def mandatory_problems(graph: Graph) -> list[str]:
    problems = []
    required = {
        DCAT.Catalog: [DCTERMS.title, DCTERMS.description, DCTERMS.publisher],
        DCAT.Dataset: [DCTERMS.title, DCTERMS.description],
        DCAT.Distribution: [DCAT.accessURL],
        FOAF.Agent: [FOAF.name],
        SKOS.Concept: [SKOS.prefLabel],
        SKOS.ConceptScheme: [DCTERMS.title],
    }
    for cls, properties in required.items():
        for node in graph.subjects(RDF.type, cls):
            problems += [f"{node} lacks {p}" for p in properties
                         if graph.value(node, p) is None]
    return problems


def signed_in_catalog(client, world) -> Graph:
    client.force_login(world["steward"])
    DataAssetFactory(holder=world["rich"].holder, contains_personal_info=True,
                     deidentification="pseudonymised", temporal_start=date(2021, 1, 1))
    return fetch(client, "/catalog/dcat/")


def test_export_has_the_mandatory_properties(client, world):
    graph = signed_in_catalog(client, world)
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == 4  # 2 open + 2 in Zhejiang
    assert set(graph.subjects(RDF.type, DCAT.Distribution))
    assert mandatory_problems(graph) == []


@pytest.mark.skipif(not SHAPES.exists(),
                    reason=f"DCAT-AP 3 SHACL shapes not found at {SHAPES} (the shared standards "
                           "folder is not part of the repository)")
@pytest.mark.parametrize("signed_in", [False, True])
def test_export_conforms_to_the_official_shapes(client, world, signed_in):
    pyshacl = pytest.importorskip("pyshacl")
    if signed_in:
        graph = signed_in_catalog(client, world)
    else:
        graph = fetch(client, "/catalog/dcat/?format=jsonld")
    conforms, _, text = pyshacl.validate(
        graph, shacl_graph=Graph().parse(SHAPES, format="turtle"), inference="none",
    )
    assert conforms, text


# --- Scoping ----------------------------------------------------------------------------------


def test_anonymous_sees_the_open_catalog_only(client, world):
    graph = fetch(client, "/catalog/dcat/")
    assert set(graph.subjects(RDF.type, DCAT.Dataset)) == {
        asset_uri(world["rich"]), asset_uri(world["open44"])}
    assert client.get(f"/catalog/dcat/assets/{world['closed33'].pk}/").status_code == 404


def test_steward_sees_their_jurisdiction(client, world):
    client.force_login(world["steward"])
    graph = fetch(client, "/catalog/dcat/")
    assert set(graph.subjects(RDF.type, DCAT.Dataset)) == {
        asset_uri(world[k]) for k in ("rich", "open44", "closed33")}
    assert client.get(f"/catalog/dcat/assets/{world['closed33'].pk}/").status_code == 200
    assert client.get(f"/catalog/dcat/assets/{world['closed44'].pk}/").status_code == 404
    assert client.get("/catalog/dcat/assets/999999999/").status_code == 404


# --- Paging and query counts ------------------------------------------------------------------


def test_paging_walks_every_dataset_once(client, world):
    seen, url, pages = [], "/catalog/dcat/?limit=1", 0
    while url:
        response = client.get(url)
        graph = Graph().parse(data=response.content.decode(), format="turtle")
        seen += list(graph.subjects(RDF.type, DCAT.Dataset))
        view = graph.value(URIRef(f"{BASE}/catalog/dcat/"), HYDRA.view)
        assert (view, RDF.type, HYDRA.PartialCollectionView) in graph
        following = graph.value(view, HYDRA.next)
        if following:
            assert response["Link"] == f'<{following}>; rel="next"'
        url = str(following).removeprefix(BASE) if following else None
        pages += 1
    assert pages == 2
    assert sorted(seen) == sorted([asset_uri(world["rich"]), asset_uri(world["open44"])])


@pytest.mark.parametrize("signed_in", [False, True])
def test_query_count_does_not_grow_with_the_assets(client, world, signed_in):
    if signed_in:
        client.force_login(world["steward"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/catalog/dcat/").status_code == 200
        return len(captured)

    before = queries()
    for n in range(6):
        asset = DataAssetFactory(
            holder=InstitutionFactory(region=region("330106")), open=True,
            spatial_coverage=region("330106"), registration_number=f"REG-X-{n}",
        )
        AllocationFactory(asset=asset)
    assert queries() == before
