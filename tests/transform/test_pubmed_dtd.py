"""The committed DTD names (pipeline/transform/pubmed_dtd.py) are what the DTD says.

The names are derived from the PubMed DTD that Biopython ships
(``Bio/Entrez/DTDs/pubmed_250101.dtd`` and the MathML modules it includes),
read with ``lxml.etree.DTD`` from the local files only. To regenerate the
module after a DTD change: ``python -m tests.transform.test_pubmed_dtd >
pipeline/transform/pubmed_dtd.py`` (then ``ruff format`` it).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import Bio.Entrez
from lxml import etree

from pipeline.transform import pubmed_dtd

DTD_FILE = Path(Bio.Entrez.__file__).parent / "DTDs" / "pubmed_250101.dtd"


def derive() -> tuple[frozenset[str], dict[str, frozenset[str]], frozenset[str], frozenset[str]]:
    """PubMed element names, their attributes, MathML element and attribute names."""
    dtd = etree.DTD(str(DTD_FILE))
    elements: set[str] = set()
    attributes: dict[str, set[str]] = defaultdict(set)
    mathml: set[str] = set()
    mathml_attributes: set[str] = set()
    for decl in dtd.elements():  # type: ignore[attr-defined]  # not in lxml-stubs
        if decl.prefix is None:
            elements.add(decl.name)
            attributes[decl.name].update(a.name for a in decl.attributes() if a.prefix is None)
        else:
            mathml.add(decl.name)
            # xmlns declarations are not attributes once parsed; xlink:/xml: ones are
            # kept as local names (an attribute's namespace is not checked).
            mathml_attributes.update(
                a.name for a in decl.attributes() if a.prefix != "xmlns" and a.name != "xmlns"
            )
    return (
        frozenset(elements),
        {k: frozenset(v) for k, v in attributes.items() if v},
        frozenset(mathml),
        frozenset(mathml_attributes),
    )


def render() -> str:
    elements, attributes, mathml, mathml_attributes = derive()

    def names(values: frozenset[str]) -> str:
        return "\n".join(f"        {v!r}," for v in sorted(values))

    attr_lines = "\n".join(
        f"    {k!r}: frozenset({sorted(v)!r})," for k, v in sorted(attributes.items())
    )
    return f'''"""Element and attribute names of the PubMed DTD pubmed_250101 (schema drift).

Generated, not hand-written: derived from the DTD Biopython ships
(Bio/Entrez/DTDs/pubmed_250101.dtd and the MathML 3 modules it includes) with
``lxml.etree.DTD(path).elements()``, by ``python -m tests.transform.test_pubmed_dtd``;
tests/transform/test_pubmed_dtd.py re-derives the names and fails on any difference.
MathML elements are matched by local name in the MathML namespace.
"""

from __future__ import annotations

from collections.abc import Mapping

MATHML_NAMESPACE = "http://www.w3.org/1998/Math/MathML"

ELEMENTS: frozenset[str] = frozenset(
    {{
{names(elements)}
    }}
)

# Declared attributes of each PubMed element (elements without any are absent).
ATTRIBUTES: Mapping[str, frozenset[str]] = {{
{attr_lines}
}}

MATHML_ELEMENTS: frozenset[str] = frozenset(
    {{
{names(mathml)}
    }}
)

# Every attribute any MathML element declares (checked as one set, by local name).
MATHML_ATTRIBUTES: frozenset[str] = frozenset(
    {{
{names(mathml_attributes)}
    }}
)
'''


def test_committed_names_are_the_ones_the_bundled_dtd_declares():
    committed = (
        pubmed_dtd.ELEMENTS,
        dict(pubmed_dtd.ATTRIBUTES),
        pubmed_dtd.MATHML_ELEMENTS,
        pubmed_dtd.MATHML_ATTRIBUTES,
    )
    assert derive() == committed


def test_derived_names_include_the_records_and_their_common_parts():
    elements, attributes, mathml, _ = derive()
    assert {"PubmedArticle", "PubmedBookArticle", "DeleteCitation", "Investigator"} <= elements
    assert attributes["AuthorList"] == {"CompleteYN", "Type"}
    assert "math" in mathml


if __name__ == "__main__":
    print(render(), end="")
