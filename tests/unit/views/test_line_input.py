"""Single-line text typed by people (names, phone numbers): one rule, in
``booking.services.text``, used by the views' ``line`` parser and by the
services that check their own input."""

import sys
import unicodedata

import pytest

from booking.services.text import is_one_line, one_line_problem
from booking.views.forms import line

ONE_LINE = "must be one line, without control characters"


def test_line_accepts_a_name_and_strips_it():
    assert line(200)("  Café de la Gare – Court n°1 ☕ ") == "Café de la Gare – Court n°1 ☕"


@pytest.mark.parametrize("text", [
    "Court\n1", "Court\r\nBcc: x@example.test", "Court\t1", "Court\x071", "Court\x7f1",
    "Court\x851", "Court\u20281", "Court\u20291", "Court\x1b[31m",
], ids=["lf", "crlf", "tab", "bell", "del", "nel", "line-separator", "paragraph-separator",
        "escape"])
def test_line_refuses_control_characters_and_line_separators(text):
    with pytest.raises(ValueError) as exc_info:
        line(200)(text)
    assert exc_info.value.args[0].interpolate() == ONE_LINE


def test_line_keeps_the_string_checks():
    with pytest.raises(ValueError) as exc_info:
        line(5)("Court 1")
    assert "at most 5 characters" in exc_info.value.args[0].interpolate()
    with pytest.raises(ValueError) as exc_info:
        line(200, min_length=1)("   ")
    assert exc_info.value.args[0].interpolate() == "is required"
    with pytest.raises(ValueError) as exc_info:
        line(200)("Court\x001")
    assert "NUL" in exc_info.value.args[0].interpolate()


def test_a_line_break_at_either_end_is_stripped_not_refused():
    assert line(200)("\nCourt 1\r\n") == "Court 1"


def test_the_rule_is_exactly_category_cc_and_the_two_separators():
    refused = {chr(code) for code in range(sys.maxunicode + 1)
               if not is_one_line(chr(code))}
    expected = {chr(code) for code in range(sys.maxunicode + 1)
                if unicodedata.category(chr(code)) == "Cc"} | {"\u2028", "\u2029"}
    assert refused == expected


def test_one_line_problem_is_none_for_one_line():
    assert one_line_problem("Ana Owner") is None
    assert one_line_problem("Ana\nOwner").interpolate() == ONE_LINE
