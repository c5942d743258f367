"""The report's charts: matplotlib (Agg), raster at 200 dpi, sized for the page they go on.

Every chart must survive a black-and-white photocopy: bars carry hatching patterns and their
value is written at their end (direct labels), never colour alone. A chart is drawn at its
final size in the PDF, so 9 pt in matplotlib is 9 pt on paper. The encoder is deterministic:
the same data give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import rcParams  # noqa: E402

DPI = 200
CM = 1 / 2.54  # inches per centimetre
INK = "#1f3b57"  # dark blue: reads as near-black on a grey printer
GREY = "#8a9aa9"
LIGHT = "#dfe6ec"
HATCHES = ("", "///", "...", "xx", "\\\\", "oo", "--", "++")
# (fill, hatch) per series: distinct in grey levels AND in pattern.
SERIES = (("#1f3b57", ""), ("#b9c7d4", "///"), ("#ffffff", "..."), ("#6b8299", "xx"))

rcParams.update(
    {
        "font.family": "DejaVu Sans",
        "font.size": 8.5,
        "axes.titlesize": 9.5,
        "axes.edgecolor": "#555555",
        "axes.linewidth": 0.6,
        "hatch.linewidth": 0.6,
        "svg.hashsalt": "carte",
        "path.simplify": True,
    }
)


@dataclass(frozen=True)
class Chart:
    """A rendered chart: image bytes (JPEG) and its size on paper, in points."""

    image: bytes
    width: float
    height: float


def save(fig, close: bool = True, dpi: int = DPI) -> Chart:
    """The figure as a JPEG chart; `close=False` keeps the figure open (a map saved again
    with other links); a lower `dpi` for small, many figures (the annex's ego maps)."""
    buf = io.BytesIO()
    width, height = fig.get_size_inches()
    # JPEG at high quality without chroma subsampling: ReportLab embeds it as it is, where
    # a PNG would be decoded and compressed again on every layout pass (seconds per map).
    fig.savefig(
        buf, format="jpeg", dpi=dpi, facecolor="white",
        pil_kwargs={"quality": 92, "subsampling": 0, "optimize": False},
    )  # fmt: skip
    if close:
        plt.close(fig)
    return Chart(buf.getvalue(), width * 72, height * 72)


def _clean(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)


def hbars(
    items: Sequence[tuple[str, float, str]],
    xlabel: str = "",
    width_cm: float = 16.0,
    hatch: str = "",
    fill: str = INK,
    max_value: float | None = None,
) -> Chart:
    """Horizontal bars, biggest first as given: (label, value, printed value)."""
    n = max(len(items), 1)
    fig, ax = plt.subplots(figsize=(width_cm * CM, (0.9 + 0.55 * n) * CM))
    labels = [label for label, _, _ in items]
    values = [v for _, v, _ in items]
    y = list(range(n))[: len(items)]
    ax.barh(y, values, color=fill, hatch=hatch, edgecolor=INK, linewidth=0.6, height=0.62)
    top = max_value or max(values, default=1) or 1
    texts = [
        ax.text(v + top * 0.01, yi, printed, va="center", ha="left", fontsize=8.5)
        for yi, (_, v, printed) in zip(y, items, strict=True)
    ]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.14)
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=8, color="#333333")
    _clean(ax)
    fig.tight_layout(pad=0.3)
    _fit_labels(fig, ax, texts)
    return save(fig)


def _fit_labels(fig, ax, texts: list) -> None:
    """Widen the x axis until every value written after its bar ends inside the figure:
    tight_layout does not see them, and « 100 liens » was cut at the edge."""
    for _ in range(4):
        renderer = fig.canvas.get_renderer()
        right = max((x.get_window_extent(renderer).x1 for x in texts), default=0)
        limit = fig.bbox.x1 - 4  # pixels: a small white margin at the edge
        if right <= limit:
            return
        x0, x1 = ax.get_xlim()
        # The axes keep their pixel width: the range grows by the share that overflows.
        box = ax.get_window_extent(renderer)
        room = limit - box.x0
        ax.set_xlim(x0, x0 + (x1 - x0) * (right - box.x0) / max(room, 1) * 1.02)


def stacked_share(
    parts: list[tuple[str, int]], width_cm: float = 16.0, printed=lambda v, share: ""
) -> Chart:
    """One horizontal bar split into parts (label, count), each part with its own fill and
    pattern, its share written inside (or above when too narrow) and a legend below."""
    total = sum(v for _, v in parts) or 1
    fig, ax = plt.subplots(figsize=(width_cm * CM, 2.9 * CM))
    left = 0.0
    handles = []
    for i, (label, value) in enumerate(parts):
        fill, hatch = SERIES[i % len(SERIES)]
        share = value / total
        bar = ax.barh(
            0, share, left=left, color=fill, hatch=hatch, edgecolor=INK, linewidth=0.6, height=0.6
        )
        handles.append((bar, f"{label} : {printed(value, share)}"))
        if share >= 0.08:
            dark = fill in ("#1f3b57", "#6b8299")
            ax.text(
                left + share / 2,
                0,
                printed(value, share).split(" (")[0],
                ha="center",
                va="center",
                fontsize=8.5,
                color="white" if dark else "black",
                bbox=None if dark else {"facecolor": "white", "edgecolor": "none", "pad": 1},
            )
        left += share
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.5, 0.5)
    ax.axis("off")
    ax.legend(
        [h for h, _ in handles],
        [t for _, t in handles],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.02),
        ncol=min(len(parts), 2),
        frameon=False,
        fontsize=8,
        handlelength=2.2,
        handleheight=1.2,
    )
    fig.subplots_adjust(left=0.01, right=0.99, top=0.98, bottom=0.45)
    return save(fig)


def paired_bars(
    labels: list[str],
    before: list[float],
    after: list[float],
    names: tuple[str, str],
    printed=lambda v: str(v),
    width_cm: float = 16.0,
) -> Chart:
    """Two bars per category (last year, this year), patterns differ, values written."""
    n = max(len(labels), 1)
    fig, ax = plt.subplots(figsize=(width_cm * CM, (1.6 + 0.95 * n) * CM))
    top = max([*before, *after, 0]) or 1
    texts: list = []
    for i, (series, (fill, hatch)) in enumerate(((before, (SERIES[1])), (after, (SERIES[0])))):
        y = [k + (i - 0.5) * 0.38 for k in range(len(labels))]
        ax.barh(
            y, series, height=0.36, color=fill, hatch=hatch, edgecolor=INK, linewidth=0.6,
            label=names[i],
        )  # fmt: skip
        for yi, v in zip(y, series, strict=True):
            texts.append(ax.text(v + top * 0.01, yi, printed(v), va="center", fontsize=8))
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.18)
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    ax.legend(loc="lower right", frameon=False, fontsize=8)
    _clean(ax)
    fig.tight_layout(pad=0.3)
    _fit_labels(fig, ax, texts)
    return save(fig)


def lines(
    years: Sequence[int],
    series: Sequence[tuple[str, Sequence[float | None], Any, str]],
    width_cm: float = 16.0,
    height_cm: float = 7.5,
) -> Chart:
    """Shares over the years, one line per (label, values, line, last value printed), where
    `line` has `mpl_dash`, `mpl_marker` and `hollow` (reports.trends.Line): each line has
    its own dash pattern AND marker, and is labelled at its right end with a sample of
    itself, its name and its last value (no legend to match by colour). A None value
    breaks the line. Axis 0 to 100 %, years as categories."""
    fig, ax = plt.subplots(figsize=(width_cm * CM, height_cm * CM))
    xs = list(range(len(years)))
    ends = []
    for label, values, line, last in series:
        style, marker, hollow = line.mpl_dash, line.mpl_marker, line.hollow
        ys = [float("nan") if v is None else v for v in values]
        ax.plot(
            xs, ys, linestyle=style, marker=marker, color=INK, linewidth=1.4, markersize=6,
            markerfacecolor="white" if hollow else INK, markeredgecolor=INK, markeredgewidth=1.2,
        )  # fmt: skip
        known = [(x, v) for x, v in zip(xs, values, strict=True) if v is not None]
        if known:
            ends.append([known[-1][1], f"{label} : {last}", style, marker, hollow])
    # Direct labels, moved apart so that none overlaps another (in axis units).
    ends.sort(key=lambda e: e[0])
    gap = 0.075
    for i in range(1, len(ends)):
        ends[i][0] = max(ends[i][0], ends[i - 1][0] + gap)
    right = len(years) - 1 + 0.3
    for y, text, style, marker, hollow in ends:
        # A short sample of the line (its dash pattern, its marker) in front of the label.
        ax.plot([right, right + 0.3], [y, y], linestyle=style, color=INK, linewidth=1.4,
                clip_on=False)  # fmt: skip
        ax.plot([right + 0.15], [y], marker=marker, color=INK, markersize=5, clip_on=False,
                markerfacecolor="white" if hollow else INK, markeredgewidth=1.1)  # fmt: skip
        ax.text(right + 0.38, y, text, va="center", ha="left", fontsize=8, clip_on=False)
    ax.set_xticks(xs, [str(y) for y in years])
    ax.set_xlim(-0.25, len(years) - 1 + 0.25)
    ax.set_ylim(0, 1.05)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0], [f"{p}\u202f%" for p in (0, 25, 50, 75, 100)])
    ax.grid(axis="y", color=LIGHT, linewidth=0.6)
    ax.set_axisbelow(True)
    _clean(ax)
    fig.subplots_adjust(left=0.09, right=0.62, top=0.95, bottom=0.12)
    return save(fig)
