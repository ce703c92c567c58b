"""DCAT-AP 3 / HealthDCAT-AP endpoints: the catalog (paged) and one dataset.

Scoping: always ``DataAsset.objects.visible_to(request.user)`` — the anonymous public gets the
open catalog, a signed-in user their scope; a hidden asset answers 404.

Paging (keyset): the catalog lists datasets by ascending id, ``?limit=`` (default
``DCAT_PAGE_SIZE``, at most ``DCAT_MAX_PAGE_SIZE``) per page; ``?after=<id>`` continues after
that id. Each page is a ``hydra:PartialCollectionView`` of the catalog with ``hydra:first``
and ``hydra:next`` (also sent as a ``Link: rel="next"`` header). A page costs a constant number
of queries whatever the catalog's size, and a harvester walks 1,000,000 assets page by page
without the server ever holding more than one page's graph.

Formats: ``?format=ttl|jsonld`` wins, else the Accept header (``text/turtle``,
``application/ld+json``); Turtle by default.

Authentication: the browser's session, or an API token (``Authorization: Token <key>``, as
for the REST API) for a harvester reading its scoped catalog; a wrong token answers 401.

The URIs the export mints for its concept schemes, concepts, regions and publishers resolve
here too, so that a reader can follow them: ``vocab/<scheme>``, ``vocab/<scheme>/<code>``,
``vocab/region/<code>`` and ``agents/<credit code>`` (an institution only where its assets,
or the institution itself, are visible to the reader).
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import Institution, Region
from catalog.models import DataAsset
from rights.models import RightsAllocation

from .dcat import PREFIXES, SCHEMES, Exporter, Page, catalog_base, export_dataset, new_graph

FORMATS = {
    "ttl": ("turtle", "text/turtle; charset=utf-8"),
    "jsonld": ("json-ld", "application/ld+json; charset=utf-8"),
}
MEDIA_TYPES = {
    "text/turtle": "ttl",
    "application/x-turtle": "ttl",
    "application/ld+json": "jsonld",
    "application/json": "jsonld",
}
DEFAULT_FORMAT = "ttl"


class BadRequest(Exception):
    pass


def chosen_format(request) -> str:
    """``?format=`` first, then the Accept header's most preferred type we speak."""
    if "format" in request.GET:
        name = request.GET["format"].strip().lower()
        if name not in FORMATS:
            raise BadRequest(_("Unknown format “%(format)s”: use ttl or jsonld.")
                             % {"format": name})
        return name
    best, best_q = DEFAULT_FORMAT, 0.0
    for position, item in enumerate(request.headers.get("Accept", "").split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        name = MEDIA_TYPES.get(media.lower())
        # Earlier items win ties (a small decrement keeps the order).
        if name and quality - position * 1e-6 > best_q:
            best, best_q = name, quality - position * 1e-6
    return best


def token_or_session(view):
    """Read the request as the token's user when it carries ``Authorization: Token``;
    otherwise as the session's (or the anonymous public)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            found = TokenAuthentication().authenticate(request)
        except AuthenticationFailed as error:
            response = HttpResponse(str(error.detail), status=401,
                                    content_type="text/plain; charset=utf-8")
            response["WWW-Authenticate"] = "Token"
            return response
        if found is not None:
            request.user = found[0]
        response = view(request, *args, **kwargs)
        patch_vary_headers(response, ["Authorization"])
        return response

    return wrapped


def export_queryset(user):
    """The assets ``user`` may see, with everything the mapping reads fetched up front."""
    queryset = (
        DataAsset.objects.visible_to(user)
        .select_related("holder", "catalog_class", "spatial_coverage__province",
                        "spatial_coverage__city")
        .defer("search_document")
    )
    if user.is_authenticated:
        queryset = queryset.prefetch_related(Prefetch(
            "allocations",
            queryset=RightsAllocation.objects.visible_to(user).current().only(
                "id", "asset_id", "legal_basis"),
            to_attr="current_allocations",
        ))
    return queryset


def serialized(graph, name: str) -> HttpResponse:
    rdf_format, content_type = FORMATS[name]
    if name == "jsonld":
        body = graph.serialize(format=rdf_format, context={k: str(v) for k, v in PREFIXES.items()},
                               auto_compact=True)
    else:
        body = graph.serialize(format=rdf_format)
    response = HttpResponse(body, content_type=content_type)
    patch_vary_headers(response, ["Accept", "Cookie"])
    return response


def page_size(request) -> int:
    default = settings.DCAT_PAGE_SIZE
    maximum = settings.DCAT_MAX_PAGE_SIZE
    raw = request.GET.get("limit", "")
    if not raw:
        return min(default, maximum)
    if not raw.isdigit() or int(raw) < 1:
        raise BadRequest(_("The limit must be a positive whole number."))
    return min(int(raw), maximum)


def after_id(request) -> int:
    raw = request.GET.get("after", "")
    if not raw:
        return 0
    if not raw.isdigit():
        raise BadRequest(_("“after” must be an asset id (a whole number)."))
    return int(raw)


def page_url(request, base: str, **params) -> str:
    query = {k: v for k, v in params.items() if v is not None}
    if "format" in request.GET:
        query["format"] = request.GET["format"]
    return base + request.path + (f"?{urlencode(query)}" if query else "")


@require_GET
@token_or_session
def catalog(request):
    try:
        name = chosen_format(request)
        limit = page_size(request)
        after = after_id(request)
    except BadRequest as error:
        return HttpResponseBadRequest(str(error))
    base = catalog_base(request)
    queryset = export_queryset(request.user).filter(pk__gt=after).order_by("pk")[: limit + 1]

    state = {"count": 0, "last": None, "more": False}

    def assets():
        for asset in queryset.iterator(chunk_size=limit + 1):
            if state["count"] == limit:
                state["more"] = True
                return
            state["count"] += 1
            state["last"] = asset.pk
            yield asset

    exporter = Exporter(base, signed_in=request.user.is_authenticated)
    graph = new_graph()
    catalog_node = exporter.add_catalog(graph, assets())
    # hydra:next is known once the rows are read.
    this = page_url(request, base, after=after or None, limit=request.GET.get("limit"))
    first = page_url(request, base, limit=request.GET.get("limit"))
    following = (page_url(request, base, after=state["last"], limit=request.GET.get("limit"))
                 if state["more"] else None)
    exporter.add_page(graph, catalog_node, Page(this=this, first=first, next=following))
    response = serialized(graph, name)
    if following:
        response["Link"] = f'<{following}>; rel="next"'
    return response


@require_GET
@token_or_session
def dataset(request, pk: int):
    try:
        name = chosen_format(request)
    except BadRequest as error:
        return HttpResponseBadRequest(str(error))
    asset = export_queryset(request.user).filter(pk=pk).first()
    if asset is None:
        raise Http404(_("No such asset."))
    graph = export_dataset(asset, base=catalog_base(request),
                           signed_in=request.user.is_authenticated)
    return serialized(graph, name)


def _described(request, build) -> HttpResponse:
    """The graph ``build(exporter, graph)`` adds to, in the requested format."""
    try:
        name = chosen_format(request)
    except BadRequest as error:
        return HttpResponseBadRequest(str(error))
    exporter = Exporter(catalog_base(request), signed_in=request.user.is_authenticated)
    graph = new_graph()
    build(exporter, graph)
    return serialized(graph, name)


@require_GET
def scheme(request, scheme: str):
    if scheme not in SCHEMES:
        raise Http404
    return _described(request, lambda exporter, graph: exporter.add_scheme(graph, scheme))


@require_GET
def concept(request, scheme: str, code: str):
    if scheme not in SCHEMES or code not in SCHEMES[scheme].values:
        raise Http404
    return _described(request, lambda exporter, graph: exporter.concept(graph, scheme, code))


@require_GET
def region(request, code: str):
    found = Region.objects.select_related("province", "city").filter(code=code).first()
    if found is None:
        raise Http404
    return _described(request, lambda exporter, graph: exporter.location(graph, found))


@require_GET
@token_or_session
def agent(request, credit_code: str):
    institution = (
        Institution.objects.visible_to(request.user).filter(credit_code=credit_code).first()
    )
    if institution is None:
        raise Http404
    return _described(request, lambda exporter, graph: exporter.agent(graph, institution))
