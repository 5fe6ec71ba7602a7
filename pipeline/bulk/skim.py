"""Drop the PubMed subtrees the selected tables never read, before lxml sees the bytes.

A 2026 baseline record is about 17 KB, and more than half of it is cited
references, MeSH headings, chemicals, grants and history dates. Parsing costs
lxml time per byte, so when a run does not write the tables that read them
(``--tables``), a bulk parse hands the parser a stream with those elements cut
out: the tree it builds is the tree it would have built, minus subtrees no
selected table asks for (tests/bulk/test_skim.py checks both the stream and
the tables against a full parse). ``skipped_for`` says what may be cut.

The cut is made on bytes, which is sound for XML because a literal ``<`` can
only open markup: text and attribute values must escape it. Comments, CDATA
sections and processing instructions are the only markup that can hide a
``<Name`` that is not a tag, so they are stepped over whole; a DOCTYPE with an
internal subset (which could declare entities expanding to markup) turns the
cutting off for the whole file.

What a cut region holds is not checked for well-formedness: a file damaged
inside a reference list parses. Damage that reaches any kept byte, including a
cut element that never closes, still fails the parse.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from functools import cache
from typing import IO

from pipeline.errors import ResponseFormatError

# Every element that can be cut: together over half of a baseline file.
# Records are read by explicit child paths, never ``.//``, so an element no
# selected table reads is never looked for.
SKIPPED = (
    "ReferenceList",
    "MeshHeadingList",
    "History",
    "ChemicalList",
    "SupplMeshList",
    "KeywordList",
    "GrantList",
    "CommentsCorrectionsList",
    "GeneSymbolList",
    "PersonalNameSubjectList",
    "DataBankList",
)
# Which of SKIPPED each table reads; GeneSymbolList and PersonalNameSubjectList
# are read by none. articles reads the GrantList's CompleteYN and, as citations
# do, the CommentsCorrections that say a record was retracted or corrected.
READS: dict[str, tuple[str, ...]] = {
    "articles": ("GrantList", "CommentsCorrectionsList"),
    "citations": ("CommentsCorrectionsList",),
    "mesh_headings": ("MeshHeadingList",),
    "supplementary_concepts": ("SupplMeshList",),
    "keywords": ("KeywordList",),
    "chemicals": ("ChemicalList",),
    "grants": ("GrantList",),
    "comments_corrections": ("CommentsCorrectionsList",),
    "article_references": ("ReferenceList",),
    "history": ("History",),
    "data_banks": ("DataBankList",),
}


# Elements too rare to pay for the scan on their own (a few records in a thousand).
_RARE = frozenset({"GeneSymbolList", "PersonalNameSubjectList"})


def skipped_for(tables: Collection[str]) -> tuple[str, ...]:
    """The elements of SKIPPED that none of ``tables`` reads, in SKIPPED's order;
    none when only rare ones are left (the scan would cost more than it spares)."""
    read = {name for table in tables for name in READS.get(table, ())}
    cut = tuple(name for name in SKIPPED if name not in read)
    return cut if set(cut) - _RARE else ()


# The skipped elements the PubMed DTD lets hold elements of their own name.
_NESTING = frozenset({b"ReferenceList"})
READ_SIZE = 1 << 16
# A start tag longer than this is not looked for any further: cutting stops
# and the parser, which sees every byte from there on, judges the file.
LONGEST_START_TAG = 1 << 16


@cache
def _open_tag(names: tuple[str, ...]) -> re.Pattern[bytes]:
    """The next start tag of a skipped element. Factored behind one "<", sre scans
    for that byte alone: several times faster than an alternation of "<Name"s."""
    return re.compile(rf"<(?P<name>{'|'.join(names)})(?=[\s/>])".encode())


_NAME_END = frozenset(b" \t\r\n/>")
_OPAQUE_END = {b"!--": b"-->", b"![CDATA[": b"]]>", b"?": b"?>"}
# A whole start tag; ``>`` may stand unescaped inside an attribute value.
_START_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
_Step = tuple[bytes, int] | None


class Skimmer:
    """A read()-able stream: ``source`` without the ``skipped`` elements (of SKIPPED)."""

    def __init__(
        self, source: IO[bytes], read_size: int = READ_SIZE, skipped: Sequence[str] = SKIPPED
    ) -> None:
        unknown = set(skipped) - set(SKIPPED)
        if unknown or not skipped:
            raise ValueError(f"cannot skip {sorted(unknown) or 'nothing'}")
        self._open = _open_tag(tuple(skipped))
        # No token the scanner must see whole is longer than this.
        self._token_max = max(len(f"</{n}>") for n in skipped) + 1
        self._source = source
        self._read_size = read_size
        self._buf = b""
        self._pos = 0  # the bytes before it are decided
        self._eof = False
        self._prolog = True
        self._cutting = True
        self._inside: bytes | None = None  # the skipped element we are in
        self._depth = 0
        self._opaque = 0  # where the next "<!" or "<?" starts (len(buf): none)
        self.skipped_bytes = 0

    def read(self, size: int = -1) -> bytes:
        """Some of the kept bytes (b"" only at the end); ``size`` is a hint."""
        while not (self._eof and self._pos >= len(self._buf)):
            self._fill()
            kept = self._advance()
            if kept:
                return kept
        return b""

    def _fill(self) -> None:
        chunk = b"" if self._eof else self._source.read(self._read_size)
        if not chunk:
            self._eof = True
        self._buf = self._buf[self._pos :] + chunk
        self._pos = 0
        self._opaque = _find_opaque(self._buf, 0)

    def _limit(self) -> int:
        # A token starting before the limit lies wholly inside the buffer.
        return len(self._buf) if self._eof else len(self._buf) - self._token_max

    def _advance(self) -> bytes:
        """Decide as much of the buffer as can be; return the bytes kept."""
        kept: list[bytes] = []
        while True:
            if not self._cutting:
                step: _Step = (self._buf[self._pos :], len(self._buf))
            elif self._prolog:
                step = self._prolog_step()
            elif self._inside is None:
                step = self._keep_step()
            else:
                step = self._skip_step()
            if step is None or (step[1] == self._pos and not step[0]):
                break
            kept.append(step[0])
            self._pos = step[1]
        if self._eof and self._inside is not None:
            name = self._inside.decode()
            raise ResponseFormatError(f"not well-formed PubMed XML: <{name}> never closes")
        if self._eof and self._pos < len(self._buf):  # an unfinished token: the parser judges
            kept.append(self._buf[self._pos :])
            self._pos = len(self._buf)
        return b"".join(kept)

    def _prolog_step(self) -> _Step:
        """Pass the prolog through untouched, up to the root element."""
        buf, pos = self._buf, self._pos
        lt = buf.find(b"<", pos)
        if lt < 0 or lt + len(b"<!DOCTYPE") > len(buf):
            return None
        if buf.startswith(b"<!DOCTYPE", lt):
            gt, bracket = buf.find(b">", lt), buf.find(b"[", lt)
            if bracket >= 0 and (gt < 0 or bracket < gt):
                # An internal subset may declare entities that expand to markup.
                self._cutting = False
                return b"", pos
            return None if gt < 0 else (buf[pos : gt + 1], gt + 1)
        for opener, closer in _OPAQUE_END.items():
            if buf.startswith(opener, lt + 1):
                end = buf.find(closer, lt + 1 + len(opener))
                return None if end < 0 else (buf[pos : end + len(closer)], end + len(closer))
        self._prolog = False  # the root element starts here
        return buf[pos:lt], lt

    def _next_opaque(self, pos: int) -> int:
        if self._opaque < pos:
            self._opaque = _find_opaque(self._buf, pos)
        return self._opaque

    def _keep_step(self) -> _Step:
        buf, pos, limit = self._buf, self._pos, self._limit()
        m = self._open.search(buf, pos, limit + self._token_max)
        start = m.start() if m is not None and m.start() < limit else limit
        opaque = self._next_opaque(pos)
        if opaque < start:
            end = self._opaque_end(opaque)
            return (buf[pos:opaque], opaque) if end is None else (buf[pos:end], end)
        if m is None or start >= limit:
            return (buf[pos:limit], limit) if limit > pos else None
        tag = self._start_tag(start)
        if tag is None:
            return (buf[pos:start], start) if start > pos else None
        end, empty = tag
        if not empty:
            self._inside, self._depth = m["name"], 1
        self.skipped_bytes += end - start
        return buf[pos:start], end

    def _skip_step(self) -> _Step:
        # Inside a skipped element only three things matter: its end tag, a
        # nested start tag of the same name, and markup that could hide either.
        buf, pos, limit = self._buf, self._pos, self._limit()
        name = self._inside
        assert name is not None
        close = _find_tag(buf, b"</" + name, pos, limit)
        stop = close if close >= 0 else limit
        # Only a reference list may hold its own kind (the DTD's ReferenceList*);
        # any other nesting would leave an unmatched end tag the parser refuses.
        nested = _find_tag(buf, b"<" + name, pos, stop) if name in _NESTING else -1
        stop = nested if nested >= 0 else stop
        opaque = self._next_opaque(pos)
        if opaque < stop:
            end = self._opaque_end(opaque)
            return None if end is None else self._skip_to(end)
        if nested >= 0:
            tag = self._start_tag(nested)
            if tag is None and not self._cutting:
                raise ResponseFormatError(
                    f"not well-formed PubMed XML: bad tag in <{name.decode()}>"
                )
            if tag is None:
                return self._skip_to(nested)
            end, empty = tag
            self._depth += 0 if empty else 1
            return self._skip_to(end)
        if close >= 0:
            gt = buf.find(b">", close)
            if gt < 0:
                return self._skip_to(close)
            self._depth -= 1
            if self._depth == 0:
                self._inside = None
            return self._skip_to(gt + 1)
        return self._skip_to(limit) if limit > pos else None

    def _skip_to(self, end: int) -> tuple[bytes, int]:
        self.skipped_bytes += end - self._pos
        return b"", end

    def _opaque_end(self, start: int) -> int | None:
        """Where the comment, CDATA section or PI at ``start`` ends (None: not here yet).

        Any other ``<!`` (only a malformed file has one after the prolog) is
        stepped over by its two bytes.
        """
        for opener, closer in _OPAQUE_END.items():
            if self._buf.startswith(opener, start + 1):
                end = self._buf.find(closer, start + 1 + len(opener))
                if end >= 0:
                    return end + len(closer)
                return len(self._buf) if self._eof else None  # never closes: the parser judges
        return start + 2

    def _start_tag(self, start: int) -> tuple[int, bool] | None:
        """End of the start tag at ``start``, and whether it is empty (``<X/>``).

        None when it is not in the buffer yet; a start tag that cannot be read
        within LONGEST_START_TAG bytes, or by the end, stops all cutting.
        """
        m = _START_TAG.match(self._buf, start)
        if m is not None:
            return m.end(), bool(m.group(1))
        if self._eof or len(self._buf) - start > LONGEST_START_TAG:
            self._cutting = False
        return None


def _find_tag(buf: bytes, opener: bytes, pos: int, stop: int) -> int:
    """The first ``opener`` starting in [pos, stop) that is a whole tag name."""
    while True:
        found = buf.find(opener, pos, stop + len(opener))
        if found < 0 or found >= stop:
            return -1
        after = found + len(opener)
        if after < len(buf) and buf[after] in _NAME_END:
            return found
        pos = found + 1


def _find_opaque(buf: bytes, pos: int) -> int:
    """The first ``<!`` or ``<?`` at or after ``pos``; ``len(buf)`` if none.

    Found by their second byte, a single-byte (memchr) search: a two-byte
    needle starting with "<" is tried at every tag and costs as much as a parse.
    """
    first = len(buf)
    for mark in (b"!", b"?"):
        found = buf.find(mark, pos + 1, first)
        while found >= 0 and buf[found - 1] != 0x3C:  # "<"
            found = buf.find(mark, found + 1, first)
        if found >= 0:
            first = found - 1
    return first
