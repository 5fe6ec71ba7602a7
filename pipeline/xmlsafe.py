"""One hardened lxml parser configuration for every NCBI body.

Responses are untrusted input: no DTD is loaded, no entity is resolved or
expanded, nothing is fetched from the network, and lxml's size guards stay on
(``huge_tree=False``). Numeric character references are still decoded by the
parser, which is what we want.
"""

from __future__ import annotations

from lxml import etree

from pipeline.errors import ResponseFormatError


def make_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def parse_xml(body: bytes, *, what: str) -> etree._Element:
    """Parse a whole document, or raise ResponseFormatError naming ``what``."""
    if not body.strip():
        raise ResponseFormatError(f"{what}: empty body")
    try:
        return etree.fromstring(body, make_parser())
    except etree.XMLSyntaxError as exc:
        raise ResponseFormatError(f"{what}: not well-formed XML ({exc})") from exc
