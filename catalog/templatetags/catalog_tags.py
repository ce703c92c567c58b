"""Template helpers for the catalog pages."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import filesizeformat

register = template.Library()


@register.simple_tag
def toggle_query(params, key: str, value: str, selected: bool) -> str:
    """The query string with ``key=value`` set (or removed when already selected)."""
    query = params.copy()
    query.pop("cursor", None)
    if selected:
        query.pop(key, None)
    else:
        query[key] = value
    return query.urlencode()


@register.simple_tag
def active_filters(params, facets) -> list[dict]:
    """The selected facet values as removable chips."""
    chips = []
    for facet in facets.facets:
        for option in facet.options:
            if option.selected:
                query = params.copy()
                query.pop(facet.param, None)
                query.pop("cursor", None)
                chips.append({"label": facet.label, "value": option.label,
                              "remove_query": query.urlencode()})
    return chips


@register.filter
def bytes_human(value) -> str:
    return "—" if value is None else filesizeformat(value)


@register.filter
def choice_list(obj, field_name: str) -> str:
    """The labels of a ChoiceListField's codes, joined as the active language lists things."""
    return obj._meta.get_field(field_name).display_text(getattr(obj, field_name)) or "—"
