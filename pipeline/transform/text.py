"""Text of PubMed elements: inline markup flattened, whitespace collapsed.

PubMed titles and abstracts carry inline markup (``<i>``, ``<sup>``, MathML);
the pipeline keeps plain text, so every character of every descendant is kept
and only whitespace is normalised. Missing or blank text is ``None``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from lxml import etree

# A parent's element children by tag, in document order (see children_by_tag).
Children = dict[str, list[etree._Element]]


def collapse_ws(text: str | None) -> str | None:
    """Whitespace runs (newlines, tabs, NBSP) become one space; blank is None."""
    if text is None:
        return None
    if len(text) > _LONG and _tidy(text):
        return text
    # str.split() splits on exactly what the regex \s+ matches (str.isspace),
    # and is several times faster on the millions of short names in a bulk run.
    out = " ".join(text.split())
    return out or None


# Shorter texts (names, most fields) are split and joined at once: for them
# the checks below would cost as much as the work they spare.
_LONG = 48


def _tidy(text: str) -> bool:
    """True when collapsing would change nothing.

    Checked only where it pays (abstracts, titles, affiliations, cited
    references): C-level scans instead of splitting into hundreds of words and
    joining them again. In ASCII, XML text can hold no whitespace but space,
    tab, CR and LF (the other ASCII whitespace characters are not XML
    characters). Every other whitespace character (NBSP, thin space, NEL,
    line separator...) is not printable, so text that is printable holds no
    whitespace but spaces.
    """
    if not text.isascii():
        return text.isprintable() and text[0] != " " and text[-1] != " " and "  " not in text
    return (
        text[0] != " "
        and text[-1] != " "
        and "  " not in text
        and "\n" not in text
        and "\t" not in text
        and "\r" not in text
    )


def flatten(el: etree._Element | None) -> str | None:
    """All descendant text in document order (itertext skips comments and PIs)."""
    if el is None:
        return None
    # No children (the common case): its own text is all there is.
    # lxml types itertext as str | bytes; a document parsed from bytes yields str.
    raw = el.text if not len(el) else "".join(t for t in el.itertext() if isinstance(t, str))
    if not raw:
        return None
    if len(raw) > _LONG and _tidy(raw):
        return raw
    # collapse_ws inlined: some thirty texts per record come through here.
    return " ".join(raw.split()) or None


def children_by_tag(parent: etree._Element | None) -> Children:
    """``parent``'s children grouped by tag, in document order; empty for None.

    ``kids[tag][0]`` is what ``parent.find(tag)`` gives and ``kids[tag]`` what
    ``parent.iterfind(tag)`` gives, for a plain tag name. One pass over the
    children costs about as much as a single find(), and a record reads some
    twenty fields of the same few parents.
    """
    kids: Children = {}
    if parent is None:
        return kids
    for child in parent:
        tag = child.tag
        same = kids.get(tag)
        if same is None:
            kids[tag] = [child]
        else:
            same.append(child)
    return kids


def first(kids: Children, tag: str) -> etree._Element | None:
    """The first child of the tag among ``children_by_tag`` (as ``find(tag)``)."""
    same = kids.get(tag)
    return same[0] if same else None


def kid_text(kids: Children, tag: str) -> str | None:
    """``child_text(parent, tag)`` for a plain tag, from ``children_by_tag(parent)``."""
    same = kids.get(tag)
    return flatten(same[0]) if same else None


def kid_texts(kids: Children, tag: str) -> tuple[str, ...]:
    """``texts(parent, tag)`` for a plain tag, from ``children_by_tag(parent)``."""
    found = (flatten(el) for el in kids.get(tag, ()))
    return tuple(t for t in found if t is not None)


def texts_under(heads: Iterable[etree._Element], tag: str) -> tuple[str, ...]:
    """What ``texts(parent, "Head/tag")`` gives, from the parent's ``Head`` children."""
    found = (flatten(el) for head in heads for el in head.iterchildren(tag))
    return tuple(t for t in found if t is not None)


def find_under(heads: Iterable[etree._Element], tag: str) -> etree._Element | None:
    """What ``parent.find("Head/tag")`` gives, from the parent's ``Head`` children."""
    for head in heads:
        for found in head.iterchildren(tag):
            return found
    return None


def child_text(parent: etree._Element | None, path: str) -> str | None:
    """The flattened text of the first element at ``path`` under ``parent``."""
    if parent is None:
        return None
    return flatten(parent.find(path))


def name_text(el: etree._Element | None) -> str | None:
    """A person or group name: flattened and NFC-normalised.

    NFC so that the same name sent decomposed (e + combining accent) and
    precomposed compares and groups as one value downstream.
    """
    if el is None:
        return None
    # Inlined flatten + collapse_ws: names are read millions of times in a bulk run.
    raw = el.text if not len(el) else "".join(t for t in el.itertext() if isinstance(t, str))
    if not raw:
        return None
    if raw.isascii() and raw.isalpha():  # most name parts: nothing to collapse, and NFC
        return raw
    text = " ".join(raw.split())
    if not text:
        return None
    return text if text.isascii() else unicodedata.normalize("NFC", text)  # ASCII is NFC


def texts(parent: etree._Element | None, path: str) -> tuple[str, ...]:
    """The flattened, non-blank texts of every element at ``path``, in order."""
    if parent is None:
        return ()
    found = (flatten(el) for el in parent.iterfind(path))
    return tuple(t for t in found if t is not None)


def abstract_text(abstract: etree._Element | None) -> str | None:
    """``Abstract/AbstractText`` paragraphs, one a line; labelled ones as ``LABEL: text``."""
    if abstract is None:
        return None
    paragraphs: list[str] = []
    for part in abstract.iterchildren("AbstractText"):
        label = collapse_ws(part.get("Label"))
        body = flatten(part)
        if label is not None and body is not None:
            paragraphs.append(f"{label}: {body}")
        elif label is not None or body is not None:
            paragraphs.append(label or body or "")
    return "\n".join(paragraphs) or None


def flag(el: etree._Element, attr: str, *, default: bool) -> bool:
    """A ``Y``/``N`` attribute; absent or unrecognised values give ``default``."""
    value = el.get(attr)
    if value is None:
        return default
    if value != "Y" and value != "N":  # as PubMed writes it nearly always: skip normalising
        value = value.strip().upper()
    if value == "Y":
        return True
    if value == "N":
        return False
    return default
