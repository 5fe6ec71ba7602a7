"""Citations per category per publication year, as an inline SVG drawn by matplotlib.

matplotlib's own SVG backend needs no browser, JavaScript or network, and the
figure API (``matplotlib.figure.Figure``, not pyplot) keeps no global state.
The SVG is made deterministic so a report of the same snapshot is the same file:
``svg.hashsalt`` fixes the ids of clip paths, the Date metadata is dropped, and
``svg.fonttype = "none"`` writes text as text (not glyph outlines): smaller, and
the browser's sans-serif font draws it, so the page embeds no font file.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from pipeline.models import Category

# Okabe-Ito: told apart by readers with any common colour-vision deficiency.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")

_RC: Any = {
    "svg.hashsalt": "medgen-etl",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def year_plot(
    per_year: Mapping[str, Mapping[int | None, int]], categories: Sequence[Category]
) -> str | None:
    """A stacked bar per year, one colour per category; None when no citation has a year."""
    years = sorted({y for c in per_year.values() for y in c if y is not None})
    if not years:
        return None
    span = list(range(years[0], years[-1] + 1))
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(10.0, 3.6), layout="constrained")
        ax = fig.add_subplot()
        bottom = [0] * len(span)
        for i, category in enumerate(categories):
            counts = [per_year.get(category.name, {}).get(y, 0) for y in span]
            if not any(counts):
                continue
            ax.bar(span, counts, bottom=bottom, width=0.85, color=color(i), label=category.heading)
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        ax.set_xlabel("publication year")
        ax.set_ylabel("citations")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        fig.legend(loc="outside upper center", frameon=False, ncols=4)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    # Inline in HTML: the XML declaration and DOCTYPE belong to standalone files only.
    return svg[svg.index("<svg") :]
