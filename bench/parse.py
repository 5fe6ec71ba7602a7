"""Parse benchmark: our bulk parse against a bare lxml pass and two peers, same files, same run.

    make bench            (or: .venv-bench/bin/python bench/parse.py [--records N] [--runs 3])

Builds a corpus of real-shaped PubmedArticle records (from ../shared/ncbi-samples
when present, else the project's demo records), replicated with fresh PMIDs to
100,000 articles in 4 gzipped files, plus one 30,000-record file for peak memory.
Each engine runs in its own subprocess so its peak RSS is its own:

    floor               lxml.etree.iterparse over the 4 files, each record cleared
    ours                pipeline.bulk.parse.parse_file with all tables: parse + normalize
                        + Parquet, 1 process (gzip read with isal)
    ours_thin           the same with --tables articles,authors,journals,citations: lxml
                        is handed the stream without the subtrees those tables never read
                        (pipeline/bulk/skim.py)
    ours_2proc          ours (all tables) through the process pool with 2 workers
    biopython           Bio.Entrez.read of one file (it holds the whole file in memory)
    pubmed_parser_full  pubmed_parser.parse_medline_xml(author_list=True,
                        reference_list=True), its most complete parse
    pubmed_parser       pubmed_parser.parse_medline_xml with its defaults
                        (pubmed_parser is installed in the bench venv only)

Every engine runs ``--runs`` times (3), the rounds interleaved (each round runs
every engine once) so that a machine's load moves all of them alike; each figure
is the median of its runs. Prints records/s, MB/s (uncompressed XML), peak RSS
and each ratio to the floor; the last line is ``RESULT {json}``. No timing
threshold lives in any test.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "ncbi-samples"
CACHE = ROOT / "bench" / ".corpus"
HEAD = (
    '<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
    '1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
    "<PubmedArticleSet>\n"
)
RECORD = re.compile(rb"<PubmedArticle>.*?</PubmedArticle>", re.S)
FIRST_PMID = re.compile(rb'(<MedlineCitation[^>]*>\s*<PMID Version="\d+">)\d+(</PMID>)')


# ------------------------------------------------------------------ corpus


def _sources() -> tuple[list[bytes], str]:
    paths: list[Path] = []
    if SAMPLES.is_dir():
        paths += sorted(SAMPLES.glob("biopython/pubmed*.xml"))
        paths += sorted(SAMPLES.glob("metapub/pmid_xml/*.xml"))
        paths += [*sorted(SAMPLES.glob("bulk/*.xml.gz")), SAMPLES / "bulk" / "medsamp2017.xml"]
        origin = str(SAMPLES)
    else:
        paths = [ROOT / "tests" / "data" / "c4725027" / "pubmed.xml"]
        origin = "the project's demo records (../shared/ncbi-samples absent)"
    records: list[bytes] = []
    for path in paths:
        if path.suffix == ".gz":
            with gzip.open(path) as stream:
                data = stream.read()
        else:
            data = path.read_bytes()
        records += RECORD.findall(data)
    return records, origin


def _write(path: Path, records: list[bytes], count: int, first_pmid: int) -> None:
    with gzip.open(path, "wb", compresslevel=6) as out:
        out.write(HEAD.encode())
        for i in range(count):
            pmid = str(first_pmid + i).encode()
            out.write(FIRST_PMID.sub(rb"\g<1>" + pmid + rb"\g<2>", records[i % len(records)], 1))
            out.write(b"\n")
        out.write(b"</PubmedArticleSet>\n")


def build_corpus(total: int, files: int, rss_records: int) -> tuple[list[Path], Path, str]:
    records, origin = _sources()
    tag = f"{len(records)}-{total}-{files}-{rss_records}"
    folder = CACHE / tag
    paths = [folder / f"pubmed99n{i + 1:04d}.xml.gz" for i in range(files)]
    rss_file = folder / "pubmed99n9999.xml.gz"
    if not (folder / "done").exists():
        folder.mkdir(parents=True, exist_ok=True)
        per = total // files
        for i, path in enumerate(paths):
            _write(path, records, per, 50_000_000 + i * per)
        _write(rss_file, records, rss_records, 60_000_000)
        (folder / "done").write_text(origin)
    return paths, rss_file, origin


# ------------------------------------------------------------------ engines (in a child)


def engine_floor(paths: list[str]) -> int:
    from lxml import etree

    n = 0
    for path in paths:
        with gzip.open(path) as stream:
            for _, el in etree.iterparse(stream, tag="PubmedArticle", resolve_entities=False):
                n += 1
                el.clear()
                while el.getprevious() is not None:
                    del el.getparent()[0]
    return n


def engine_ours(paths: list[str]) -> int:
    from pipeline.bulk.parse import parse_file

    with tempfile.TemporaryDirectory() as work:
        return sum(len(parse_file(p, i, work).pmids) for i, p in enumerate(paths))


def engine_ours_thin(paths: list[str]) -> int:
    from pipeline.bulk.parse import parse_file
    from pipeline.load.schemas import THIN

    with tempfile.TemporaryDirectory() as work:
        return sum(len(parse_file(p, i, work, selected=THIN).pmids) for i, p in enumerate(paths))


def engine_ours_2proc(paths: list[str]) -> int:
    from pipeline.bulk.executors import ProcessExecutor
    from pipeline.bulk.parse import parse_file

    with tempfile.TemporaryDirectory() as work:
        n = len(paths)
        done = ProcessExecutor(2).map(parse_file, paths, list(range(n)), [work] * n)
        return sum(len(d.pmids) for d in done)


def engine_biopython(paths: list[str]) -> int:
    from Bio import Entrez

    read: Any = Entrez.read  # untyped in Biopython
    n = 0
    for path in paths:
        with gzip.open(path) as stream:
            record = read(stream, validate=False)
        n += len(record["PubmedArticle"])
    return n


def engine_pubmed_parser(paths: list[str]) -> int:
    import pubmed_parser

    # parse_medline_xml returns a generator in 0.5.x, a list in older releases.
    return sum(sum(1 for _ in pubmed_parser.parse_medline_xml(p)) for p in paths)


def engine_pubmed_parser_full(paths: list[str]) -> int:
    import pubmed_parser

    return sum(
        sum(1 for _ in pubmed_parser.parse_medline_xml(p, author_list=True, reference_list=True))
        for p in paths
    )


ENGINES = {
    "floor": engine_floor,
    "ours": engine_ours,
    "ours_thin": engine_ours_thin,
    "ours_2proc": engine_ours_2proc,
    "biopython": engine_biopython,
    "pubmed_parser_full": engine_pubmed_parser_full,
    "pubmed_parser": engine_pubmed_parser,
}
# Engines over the 4 files, in the order each round runs them.
FILE_ENGINES = ("floor", "ours", "ours_thin", "ours_2proc", "pubmed_parser_full", "pubmed_parser")


def child(engine: str, paths: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    start = time.perf_counter()
    records = ENGINES[engine](paths)
    seconds = time.perf_counter() - start
    # ru_maxrss is in KiB on Linux; children covers the pool's workers.
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(json.dumps({"records": records, "seconds": seconds, "peak_kib": peak}))


# ------------------------------------------------------------------ driver


def measure(engine: str, paths: list[Path]) -> dict[str, float] | None:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", engine, *map(str, paths)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate()
    if proc.returncode != 0:
        last = err.strip().splitlines()[-1] if err.strip() else proc.returncode
        print(f"  {engine}: failed ({last})")
        return None
    result = json.loads(out.strip().splitlines()[-1])
    mb = sum(_uncompressed(p) for p in paths) / 1e6
    peak = result["peak_kib"] / 1024
    return {
        "records": result["records"],
        "seconds": result["seconds"],
        "rps": result["records"] / result["seconds"],
        "mbps": mb / result["seconds"],
        "peak_rss_mb": peak,
    }


_SIZES: dict[Path, int] = {}


def _uncompressed(path: Path) -> int:
    if path not in _SIZES:
        with gzip.open(path) as stream:
            _SIZES[path] = sum(len(b) for b in iter(lambda: stream.read(1 << 20), b""))
    return _SIZES[path]


def _keep(runs: list[dict[str, float]], result: dict[str, float] | None) -> None:
    if result is not None:
        runs.append(result)


def _median(runs: list[dict[str, float]]) -> dict[str, float] | None:
    """Each figure the median of its runs (records are the same in every run)."""
    if not runs:
        return None
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--rss-records", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=3, help="runs per engine (median)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1:])
        return
    paths, rss_file, origin = build_corpus(args.records, args.files, args.rss_records)
    print(f"corpus: {args.records} records in {len(paths)} gzipped files, from {origin}")
    print(
        "floor and peers read all of the XML through the gzip module; ours reads gzip with"
        " isal; ours_thin parses the stream without the subtrees its tables never read"
        " (bulk/skim.py)"
    )
    runs: dict[str, list[dict[str, float]]] = {e: [] for e in ENGINES}
    rss_runs: list[dict[str, float]] = []
    for round_ in range(args.runs):
        print(f"round {round_ + 1} of {args.runs}", flush=True)
        for engine in FILE_ENGINES:
            _keep(runs[engine], measure(engine, paths))
        # Bio.Entrez.read holds a whole file: one file is enough to know its rate.
        _keep(runs["biopython"], measure("biopython", paths[:1]))
        _keep(rss_runs, measure("ours", [rss_file]))
    results = {engine: _median(r) for engine, r in runs.items()}
    rss = _median(rss_runs)
    floor = results["floor"]
    for engine, r in results.items():
        if r is None:
            continue
        ratio = r["rps"] / floor["rps"] if floor else float("nan")
        print(
            f"  {engine:18s} {r['records']:>8.0f} records {r['rps']:>9.0f} rec/s "
            f"{r['mbps']:>7.1f} MB/s  peak RSS {r['peak_rss_mb']:>7.0f} MB  x{ratio:.2f} of floor"
            f"  (median of {len(runs[engine])})"
        )
    ours, two = results["ours"], results["ours_2proc"]
    speedup = two["rps"] / ours["rps"] if ours and two else None
    print(f"  1 -> 2 processes: x{speedup:.2f}" if speedup else "  1 -> 2 processes: n/a")
    if rss:
        print(f"  ours on one {args.rss_records}-record file: peak RSS {rss['peak_rss_mb']:.0f} MB")
    for name, peer in (
        ("pubmed_parser full", "pubmed_parser_full"),
        ("pubmed_parser defaults", "pubmed_parser"),
        ("Bio.Entrez.read", "biopython"),
    ):
        other = results[peer]
        if ours and other:
            print(f"  ours (all tables) / {name}: x{ours['rps'] / other['rps']:.2f}")

    def rps(name: str) -> float | None:
        r = results.get(name)
        return round(r["rps"], 1) if r else None

    summary = {
        "floor_rps": rps("floor"),
        "ours_rps": rps("ours"),
        "ours_thin_rps": rps("ours_thin"),
        "ours_2proc_rps": rps("ours_2proc"),
        "biopython_rps": rps("biopython"),
        "pubmed_parser_rps": rps("pubmed_parser"),
        "pubmed_parser_full_rps": rps("pubmed_parser_full"),
        "runs": args.runs,
        "ours_peak_rss_mb": round(rss["peak_rss_mb"], 1) if rss else None,
        "speedup_2proc": round(speedup, 2) if speedup else None,
    }
    print("RESULT " + json.dumps(summary))


if __name__ == "__main__":
    main()
