"""The unified social credit code (GB 32100-2015) validator."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.credit_code import check_character, validate_credit_code

from ..factories import GB32100_ALPHABET, credit_code, gb32100_check

# Codes published by real organisations (their check characters are part of the record).
PUBLISHED = [
    "91350100M000100Y43",  # the worked example of GB 32100-2015
    "12100000400000624D",  # 国家卫生健康委员会
    "91110000802100433B",  # 北京百度网讯科技有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
]

bodies = st.text(alphabet=GB32100_ALPHABET, min_size=17, max_size=17)


def test_independent_check_matches_published_codes():
    for code in PUBLISHED:
        assert gb32100_check(code[:17]) == code[17]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code):
    validate_credit_code(code)


@given(bodies)
@settings(max_examples=200)
def test_any_body_with_its_check_character_is_valid(body):
    code = body + gb32100_check(body)
    validate_credit_code(code)
    assert check_character(body) == code[17]


@pytest.mark.parametrize("n", [0, 1, 30, 31, 12345, 31**9 - 1])
def test_generated_codes_are_valid(n):
    validate_credit_code(credit_code(n))


def test_wrong_check_character():
    code = credit_code(42)
    wrong = next(c for c in GB32100_ALPHABET if c != code[17])
    with pytest.raises(ValidationError) as excinfo:
        validate_credit_code(code[:17] + wrong)
    assert excinfo.value.code == "check_digit"


@pytest.mark.parametrize("length", [0, 1, 17, 19, 30])
def test_wrong_length(length):
    code = (credit_code(7) * 2)[:length]
    with pytest.raises(ValidationError) as excinfo:
        validate_credit_code(code)
    assert excinfo.value.code == "length"
    assert str(length) in excinfo.value.messages[0]


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_forbidden_letters(letter):
    code = credit_code(99)
    # Put the letter in the body; a correct check over its look-alike would not help.
    bad = code[:10] + letter + code[11:]
    with pytest.raises(ValidationError) as excinfo:
        validate_credit_code(bad)
    assert excinfo.value.code == "alphabet"
    assert letter in excinfo.value.messages[0]


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_forbidden_letter_as_check_character(letter):
    with pytest.raises(ValidationError):
        validate_credit_code(credit_code(5)[:17] + letter)


def test_lower_case_is_rejected():
    code = "91350100M000100Y43"
    with pytest.raises(ValidationError) as excinfo:
        validate_credit_code(code.lower())
    assert excinfo.value.code == "alphabet"


def test_errors_are_readable_messages():
    with pytest.raises(ValidationError) as excinfo:
        validate_credit_code("91350100M000100Y4")
    assert excinfo.value.messages[0].strip()


@given(
    body=bodies,
    position=st.integers(min_value=0, max_value=17),
    replacement=st.characters(codec="utf-8"),
)
@settings(max_examples=300)
def test_changing_any_one_character_is_rejected(body, position, replacement):
    code = body + gb32100_check(body)
    if replacement == code[position]:
        replacement = GB32100_ALPHABET[(GB32100_ALPHABET.index(code[position]) + 1) % 31]
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(ValidationError):
        validate_credit_code(changed)
