"""The ledger as DCAT-AP 3 / HealthDCAT-AP: an rdflib Graph of a catalog page or one dataset.

Mapping (ledger field → property; vocabularies per ../shared/DOMAIN.md):

    code                    dct:identifier
    name / name_en          dct:title @zh / @en
    description             dct:description @zh (the name when empty: it is mandatory)
    registration_number     adms:identifier [adms:Identifier; skos:notation]
    holder                  dct:publisher  foaf:Agent, foaf:Organization; foaf:name;
                            dct:identifier = unified social credit code
    responsible_person …    dcat:contactPoint vcard:Kind; vcard:fn; email/phone only when
                            the page would show them (a signed-in user)
    update_frequency        dct:accrualPeriodicity  EU frequency authority URI
    sharing_type            dct:accessRights  EU access-right URI (PUBLIC/RESTRICTED/NON_PUBLIC)
    sharing_condition       dct:rights of the distribution (a dct:RightsStatement)
    spatial_coverage        dct:spatial  dct:Location; dct:identifier = GB/T 2260 code;
                            empty (nationwide) → EU country authority CHN
    temporal_start / _end   dct:temporal  dct:PeriodOfTime; dcat:startDate / dcat:endDate
    categories              dcat:theme and healthdcatap:healthCategory (our GB/T 39725
                            concept scheme); dcat:theme also EU data theme HEAL
    catalog_class, categories  dcat:keyword (names, @zh / @en)
    registered_at           dct:issued
    updated_at              dct:modified
    record_count            healthdcatap:numberOfRecords
    individual_count        healthdcatap:numberOfUniqueIndividuals
    contains_personal_info  dpv:hasPersonalData → the asset's data categories (when true)
    purposes                dpv:hasPurpose (our purpose concept scheme, typed dpv:Purpose)
    rights allocations' legal_basis  dpv:hasLegalBasis [dpv:LegalBasis; rdfs:label]
                            (signed-in users only, as on the page)
    data_format             dcat:distribution → dcat:Distribution; dct:format;
                            dcat:accessURL = the asset's page in the catalog

Every object a DCAT-AP shape constrains by class carries its rdf:type, so the graph passes the
official shapes without inference. Concept URIs of our own schemes live under
``{base}/catalog/dcat/vocab/<scheme>/<code>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from catalog.choices import (
    ACCESS_RIGHT,
    DataCategory,
    DataFormat,
    Purpose,
    SharingType,
    UpdateFrequency,
)

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
DPV = Namespace("https://w3id.org/dpv#")
HEALTHDCATAP = Namespace("http://healthdataportal.eu/ns/health#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
ACCESS_RIGHT_PREFIX = "http://publications.europa.eu/resource/authority/access-right/"
DATA_THEME_HEALTH = URIRef("http://publications.europa.eu/resource/authority/data-theme/HEAL")
COUNTRY_CHINA = URIRef("http://publications.europa.eu/resource/authority/country/CHN")
LANGUAGE_CHINESE = URIRef("http://publications.europa.eu/resource/authority/language/ZHO")

# The language tag of the ledger's own text (names, descriptions: written in Chinese).
LEDGER_LANGUAGE = "zh"
# (Django language, RDF tag) for labels we translate ourselves.
LABEL_LANGUAGES = (("zh-hans", "zh"), ("en", "en"))

# Our concept schemes (path segment under vocab/ → choices).
SCHEMES = {"category": DataCategory, "purpose": Purpose, "format": DataFormat}
# The classes a scheme's concepts also belong to, as the properties that use them expect.
SCHEME_TYPES = {"purpose": DPV.Purpose, "format": DCTERMS.MediaTypeOrExtent}
SCHEME_TITLES = {
    "category": _("GB/T 39725-2020 health data categories"),
    "purpose": _("Purposes of health data"),
    "format": _("Forms of health data"),
}

CATALOG_TITLE = _("Health data asset catalog")
CATALOG_DESCRIPTION = _(
    "Health data resources registered by medical and health institutions: the ledger's "
    "metadata (never the data itself), with source, purpose, volume, update frequency, "
    "holder and sensitivity."
)
DISTRIBUTION_DESCRIPTION = _(
    "Metadata only: access to the data is applied for on the asset's page in the catalog."
)
HEALTH_THEME_LABEL = _("Health")
CHINA_LABEL = _("China")

# Prefixes bound in every exported graph (Turtle and JSON-LD contexts read better).
PREFIXES = {
    "dcat": DCAT, "dct": DCTERMS, "foaf": FOAF, "vcard": VCARD, "adms": ADMS, "dpv": DPV,
    "healthdcatap": HEALTHDCATAP, "skos": SKOS, "hydra": HYDRA, "xsd": XSD,
}


def new_graph() -> Graph:
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    return graph


def labels(text) -> list[Literal]:
    """A translatable text as one literal per language we speak."""
    found = []
    for language, tag in LABEL_LANGUAGES:
        with translation.override(language):
            found.append(Literal(str(text), lang=tag))
    return found


def catalog_base(request=None) -> str:
    """The scheme and host every URI starts with: ``DCAT_BASE_URL`` when set (so that URIs
    stay the same behind any proxy), else the request's."""
    configured = settings.DCAT_BASE_URL
    if configured:
        return configured.rstrip("/")
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return "http://localhost"


@dataclass(frozen=True)
class Exporter:
    """Builds the triples; ``base`` is the URI prefix, ``signed_in`` whether the reader may
    see what the catalog page shows only to signed-in users (contact details, legal bases)."""

    base: str
    signed_in: bool = False

    # --- URIs -----------------------------------------------------------------------------

    def asset_uri(self, asset_id: int) -> URIRef:
        return URIRef(self.base + reverse("catalog:asset_detail", args=[asset_id]))

    def catalog_uri(self) -> URIRef:
        return URIRef(self.base + reverse("exchange:catalog"))

    def concept_uri(self, scheme: str, code: str) -> URIRef:
        return URIRef(f"{self.catalog_uri()}vocab/{scheme}/{code}")

    def scheme_uri(self, scheme: str) -> URIRef:
        return URIRef(f"{self.catalog_uri()}vocab/{scheme}")

    def agent_uri(self, credit_code: str) -> URIRef:
        return URIRef(f"{self.catalog_uri()}agents/{credit_code}")

    def region_uri(self, code: str) -> URIRef:
        return URIRef(f"{self.catalog_uri()}vocab/region/{code}")

    # --- Nodes shared by many datasets (idempotent: a graph is a set) ---------------------

    def scheme(self, graph: Graph, scheme: str) -> URIRef:
        node = self.scheme_uri(scheme)
        graph.add((node, RDF.type, SKOS.ConceptScheme))
        for literal in labels(SCHEME_TITLES[scheme]):
            graph.add((node, DCTERMS.title, literal))
        return node

    def concept(self, graph: Graph, scheme: str, code: str) -> URIRef:
        node = self.concept_uri(scheme, code)
        graph.add((node, RDF.type, SKOS.Concept))
        graph.add((node, SKOS.notation, Literal(code)))
        graph.add((node, SKOS.inScheme, self.scheme(graph, scheme)))
        if scheme in SCHEME_TYPES:
            graph.add((node, RDF.type, SCHEME_TYPES[scheme]))
        for literal in labels(SCHEMES[scheme](code).label):
            graph.add((node, SKOS.prefLabel, literal))
        return node

    def chinese(self, graph: Graph) -> URIRef:
        graph.add((LANGUAGE_CHINESE, RDF.type, DCTERMS.LinguisticSystem))
        return LANGUAGE_CHINESE

    def agent(self, graph: Graph, institution) -> URIRef:
        node = self.agent_uri(institution.credit_code)
        graph.add((node, RDF.type, FOAF.Agent))
        graph.add((node, RDF.type, FOAF.Organization))
        graph.add((node, FOAF.name, Literal(institution.name, lang=LEDGER_LANGUAGE)))
        graph.add((node, DCTERMS.identifier, Literal(institution.credit_code)))
        return node

    def location(self, graph: Graph, region) -> URIRef:
        if region is None:
            graph.add((COUNTRY_CHINA, RDF.type, DCTERMS.Location))
            for literal in labels(CHINA_LABEL):
                graph.add((COUNTRY_CHINA, SKOS.prefLabel, literal))
            return COUNTRY_CHINA
        node = self.region_uri(region.code)
        graph.add((node, RDF.type, DCTERMS.Location))
        graph.add((node, DCTERMS.identifier, Literal(region.code)))
        graph.add((node, SKOS.prefLabel, Literal(region.full_name, lang=LEDGER_LANGUAGE)))
        return node

    def add_scheme(self, graph: Graph, scheme: str) -> URIRef:
        """A concept scheme with every one of its concepts (what its URI answers)."""
        node = self.scheme(graph, scheme)
        for code in SCHEMES[scheme].values:
            graph.add((node, SKOS.hasTopConcept, self.concept(graph, scheme, code)))
        return node

    # --- A dataset ------------------------------------------------------------------------

    def add_dataset(self, graph: Graph, asset) -> URIRef:
        node = self.asset_uri(asset.pk)
        add = graph.add
        add((node, RDF.type, DCAT.Dataset))
        add((node, DCTERMS.identifier, Literal(asset.code)))
        add((node, DCTERMS.language, self.chinese(graph)))
        add((node, DCTERMS.title, Literal(asset.name, lang=LEDGER_LANGUAGE)))
        if asset.name_en:
            add((node, DCTERMS.title, Literal(asset.name_en, lang="en")))
        add((node, DCTERMS.description,
             Literal(asset.description or asset.name, lang=LEDGER_LANGUAGE)))
        if asset.registration_number:
            identifier = BNode()
            add((node, ADMS.identifier, identifier))
            add((identifier, RDF.type, ADMS.Identifier))
            add((identifier, SKOS.notation, Literal(asset.registration_number)))

        add((node, DCTERMS.publisher, self.agent(graph, asset.holder)))
        self.add_contact_point(graph, node, asset)

        frequency = URIRef(UpdateFrequency(asset.update_frequency).eu_uri)
        add((frequency, RDF.type, DCTERMS.Frequency))
        add((node, DCTERMS.accrualPeriodicity, frequency))
        access = URIRef(ACCESS_RIGHT_PREFIX + ACCESS_RIGHT[SharingType(asset.sharing_type)])
        add((access, RDF.type, DCTERMS.RightsStatement))
        add((node, DCTERMS.accessRights, access))

        add((node, DCTERMS.spatial, self.location(graph, asset.spatial_coverage)))
        if asset.temporal_start or asset.temporal_end:
            period = BNode()
            add((node, DCTERMS.temporal, period))
            add((period, RDF.type, DCTERMS.PeriodOfTime))
            if asset.temporal_start:
                add((period, DCAT.startDate, Literal(asset.temporal_start, datatype=XSD.date)))
            if asset.temporal_end:
                add((period, DCAT.endDate, Literal(asset.temporal_end, datatype=XSD.date)))

        graph.add((DATA_THEME_HEALTH, RDF.type, SKOS.Concept))
        for literal in labels(HEALTH_THEME_LABEL):
            graph.add((DATA_THEME_HEALTH, SKOS.prefLabel, literal))
        add((node, DCAT.theme, DATA_THEME_HEALTH))
        for code in asset.categories:
            category = self.concept(graph, "category", code)
            add((node, DCAT.theme, category))
            add((node, HEALTHDCATAP.healthCategory, category))
            if asset.contains_personal_info:
                add((node, DPV.hasPersonalData, category))
            for literal in labels(DataCategory(code).label):
                add((node, DCAT.keyword, literal))
        if asset.catalog_class_id:
            add((node, DCAT.keyword,
                 Literal(asset.catalog_class.name, lang=LEDGER_LANGUAGE)))
            if asset.catalog_class.name_en:
                add((node, DCAT.keyword, Literal(asset.catalog_class.name_en, lang="en")))
        for code in asset.purposes:
            add((node, DPV.hasPurpose, self.concept(graph, "purpose", code)))
        if self.signed_in:
            for basis in sorted({a.legal_basis for a in getattr(asset, "current_allocations", [])
                                 if a.legal_basis}):
                legal = BNode()
                add((node, DPV.hasLegalBasis, legal))
                add((legal, RDF.type, DPV.LegalBasis))
                add((legal, RDFS.label, Literal(basis, lang=LEDGER_LANGUAGE)))

        if asset.registered_at:
            add((node, DCTERMS.issued, Literal(asset.registered_at, datatype=XSD.dateTime)))
        add((node, DCTERMS.modified, Literal(asset.updated_at, datatype=XSD.dateTime)))
        if asset.record_count is not None:
            add((node, HEALTHDCATAP.numberOfRecords,
                 Literal(asset.record_count, datatype=XSD.nonNegativeInteger)))
        if asset.individual_count is not None:
            add((node, HEALTHDCATAP.numberOfUniqueIndividuals,
                 Literal(asset.individual_count, datatype=XSD.nonNegativeInteger)))
        self.add_distribution(graph, node, asset)
        return node

    def add_contact_point(self, graph: Graph, node: URIRef, asset) -> None:
        contact = URIRef(f"{node}#contact")
        graph.add((node, DCAT.contactPoint, contact))
        graph.add((contact, RDF.type, VCARD.Kind))
        graph.add((contact, RDF.type, VCARD.Individual))
        graph.add((contact, VCARD.fn, Literal(asset.responsible_person, lang=LEDGER_LANGUAGE)))
        # The catalog page shows the phone and email to signed-in users only.
        if self.signed_in:
            if asset.responsible_email:
                graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{asset.responsible_email}")))
            if asset.responsible_phone:
                # RFC 3966 keeps "-", "(" and ")" as visual separators; a space becomes "-".
                phone = asset.responsible_phone.strip().replace(" ", "-")
                graph.add((contact, VCARD.hasTelephone, URIRef(f"tel:{phone}")))

    def add_distribution(self, graph: Graph, node: URIRef, asset) -> None:
        distribution = URIRef(f"{node}#distribution")
        add = graph.add
        add((node, DCAT.distribution, distribution))
        add((distribution, RDF.type, DCAT.Distribution))
        # Metadata only: the data itself is reached through the catalog's application process,
        # which starts on the asset's page (the dataset's URI). Typed, as the shapes check the
        # class of dcat:accessURL without inference.
        add((distribution, DCAT.accessURL, node))
        add((node, RDF.type, RDFS.Resource))
        add((distribution, DCTERMS.format, self.concept(graph, "format", asset.data_format)))
        for literal in labels(DataFormat(asset.data_format).label):
            add((distribution, DCTERMS.title, literal))
        for literal in labels(DISTRIBUTION_DESCRIPTION):
            add((distribution, DCTERMS.description, literal))
        if asset.sharing_condition:
            rights = BNode()
            add((distribution, DCTERMS.rights, rights))
            add((rights, RDF.type, DCTERMS.RightsStatement))
            add((rights, RDFS.label, Literal(asset.sharing_condition, lang=LEDGER_LANGUAGE)))

    # --- The catalog ----------------------------------------------------------------------

    def add_catalog(self, graph: Graph, assets: Iterable, page: Page | None = None) -> URIRef:
        catalog = self.catalog_uri()
        graph.add((catalog, RDF.type, DCAT.Catalog))
        for literal in labels(CATALOG_TITLE):
            graph.add((catalog, DCTERMS.title, literal))
        for literal in labels(CATALOG_DESCRIPTION):
            graph.add((catalog, DCTERMS.description, literal))
        publisher = URIRef(f"{catalog}#publisher")
        graph.add((publisher, RDF.type, FOAF.Agent))
        graph.add((publisher, RDF.type, FOAF.Organization))
        graph.add((publisher, FOAF.name, Literal(
            settings.DCAT_PUBLISHER_NAME, lang=LEDGER_LANGUAGE)))
        graph.add((catalog, DCTERMS.publisher, publisher))
        graph.add((catalog, DCTERMS.language, self.chinese(graph)))
        graph.add((catalog, DCAT.themeTaxonomy, self.scheme(graph, "category")))
        for asset in assets:
            graph.add((catalog, DCAT.dataset, self.add_dataset(graph, asset)))
        if page is not None:
            self.add_page(graph, catalog, page)
        return catalog

    def add_page(self, graph: Graph, catalog: URIRef, page: Page) -> None:
        """Hydra paging: the page is a hydra:PartialCollectionView of the catalog."""
        view = URIRef(page.this)
        graph.add((catalog, HYDRA.view, view))
        graph.add((view, RDF.type, HYDRA.PartialCollectionView))
        graph.add((view, HYDRA.first, URIRef(page.first)))
        if page.next:
            graph.add((view, HYDRA.next, URIRef(page.next)))


@dataclass(frozen=True)
class Page:
    this: str
    first: str
    next: str | None = None


def export_catalog(assets: Iterable, *, base: str, signed_in: bool = False,
                   page: Page | None = None) -> Graph:
    graph = new_graph()
    Exporter(base, signed_in).add_catalog(graph, assets, page)
    return graph


def export_dataset(asset, *, base: str, signed_in: bool = False) -> Graph:
    graph = new_graph()
    Exporter(base, signed_in).add_dataset(graph, asset)
    return graph
