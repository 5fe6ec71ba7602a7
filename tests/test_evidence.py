"""--evidence medgen,mesh: articles indexed with the concept's MeSH ids join its citations.

One small world serves both paths: a concept whose MedGen links name two articles, and
whose MeSH supplementary concept (and descriptor) index four more, one outside the
therapy filter and one under an unrelated supplementary concept. Through ``build`` (the
loopback fake E-utilities) and through ``bulk`` (files written here), the MeSH-indexed
articles the links lack are added, marked ``mesh`` (``mesh_major`` where the heading is a
major topic), ranked newest first with the linked ones; without the flag nothing changes.
"""

from __future__ import annotations

import gzip
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.bulk.concept_files import ConceptFiles
from pipeline.bulk.medgen import read_medgen
from pipeline.bulk.runner import BulkOptions, bulk_build
from pipeline.cli import main
from pipeline.config import load_settings, parse_categories
from pipeline.load import schemas
from pipeline.models import ConceptRef
from pipeline.plan import plan
from pipeline.runner import BuildOptions, make_client
from pipeline.transform import evidence
from tests.fakes.dataset import Dataset, FakeConcept, pubmed_article
from tests.fakes.eutils_server import FakeEutils
from tests.support import build_live, live_settings, options
from tests.test_scale import client_for

CUI, UID = "C0000777", 777
SUPPLEMENTARY, DESCRIPTOR = "C000657245", "D015470"
THERAPY = "Therapy/Broad[filter]"
EVERYTHING = "all[sb]"
LINKED = (101, 102)
# pmid -> (year, MeSH headings, supplementary concepts, publication types)
WORLD: dict[int, tuple[int, Any, Any, tuple[str, ...]]] = {
    101: (2019, (), (), ("Journal Article",)),
    102: (2021, (), ((SUPPLEMENTARY, "Rare syndrome"),), ("Journal Article",)),
    103: (2022, (), ((SUPPLEMENTARY, "Rare syndrome"),), ("Journal Article",)),
    104: (2020, ((DESCRIPTOR, "Rare Syndromes", True),), (), ("Systematic Review",)),
    105: (2023, (), (("C999999999", "Another syndrome"),), ("Journal Article",)),
    106: (2024, (), ((SUPPLEMENTARY, "Rare syndrome"),), ("Journal Article",)),
}
THERAPY_PMIDS = (101, 102, 103, 104, 105)
CATEGORIES = (
    f'[[category]]\nname = "therapy"\nheading = "Therapy"\nterm = "{THERAPY}"\n'
    f'[[category]]\nname = "everything"\nheading = "Everything"\nterm = "{EVERYTHING}"\n'
)


def articles() -> list[str]:
    return [
        pubmed_article(pmid, year=year, mesh=mesh, supplementary=suppl, publication_types=types)
        for pmid, (year, mesh, suppl, types) in WORLD.items()
    ]


def world() -> Dataset:
    concept = FakeConcept(
        uid=UID, concept_id=CUI, title="Rare syndrome", mesh_ids=(SUPPLEMENTARY, DESCRIPTOR)
    )
    filters = {THERAPY: THERAPY_PMIDS, EVERYTHING: tuple(WORLD)}
    return Dataset([concept], articles(), {UID: LINKED}, filters)


def rows(snapshot: Path, category: str) -> list[tuple[int, int, list[str]]]:
    table = pq.read_table(snapshot / "citations" / f"category={category}" / "part-0.parquet")
    found = sorted(table.to_pylist(), key=lambda r: r["rank"])
    return [(r["rank"], r["pmid"], r["evidence"]) for r in found]


@pytest.fixture
def fake():
    with FakeEutils(world()) as server:
        yield server


def build_world(fake: FakeEutils, out: Path, **kw: Any) -> Any:
    categories = parse_categories(CATEGORIES, "categories.toml")
    return build_live(fake, out, CUI, settings={"categories": categories}, **kw)


# ------------------------------------------------------------------ build


def test_mesh_evidence_adds_exactly_the_mesh_indexed_articles_ranked_newest_first(fake, tmp_path):
    result = build_world(fake, tmp_path, evidence=("medgen", "mesh"))
    assert rows(result.snapshot, "therapy") == [
        (1, 103, ["mesh"]),
        (2, 102, ["medgen_link", "mesh"]),
        (3, 104, ["mesh", "mesh_major"]),
        (4, 101, ["medgen_link"]),
    ]
    assert [pmid for _, pmid, _ in rows(result.snapshot, "everything")] == [106, 103, 102, 104, 101]
    entry = result.manifest["categories"]["per_concept"][f"{CUI}/therapy"]
    assert entry["evidence"] == {"medgen_link": 2, "mesh": 3, "mesh_major": 1}
    assert result.manifest["categories"]["evidence"] == ["medgen", "mesh"]
    pmids = result.manifest["pmids"]
    assert pmids["requested"] == pmids["loaded"] == 5


def test_mesh_searches_or_the_mesh_ids_to_the_linked_set_and_and_the_filter(fake, tmp_path):
    build_world(fake, tmp_path, evidence=("medgen", "mesh"))
    terms = [r.params["term"] for r in fake.requests_for("esearch") if "WebEnv" in r.params]
    mesh = f'"{SUPPLEMENTARY}"[nm] OR "{DESCRIPTOR}"[mh:noexp]'
    assert f"(#1 OR {mesh}) AND {THERAPY}" in terms
    assert f"#1 AND {THERAPY}" in terms  # which rows MedGen links


def test_without_the_flag_nothing_changes_and_no_mesh_search_is_sent(fake, tmp_path):
    result = build_world(fake, tmp_path)
    assert rows(result.snapshot, "therapy") == [
        (1, 102, ["medgen_link"]),
        (2, 101, ["medgen_link"]),
    ]
    terms = [r.params.get("term", "") for r in fake.requests_for("esearch")]
    assert not [t for t in terms if "[nm]" in t or "[mh" in t]
    entry = result.manifest["categories"]["per_concept"][f"{CUI}/therapy"]
    assert entry["evidence"] == {"medgen_link": 2, "mesh": 0, "mesh_major": 0}


def test_a_concept_without_mesh_ids_sends_the_default_searches_only(tmp_path):
    dataset = world()
    dataset.concepts[str(UID)] = FakeConcept(uid=UID, concept_id=CUI, title="Rare syndrome")
    with FakeEutils(dataset) as server:
        plain = build_world(server, tmp_path / "plain")
        sent = [r.params for r in server.requests_for("esearch")]
    with FakeEutils(dataset) as server:
        mesh = build_world(server, tmp_path / "mesh", evidence=("medgen", "mesh"))
        assert [r.params for r in server.requests_for("esearch")] == sent
    assert rows(mesh.snapshot, "therapy") == rows(plain.snapshot, "therapy")


def test_the_plan_counts_the_widened_searches_and_the_build_stays_within_it(fake, tmp_path):
    categories = parse_categories(CATEGORIES, "categories.toml")
    settings = live_settings(fake, tmp_path, categories=categories)
    mesh = ("medgen", "mesh")
    the_plan = plan(settings, options(tmp_path, CUI, evidence=mesh))
    plain = plan(settings, options(tmp_path, CUI))
    assert the_plan.concepts[0].counts == {"therapy": 4, "everything": 5}
    assert the_plan.requests == plain.requests + 2  # one widened search per category
    before = len(fake.requests)
    build_world(fake, tmp_path, evidence=mesh)
    assert len(fake.requests) - before <= the_plan.requests


@pytest.mark.parametrize("style", ["absent", "info"])
def test_a_concept_without_links_gets_its_mesh_indexed_articles_alone(tmp_path, style):
    dataset = world()
    dataset.links = {}
    with FakeEutils(dataset, empty_link_style=style) as server:
        result = build_world(server, tmp_path, evidence=("medgen", "mesh"))
    assert rows(result.snapshot, "therapy") == [
        (1, 103, ["mesh"]),
        (2, 102, ["mesh"]),
        (3, 104, ["mesh", "mesh_major"]),
    ]


def test_a_lost_session_is_rebuilt_with_the_mesh_terms_kept(fake, tmp_path):
    client = client_for(fake, tmp_path)
    link = client.link_pubmed(UID)
    fake.forget_sessions()
    widened = replace(link, also=evidence.mesh_term((SUPPLEMENTARY, DESCRIPTOR)))
    hit, renewed = client.search_category(widened, THERAPY, page_size=100, limit=None)
    assert hit.pmids == (103, 102, 104, 101)
    assert renewed.also == widened.also
    assert renewed.webenv != link.webenv


# ------------------------------------------------------------------ bulk


def write_files(folder: Path) -> tuple[Path, ConceptFiles, Path]:
    """Made here: the world's links, the concept's MSH names (MGCONSO) and one PubMed file."""
    folder.mkdir(parents=True, exist_ok=True)
    links = folder / "medgen_pubmed_lnk.txt.gz"
    lines = "".join(f"{UID}|{CUI}|Rare syndrome|{p}|\n" for p in LINKED)
    links.write_bytes(gzip.compress(f"#UID|CUI|NAME|PMID|\n{lines}".encode()))
    conso = folder / "MGCONSO.RRF"
    conso.write_text(
        "#CUI|TS|STT|ISPREF|AUI|SAUI|SCUI|SDUI|SAB|TTY|CODE|STR|SUPPRESS|\n"
        f"{CUI}|P|PF|Y|A1||M1|{SUPPLEMENTARY}|MSH|NM|{SUPPLEMENTARY}|Rare syndrome|N|\n"
        f"{CUI}|S|PF|Y|A2||M2|{DESCRIPTOR}|MSH|MH|{DESCRIPTOR}|Rare Syndromes|N|\n"
    )
    pubmed = folder / "pubmed26n0001.xml.gz"
    body = f"<PubmedArticleSet>{''.join(articles())}</PubmedArticleSet>"
    pubmed.write_bytes(gzip.compress(body.encode()))
    return links, ConceptFiles(conso, None, None, None, None), pubmed


def bulk_world(tmp: Path, *sources: str, tables: tuple[str, ...] | None = None) -> Any:
    links, files, pubmed = write_files(tmp / "files")
    medgen = read_medgen([ConceptRef("cui", CUI)], links, None, None, files)
    settings = load_settings(env={}, overrides={"out_dir": tmp / "out"})
    options = BulkOptions(
        pubmed=(pubmed,),
        executor="serial",
        evidence=("medgen", *sources),
        tables=tables or schemas.SELECTABLE,
    )
    return bulk_build(settings, medgen, options)


def test_bulk_mesh_evidence_adds_the_records_indexed_with_the_concepts_mesh_ids(tmp_path):
    snapshot, manifest = bulk_world(tmp_path, "mesh")
    assert rows(snapshot, "linked") == [
        (1, 106, ["mesh"]),
        (2, 103, ["mesh"]),
        (3, 102, ["medgen_link", "mesh"]),
        (4, 104, ["mesh", "mesh_major"]),
        (5, 101, ["medgen_link"]),
    ]
    assert rows(snapshot, "systematic_reviews") == [(1, 104, ["mesh", "mesh_major"])]
    assert manifest["categories"]["per_concept"][f"{CUI}/linked"]["evidence"] == {
        "medgen_link": 2,
        "mesh": 4,
        "mesh_major": 1,
    }
    assert manifest["pmids"]["requested"] == manifest["pmids"]["loaded"] == 5
    articles_table = pq.read_table(snapshot / "articles" / "part-0.parquet")
    assert sorted(articles_table["pmid"].to_pylist()) == [101, 102, 103, 104, 106]


def test_bulk_without_the_flag_keeps_the_linked_records_alone(tmp_path):
    snapshot, manifest = bulk_world(tmp_path)
    assert rows(snapshot, "linked") == [(1, 102, ["medgen_link"]), (2, 101, ["medgen_link"])]
    assert manifest["pmids"]["requested"] == 2


def test_bulk_mesh_evidence_reads_the_mesh_lists_even_when_their_tables_are_not_written(
    tmp_path,
):
    thin = ("articles", "authors", "journals", "citations")
    snapshot, _ = bulk_world(tmp_path, "mesh", tables=thin)
    assert [pmid for _, pmid, _ in rows(snapshot, "linked")] == [106, 103, 102, 104, 101]


def test_online_bulk_with_mesh_evidence_gives_the_rows_build_gives(fake, tmp_path):
    mesh = ("medgen", "mesh")
    built = build_world(fake, tmp_path / "build", evidence=mesh)
    links, files, pubmed = write_files(tmp_path / "files")
    medgen = read_medgen([ConceptRef("cui", CUI)], links, None, None, files)
    categories = parse_categories(CATEGORIES, "categories.toml")
    settings = live_settings(fake, tmp_path / "bulk", categories=categories)
    client = make_client(settings, BuildOptions(concepts=(), raw_dir=tmp_path / "raw"))
    options = BulkOptions(pubmed=(pubmed,), online=True, executor="serial", evidence=mesh)
    snapshot, _ = bulk_build(settings, medgen, options, client=client)
    for category in ("therapy", "everything"):
        assert rows(snapshot, category) == rows(built.snapshot, category)


# ------------------------------------------------------------------ the command line


def test_an_unknown_evidence_name_exits_2_naming_it(tmp_path):
    result = CliRunner().invoke(
        main, ["build", "--concept", CUI, "--out", str(tmp_path), "--evidence", "medgen,mesch"]
    )
    assert result.exit_code == 2
    assert "'mesch'" in result.output


def test_bulk_mesh_evidence_without_mgconso_exits_2_saying_so(tmp_path):
    links, _, pubmed = write_files(tmp_path / "files")
    args = ["bulk", "--concept", CUI, "--links", str(links), "--pubmed", str(pubmed)]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path), "--evidence", "medgen,mesh"])
    assert result.exit_code == 2
    assert "--conso" in result.output
