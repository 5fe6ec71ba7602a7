"""Records the embedded demo raw store (pipeline/demo/raw) from the demo dataset.

The responses are what the real pipeline stores when it runs live against the
project's fake E-utilities serving tests/data/c4725027 (hand-written from the
reference page; see its README). Run from the project root:

    .venv/bin/python -m tests.fakes.record_demo pipeline/demo/raw

tests/test_demo_store.py re-records into a temporary folder and checks that the
shipped store holds the same files, the same bodies and the same answers, so the
two cannot drift apart. The recording is byte-identical for a given zstandard
release (the level is pinned); the test compares what the objects decompress to,
so a zstandard upgrade that packs differently does not fail it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from pipeline.extract.rawstore import ANSWERS, Provenance, RawStore, write_provenance
from pipeline.extract.store_users import OUTPUTS
from pipeline.models import ConceptRef
from pipeline.runner import BuildOptions, build
from tests.fakes.eutils_server import FakeEutils
from tests.support import demo_dataset, live_settings

DEMO_CONCEPT = ConceptRef("cui", "C4725027")
DEMO_WEBENV_PREFIX = "MCID_DEMO_RECORDING"
# The columns the dataset fills with placeholders or stand-ins (its README lists each value):
# the marker carries them into every manifest built from the store.
PLACEHOLDER_COLUMNS = (
    "article_ids.value",
    "articles.journal_nlm_id",
    "articles.journal_title",
    "articles.languages",
    "articles.pmcid",
    "articles.publication_type_uis",
    "articles.publication_types",
    "articles.status",
    "articles.title",
    "citations.pmcid",
    "citations.title",
    "concept_codes.source",
    "concept_codes.term_type",
    "concepts.db_build",
    "concepts.names",
    "journals.nlm_id",
    "journals.title",
)
DEMO_PROVENANCE = Provenance("demo", PLACEHOLDER_COLUMNS)


def record(raw_dir: Path) -> None:
    with (
        tempfile.TemporaryDirectory() as out,
        FakeEutils(demo_dataset(), webenv_prefix=DEMO_WEBENV_PREFIX) as fake,
    ):
        settings = live_settings(fake, Path(out))
        build(settings, BuildOptions(concepts=(DEMO_CONCEPT,), raw_dir=raw_dir))
    shutil.rmtree(raw_dir / "runs", ignore_errors=True)
    shutil.rmtree(raw_dir / OUTPUTS, ignore_errors=True)  # the recording's temporary output
    _drop_run_tokens(raw_dir)
    write_provenance(raw_dir, DEMO_PROVENANCE)


_ORDER = {"esearch": 0, "esummary": 1, "elink": 2, "efetch": 4, "einfo": 5}


def request_table(raw_dir: Path) -> str:
    """The README's table of recorded requests, in the order a build sends them."""
    rows = []
    for entry in RawStore(raw_dir).entries():
        params = " ".join(f"{k}={v}" for k, v in sorted(entry.params.items()))
        rank = 3 if entry.utility == "esearch" and entry.params.get("db") == "pubmed" else 0
        order = (rank or _ORDER[entry.utility], params)
        obj = entry.answers[-1].sha256
        rows.append(
            (
                order,
                f"| `{entry.utility}` | `{params}` | `{entry.key[:8]}…` | `{obj[:8]}…` |",
            )
        )
    lines = ["| utility | parameters | key | object |", "|---|---|---|---|"]
    lines += [row for _, row in sorted(rows)]
    return "\n".join(lines)


def write_readme_table(readme: Path, raw_dir: Path) -> None:
    text = readme.read_text("utf-8")
    start = text.index(_START) + len(_START)
    end = text.index(_END)
    readme.write_text(text[:start] + "\n" + request_table(raw_dir) + "\n" + text[end:], "utf-8")


_START = "<!-- requests:start (written by tests/fakes/record_demo.py) -->"
_END = "<!-- requests:end -->"


def _drop_run_tokens(raw_dir: Path) -> None:
    """A run's token and the time it fetched are not the same at two recordings:
    the shipped store keeps only what was asked and answered."""
    for path in sorted((raw_dir / ANSWERS).glob("*/*.json")):
        data = json.loads(path.read_text("utf-8"))
        for answer in data["answers"]:
            for volatile in ("run", "fetched_at", "last_run", "last_fetched_at"):
                answer.pop(volatile, None)
        path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", "utf-8")
    (raw_dir / ".index.lock").unlink(missing_ok=True)


if __name__ == "__main__":
    target = Path(sys.argv[1])
    with tempfile.TemporaryDirectory() as cache:
        # The recording shares no rate limit with the user's own runs (tests do the same).
        os.environ.setdefault("XDG_CACHE_HOME", cache)
        shutil.rmtree(target, ignore_errors=True)
        record(target)
    write_readme_table(target.parent / "README.md", target)
    print(target)
