"""What both runners' manifests say of the run: one publisher, one accounting."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pytest

from pipeline import __version__
from pipeline.bulk.runner import BulkOptions, bulk_build
from pipeline.config import load_settings
from pipeline.load.manifest import CHANGES_FILE, load_manifest, manifest_object
from pipeline.models import MedgenInput
from tests.bulk.test_bulk import _pubmed_xml, medgen_input, write_baseline_and_update
from tests.fakes.eutils_server import FakeEutils
from tests.support import TEST_EMAIL, build_live, demo_dataset, demo_snapshot

UNREADABLE = 7683357  # its record gets a PMID Version that is no number: a reject
SECRET_KEY = "0123456789abcdef0123456789abcdef0123"


def with_unreadable_record(xml: str) -> str:
    ok = f'<PMID Version="1">{UNREADABLE}</PMID>'
    assert ok in xml
    return xml.replace(ok, f'<PMID Version="one">{UNREADABLE}</PMID>', 1)


def balanced(pmids: dict[str, int]) -> bool:
    return pmids["requested"] == pmids["loaded"] + pmids["rejected"] + pmids["missing"]


def test_build_counts_an_unreadable_record_as_rejected_not_missing(tmp_path):
    dataset = demo_dataset()
    stored = dataset.articles[UNREADABLE]
    dataset.articles[UNREADABLE] = type(stored)(
        stored.pmid, with_unreadable_record(stored.xml), stored.pub_date
    )
    with FakeEutils(dataset) as fake:
        pmids = build_live(fake, tmp_path, "C4725027").manifest["pmids"]
    assert (pmids["rejected"], pmids["missing"], pmids["missing_pmids"]) == (1, 0, [])
    assert balanced(pmids)


def bulk_with_unreadable_record(folder: Path, medgen: MedgenInput) -> dict[str, object]:
    baseline, _ = write_baseline_and_update(folder / "ftp")
    baseline.write_bytes(gzip.compress(with_unreadable_record(_pubmed_xml()).encode(), mtime=0))
    settings = load_settings(env={}, overrides={"out_dir": folder / "out"})
    options = BulkOptions(pubmed=(folder / "ftp",), executor="serial")
    return bulk_build(settings, medgen, options)[1]


def test_bulk_counts_an_unreadable_record_as_rejected_not_missing(tmp_path):
    manifest = bulk_with_unreadable_record(tmp_path, medgen_input())
    pmids = manifest["pmids"]
    assert isinstance(pmids, dict)
    assert pmids["rejected"] == 1
    assert UNREADABLE not in pmids["missing_pmids"]
    assert pmids["missing_pmids"] == pmids["deleted_pmids"]  # the update file deleted one
    assert balanced(pmids)


def test_all_concepts_bulk_counts_an_unreadable_record_as_rejected(tmp_path):
    named = medgen_input()
    ref, concept = named.concepts[0]
    links = named.links[concept.cui]
    table = pa.table({"cui": [concept.cui] * len(links), "pmid": pa.array(links, pa.int64())})
    every = MedgenInput(((ref, concept),), (), {}, link_table=table)
    manifest = bulk_with_unreadable_record(tmp_path, every)
    pmids = manifest["pmids"]
    assert isinstance(pmids, dict)
    assert (pmids["rejected"], UNREADABLE in pmids["missing_pmids"]) == (1, False)
    assert balanced(pmids)


def test_bulk_lists_every_input_file_with_its_size_and_sha256(tmp_path):
    files = write_baseline_and_update(tmp_path / "ftp")
    links = tmp_path / "medgen_pubmed_lnk.txt.gz"
    links.write_bytes(gzip.compress(b"#UID|CUI|NAME|PMID|\n", mtime=0))
    medgen = medgen_input()
    medgen = MedgenInput(medgen.concepts, (), medgen.links, sources=(links,))
    settings = load_settings(env={}, overrides={"out_dir": tmp_path / "out"})
    _, manifest = bulk_build(settings, medgen, BulkOptions(pubmed=files, executor="serial"))
    listed = manifest["bulk"]["files"]
    assert [(f["name"], f["index"]) for f in listed] == [(p.name, i) for i, p in enumerate(files)]
    for entry, path in zip(listed, files, strict=True):
        data = path.read_bytes()
        assert (entry["bytes"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert [f["records"] for f in listed] == [19, 2]
    assert [f["deletions"] for f in listed] == [0, 1]
    data = links.read_bytes()
    assert manifest["bulk"]["medgen_files"] == [
        {"name": links.name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    ]
    assert manifest["run"]["command"] == "bulk"
    arguments = manifest["run"]["arguments"]
    assert arguments["pubmed"] == [str(p) for p in files]
    assert arguments["medgen_files"] == [str(links)]
    assert (arguments["concepts"], arguments["all_concepts"]) == (["C4725027"], False)


def test_a_run_names_its_parent_and_its_arguments_but_no_secret(tmp_path):
    keyed = {"env": {"NCBI_API_KEY": SECRET_KEY}, "rate_limit_with_key": 200.0}
    with FakeEutils(demo_dataset()) as fake:
        first = build_live(fake, tmp_path, "C4725027", settings=keyed)
        second = build_live(fake, tmp_path, "C4725027", per_category=3, settings=keyed)
    assert first.manifest["parent"] is None
    assert second.manifest["parent"] == first.snapshot.name
    run = second.manifest["run"]
    assert (run["command"], run["mode"], run["version"]) == ("build", "full", __version__)
    assert run["arguments"]["concepts"] == ["C4725027"]
    assert run["arguments"]["per_category"] == 3
    assert run["arguments"]["offline"] is False
    text = (second.snapshot / "manifest.json").read_text("utf-8")
    assert TEST_EMAIL not in text
    assert SECRET_KEY not in text


def test_a_rebuild_has_the_same_content_hash_though_its_parent_and_time_differ(tmp_path):
    first = demo_snapshot(tmp_path)
    second = demo_snapshot(tmp_path)
    one, two = load_manifest(first), load_manifest(second)
    assert two.parent == first.name
    assert one.content_hash == two.content_hash
    # All but the changes table, which is told against each one's parent.
    assert {k: v for k, v in one.files.items() if k != CHANGES_FILE} == {
        k: v for k, v in two.files.items() if k != CHANGES_FILE
    }
    assert one.changes is not None
    assert one.changes["added"] == one.files[CHANGES_FILE].rows
    assert two.changes == {"added": 0, "removed": 0, "modified": 0, "retracted": 0}


def test_the_written_manifest_is_the_typed_one_exactly(tmp_path):
    snapshot = demo_snapshot(tmp_path)
    written = json.loads((snapshot / "manifest.json").read_text("utf-8"))
    assert manifest_object(load_manifest(snapshot)) == written
    assert written["format"] == 2
    assert written["source"] == "demo"


@pytest.mark.parametrize("key", ["run", "parent", "bulk", "placeholder_columns", "responses"])
def test_a_format_2_manifest_without_a_key_is_refused_naming_it(tmp_path, key):
    from pipeline.errors import VerifyError
    from pipeline.load.manifest import content_hash

    snapshot = demo_snapshot(tmp_path)
    path = snapshot / "manifest.json"
    written = json.loads(path.read_text("utf-8"))
    del written[key]
    written["content_hash"] = content_hash(written)
    path.write_text(json.dumps(written), "utf-8")
    with pytest.raises(VerifyError, match=f"'{key}' is missing"):
        load_manifest(snapshot)
