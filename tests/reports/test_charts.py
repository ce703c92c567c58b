"""The report's charts: the page loads Chart.js (installed from npm, served by the app) and its
own script, and carries the figures they draw as JSON that matches the report."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

pytestmark = pytest.mark.django_db

URL = reverse("reports:report")
LIBRARY = "vendor/chartjs/chart.umd.js"
SCRIPT = "js/report-charts.js"
DATA = re.compile(r'<script id="report-data" type="application/json">(.*?)</script>', re.S)
TEXTS = re.compile(r'\sdata-text-([a-z-]+)="([^"]*)"')


def page(client, user, **params):
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response, response.content.decode()


def chart_data(body: str) -> dict:
    found = DATA.findall(body)
    assert len(found) == 1, "the page carries the figures once, as #report-data"
    return json.loads(found[0])


def test_the_library_is_found_by_the_staticfiles_finders():
    path = finders.find(LIBRARY)
    assert path, f"{LIBRARY} not found: run `make install` (npm ci) to get node_modules"
    path = Path(path)
    assert path.parent == settings.BASE_DIR / "node_modules" / "chart.js" / "dist"
    assert "Chart.js v4." in path.read_text(encoding="utf-8")[:200]
    assert finders.find(SCRIPT)


def test_only_the_built_files_are_served_from_node_modules():
    modules = settings.BASE_DIR / "node_modules"
    served = [Path(entry[1] if isinstance(entry, tuple) else entry)
              for entry in settings.STATICFILES_DIRS]
    assert all(p.name == "dist" for p in served if modules in p.parents), served
    assert finders.find("chart.js/package.json") is None


def test_page_loads_the_library_and_the_chart_script(client, world):
    _response, body = page(client, world.users["staff"])
    library = body.index(f'<script src="{static(LIBRARY)}"></script>')
    script = body.index(f'<script src="{static(SCRIPT)}"></script>')
    assert library < script
    # A canvas per breakdown with rows, and the findings, overdue, runs and months charts.
    assert 'data-breakdown="region"' in body and 'data-breakdown="grade"' in body
    for chart in ("findings", "stale", "runs", "months"):
        assert f'data-chart="{chart}"' in body
    # The tables stay, with the ids the links and tests use.
    for element_id in ("report-breakdowns", "breakdown-region", "breakdown-status",
                       "report-findings", "stale-institutions", "report-rights",
                       "without-holder", "grants-expiring", "report-trends",
                       "registered-by-month"):
        assert f'id="{element_id}"' in body, element_id


def test_chart_data_matches_the_report(client, world):
    response, body = page(client, world.users["province_steward"])
    report = response.context["report"]
    data = chart_data(body)

    assert data["total"] == report.total > 0
    assert data["findings_total"] == report.findings_total > 0
    assert data["without_holder"] == report.without_holder
    assert data["grants_expiring"] == report.grants_expiring
    assert [b["key"] for b in data["breakdowns"]] == list(report.breakdowns)
    for breakdown in data["breakdowns"]:
        rows = report.breakdowns[breakdown["key"]].rows
        assert [(r["value"], r["label"], r["count"], r["drill"]) for r in breakdown["rows"]] == [
            (r.value, r.label, r.count, r.drill) for r in rows
        ], breakdown["key"]
    assert [(f["rule"], f["severity"], f["count"]) for f in data["findings"]] == [
        (f.rule, int(f.severity), f.count) for f in report.findings
    ]
    assert [(r["value"], r["count"]) for r in data["stale_institutions"]] == [
        (r.value, r.count) for r in report.stale_institutions
    ]
    # Runs oldest first, the order a trend is drawn in.
    assert [(r["id"], r["found"], r["new"], r["resolved"]) for r in data["runs"]] == [
        (r.run.pk, r.found, r.new, r.resolved) for r in reversed(report.runs)
    ]
    assert [(m["value"], m["count"]) for m in data["registered_by_month"]] == [
        (m.value, m.count) for m in report.registered_by_month
    ]
    # The counts the charts draw add up to what the tiles and the tables say.
    region = next(b for b in data["breakdowns"] if b["key"] == "region")
    assert sum(r["count"] for r in region["rows"]) == data["total"]
    assert sum(f["count"] for f in data["findings"]) == data["findings_total"]


def test_chart_data_follows_the_filters_and_the_drill_down(client, world):
    response, body = page(client, world.users["province_steward"], region="330100", grade="3")
    data = chart_data(body)
    assert data["total"] == response.context["report"].total
    assert data["scope"]["code"] == "330100"
    region = next(b for b in data["breakdowns"] if b["key"] == "region")
    assert {r["drill"] for r in region["rows"]} <= {"330106", "330102"}
    # What a click on a bar needs to drill down like the table's links.
    assert f'data-drill-base="{URL}"' in body
    assert 'data-other-filters="grade=3"' in body


def test_names_cannot_break_out_of_the_data(client, world):
    hospital = world.institutions["xihu_a"]
    hospital.name = '</script><script>alert("x")</script>'
    hospital.save()
    _response, body = page(client, world.users["province_steward"], region="330106")
    assert "<script>alert" not in body
    holders = next(b for b in chart_data(body)["breakdowns"] if b["key"] == "holder")
    assert hospital.name in {r["label"] for r in holders["rows"]}


def test_chart_texts_come_from_the_page_in_its_language(client, zh_client, world):
    """Nothing the charts write is English on the Chinese page: their words come from the
    data-text-* attributes (translated) and from the snapshot's labels (translated)."""
    _response, english = page(client, world.users["staff"])
    _response, chinese = page(zh_client, world.users["staff"])
    en = {name: html.unescape(value) for name, value in TEXTS.findall(english)}
    zh = {name: html.unescape(value) for name, value in TEXTS.findall(chinese)}
    assert set(en) == set(zh) >= {"assets", "findings", "found", "new", "resolved", "value"}
    assert all(en.values()) and all(zh.values())
    assert [name for name in en if en[name] == zh[name]] == []
    labels = [b["label"] for b in chart_data(chinese)["breakdowns"]]
    assert "Region" not in labels and "Sensitivity grade" not in labels


def test_chart_script_writes_no_words_of_its_own():
    """Every string literal of the script is a name, a colour, a format or punctuation."""
    source = (settings.BASE_DIR / "static" / SCRIPT).read_text(encoding="utf-8")
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("//"))
    literals = re.findall(r'"([^"\\]*)"', code)
    phrases = {s for s in literals if re.search(r"[A-Za-z]{3,}\s+[A-Za-z]{3,}", s)}
    # The only phrases: the directive and the fonts of the CJK-capable stack.
    assert phrases <= {"use strict", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei",
                       "WenQuanYi Micro Hei"}, phrases
