"""The concept detail tables and columns of ``bulk``, from MedGen's FTP files.

Each file is read in blocks of Arrow columns (:func:`pipeline.extract.bulk_files.line_blocks`,
:mod:`pipeline.transform.medgen_rrf`) and only the requested concepts' rows are kept,
so memory holds one block, not the file. Per concept the rows are written in file
order; with ``--all-concepts`` the tables are streamed block by block into the
snapshot (read again at write time rather than held: MGREL alone is millions of
rows). Every header is checked when the reader is made, so a wrong file is refused
before any PubMed file is parsed. Unreadable lines become warnings naming the file
and the line (past ``max_rejects`` of them the file is refused); rows left out on
purpose (suppressed names and relations, duplicates) are counted per file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.extract.bulk_files import BLOCK_BYTES, line_blocks
from pipeline.load.concept_tables import DETAIL_TABLES, detail_path, detail_tables
from pipeline.models import Concept
from pipeline.transform import concept_rows
from pipeline.transform.medgen_files import DEFAULT_MAX_REJECTS, RejectLog
from pipeline.transform.medgen_rrf import (
    HPO_OMIM,
    MGCONSO,
    MGREL,
    MGSTY,
    MIM2GENE,
    FileSpec,
    check_header,
    read_block,
)

Rows = Callable[[pa.Table, pa.Array | None], pa.Table]


@dataclass(frozen=True, slots=True)
class ConceptFiles:
    """The concept files given to ``bulk`` (each optional)."""

    conso: Path | None = None  # MGCONSO.RRF.gz
    sty: Path | None = None  # MGSTY.RRF.gz
    rel: Path | None = None  # MGREL.RRF.gz
    hpo_omim: Path | None = None  # MedGen_HPO_OMIM_Mapping.txt.gz
    mim2gene: Path | None = None  # mim2gene_medgen

    def given(self) -> bool:
        return any(dataclasses.astuple(self))


# Table -> (which file, its layout, the row builder, the key that makes a row a duplicate).
_SOURCES: dict[str, tuple[str, FileSpec, Rows, tuple[str, ...] | None]] = {
    "concept_codes": ("conso", MGCONSO, concept_rows.codes, None),
    "concept_genes": ("mim2gene", MIM2GENE, concept_rows.genes, ("cui", "gene_id")),
    "concept_inheritance": ("hpo_omim", HPO_OMIM, concept_rows.inheritance, ("cui", "mode_cui")),
    "concept_features": ("hpo_omim", HPO_OMIM, concept_rows.features, ("cui", "feature_cui")),
    "concept_relations": ("rel", MGREL, concept_rows.relations, None),
}
_SUPPRESSIBLE = {MGCONSO.name, MGREL.name}


@dataclass
class FileStats:
    """One file's counts (the same whichever pass made them: each pass sets them anew)."""

    lines: int = 0
    rejected: int = 0
    suppressed: int = 0


@dataclass
class ConceptFileReader:
    """Reads the given files for the concepts ``cuis`` (None: every concept)."""

    files: ConceptFiles
    cuis: Collection[str] | None
    max_rejects: int = DEFAULT_MAX_REJECTS
    block_bytes: int = BLOCK_BYTES
    warnings: dict[str, None] = field(default_factory=dict)
    stats: dict[str, FileStats] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)  # per table
    _cached: dict[str, pa.Table] = field(default_factory=dict)
    _wanted: pa.Array | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._wanted = None if self.cuis is None else pa.array(sorted(self.cuis), pa.string())
        for name, spec in _specs(self.files):
            path = getattr(self.files, name)
            for _ in line_blocks(path, 1 << 16, _header(spec, path)):
                break  # line 1 is checked when the first block is cut

    def parts(self, table: str) -> Iterator[pa.Table]:
        """The table's rows, in blocks: CUI order per concept, file order for all concepts."""
        if table in self._cached:
            yield self._cached[table]
            return
        attr, spec, rows, key = _SOURCES[table]
        path: Path | None = getattr(self.files, attr)
        if path is None:
            return
        seen: set[tuple[Any, ...]] = set()
        self.duplicates[table] = 0
        for block in self._blocks(spec, path):
            out = rows(block, self._wanted)
            yield out if key is None else self._distinct(out, key, seen, table)

    def materialize(self) -> None:
        """Read every table once, sorted by CUI (stably): for a few requested concepts."""
        for table in DETAIL_TABLES:
            parts = list(self.parts(table))
            if parts:
                whole = pa.concat_tables(parts)
                self._cached[table] = whole.take(pc.sort_indices(whole, [("cui", "ascending")]))

    def concepts(self, concepts: list[Concept]) -> list[Concept]:
        """The concepts with their MIM numbers, MeSH ids and semantic types from the files."""
        codes: dict[str, dict[str, list[str]]] = {}
        for part in self.parts("concept_codes"):
            self._code_columns(part, codes)
        types = self._semantic_types()
        return [_with_columns(c, codes.get(c.cui), types.get(c.cui)) for c in concepts]

    @staticmethod
    def _code_columns(part: pa.Table, found: dict[str, dict[str, list[str]]]) -> None:
        msh = part.filter(pc.fill_null(pc.equal(part["source"], "MSH"), False))
        ids = pc.coalesce(msh["source_id"], msh["code"])
        for cui, mesh_id in zip(msh["cui"].to_pylist(), ids.to_pylist(), strict=True):
            if mesh_id is not None:
                found.setdefault(cui, {}).setdefault("mesh_ids", []).append(mesh_id)
        omim = part.filter(
            pc.and_(
                pc.fill_null(pc.equal(part["source"], "OMIM"), False),
                pc.fill_null(pc.match_substring_regex(part["code"], r"^[0-9]+$"), False),
            )
        )
        for cui, mim in zip(omim["cui"].to_pylist(), omim["code"].to_pylist(), strict=True):
            found.setdefault(cui, {}).setdefault("omim", []).append(mim)

    def _semantic_types(self) -> dict[str, list[tuple[str, str | None]]]:
        found: dict[str, list[tuple[str, str | None]]] = {}
        if self.files.sty is None:
            return found
        for block in self._blocks(MGSTY, self.files.sty):
            keep = block.filter(concept_rows.wanted_mask(block["CUI"], self._wanted))
            for cui, sty, tui in zip(
                keep["CUI"].to_pylist(),
                keep["STY"].to_pylist(),
                keep["TUI"].to_pylist(),
                strict=True,
            ):
                if sty is not None:
                    found.setdefault(cui, []).append((sty, tui))
        return found

    def _blocks(self, spec: FileSpec, path: Path) -> Iterator[pa.Table]:
        """The file's readable rows, block by block; its bad lines become warnings."""
        stats = FileStats()
        log = RejectLog(self.max_rejects)
        for lines, first, _ in line_blocks(path, self.block_bytes, _header(spec, path)):
            block = read_block(spec, lines, first, str(path))
            for reject in block.rejects:
                log.add(reject)
                self.warnings[str(reject)] = None
            stats.lines += len(lines)
            stats.rejected += len(block.rejects)
            if spec.name in _SUPPRESSIBLE:
                stats.suppressed += _suppressed(block.rows, spec.columns[0], self._wanted)
            yield block.rows
        self.stats[path.name] = stats  # by name, as bulk.files: the folder is not content

    def _distinct(
        self, part: pa.Table, key: tuple[str, ...], seen: set[tuple[Any, ...]], table: str
    ) -> pa.Table:
        """Rows whose key was not seen before (a concept under two MIM numbers repeats them)."""
        keys = zip(*(part[k].to_pylist() for k in key), strict=True)
        mask = []
        for k in keys:
            mask.append(k not in seen)
            seen.add(k)
        self.duplicates[table] += mask.count(False)
        return part.filter(pa.array(mask, pa.bool_()))


def _specs(files: ConceptFiles) -> Iterator[tuple[str, FileSpec]]:
    specs = {"conso": MGCONSO, "sty": MGSTY, "rel": MGREL, "hpo_omim": HPO_OMIM}
    for name, spec in {**specs, "mim2gene": MIM2GENE}.items():
        if getattr(files, name) is not None:
            yield name, spec


def _header(spec: FileSpec, path: Path) -> Callable[[str], None]:
    return lambda line: check_header(spec, line, str(path))


def _suppressed(rows: pa.Table, cui: str, wanted: pa.Array | None) -> int:
    mine = concept_rows.wanted_mask(rows[cui], wanted)
    return int(pc.sum(pc.and_(mine, pc.invert(concept_rows.unsuppressed(rows)))).as_py() or 0)


def _with_columns(
    concept: Concept,
    codes: dict[str, list[str]] | None,
    types: list[tuple[str, str | None]] | None,
) -> Concept:
    codes = codes or {}
    types = types or []
    first = types[0] if types else (concept.semantic_type, concept.semantic_id)
    return dataclasses.replace(
        concept,
        omim=tuple(dict.fromkeys(codes.get("omim", ()))),
        mesh_ids=tuple(dict.fromkeys(codes.get("mesh_ids", ()))),
        semantic_types=tuple(dict.fromkeys(t for t, _ in types)),
        semantic_type=first[0],
        semantic_id=first[1],
    )


def detail_parts(
    reader: ConceptFileReader | None, concepts: list[Concept]
) -> Iterator[tuple[str, pa.Schema, Iterable[pa.Table]]]:
    """Each detail table's path, schema and parts: from the files when they were given
    (a table whose file was not given is empty), else from the concepts' records."""
    built = detail_tables(concepts) if reader is None else {}
    for name, (schema, _) in DETAIL_TABLES.items():
        path = detail_path(name)
        yield path, schema, ([built[path]] if reader is None else reader.parts(name))


def detail_warnings(reader: ConceptFileReader | None) -> tuple[str, ...]:
    """Call after the parts were written: a streamed file's rejects are known only then."""
    return () if reader is None else tuple(reader.warnings)
