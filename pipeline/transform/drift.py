"""Schema drift: element and attribute names the PubMed DTD does not declare.

One pass over a record's elements (``iter()``), comparing names with the
committed DTD names (pipeline/transform/pubmed_dtd.py). Each finding is a
stable text, e.g. ``unknown element <Foo> in PubmedArticle`` or ``unknown
attribute Bar on <Author> in PubmedArticle``; the caller keeps each distinct
text once per batch. Drift is never fatal: the record is read as usual.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from pipeline.transform.pubmed_dtd import (
    ATTRIBUTES,
    ELEMENTS,
    MATHML_ATTRIBUTES,
    MATHML_ELEMENTS,
    MATHML_NAMESPACE,
)

_NO_ATTRIBUTES: frozenset[str] = frozenset()
_MATHML_PREFIX = "{" + MATHML_NAMESPACE + "}"


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def attribute_names(node: etree._Element) -> list[str]:
    """The element's attribute names (lxml gives str for documents parsed from bytes)."""
    # Element.keys() lists attributes; iterating the element itself would give children.
    return [n if isinstance(n, str) else n.decode() for n in node.keys()]  # noqa: SIM118


def unknown_names(record: etree._Element, context: str | None = None) -> Iterator[str]:
    """A warning per undeclared element or attribute in ``record`` and below.

    ``context`` names the record kind in the text (default: the record's tag).
    MathML elements are matched by local name in the MathML namespace; an
    unknown element's own attributes are not reported separately.
    """
    where = context or (record.tag if isinstance(record.tag, str) else "record")
    for node in record.iter():
        tag = node.tag
        if tag in ELEMENTS:  # the fast path: a declared PubMed element
            names = node.keys()  # attribute names (iterating node would give children)
            if names:
                allowed = ATTRIBUTES.get(tag, _NO_ATTRIBUTES)
                for name in names:
                    if name not in allowed:
                        yield f"unknown attribute {_str(name)} on <{tag}> in {where}"
            continue
        if not isinstance(tag, str):  # comments and processing instructions
            continue
        if not tag.startswith(_MATHML_PREFIX) or _local(tag) not in MATHML_ELEMENTS:
            yield f"unknown element <{tag}> in {where}"
        else:
            for name in attribute_names(node):
                if _local(name) not in MATHML_ATTRIBUTES:
                    yield f"unknown attribute {name} on <{tag}> in {where}"


def _str(name: str | bytes) -> str:
    return name if isinstance(name, str) else name.decode()
