"""Rows of MedGen's concept files (see :mod:`pipeline.transform.medgen_rrf`) → detail tables.

Each function takes one block's rows and returns the rows of one table of
:mod:`pipeline.load.concept_tables`, in file order, as Arrow columns. What each
column is taken from, so that the bulk files give the rows a summary gives:

* ``concept_codes`` ← MGCONSO: SAB, CODE, SDUI, TTY, STR; ``preferred`` is the
  atom that names the concept (TS ``P``, STT ``PF`` and ISPREF ``Y``). Rows with a
  SUPPRESS other than ``N`` (suppressible, obsolete: names the summaries do not show)
  are left out and counted.
* ``concept_relations`` ← MGREL: CUI1, RELA when given else REL, CUI2, SAB (suppressed
  rows left out and counted, as above).
* ``concept_features`` and ``concept_inheritance`` ← MedGen_HPO_OMIM_Mapping, its
  ``manifestation_of`` rows (``not_manifestation_of`` says the feature is absent): an HPO
  term of semantic type "Genetic Function" (T045: the modes of inheritance) is the
  concept's inheritance, any other its clinical feature (HPO_CUI, HPO_Id, MedGen_name, STY).
* ``concept_genes`` ← mim2gene_medgen, its ``phenotype`` rows with a GeneID and a MedGenCUI:
  the file has no symbol or location, so those are null.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.load.concept_tables import (
    CONCEPT_CODES,
    CONCEPT_FEATURES,
    CONCEPT_GENES,
    CONCEPT_INHERITANCE,
    CONCEPT_RELATIONS,
)

GENETIC_FUNCTION = "Genetic Function"


def unsuppressed(rows: pa.Table) -> pa.Array:
    """Which rows are not suppressed (SUPPRESS ``N``; a missing value counts as ``N``)."""
    return pc.fill_null(pc.equal(rows["SUPPRESS"], "N"), True)


def wanted_mask(cuis: pa.Array, wanted: pa.Array | None) -> pa.Array:
    if wanted is None:
        return pa.array([True] * len(cuis), pa.bool_())
    return pc.is_in(cuis, wanted)


def _is(values: pa.Array, value: str) -> pa.Array:
    return pc.fill_null(pc.equal(values, value), False)


def codes(rows: pa.Table, wanted: pa.Array | None) -> pa.Table:
    keep = rows.filter(pc.and_(wanted_mask(rows["CUI"], wanted), unsuppressed(rows)))
    preferred = pc.and_(
        pc.and_(_is(keep["TS"], "P"), _is(keep["STT"], "PF")), _is(keep["ISPREF"], "Y")
    )
    return pa.table(
        [keep["CUI"], keep["SAB"], keep["CODE"], keep["SDUI"], keep["TTY"], keep["STR"], preferred],
        schema=CONCEPT_CODES,
    )


def relations(rows: pa.Table, wanted: pa.Array | None) -> pa.Table:
    keep = rows.filter(pc.and_(wanted_mask(rows["CUI1"], wanted), unsuppressed(rows)))
    relation = pc.coalesce(keep["RELA"], keep["REL"])
    return pa.table([keep["CUI1"], relation, keep["CUI2"], keep["SAB"]], schema=CONCEPT_RELATIONS)


def _manifestations(rows: pa.Table, wanted: pa.Array | None, inheritance: bool) -> pa.Table:
    genetic = _is(rows["STY"], GENETIC_FUNCTION)
    kind = genetic if inheritance else pc.invert(genetic)
    keep = wanted_mask(rows["OMIM_CUI"], wanted)
    return rows.filter(pc.and_(pc.and_(keep, _is(rows["relationship"], "manifestation_of")), kind))


def features(rows: pa.Table, wanted: pa.Array | None) -> pa.Table:
    keep = _manifestations(rows, wanted, inheritance=False)
    return pa.table(
        [keep["OMIM_CUI"], keep["HPO_CUI"], keep["HPO_Id"], keep["MedGen_name"], keep["STY"]],
        schema=CONCEPT_FEATURES,
    )


def inheritance(rows: pa.Table, wanted: pa.Array | None) -> pa.Table:
    keep = _manifestations(rows, wanted, inheritance=True)
    return pa.table(
        [keep["OMIM_CUI"], keep["HPO_CUI"], keep["MedGen_name"]], schema=CONCEPT_INHERITANCE
    )


def genes(rows: pa.Table, wanted: pa.Array | None) -> pa.Table:
    cui = rows["MedGenCUI"]
    linked = pc.and_(pc.is_valid(cui), pc.is_valid(rows["GeneID"]))
    keep = rows.filter(
        pc.and_(pc.and_(linked, _is(rows["type"], "phenotype")), wanted_mask(cui, wanted))
    )
    none = pa.nulls(keep.num_rows, pa.string())
    return pa.table([keep["MedGenCUI"], keep["GeneID"], none, none, none], schema=CONCEPT_GENES)
