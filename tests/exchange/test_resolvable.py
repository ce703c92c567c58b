"""The DCAT endpoints read with an API token, and the URIs the export mints resolve."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS
from rest_framework.authtoken.models import Token

from catalog.choices import DataCategory, Purpose

from .test_dcat import BASE, asset_uri, fetch, world  # noqa: F401  (the fixture, reused)

pytestmark = pytest.mark.django_db


def token_header(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}


def test_a_token_reads_its_users_scoped_catalog(client, world):  # noqa: F811
    headers = token_header(world["steward"])
    graph = fetch(client, "/catalog/dcat/", **headers)
    assert set(graph.subjects(RDF.type, DCAT.Dataset)) == {
        asset_uri(world[k]) for k in ("rich", "open44", "closed33")}
    closed = f"/catalog/dcat/assets/{world['closed33'].pk}/"
    assert client.get(closed, **headers).status_code == 200
    assert client.get(closed).status_code == 404  # the same request without the token
    far = f"/catalog/dcat/assets/{world['closed44'].pk}/"
    assert client.get(far, **headers).status_code == 404
    assert "Authorization" in client.get("/catalog/dcat/", **headers)["Vary"]


@pytest.mark.parametrize("value", ["Token not-a-key", "Token a b"])
def test_a_wrong_token_is_refused_not_read_as_the_public(client, world, value):  # noqa: F811
    response = client.get("/catalog/dcat/", HTTP_AUTHORIZATION=value)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_every_minted_uri_resolves_to_its_description(client, world):  # noqa: F811
    catalog = fetch(client, "/catalog/dcat/")
    minted = {
        node for node in set(catalog.subjects()) | set(catalog.objects())
        if isinstance(node, URIRef) and str(node).startswith(f"{BASE}/catalog/dcat/")
        and "#" not in str(node) and "?" not in str(node) and str(node) != f"{BASE}/catalog/dcat/"
    }
    kinds = {str(node).removeprefix(f"{BASE}/catalog/dcat/").split("/")[0] for node in minted}
    assert {"vocab", "agents"} <= kinds
    for node in minted:
        described = fetch(client, str(node).removeprefix(BASE))
        assert set(described.predicate_objects(node)), node
        # What the catalog says of the node, the node's own page says too.
        for predicate, value in catalog.predicate_objects(node):
            if predicate != SKOS.hasTopConcept:
                assert (node, predicate, value) in described, (node, predicate, value)


def test_a_scheme_lists_every_concept(client, world):  # noqa: F811
    scheme = URIRef(f"{BASE}/catalog/dcat/vocab/category")
    graph = fetch(client, "/catalog/dcat/vocab/category?format=jsonld")
    assert (scheme, RDF.type, SKOS.ConceptScheme) in graph
    concepts = {str(c).rsplit("/", 1)[1] for c in graph.objects(scheme, SKOS.hasTopConcept)}
    assert concepts == set(DataCategory.values)
    purpose = Purpose.RESEARCH
    graph = fetch(client, f"/catalog/dcat/vocab/purpose/{purpose}")
    node = URIRef(f"{BASE}/catalog/dcat/vocab/purpose/{purpose}")
    assert (node, SKOS.notation, Literal(purpose)) in graph
    assert {label.language for label in graph.objects(node, SKOS.prefLabel)} == {"zh", "en"}


def test_region_uris_resolve(client, world):  # noqa: F811
    graph = fetch(client, "/catalog/dcat/vocab/region/330106")
    node = URIRef(f"{BASE}/catalog/dcat/vocab/region/330106")
    assert (node, RDF.type, DCTERMS.Location) in graph
    assert (node, DCTERMS.identifier, Literal("330106")) in graph


def test_an_agent_resolves_only_where_it_is_visible(client, world):  # noqa: F811
    rich_holder = world["rich"].holder
    graph = fetch(client, f"/catalog/dcat/agents/{rich_holder.credit_code}")
    node = URIRef(f"{BASE}/catalog/dcat/agents/{rich_holder.credit_code}")
    assert (node, FOAF.name, Literal(rich_holder.name, lang="zh")) in graph
    # The steward's commission holds no open asset: hidden from the public, not from them.
    commission = world["steward"].memberships.get().institution
    url = f"/catalog/dcat/agents/{commission.credit_code}"
    assert client.get(url).status_code == 404
    assert client.get(url, **token_header(world["steward"])).status_code == 200


@pytest.mark.parametrize("url", [
    "/catalog/dcat/vocab/nonsense", "/catalog/dcat/vocab/category/NOPE",
    "/catalog/dcat/vocab/region/999999", "/catalog/dcat/agents/000000000000000000",
])
def test_unknown_terms_are_404(client, world, url):  # noqa: F811
    assert client.get(url).status_code == 404


def test_bad_format_on_a_term_is_400(client, world):  # noqa: F811
    response = client.get("/catalog/dcat/vocab/category?format=xml")
    assert response.status_code == 400

