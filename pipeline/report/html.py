"""One self-contained HTML page per snapshot: inline CSS and SVG, no script, no fetch.

The page opens with where the data came from and the accounting of the run, a
plot of citations per category per year over every concept in the report, and an
overview table linking to one section per concept. Each section holds small
tables and one-path sparklines (citations and spread per heading, exact counts
per year folded in a ``<details>``, top journals, the newest five of each
heading as the MedGen page prints them) rather than a plot of its own: one
matplotlib SVG weighs 55-85 KB, so a plot per concept would make a 5,000-concept
report about 400 MB, while a section stays at a few kilobytes bounded by its
years and headings, so the page grows linearly with the number of concepts.
Sections off screen are not laid out until scrolled to (``content-visibility``).
The only links are plain anchors to PubMed, PMC and doi.org, followed only when
clicked.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from html import escape
from typing import Any

from pipeline.listing import demo_notice
from pipeline.load.manifest import Manifest
from pipeline.load.survey import NEWEST, ConceptSurvey, Survey
from pipeline.models import Category
from pipeline.report.plot import PALETTE, year_plot
from pipeline.transform.citations import citation_line

PUBMED = "https://pubmed.ncbi.nlm.nih.gov/"
PMC = "https://pmc.ncbi.nlm.nih.gov/articles/"

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;
margin:0;background:#f6f7f9}
main{max-width:1080px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:26px;margin:0 0 4px}h2{font-size:21px;margin:32px 0 8px;
border-bottom:2px solid #e3e6ea;padding-bottom:4px}
h3{font-size:16px;margin:22px 0 6px;color:#33404d}h4{font-size:15px;margin:14px 0 4px}
a{color:#0b5cad}.muted{color:#5d6b79}.small{font-size:13px}
.notice{background:#fff4d6;border:1px solid #e0b84f;border-radius:6px;padding:8px 12px;
margin:12px 0;font-weight:600}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:12px 0}
dl.facts dt{color:#5d6b79}dl.facts dd{margin:0;font-family:ui-monospace,monospace;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.card{border:1px solid #e3e6ea;border-radius:8px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:22px}.card span{color:#5d6b79;font-size:13px}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
th,td{border-bottom:1px solid #eceef1;padding:3px 8px;text-align:right}
th{background:#f2f4f6;font-weight:600}td.l,th.l{text-align:left}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}
figure{margin:12px 0}figure svg{width:100%;height:auto}
svg.spark{width:420px;height:18px;vertical-align:middle;background:#f6f7f9}
details{margin:6px 0}summary{cursor:pointer;color:#0b5cad;font-size:14px}
figcaption{font-size:13px;color:#5d6b79}
section.concept{content-visibility:auto;contain-intrinsic-size:auto 1400px}
ol.cites{padding-left:20px}ol.cites li{margin:0 0 8px}
ol.cites li{color:#33404d}ol.cites small{font-size:13px;color:#4a5866}
ul.years{list-style:none;padding-left:4px;font-size:13px}
.free{color:#2b7a3d;font-weight:600}.bad{color:#b3261e;font-weight:600}
.empty{color:#8a96a3;font-style:italic}
"""


# A bulk run's warnings can number in the tens of thousands; the manifest keeps them all.
MAX_WARNINGS = 200


def render(data: Survey) -> str:
    """The whole page, as a string."""
    manifest = data.manifest
    title = f"medgen-etl report: snapshot {manifest.snapshot_id or data.snapshot.name}"
    body = "\n".join(
        [
            *_header(data),
            *_overview(data),
            *(part for c in data.concepts for part in _concept(c, data)),
            _footer(data),
        ]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # A policy the browser enforces: nothing may load from anywhere, not even this file.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(title)}</title><style>{CSS}{_palette_css()}</style></head>\n"
        f"<body><main>\n{body}\n</main></body></html>\n"
    )


# ------------------------------------------------------------------ header


def _header(data: Survey) -> Iterator[str]:
    m = data.manifest
    yield f"<h1>Snapshot {escape(m.snapshot_id or data.snapshot.name)}</h1>"
    notice = demo_notice(m)
    if notice:
        yield f'<p class="notice" id="demo-notice">{escape(notice[0].upper() + notice[1:])}</p>'
    facts: list[tuple[str, str]] = [
        ("source", m.source),
        ("created", m.created_at or ""),
    ]
    if m.parent:
        facts.append(("parent", m.parent))
    if m.run is not None:
        facts.append(("made by", f"medgen-etl {m.run.version} {m.run.command} ({m.run.mode})"))
    for db, info in sorted(m.ncbi.items()):
        facts.append((f"{db} DbBuild / LastUpdate", f"{info.db_build} / {info.last_update}"))
    facts.append(("categories", ", ".join(c.name for c in data.categories)))
    if m.categories.sha256:
        facts.append(("categories sha256", m.categories.sha256))
    facts.append(("categories mode", m.categories.mode))
    if m.per_category_limit:
        facts.append(("per-category limit", str(m.per_category_limit)))
    facts.append(("content hash", m.content_hash or ""))
    if m.placeholder_columns:
        facts.append(("placeholder columns", ", ".join(m.placeholder_columns)))
    yield (
        '<dl class="facts">'
        + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
        + "</dl>"
    )


# ------------------------------------------------------------------ overview


def _overview(data: Survey) -> Iterator[str]:
    m = data.manifest
    counts = ("requested", "loaded", "rejected", "missing")
    pmids = {k: int(getattr(m.pmids, k)) for k in counts}
    yield '<h2 id="overview">Overview</h2>'
    cards = [
        ("concepts", len(m.concepts.found) or max(data.surveyed, len(data.concepts))),
        ("concepts failed", len(m.concepts.failed)),
        *pmids.items(),
    ]
    yield (
        '<div class="cards" id="counts">'
        + "".join(
            f'<div class="card"><b>{n:,}</b> <span>{"PMIDs " if k in pmids else ""}{escape(k)}'
            "</span></div>"
            for k, n in cards
        )
        + "</div>"
    )
    svg = year_plot(data.per_year, data.categories)
    undated = sum(y.get(None, 0) for y in data.per_year.values())
    if svg is not None:
        note = f"; {undated:,} without a year are not drawn" if undated else ""
        yield (
            f"<figure>{svg}<figcaption>Citations per category per publication year, "
            f"{max(data.surveyed, len(data.concepts)):,} concept(s){note}.</figcaption></figure>"
        )
    yield from _overview_table(data)
    if len(data.concepts) < data.surveyed:
        yield (
            f'<p class="notice" id="concepts-cut">This page shows the {len(data.concepts):,} of '
            f"{data.surveyed:,} concepts with the most citations; the counts and the "
            "plot above are of all of them. <code>--concept</code> names the concepts to "
            "show, <code>--max-concepts</code> how many (0: all).</p>"
        )
    yield from _problems(m)


def _problems(m: Manifest) -> Iterator[str]:
    failed = m.concepts.failed
    if failed:
        yield (
            "<h3>Concepts that failed</h3><ul>"
            + "".join(f"<li>{escape(f.ref)}: {escape(f.reason)}</li>" for f in failed)
            + "</ul>"
        )
    missing = m.pmids.missing_pmids
    if missing:
        yield f'<p class="small">Missing PMIDs: {escape(", ".join(map(str, missing[:50])))}'
        yield f"{' …' if len(missing) > 50 else ''}</p>"
    warnings = m.warnings
    yield f"<h3>Warnings ({len(warnings):,})</h3>"
    if warnings:
        listed = warnings[:MAX_WARNINGS]
        yield '<ul class="small">' + "".join(f"<li>{escape(w)}</li>" for w in listed) + "</ul>"
        if len(warnings) > len(listed):
            yield (
                f'<p class="small">… and {len(warnings) - len(listed):,} more: the manifest '
                "(<code>manifest.json</code>, <code>warnings</code>) lists them all.</p>"
            )
    else:
        yield '<p class="empty">none</p>'


def _overview_table(data: Survey) -> Iterator[str]:
    head = "".join(
        f'<th title="{escape(c.heading)}">{_swatch(i)}{escape(c.heading)}</th>'
        for i, c in enumerate(data.categories)
    )
    yield f'<table id="concepts"><tr><th class="l">concept</th><th class="l">CUI</th>{head}</tr>'
    for c in data.concepts:
        cells = "".join(f"<td>{c.total(cat.name):,}</td>" for cat in data.categories)
        cui = escape(c.concept["cui"])
        yield (
            f'<tr><td class="l"><a href="#{_anchor(c)}">{escape(c.concept["name"] or cui)}</a></td>'
            f'<td class="l">{cui}</td>{cells}</tr>'
        )
    yield "</table>"


# ------------------------------------------------------------------ per concept


def _concept(c: ConceptSurvey, data: Survey) -> Iterator[str]:
    k = c.concept
    yield f'<section class="concept" id="{_anchor(c)}">'
    yield f"<h2>{escape(k['name'] or k['cui'])}</h2>"
    # A bulk concept known only by its CUI has no UID.
    uid = f" · MedGen UID {k['uid']}" if k.get("uid") is not None else ""
    yield f'<p class="muted">Concept ID {escape(k["cui"])}{uid}</p>'
    if k.get("definition"):
        source = f' <span class="muted">[from {escape(k["definition_source"])}]</span>'
        yield f"<p>{escape(k['definition'])}{source if k.get('definition_source') else ''}</p>"
    if k.get("synonyms"):
        yield f'<p class="small"><b>Synonyms:</b> {escape("; ".join(k["synonyms"]))}</p>'
    yield from _year_table(c, data.categories)
    yield from _journals(c)
    yield from _optional_sections(c, data)
    yield from _newest(c, data)
    yield '<p class="small"><a href="#overview">back to the overview</a></p></section>'


def _year_table(c: ConceptSurvey, categories: Sequence[Category]) -> Iterator[str]:
    yield "<h3>Citations per category</h3>"
    years = sorted({y for v in c.per_year.values() for y in v if y is not None})
    if not any(c.total(cat.name) for cat in categories):
        yield '<p class="empty">no citations</p>'
        return
    span = (years[0], years[-1]) if years else None
    peak = max(n for v in c.per_year.values() for n in v.values())
    axis = f"{span[0]}\u2013{span[1]}" if span else ""
    yield (
        '<table class="summary"><tr><th class="l">heading</th><th>citations</th>'
        f'<th>newest</th><th class="l">per year, {escape(axis)}</th></tr>'
    )
    for i, cat in enumerate(categories):
        counts = c.per_year.get(cat.name, {})
        dated = [y for y in counts if y is not None]
        newest = str(max(dated)) if dated else ""
        spark = _spark(counts, span, peak, i) if span and dated else ""
        yield (
            f'<tr><td class="l">{_swatch(i)}{escape(cat.heading)}</td>'
            f'<td>{c.total(cat.name):,}</td><td>{newest}</td><td class="l">{spark}</td></tr>'
        )
    yield "</table>"
    yield from _per_year_details(c, categories)


def _spark(counts: Mapping[int | None, int], span: tuple[int, int], peak: int, index: int) -> str:
    """Bars per year as one SVG path: a few bytes a year, where a plot would cost tens of KB."""
    lo, hi = span
    bars = "".join(
        f"M{y - lo} 10v-{10 * n / peak:.3g}h.8v{10 * n / peak:.3g}z"
        for y, n in sorted((y, n) for y, n in counts.items() if y is not None and n)
    )
    return (
        f'<svg class="spark" viewBox="0 0 {hi - lo + 1} 10" preserveAspectRatio="none" '
        f'role="img"><path class="k{index % len(PALETTE)}" d="{bars}"/></svg>'
    )


def _per_year_details(c: ConceptSurvey, categories: Sequence[Category]) -> Iterator[str]:
    """Exact counts, one line per heading listing only its years (a count when above one)."""
    yield '<details><summary>Citations per category per year</summary><ul class="years">'
    for i, cat in enumerate(categories):
        counts = c.per_year.get(cat.name, {})
        if not counts:
            continue
        years = sorted(counts, key=lambda y: -(y if y is not None else -1))
        listed = ", ".join(
            (str(y) if y is not None else "no year") + (f" ({counts[y]})" if counts[y] > 1 else "")
            for y in years
        )
        yield f"<li>{_swatch(i)}{escape(cat.heading)}: {listed}</li>"
    yield "</ul></details>"


def _journals(c: ConceptSurvey) -> Iterator[str]:
    yield "<h3>Top journals</h3>"
    yield from _ranked(c.journals, "journal", "citations")


def _ranked(items: Sequence[tuple[str, int]], what: str, unit: str) -> Iterator[str]:
    if not items:
        yield '<p class="empty">none</p>'
        return
    rows = "".join(f'<tr><td class="l">{escape(v)}</td><td>{n:,}</td></tr>' for v, n in items)
    yield f'<table><tr><th class="l">{what}</th><th>{unit}</th></tr>{rows}</table>'


def _optional_sections(c: ConceptSurvey, data: Survey) -> Iterator[str]:
    """Sections for data only newer snapshots hold; absent data, absent section."""
    if c.retracted is not None:
        yield "<h3>Retracted citations</h3>"
        if c.retracted:
            yield (
                '<ol class="cites">'
                + "".join(
                    _entry(r, data, note=", ".join(_heading(data, n) for n in r["categories"]))
                    for r in c.retracted
                )
                + "</ol>"
            )
        else:
            yield '<p class="empty">none</p>'
    if c.mesh is not None:
        yield "<h3>Top MeSH headings</h3>"
        yield from _ranked(c.mesh, "MeSH heading", "articles")
    if c.changes is not None:
        yield "<h3>What changed since the parent snapshot</h3>"
        yield from _changes(c.changes, data.categories)
        if c.added:
            total = sum(kinds.get("added", 0) for kinds in c.changes.values())
            yield f"<h4>Added: {total:,} (the newest {len(c.added)} below)</h4>"
            yield (
                '<ol class="cites">'
                + "".join(_entry(r, data, note=_heading(data, r["category"])) for r in c.added)
                + "</ol>"
            )


def _changes(
    changes: Mapping[str, Mapping[str, int]], categories: Sequence[Category]
) -> Iterator[str]:
    kinds = sorted({k for v in changes.values() for k in v})
    if not kinds:
        yield '<p class="empty">nothing</p>'
        return
    head = "".join(f"<th>{escape(k)}</th>" for k in kinds)
    yield f'<table><tr><th class="l">heading</th>{head}</tr>'
    for cat in categories:
        if cat.name in changes:
            cells = "".join(f"<td>{changes[cat.name].get(k, 0):,}</td>" for k in kinds)
            yield f'<tr><td class="l">{escape(cat.heading)}</td>{cells}</tr>'
    yield "</table>"


def _newest(c: ConceptSurvey, data: Survey) -> Iterator[str]:
    yield f"<h3>Newest citations (at most {NEWEST} per heading)</h3>"
    group: str | None = None
    for i, cat in enumerate(data.categories):
        if cat.group and cat.group != group:
            yield f'<h4 class="group">{escape(cat.group)}</h4>'
        group = cat.group
        total = c.total(cat.name)
        count = f'<span class="muted small">({total:,})</span>'
        yield f"<h4>{_swatch(i)}{escape(cat.heading)} {count}</h4>"
        rows = c.newest.get(cat.name, [])
        if rows:
            yield '<ol class="cites">' + "".join(_entry(r, data) for r in rows) + "</ol>"
        else:
            yield '<p class="empty">no citations</p>'


def _entry(row: Mapping[str, Any], data: Survey, note: str | None = None) -> str:
    """A citation as the page prints it: title, authors, then the citation line."""
    pmcid = str(row.get("pmcid") or "")
    # A placeholder PMC id is not a fact: no "Free PMC Article", no link to PMC.
    free = bool(pmcid) and "citations.pmcid" not in data.manifest.placeholder_columns
    pmid = int(row["pmid"])
    line = citation_line(
        row.get("source"), row.get("epub_date"), row.get("doi_display"), pmid, False
    )
    parts = [f'<a href="{PUBMED}{pmid}/">{escape(row.get("title") or f"PMID {pmid}")}</a>']
    if row.get("authors_display"):
        parts.append(f"<br>{escape(row['authors_display'])}")
    extra = ""
    if free:
        extra = f'<a class="free" href="{PMC}{escape(pmcid)}/">Free PMC Article</a>'
    if row.get("retracted"):
        extra += ' <span class="bad">[Retracted]</span>'
    if note:
        extra += f' <span class="muted">({escape(note)})</span>'
    parts.append(f"<br><small>{escape(line)}{extra}</small>")
    return "<li>" + "".join(parts) + "</li>"


# ------------------------------------------------------------------ helpers


def _footer(data: Survey) -> str:
    versions = data.manifest.versions
    made = escape(", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    files = data.manifest.files
    return (
        f'<footer class="small muted"><p>Read from {len(files)} files of '
        f"{escape(str(data.snapshot))} (built with {made}). "
        "This page loads nothing from the network.</p></footer>"
    )


def _heading(data: Survey, name: str) -> str:
    return next((c.heading for c in data.categories if c.name == name), name)


def _anchor(c: ConceptSurvey) -> str:
    return "c-" + escape(c.concept["cui"])


def _swatch(index: int) -> str:
    return f'<i class="sw k{index % len(PALETTE)}"></i>'


def _palette_css() -> str:
    """One class per category colour: sections name a class, not the colour (bytes per concept)."""
    return "".join(
        f".k{i}{{background:{c}}}svg .k{i}{{fill:{c};background:none}}"
        for i, c in enumerate(PALETTE)
    )
