"""The report page: what it says of the demo and of a fake world, and what it never does."""

from __future__ import annotations

import re

from pipeline import __version__
from pipeline.load.survey import survey
from pipeline.report.html import render
from tests.fakes.world import CONCEPTS
from tests.support import (
    HEADINGS,
    expected_page_lines,
    page_text,
    thin_demo_snapshot,
    with_newer_tables,
)

OPTIONAL = ("Retracted citations", "Top MeSH headings", "What changed since the parent snapshot")


def test_the_demo_report_says_it_is_the_demo_and_lists_the_page_lines(demo_snapshot):
    text = page_text(render(survey(demo_snapshot)))
    assert "this is the hand-written demo, not NCBI's data" in text
    assert "Refractory Acute Leukemia" in text
    assert "Acute leukemia that does not respond to treatment." in text
    for heading in HEADINGS:
        assert heading in text
    for line in expected_page_lines(free_pmc=False):
        assert line in text


def test_a_placeholder_pmc_id_is_never_shown_as_a_free_pmc_article(demo_snapshot):
    page = render(survey(demo_snapshot))
    assert "Free PMC Article" not in page
    assert "PMC_PLACEHOLDER" not in page


def test_real_pmc_ids_are_shown_as_the_page_shows_them(world_snapshot):
    text = page_text(render(survey(world_snapshot)))
    assert "PMID: 30000029Free PMC Article" in text  # offset 28: every 4th article has one
    assert "PMID: 30000028 " in text
    assert "hand-written demo" not in text


def test_each_concept_has_a_section_and_a_line_in_the_overview(world_snapshot):
    page = render(survey(world_snapshot))
    for concept in CONCEPTS:
        assert f'href="#c-{concept.concept_id}"' in page
        assert f'id="c-{concept.concept_id}"' in page
        assert concept.title in page
    assert "Fake inflammation; Fakeitis syndrome" in page_text(page)


def test_the_overview_gives_the_manifest_counts_and_provenance(world_snapshot):
    data = survey(world_snapshot)
    text = page_text(render(data))
    pmids = data.manifest.pmids
    for key in ("requested", "loaded", "rejected", "missing"):
        assert f"{getattr(pmids, key)} PMIDs {key}" in text
    assert "source eutils" in text
    assert f"made by medgen-etl {__version__} build (full)" in text
    assert str(data.manifest.content_hash) in text
    assert str(data.manifest.ncbi["pubmed"].db_build) in text


def test_the_demo_report_says_none_are_retracted_or_indexed_and_omits_what_changed(
    demo_snapshot,
):
    text = page_text(render(survey(demo_snapshot)))
    assert "Retracted citations none" in text
    assert "Top MeSH headings none" in text
    assert "What changed since the parent snapshot" not in text  # no changes table


def test_sections_for_tables_a_snapshot_lacks_are_omitted(tmp_path):
    snapshot = thin_demo_snapshot(tmp_path / "thin")
    text = page_text(render(survey(snapshot)))
    assert "Top MeSH headings" not in text
    assert "What changed since the parent snapshot" not in text


def test_sections_for_newer_tables_appear_when_the_snapshot_has_them(world_snapshot, tmp_path):
    snapshot = with_newer_tables(world_snapshot, tmp_path / "snap")
    text = page_text(render(survey(snapshot, ["C9100001"])))
    for heading in OPTIONAL:
        assert heading in text
    assert "[Retracted]" in text
    assert "Neoplasms" in text
    assert "Added: 2 (the newest 2 below)" in text


def test_the_page_fetches_nothing_and_links_only_to_pubmed_pmc_and_doi(world_snapshot):
    page = render(survey(world_snapshot))
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", page)
    assert all(u.startswith("#") for u in re.findall(r"url\(\s*['\"]?([^)'\"]*)", page))
    assert "@import" not in page
    for target in re.findall(r'(?:href|src)="([^"]*)"', page):
        assert target.startswith(
            (
                "#",
                "https://pubmed.ncbi.nlm.nih.gov/",
                "https://pmc.ncbi.nlm.nih.gov/",
                "https://doi.org/",
            )
        ), target


def test_the_same_snapshot_gives_the_same_page(world_snapshot):
    assert render(survey(world_snapshot)) == render(survey(world_snapshot))


def test_a_bulk_snapshot_reports_its_own_categories_and_mode(tmp_path):
    from tests.bulk.test_bulk import run_bulk

    snapshot, manifest = run_bulk(tmp_path, "serial")
    text = page_text(render(survey(snapshot)))
    assert "source bulk" in text
    assert manifest["categories"]["mode"] in text
    assert "All linked citations" in text
    assert "Refractory Acute Leukemia" in text
    assert f"{manifest['pmids']['missing']} PMIDs missing" in text
    for pmid in manifest["pmids"]["missing_pmids"]:
        assert str(pmid) in text
