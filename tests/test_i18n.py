"""The UI speaks 简体中文 by default and English on request; the translations are complete."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
LIST = reverse("catalog:asset_list")

pytestmark = pytest.mark.django_db


def test_chinese_by_default(zh_client):
    response = zh_client.get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "数据资产目录" in html
    assert "Data asset catalog" not in html


def test_english_when_the_browser_asks_for_it(client):
    html = client.get(LIST).content.decode()
    assert '<html lang="en">' in html
    assert "Data asset catalog" in html
    assert "数据资产目录" not in html


def test_set_language_switches_and_sticks(zh_client):
    response = zh_client.post(reverse("set_language"), {"language": "en", "next": LIST})
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert zh_client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Data asset catalog" in zh_client.get(LIST).content.decode()

    zh_client.post(reverse("set_language"), {"language": "zh-hans", "next": LIST})
    assert "数据资产目录" in zh_client.get(LIST).content.decode()


def test_language_cookie_beats_the_browser(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "数据资产目录" in client.get(LIST).content.decode()


def test_unknown_language_falls_back_to_chinese(zh_client):
    html = zh_client.get(LIST, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "数据资产目录" in html


def test_validation_messages_are_translated(zh_client):
    html = zh_client.get(LIST, {"sort": "nonsense"}).content.decode()
    assert "Unknown sort order" not in html
    assert 'role="alert"' in html


# --- The message catalogue -------------------------------------------------------------------


@pytest.fixture(scope="module")
def po():
    assert PO.exists(), f"missing {PO.relative_to(ROOT)}"
    return polib.pofile(str(PO))


def test_no_untranslated_entries(po):
    assert [e.msgid for e in po.untranslated_entries()] == []


def test_no_fuzzy_entries(po):
    assert [e.msgid for e in po.fuzzy_entries()] == []


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\{ *\w+ *\}\}|%[sd]")


def placeholders(text: str) -> set[str]:
    return {p.replace(" ", "") for p in PLACEHOLDER.findall(text)}


def test_placeholders_are_kept(po):
    wrong = []
    for entry in po.translated_entries():
        if entry.msgid_plural:
            allowed = placeholders(entry.msgid) | placeholders(entry.msgid_plural)
            if any(not placeholders(t) <= allowed for t in entry.msgstr_plural.values()):
                wrong.append(entry.msgid)
        elif placeholders(entry.msgstr) != placeholders(entry.msgid):
            wrong.append(entry.msgid)
    assert wrong == []


def test_compiled_catalogue_matches_the_source(po):
    assert MO.exists(), "compile the messages (manage.py compilemessages)"
    compiled = {
        (e.msgctxt, e.msgid): (e.msgstr, dict(e.msgstr_plural)) for e in polib.mofile(str(MO))
    }
    for entry in po.translated_entries():
        plural = {int(k): v for k, v in entry.msgstr_plural.items()}
        found = compiled.get((entry.msgctxt, entry.msgid))
        assert found is not None, entry.msgid
        assert (found[0], {int(k): v for k, v in found[1].items()}) == (entry.msgstr, plural), (
            entry.msgid
        )


TRANSLATE_TAG = re.compile(
    r"""\{% *(?:translate|trans) +(["'])(.+?)\1(?: +context +(["'])(.+?)\3)?"""
)


def test_every_template_string_is_translated():
    """Every {% translate "…" %} of the templates reads in Chinese (ours or Django's)."""
    untranslated = set()
    with translation.override("zh-hans"):
        for template in (ROOT / "templates").rglob("*.html"):
            for _q, text, _c, context in TRANSLATE_TAG.findall(
                template.read_text(encoding="utf-8")
            ):
                read = translation.pgettext(context, text) if context else translation.gettext(text)
                if read == text:
                    untranslated.add(f"{template.relative_to(ROOT)}: {text}")
    assert untranslated == set()


@pytest.mark.django_db
def test_lists_of_labels_use_the_separator_of_the_language():
    from django.utils import translation

    from catalog.choices import DataCategory
    from catalog.models import DataAsset

    field = DataAsset._meta.get_field("categories")
    codes = [DataCategory.HEALTH_STATUS, DataCategory.PUBLIC_HEALTH]
    with translation.override("zh-hans"):
        assert field.display_text(codes) == "健康状况、公共卫生"
    with translation.override("en"):
        assert field.display_text(codes) == "Health status, Public health"
