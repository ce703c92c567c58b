"""Harvest: a DCAT-AP catalog file (Turtle or JSON-LD) into draft registration applications.

Each ``dcat:Dataset`` becomes one draft registration for the chosen institution, filed by the
acting user through the registry's own operations (``registry.workflow.create`` and
``save_draft``: the same permission check as the forms). The draft holds what could be read as
form data; everything else is left for the registrar to complete before submitting, and the
report says what could not be mapped. It reads the properties :mod:`exchange.dcat` writes
(see its mapping table), so an export harvested back gives the same ledger values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _
from rdflib import Graph, Literal
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS

from accounts.models import Region
from catalog.choices import (
    ACCESS_RIGHT,
    EU_FREQUENCY_CODE,
    DataCategory,
    DataFormat,
    Purpose,
)
from catalog.models import DataAsset, asset_code_validator
from registry import ledger, workflow
from registry.choices import ApplicationKind

from .dcat import ADMS, COUNTRY_CHINA, DPV, HEALTHDCATAP, LEDGER_LANGUAGE, VCARD

FREQUENCY_FROM_EU = {code: str(value) for value, code in EU_FREQUENCY_CODE.items()}
FREQUENCY_FROM_EU["CONT"] = FREQUENCY_FROM_EU["UPDATE_CONT"]
SHARING_FROM_ACCESS = {code: str(value) for value, code in ACCESS_RIGHT.items()}

# What the harvest reads on a dataset; any other property is reported as not mapped.
READ = {
    RDF.type, DCTERMS.identifier, DCTERMS.title, DCTERMS.description, DCTERMS.publisher,
    DCAT.contactPoint, DCTERMS.accrualPeriodicity, DCTERMS.accessRights, DCTERMS.spatial,
    DCTERMS.temporal, DCAT.theme, HEALTHDCATAP.healthCategory, DCAT.keyword, DPV.hasPurpose,
    DPV.hasPersonalData, HEALTHDCATAP.numberOfRecords, HEALTHDCATAP.numberOfUniqueIndividuals,
    DCAT.distribution, DCTERMS.language,
    # Written by the export but not carried into a draft: the catalog sets them itself.
    DCTERMS.issued, DCTERMS.modified, ADMS.identifier, DPV.hasLegalBasis,
}
# Ledger fields a DCAT record does not carry: the registrar completes them in the draft.
NOT_IN_DCAT = [
    "catalog_class", "source_system", "collection_method", "storage_location",
    "stored_in_country", "storage_bytes", "last_data_update", "grade", "security_class",
    "open_attribute", "deidentification",
]


@dataclass
class DatasetResult:
    uri: str
    application_id: int | None = None
    code: str = ""
    problems: list[str] = field(default_factory=list)


@dataclass
class HarvestReport:
    datasets: list[DatasetResult] = field(default_factory=list)
    to_complete: list[str] = field(default_factory=lambda: list(NOT_IN_DCAT))

    @property
    def created(self) -> list[DatasetResult]:
        return [d for d in self.datasets if d.application_id]

    def lines(self) -> list[str]:
        out = [_("%(n)d draft registration applications created.") % {"n": len(self.created)}]
        for result in self.datasets:
            head = f"{result.uri} → #{result.application_id} {result.code}"
            out.append(head)
            out += [f"    - {problem}" for problem in result.problems]
        out.append(_("Fields a DCAT record does not carry, to complete in each draft: %(fields)s")
                   % {"fields": ", ".join(self.to_complete)})
        return out


def parse(data: str | bytes, *, filename: str = "", rdf_format: str | None = None) -> Graph:
    """The file as a graph: JSON-LD or Turtle, by the given format, the file name, or a try."""
    if rdf_format is None:
        lowered = filename.lower()
        if lowered.endswith((".jsonld", ".json")):
            rdf_format = "json-ld"
        elif lowered.endswith((".ttl", ".turtle")):
            rdf_format = "turtle"
        else:
            text = data.decode() if isinstance(data, bytes) else data
            rdf_format = "json-ld" if text.lstrip().startswith(("{", "[")) else "turtle"
    return Graph().parse(data=data, format=rdf_format)


def _code_of(graph: Graph, node) -> str:
    """A concept's code: its skos:notation, else the last segment of its URI."""
    notation = graph.value(node, SKOS.notation)
    if notation is not None:
        return str(notation)
    return str(node).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _text(graph: Graph, node, prop, language: str | None) -> str:
    """The literal in ``language`` (None: untagged, else any), as text."""
    values = [v for v in graph.objects(node, prop) if isinstance(v, Literal)]
    for value in values:
        if value.language == language or (
                language and value.language and value.language.startswith(language)):
            return str(value)
    if language == LEDGER_LANGUAGE:
        for value in values:
            if value.language is None:
                return str(value)
        for value in values:
            if value.language != "en":
                return str(value)
    return ""


def dataset_payload(graph: Graph, node, institution) -> tuple[dict, list[str]]:
    """The dataset as the registry's stored form data, and what could not be mapped."""
    payload = ledger.normalise({})
    problems: list[str] = []

    def choice(prop, choices, field_name: str, subject=node, *, many=False):
        found = []
        for value in graph.objects(subject, prop):
            code = _code_of(graph, value)
            if code in choices.values:
                found.append(code)
            elif (value, SKOS.inScheme, None) in graph or prop != DCAT.theme:
                problems.append(_("%(field)s: “%(value)s” has no equivalent here.")
                                % {"field": field_name, "value": value})
        return sorted(set(found)) if many else (found[0] if found else "")

    code = _text(graph, node, DCTERMS.identifier, None) or _text(
        graph, node, DCTERMS.identifier, LEDGER_LANGUAGE)
    try:
        asset_code_validator(code)
        payload["code"] = code
    except Exception:  # noqa: BLE001 - a ValidationError; the report says why
        problems.append(_("identifier “%(code)s” is not a valid asset code; enter one.")
                        % {"code": code})
    if payload["code"] and DataAsset.objects.filter(code=payload["code"]).exists():
        problems.append(_("an asset with the code %(code)s is already in the catalog.")
                        % {"code": payload["code"]})

    payload["name"] = _text(graph, node, DCTERMS.title, LEDGER_LANGUAGE)
    payload["name_en"] = _text(graph, node, DCTERMS.title, "en")
    description = _text(graph, node, DCTERMS.description, LEDGER_LANGUAGE)
    # The export writes the name when the description is empty (it is mandatory in DCAT-AP).
    payload["description"] = "" if description == payload["name"] else description

    publisher = graph.value(node, DCTERMS.publisher)
    if publisher is not None:
        credit = str(graph.value(publisher, DCTERMS.identifier) or "")
        if credit != institution.credit_code:
            problems.append(_("published by %(name)s (%(code)s); filed for %(institution)s.") % {
                "name": graph.value(publisher, FOAF.name) or publisher, "code": credit or "—",
                "institution": institution.name})

    contact = graph.value(node, DCAT.contactPoint)
    if contact is not None:
        payload["responsible_person"] = _text(graph, contact, VCARD.fn, LEDGER_LANGUAGE)
        email = graph.value(contact, VCARD.hasEmail)
        if email is not None:
            payload["responsible_email"] = str(email).removeprefix("mailto:")
        phone = graph.value(contact, VCARD.hasTelephone)
        if phone is not None:
            payload["responsible_phone"] = str(phone).removeprefix("tel:")

    def translated(prop, table: dict, field_name: str, unmapped) -> None:
        """An EU vocabulary term put into ``field_name`` through ``table``, or a problem."""
        term = graph.value(node, prop)
        if term is None:
            return
        payload[field_name] = table.get(_code_of(graph, term), "")
        if not payload[field_name]:
            problems.append(unmapped % {"value": term})

    translated(DCTERMS.accrualPeriodicity, FREQUENCY_FROM_EU, "update_frequency",
               _("update frequency “%(value)s” has no equivalent here."))
    translated(DCTERMS.accessRights, SHARING_FROM_ACCESS, "sharing_type",
               _("access rights “%(value)s” have no equivalent here."))

    spatial = graph.value(node, DCTERMS.spatial)
    if spatial is not None and spatial != COUNTRY_CHINA:
        region_code = str(graph.value(spatial, DCTERMS.identifier) or "")
        if Region.objects.filter(pk=region_code).exists():
            payload["spatial_coverage"] = region_code
        else:
            problems.append(_("spatial coverage “%(value)s” is not a GB/T 2260 division.")
                            % {"value": spatial})
    period = graph.value(node, DCTERMS.temporal)
    if period is not None:
        for prop, name in ((DCAT.startDate, "temporal_start"), (DCAT.endDate, "temporal_end")):
            value = graph.value(period, prop)
            if value is not None:
                payload[name] = str(value)[:10]

    payload["categories"] = choice(HEALTHDCATAP.healthCategory, DataCategory, "healthCategory",
                                   many=True)
    if not payload["categories"]:
        payload["categories"] = choice(DCAT.theme, DataCategory, "theme", many=True)
    payload["purposes"] = choice(DPV.hasPurpose, Purpose, "purpose", many=True)
    payload["contains_personal_info"] = (
        "on" if (node, DPV.hasPersonalData, None) in graph else "")
    for prop, name in ((HEALTHDCATAP.numberOfRecords, "record_count"),
                       (HEALTHDCATAP.numberOfUniqueIndividuals, "individual_count")):
        value = graph.value(node, prop)
        if value is not None:
            payload[name] = str(value)

    distribution = graph.value(node, DCAT.distribution)
    if distribution is not None:
        form = graph.value(distribution, DCTERMS.format)
        if form is not None:
            payload["data_format"] = choice(DCTERMS.format, DataFormat, "format",
                                            subject=distribution)
        rights = graph.value(distribution, DCTERMS.rights)
        if rights is not None:
            payload["sharing_condition"] = _text(graph, rights, RDFS.label, LEDGER_LANGUAGE)

    for prop in sorted({p for p in graph.predicates(node, None) if p not in READ}):
        problems.append(_("property %(property)s is not mapped.") % {"property": prop})
    return payload, problems


def harvest(graph: Graph, *, institution, actor) -> HarvestReport:
    """One draft registration per dataset in ``graph``, for ``institution``, by ``actor``."""
    report = HarvestReport()
    datasets = sorted(set(graph.subjects(RDF.type, DCAT.Dataset)), key=str)
    with transaction.atomic():
        for node in datasets:
            payload, problems = dataset_payload(graph, node, institution)
            application = workflow.create(ApplicationKind.REGISTER,
                                          institution_id=institution.pk, actor=actor)
            workflow.save_draft(
                application.pk, actor=actor, payload=payload,
                statement=_("Harvested from %(uri)s.") % {"uri": node},
            )
            report.datasets.append(DatasetResult(
                uri=str(node), application_id=application.pk, code=payload["code"],
                problems=problems))
    return report
