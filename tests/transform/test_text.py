from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from pipeline.transform.text import abstract_text, collapse_ws, flag, flatten, name_text, texts
from tests.transform.builders import element


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a  b", "a b"),
        ("\n  a\n\tb  \n", "a b"),
        ("a\u00a0b", "a b"),
        ("   ", None),
        ("", None),
        (None, None),
    ],
)
def test_collapse_ws_joins_whitespace_runs_and_blank_is_none(raw: str | None, expected: str | None):
    assert collapse_ws(raw) == expected


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        ("<T>Plain title.</T>", "Plain title."),
        ("<T>The <i>BRCA1</i> gene</T>", "The BRCA1 gene"),
        ("<T>CO<sub>2</sub> and Ca<sup>2+</sup></T>", "CO2 and Ca2+"),
        ("<T><b>Bold</b><u>under</u> end</T>", "Boldunder end"),
        ("<T>Line\n   broken\n title</T>", "Line broken title"),
        ("<T>A <!-- note --> B</T>", "A B"),
        ("<T>&#x3b2;-lactam &amp; &#xa9;</T>", "\u03b2-lactam & \u00a9"),
        (
            '<T>inhaled <mml:math xmlns:mml="http://www.w3.org/1998/Math/MathML">'
            "<mml:mi>He</mml:mi>\n  <mml:mn>3</mml:mn></mml:math> gas</T>",
            "inhaled He 3 gas",
        ),
        ("<T>  </T>", None),
        ("<T/>", None),
    ],
)
def test_flatten_keeps_every_character_of_inline_markup(xml: str, expected: str | None):
    assert flatten(element(xml)) == expected


def test_flatten_of_missing_element_is_none():
    assert flatten(None) is None


def test_name_text_is_nfc_normalized():
    decomposed = "<N>Mu\u0308ller</N>"
    assert name_text(element(decomposed)) == "M\u00fcller"


def test_texts_keeps_order_and_skips_blanks():
    el = element("<L><P>b</P><P> </P><P>a</P></L>")
    assert texts(el, "P") == ("b", "a")


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (
            "<Abstract><AbstractText>One <i>paragraph</i>.</AbstractText></Abstract>",
            "One paragraph.",
        ),
        (
            '<Abstract><AbstractText Label="BACKGROUND" NlmCategory="BACKGROUND">Why.'
            '</AbstractText><AbstractText Label="RESULTS">What.</AbstractText></Abstract>',
            "BACKGROUND: Why.\nRESULTS: What.",
        ),
        (
            "<Abstract><AbstractText>First.</AbstractText><AbstractText>Second.</AbstractText>"
            "<CopyrightInformation>(c) Someone</CopyrightInformation></Abstract>",
            "First.\nSecond.",
        ),
        ("<Abstract><AbstractText/></Abstract>", None),
    ],
)
def test_abstract_text_keeps_labels_and_one_paragraph_a_line(xml: str, expected: str | None):
    assert abstract_text(element(xml)) == expected


@pytest.mark.parametrize(
    ("attrs", "default", "expected"),
    [
        ({"V": "Y"}, False, True),
        ({"V": "N"}, True, False),
        ({"V": " n "}, True, False),
        ({}, True, True),
        ({}, False, False),
        ({"V": "maybe"}, True, True),
    ],
)
def test_flag_reads_y_n_attributes_with_a_default(
    attrs: dict[str, str], default: bool, expected: bool
):
    assert flag(etree.Element("E", attrs), "V", default=default) is expected


# XML 1.0 cannot carry surrogates or most control characters, so they are left out.
XML_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")))


@given(st.lists(XML_TEXT, max_size=4))
def test_flatten_loses_no_character_but_whitespace(parts: list[str]):
    el = etree.Element("T")
    for part in parts:
        etree.SubElement(el, "i").text = part
    flat = flatten(el) or ""
    assert "".join(flat.split()) == "".join("".join(parts).split())


# Long texts of words and every kind of whitespace XML can carry, so that both
# the shortcut for already-tidy ASCII text and the split-and-join path are taken.
WORDY_TEXT = st.lists(
    st.one_of(
        st.sampled_from([" ", "  ", "\n", "\t", "\r", "\u00a0", "\u2009"]),
        st.text(alphabet="abcXYZ.,;-", min_size=1, max_size=12),
        XML_TEXT,
    ),
    max_size=40,
).map("".join)
# Long ASCII texts, mostly tidy: one stray whitespace character is what the shortcut must see.
ASCII_TEXT = st.tuples(
    st.lists(st.text(alphabet="abcXYZ.,;-", min_size=1, max_size=12), min_size=6, max_size=12),
    st.sampled_from(["", " ", "  ", "\n", "\t", "\r"]),
    st.integers(min_value=0, max_value=12),
).map(lambda t: " ".join(t[0][: t[2]]) + t[1] + " ".join(t[0][t[2] :]))


@given(st.one_of(WORDY_TEXT, ASCII_TEXT))
def test_collapse_ws_equals_splitting_and_joining_on_any_text(text: str):
    assert collapse_ws(text) == (" ".join(text.split()) or None)


@given(st.one_of(WORDY_TEXT, ASCII_TEXT))
def test_flatten_equals_splitting_and_joining_its_text(text: str):
    el = etree.Element("T")
    el.text = text
    assert flatten(el) == (" ".join(text.split()) or None)
