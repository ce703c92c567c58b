"""Chinese and English search: the bigram tokenizer, the lookup on both databases, the index."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import search
from catalog.models import DataAsset

from ..factories import DataAssetFactory

# --- Tokenizer ----------------------------------------------------------------------------


def test_document_tokens_of_a_cjk_run_are_unigrams_and_bigrams():
    assert search.tokens("肿瘤医院") == ["肿", "瘤", "医", "院", "肿瘤", "瘤医", "医院"]


def test_query_tokens_of_a_cjk_run_are_bigrams_only():
    assert search.tokens("肿瘤医院", for_query=True) == ["肿瘤", "瘤医", "医院"]


def test_single_cjk_character_is_its_own_token():
    assert search.tokens("癌", for_query=True) == ["癌"]
    assert search.tokens("癌") == ["癌"]


def test_latin_words_are_lower_cased_and_digits_kept():
    assert search.tokens("EMR Data 2024, COVID-19") == ["emr", "data", "2024", "covid", "19"]


def test_mixed_text_splits_scripts_and_drops_punctuation():
    assert search.tokens("HIS系统（门诊）v2", for_query=True) == ["his", "系统", "门诊", "v2"]
    assert search.tokens("HIS系统") == ["his", "系", "统", "系统"]


def test_tokens_are_not_repeated():
    assert search.tokens("医院 医院 Hospital hospital") == ["医", "院", "医院", "hospital"]


def test_document_joins_tokens_with_spaces_at_both_ends():
    assert search.document("肿瘤", "Tumour", "") == " 肿 瘤 肿瘤 tumour "
    assert search.document("", "!!") == ""


def test_parse_query_accepts_normal_text():
    assert search.parse_query("  肿瘤 registry ") == ["肿瘤", "registry"]
    assert search.parse_query("") == []


@pytest.mark.parametrize(
    "raw",
    ["医院\x00", "医" * (search.MAX_QUERY_LENGTH + 1), "!!! ？？ —",
     " ".join(f"w{i}" for i in range(search.MAX_QUERY_TOKENS + 1))],
    ids=["nul", "too-long", "punctuation", "too-many-words"],
)
def test_parse_query_refuses_malformed_text(raw):
    with pytest.raises(ValidationError):
        search.parse_query(raw)


def test_repeated_words_count_once_towards_the_word_limit():
    assert search.parse_query("a " * (search.MAX_QUERY_TOKENS + 5)) == ["a"]


def test_query_of_exactly_the_maximum_length_is_accepted():
    assert search.parse_query("a" * search.MAX_QUERY_LENGTH) == ["a" * search.MAX_QUERY_LENGTH]


CJK_TEXT = st.text(alphabet="肿瘤医院数据登记检验病历疫苗接种 ，。、（）", min_size=1, max_size=30)


@given(text=CJK_TEXT, data=st.data())
@settings(max_examples=200)
def test_any_chinese_substring_finds_its_text(text, data):
    """A query cut anywhere out of a Chinese text has only tokens the text's document has."""
    start = data.draw(st.integers(min_value=0, max_value=len(text) - 1))
    end = data.draw(st.integers(min_value=start + 1, max_value=len(text)))
    query = search.tokens(text[start:end], for_query=True)
    assert set(query) <= set(search.document(text).split())


# --- Matching (the same tests run on SQLite and PostgreSQL) -------------------------------


@pytest.fixture
def corpus(db):
    def make(name, name_en="", description=""):
        return DataAssetFactory(name=name, name_en=name_en, description=description)

    return {
        "tumour_registry": make("肿瘤登记数据", "Tumour registry", "全省恶性肿瘤发病与死亡登记"),
        "hospital_emr": make("人民医院电子病历", "Hospital EMR", "住院病历"),
        "tumour_hospital": make("肿瘤医院检验结果", "Cancer hospital lab results", ""),
        "vaccination": make("预防接种记录", "Immunisation records", "儿童疫苗接种"),
        # 肿 and 瘤 apart, 医 and 院 apart: unigrams match, the bigram must not.
        "scattered": make("肿大瘤体", "", "医学学院"),
    }


def found(queryset_tokens) -> set[str]:
    names = set(DataAsset.objects.search(queryset_tokens).values_list("name", flat=True))
    return names


def names_of(corpus, *keys) -> set[str]:
    return {corpus[key].name for key in keys}


def test_two_character_term_tumour(corpus):
    assert found(search.parse_query("肿瘤")) == names_of(
        corpus, "tumour_registry", "tumour_hospital"
    )


def test_two_character_term_hospital(corpus):
    assert found(search.parse_query("医院")) == names_of(corpus, "hospital_emr", "tumour_hospital")


def test_term_found_in_the_description(corpus):
    assert found(search.parse_query("疫苗")) == names_of(corpus, "vaccination")


def test_single_character_matches_the_unigram(corpus):
    assert found(search.parse_query("瘤")) == names_of(
        corpus, "tumour_registry", "tumour_hospital", "scattered"
    )


def test_english_word_matches_case_insensitively(corpus):
    assert found(search.parse_query("HOSPITAL")) == names_of(
        corpus, "hospital_emr", "tumour_hospital"
    )
    assert found(search.parse_query("registry")) == names_of(corpus, "tumour_registry")


def test_english_matches_whole_words_only(corpus):
    assert found(search.parse_query("hosp")) == set()


def test_every_token_must_match(corpus):
    assert found(search.parse_query("肿瘤 医院")) == names_of(corpus, "tumour_hospital")
    assert found(search.parse_query("肿瘤 hospital")) == names_of(corpus, "tumour_hospital")
    assert found(search.parse_query("肿瘤 疫苗")) == set()


def test_longer_cjk_query_needs_all_its_bigrams(corpus):
    assert found(search.parse_query("肿瘤医院")) == names_of(corpus, "tumour_hospital")
    assert found(search.parse_query("医学院")) == names_of(corpus, "scattered")


def test_code_is_searchable(corpus):
    code = corpus["vaccination"].code  # "DA-000123" → "da", "000123"
    assert found(search.parse_query(code)) == names_of(corpus, "vaccination")


@pytest.mark.parametrize(
    "query",
    ["肿瘤", "医院", "瘤", "肿瘤医院", "登记数据", "tumour", "EMR", "results lab", "记录 疫苗",
     "病历", "住院病历", "学院", "da", "hospital 住院"],
)
def test_database_answers_as_the_definition_says(corpus, query):
    """Every query token is in the document: the same answer on SQLite and PostgreSQL."""
    tokens = search.parse_query(query)
    expected = {
        a.name for a in corpus.values()
        if set(tokens) <= set(search.document(a.code, a.name, a.name_en, a.description).split())
    }
    assert found(tokens) == expected


def test_empty_token_list_filters_nothing(corpus):
    assert DataAsset.objects.search([]).count() == len(corpus)


# --- PostgreSQL: the bigram GIN index answers the search ------------------------------------


@pytest.mark.postgres
def test_search_uses_the_gin_index(corpus):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = DataAsset.objects.search(search.parse_query("肿瘤")).explain()
    assert "catalog_asset_search_gin" in plan


@pytest.mark.postgres
def test_category_filter_uses_the_gin_index(corpus):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = DataAsset.objects.filter(categories__has="health_status").explain()
    assert "catalog_asset_categories_gin" in plan
