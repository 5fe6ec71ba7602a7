"""Reports opened in headless Chromium: drawn, complete, and fetching nothing.

Needs the Debian package ``chromium`` (``.ci/run`` installs it); skipped without it.
Every host name resolves to nothing (``--host-resolver-rules``), so not even the
browser's own background requests leave the machine, and the net log tells the
page's requests (initiated by the file) from the browser's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pipeline.load.survey import survey
from pipeline.report import write_report
from pipeline.transform.citations import citation_line
from tests.fakes.world import CONCEPTS
from tests.support import HEADINGS, expected_page_lines, page_text

CHROMIUM = shutil.which("chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-pings",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--window-size=1280,2000",
)

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium not installed (Debian package `chromium`; .ci/run installs it)",
)


@pytest.fixture
def browse(tmp_path):
    """Open a page once to dump its DOM and once for a screenshot, each with a net log."""
    runs = iter(range(1000))

    def open_page(page: Path, *mode: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        n = next(runs)
        net_log = tmp_path / f"net-{n}.json"
        command = [
            str(CHROMIUM),
            *FLAGS,
            f"--user-data-dir={tmp_path / f'profile-{n}'}",
            f"--log-net-log={net_log}",
            *mode,
            page.resolve().as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return done, net_log

    return open_page


def page_requests(net_log: Path) -> list[str]:
    """URLs the page asked for: requests whose initiator is the file, not the browser."""
    log = json.loads(net_log.read_text("utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        e["params"]["url"]
        for e in _events(log)
        if e["type"] == start and e["params"].get("initiator") != "not an origin"
    ]


def _events(log: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for event in log["events"]:
        if isinstance(event.get("params"), dict) and "url" in event["params"]:
            yield event


def assert_drawn(png: Path) -> None:
    with Image.open(png) as image:
        pixels = image.convert("RGB")
        width, height = pixels.size
        sample = [pixels.getpixel((x, y)) for x in range(0, width, 7) for y in range(0, height, 7)]
    colours = set(sample)
    inked = sum(1 for p in sample if p != (255, 255, 255) and p != sample[0])
    assert len(colours) > 50, f"{len(colours)} colours: a blank page"
    assert inked > len(sample) // 50, f"{inked} of {len(sample)} sampled pixels drawn"


def check_report(browse, page: Path, tmp_path: Path) -> str:
    dom, dom_log = browse(page, "--dump-dom")
    shot = tmp_path / f"{page.stem}.png"
    _, shot_log = browse(page, f"--screenshot={shot}")
    assert page_requests(dom_log) == []
    assert page_requests(shot_log) == []
    assert_drawn(shot)
    return page_text(dom.stdout)


def test_the_demo_report_opens_drawn_and_complete_without_a_request(
    browse, demo_snapshot, tmp_path
):
    page = write_report(demo_snapshot, tmp_path / "demo.html")
    text = check_report(browse, page, tmp_path)
    assert "Refractory Acute Leukemia" in text
    assert "this is the hand-written demo, not NCBI's data" in text
    for heading in HEADINGS:
        assert heading in text
    for line in expected_page_lines(free_pmc=False):
        assert line in text
    for key in ("requested", "loaded", "rejected", "missing"):
        assert f"{getattr(survey(demo_snapshot).manifest.pmids, key)} PMIDs {key}" in text


def test_a_fake_world_report_opens_drawn_and_complete_without_a_request(
    browse, world_snapshot, tmp_path
):
    page = write_report(world_snapshot, tmp_path / "world.html")
    text = check_report(browse, page, tmp_path)
    data = survey(world_snapshot)
    for concept in CONCEPTS:
        assert concept.title in text
    for heading in HEADINGS:
        assert heading in text
    for surveyed in data.concepts:
        for rows in surveyed.newest.values():
            for r in rows:
                line = citation_line(
                    r["source"], r["epub_date"], r["doi_display"], r["pmid"], bool(r["pmcid"])
                )
                assert line in text
    for key in ("requested", "loaded", "rejected", "missing"):
        assert f"{getattr(data.manifest.pmids, key)} PMIDs {key}" in text
    assert "hand-written demo" not in text


def test_the_request_check_sees_a_page_that_fetches(browse, tmp_path):
    page = tmp_path / "fetching.html"
    page.write_text(
        '<!DOCTYPE html><html><body><p>x</p><img src="http://example.invalid/pixel.png">'
        "</body></html>",
        "utf-8",
    )
    _, net_log = browse(page, "--dump-dom")
    assert page_requests(net_log) == ["http://example.invalid/pixel.png"]
