"""Report charts: matplotlib figures rendered to SVG and wrapped in a :class:`Chart` that Jupyter
shows as ``<figure class="zpb-figure"><img src="data:image/svg+xml;base64,…" alt="…"><figcaption>``.

Why this way:

* Each chart draws on its own :class:`~matplotlib.figure.Figure`, never on pyplot's global state,
  and under a style that starts from matplotlib's defaults (not the user's rcParams), so that a
  report rendered twice in one warm kernel gives byte-identical output (fixed ``svg.hashsalt``,
  no date in the SVG metadata).
* ``svg.fonttype = "none"`` keeps text as text: small files, sharp in the PDF, searchable, and
  matplotlib escapes it, so a label with markup stays text. Mathtext is off, so a "$" in a school
  name is printed as is.
* An ``<img>`` with a data URI keeps each report one self-contained file that WeasyPrint (no
  JavaScript) renders too; the ``alt`` text says what the chart shows with its main numbers.
* Colour is never the only carrier of meaning: a colour-blind-safe palette (Okabe–Ito) plus
  hatching or markers per series, dark outlines, and the values written next to the bars.
  Suppressed survey figures are drawn as absent with a "—", never as a zero-length bar.

The ``<img>`` carries ``width``/``height`` in CSS pixels to reserve space; the CSS should give
``.zpb-figure img`` ``max-width: 100%; height: auto``.
"""
from __future__ import annotations

import base64
import functools
import html as _html
import io
import math
import re
import textwrap
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib import ft2font
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.transforms import blended_transform_factory

from zpb_lib.core import fmt
from zpb_lib.report.html import PART_CLASS, PARTS_CLASS, Html
from zpb_lib.domain.labels import label

_NO_HINTING = getattr(getattr(ft2font, "LoadFlags", None), "NO_HINTING", None) or ft2font.LOAD_NO_HINTING

# Okabe & Ito (2008), safe for the common colour-vision deficiencies; each has ≥ 3:1 contrast
# with white only together with the dark outline drawn around every bar.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
# Line hatches first: a dotted tile ("...") is ~400 circles that a PDF renderer fills again for
# every bar (it made a third of a school report's PDF time), so it only serves a fourth series.
HATCHES = ("", "///", "xx", "...", "\\\\\\", "++", "oo")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)), (0, (3, 1, 1, 1, 1, 1)))
INK = "#1a1a1a"
EDGE = "#333333"
MAX_GREY = "#d9d9d9"
WIDTH_IN = 7.0
SVG_SALT = "zpb-report"
SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}

STYLE: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": SVG_SALT,
    "text.parse_math": False,
    "text.usetex": False,
    "font.family": "sans-serif",
    # DejaVu Sans has every Polish letter, ▲ ▼ and the minus sign; the others are what a
    # browser will substitute (the SVG keeps text as text).
    "font.sans-serif": ["DejaVu Sans", "Arial", "Liberation Sans", "Helvetica"],
    "font.size": 10,
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": "#666666",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "axes.grid": False,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.8,
    "xtick.color": INK,
    "ytick.color": INK,
    "hatch.color": EDGE,
    "hatch.linewidth": 0.8,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.formatter.use_locale": False,
    "path.simplify": True,
}


# rcParams are the process's: a chart drawn in one thread while another draws (the web app's pages)
# would read the other's settings, or the defaults it is resetting. One chart at a time.
_DRAWING = threading.RLock()


@contextmanager
def style() -> Iterator[None]:
    """The charts' rcParams on top of matplotlib's defaults, restored afterwards (the user's
    matplotlibrc and any earlier ``plt.style.use`` cannot change a report); one thread at a time."""
    with _DRAWING, mpl.rc_context():
        mpl.rcdefaults()
        mpl.rcParams.update(STYLE)
        yield


# --------------------------------------------------------------------------- the Chart object

@dataclass(frozen=True, eq=False)
class Chart:
    """A rendered chart: SVG bytes, alt text, caption. Displays itself in Jupyter."""

    svg: bytes
    alt: str
    title: str
    caption: str | None = None
    width_px: int = 0
    height_px: int = 0
    figure: Figure | None = field(default=None, repr=False)
    # For paper: the same chart cut between rows into parts (SVG, height in px) that a page break
    # may separate, so that a tall chart starts under the text before it instead of leaving that
    # page mostly blank; empty for a chart short enough to move whole.
    parts: tuple[tuple[bytes, int], ...] = ()

    @property
    def data_uri(self) -> str:
        return _svg_uri(self.svg)

    def to_html(self) -> Html:
        """The figure; without a caption of its own the figcaption names the chart for screen
        readers only (class ``zpb-sr-only``), since the title is drawn in the image."""
        e = _html.escape
        size = f' width="{self.width_px}" height="{self.height_px}"' if self.width_px else ""
        if self.caption is not None:
            cap = f"<figcaption>{e(self.caption, quote=True)}</figcaption>"
        else:
            cap = f'<figcaption class="zpb-sr-only">{e(self.title, quote=True)}</figcaption>'
        alt = e(self.alt, quote=True)
        img = f'<img src="{self.data_uri}" alt="{alt}"{size}>'
        if not self.parts:
            return Html(f'<figure class="zpb-figure">{img}{cap}</figure>')
        # Screens show the whole chart; print shows the parts instead (report.css). The parts repeat
        # the whole, so they are aria-hidden on the page. On paper they are the chart: the first
        # part carries its alt text (a PDF's Figure) and the others are backgrounds, which tagged
        # PDFs mark as decoration rather than as figures without a description.
        first, *rest = self.parts
        parts = f'<img src="{_svg_uri(first[0])}" alt="{alt}" width="{self.width_px}" height="{first[1]}">'
        parts += "".join(f'<span class="{PART_CLASS}" style="background-image: url({_svg_uri(svg)}); '
                         f'width: {_px(svg, "width")}px; height: {_px(svg, "height")}px"></span>' for svg, _ in rest)
        whole = img.replace("<img ", '<img class="zpb-figure__whole" ', 1)
        return Html(f'<figure class="zpb-figure zpb-figure--parts">{whole}'
                    f'<span class="{PARTS_CLASS}" aria-hidden="true">{parts}</span>{cap}</figure>')

    def _repr_html_(self) -> str:
        return str(self.to_html())

    def __html__(self) -> str:
        return str(self.to_html())

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        # What it shows, not the dataclass's repr with every byte of the SVG.
        p.text(f"[{self.alt}]")

    def png(self, dpi: int = 150) -> bytes:
        """The same figure as PNG (for previews and for tools that cannot read SVG)."""
        if self.figure is None:
            raise ValueError("this chart keeps no figure to render as PNG")
        buf = io.BytesIO()
        with style():
            self.figure.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
        return buf.getvalue()


def _px(svg: bytes, side: str) -> str:
    """The SVG's width or height in CSS px, as its root gives it in points: the size a PDF engine
    draws the part at as an image, unrounded (rounded parts would add up to a shorter chart)."""
    m = re.search(rb'<svg [^>]*?\b%s="([\d.]+)pt"' % side.encode(), svg)
    if m is None:
        raise ValueError(f"the SVG names no {side} in points")
    return f"{float(m.group(1)) * 96 / 72:.2f}".rstrip("0").rstrip(".")


def _svg_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


_DOCTYPE = re.compile(rb"<!DOCTYPE[^>]*>\s*")
_STYLE_ATTR = re.compile(rb' style="([^"<>]*)"')
_NO_ROTATION = re.compile(rb' transform="rotate\(-?0 -?[\d.]+ -?[\d.]+\)"')


def _attributes(declarations: bytes) -> bytes:
    """``fill: #fff; stroke-width: 0.8`` as `` fill="#fff" stroke-width="0.8"``."""
    out = []
    for decl in declarations.split(b";"):
        name, sep, value = decl.partition(b":")
        if sep:
            out.append(b' %s="%s"' % (name.strip(), value.strip()))
    return b"".join(out)


_DEFAULT_RULE = re.compile(rb'\s*<style type="text/css">\*\{([^{}<>]*)\}</style>')


def lighten_svg(svg: bytes) -> bytes:
    """The same drawing with less for a renderer to parse: matplotlib writes each element's look as
    a ``style`` attribute, which WeasyPrint (the PDFs) runs through its CSS parser element by element,
    and gives every label a rotation by 0°. SVG's presentation attributes say the same thing, so each
    style becomes attributes and the empty rotations go. matplotlib's one stylesheet rule
    (``*{stroke-linejoin: round; stroke-linecap: butt}``, which its inline styles override) would
    outrank presentation attributes, so it becomes attributes of the root, inherited by every element
    that does not set its own: the same picture in browsers and WeasyPrint, and a faster PDF."""
    defaults = _DEFAULT_RULE.search(svg)
    if defaults is not None:
        svg = svg[:defaults.start()] + svg[defaults.end():]
        root = svg.index(b"<svg ") + len(b"<svg")
        svg = svg[:root] + _attributes(defaults.group(1)) + svg[root:]
    return _STYLE_ATTR.sub(lambda m: _attributes(m.group(1)), _NO_ROTATION.sub(b"", svg))


_INDENT = re.compile(rb">\s*\n\s*<")
_GEOMETRY = re.compile(rb' (d|x|y|transform)="([^"]*)"')
_DECIMAL = re.compile(rb"-?\d+\.\d{3,}")
_AUTO_ID = re.compile(rb' id="([A-Za-z][\w.]*_\d+)"')
_FONT_FAMILY = re.compile(rb' font-family="([^"]*)"')
#: Decimals kept of a coordinate, in points: 1/100 pt is 3.5 µm on paper.
DECIMALS = 2


def _short(m: re.Match[bytes]) -> bytes:
    text = b"%.*f" % (DECIMALS, float(m.group(0)))
    text = text.rstrip(b"0").rstrip(b".")
    return b"0" if text == b"-0" else text


def _geometry(m: re.Match[bytes]) -> bytes:
    return b' %s="%s"' % (m.group(1), _DECIMAL.sub(_short, b" ".join(m.group(2).split())))


def compact_svg(svg: bytes) -> bytes:
    """The same drawing in about a third fewer bytes, which every report page carries base64-encoded:
    without matplotlib's indentation between elements (never inside a text: its text elements hold
    one line each), with coordinates to 1/100 pt instead of 1/1,000,000 (paper and screens show no
    difference) and path data on one line, without the ids matplotlib numbers every group with that
    nothing refers to (the ids zpb gives, such as ``bar-0-1``, stay), and with the font family that
    every text repeats set once on the root, from which SVG text inherits it."""
    svg = _GEOMETRY.sub(_geometry, _INDENT.sub(b"><", svg))
    referenced = set(re.findall(rb"#([\w.-]+)", svg))
    svg = _AUTO_ID.sub(lambda m: m.group(0) if m.group(1) in referenced else b"", svg)
    families = set(_FONT_FAMILY.findall(svg))
    if len(families) == 1:
        svg = _FONT_FAMILY.sub(b"", svg)
        root = svg.index(b"<svg ") + len(b"<svg")
        svg = svg[:root] + b' font-family="%s"' % families.pop() + svg[root:]
    return svg


def _svg(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata=SVG_METADATA)
    # The DOCTYPE points at an external DTD nobody needs; reports reference no URL.
    return compact_svg(lighten_svg(_DOCTYPE.sub(b"", buf.getvalue(), count=1)))


def render(fig: Figure, title: str, alt: str, caption: str | None = None, *, rows: Axes | None = None) -> Chart:
    """Save ``fig`` as deterministic SVG (call inside :func:`style`) and wrap it in a Chart.
    ``rows``: the axes of a chart with one row per category on y (0 at the top), which may be cut
    into parts for paper when it is tall (:func:`print_parts`)."""
    svg = _svg(fig)
    w, h = fig.get_size_inches()
    parts = print_parts(fig, rows) if rows is not None else ()
    return Chart(svg, alt, title, caption, round(w * 96), round(h * 96), fig, parts)


# A chart whose rows span more than TALL_IN is cut for paper into parts of about PART_IN of rows.
# The parts stack without a seam (only the last has the x axis), so small parts cost nothing to the
# look and let the chart start wherever the text before it ends.
TALL_IN = 3.5
PART_IN = 1.0


def print_parts(fig: Figure, ax: Axes) -> tuple[tuple[bytes, int], ...]:
    """The chart of ``ax`` (rows 0..n-1 on y, placed by :func:`fit_axes`) cut between rows into
    parts that stacked give the whole chart again: the first keeps the title and legend, the last
    the x axis and its label (notes). Empty when the rows are not taller than ``TALL_IN``. The
    figure is left as it was."""
    w, h = fig.get_size_inches() * 72
    sp = fig.subplotpars
    n = round(ax.get_ylim()[0] + 0.5)
    row = (sp.top - sp.bottom) * h / max(n, 1)
    if n < 2 or n * row <= TALL_IN * 72:
        return ()
    count = min(n, max(2, round(n * row / (PART_IN * 72))))
    cuts = [round(i * n / count) for i in range(count + 1)]
    top_first, bottom_last = (1 - sp.top) * h, sp.bottom * h
    title, legend = fig._suptitle, ax.get_legend()  # noqa: SLF001
    artists = [a for a in (*ax.patches, *ax.texts) if a.get_visible()]
    # Whisker lines and caps: one artist for all rows; each part keeps its rows' pieces.
    lines = [(ln, ln.get_data()) for ln in ax.lines]
    collections = [(c, c.get_segments()) for c in ax.collections if isinstance(c, LineCollection)]
    axis = [ax.xaxis.label, ax.spines["bottom"]]
    ylim, saved = ax.get_ylim(), (sp.top, sp.bottom)
    # get_tick_params() lists only what differs from the defaults, which are the style's here.
    shown = {"length": mpl.rcParams["xtick.major.size"], "labelbottom": True,
             **ax.xaxis.get_tick_params(which="major")}
    out = []
    try:
        for a, b in zip(cuts, cuts[1:]):
            first, last = a == 0, b == n
            for artist in (title, legend):
                if artist is not None:
                    artist.set_visible(first)
            for artist in axis:
                artist.set_visible(last)
            ax.tick_params(axis="x", which="major", **(shown if last else {"length": 0, "labelbottom": False}))
            inside = (a - 0.5, b - 0.5)
            for artist in artists:  # only this part's rows: fewer elements to draw, none outside
                artist.set_visible(inside[0] < _row_of(artist) < inside[1])
            for ln, (xs, ys) in lines:
                keep = (np.asarray(ys, float) > inside[0]) & (np.asarray(ys, float) < inside[1])
                ln.set_data(np.asarray(xs)[keep], np.asarray(ys)[keep])
            for coll, segments in collections:
                coll.set_segments([sg for sg in segments if inside[0] < float(np.mean(sg[:, 1])) < inside[1]])
            ax.set_ylim(b - 0.5, a - 0.5)
            top = top_first if first else 0.0
            bottom = bottom_last if last else 0.0
            height = top + (b - a) * row + bottom
            fig.set_size_inches(w / 72, height / 72)
            fig.subplots_adjust(top=1 - top / height, bottom=bottom / height)
            out.append((_svg(fig), round(height / 72 * 96)))
    finally:
        for artist in (title, legend, *axis, *artists):
            if artist is not None:
                artist.set_visible(True)
        for ln, data in lines:
            ln.set_data(*data)
        for coll, segments in collections:
            coll.set_segments(segments)
        ax.tick_params(axis="x", which="major", **shown)
        ax.set_ylim(ylim)
        fig.set_size_inches(w / 72, h / 72)
        fig.subplots_adjust(top=saved[0], bottom=saved[1])
    return tuple(out)


def _row_of(artist: Any) -> float:
    """The y (row) at the middle of a bar or at a text's anchor, in data coordinates."""
    if isinstance(artist, mpl.patches.Rectangle):
        return artist.get_y() + artist.get_height() / 2
    return float(artist.get_position()[1])


def new_figure(height_in: float, width_in: float = WIDTH_IN, *, measured: bool = False) -> Figure:
    """A standalone figure. By default with constrained layout (title, legend and labels never
    clipped); ``measured=True`` leaves the layout to :func:`fit_axes`, which places the axes from
    the measured sizes of the texts around them — the same result without constrained layout's
    extra drawing passes, which cost a third of a report's time. The wider padding leaves room for
    a viewer that substitutes a wider font for DejaVu Sans."""
    if measured:
        return Figure(figsize=(width_in, height_in))
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    fig.get_layout_engine().set(w_pad=0.12, h_pad=0.06)
    return fig


LINE_HEIGHT = 1.3  # of the font size, as matplotlib sets lines of text (with some room to spare)
PAD = 0.12 * 72  # the constrained layout's w_pad, in points


def _text_block(texts: Sequence[Any], size: float) -> tuple[float, float]:
    """Width and height in points of the widest / tallest of ``texts`` (multi-line allowed)."""
    font = FontProperties(family="sans-serif", size=size)
    width, lines = 0.0, 0
    for text in texts:
        parts = str(text).split("\n")
        lines = max(lines, len(parts))
        width = max([width] + [text_width(p, font) for p in parts if p])
    return width, lines * size * LINE_HEIGHT


def fit_axes(fig: Figure, ax: Axes, *, ylabels: Sequence[Any] = (), xticks: Sequence[Any] = ("0",),
             xtick_rotation: float = 0, xlabel: str = "", xlabel_size: float = 10,
             legend: Sequence[Any] = (), legend_cols: int = 1) -> None:
    """Place ``ax`` so that the title (figure suptitle), the legend row above the axes, the y tick
    labels on the left and the x tick labels and x label below all fit inside the figure, from
    their measured sizes (see :func:`new_figure`)."""
    w, h = fig.get_figwidth() * 72, fig.get_figheight() * 72
    title = fig._suptitle.get_text() if fig._suptitle is not None else ""  # noqa: SLF001
    top = PAD + (_text_block([title], TITLE_SIZE)[1] if title else 0)
    if legend:
        rows = [legend[i:i + legend_cols] for i in range(0, len(legend), legend_cols)]
        size = mpl.rcParams["legend.fontsize"]
        top += sum(_text_block(r, size)[1] + 0.5 * size for r in rows) + 0.8 * size + 0.5 * size + 6
    else:
        top += 6
    left = PAD + (_text_block(ylabels, mpl.rcParams["ytick.labelsize"] if isinstance(
        mpl.rcParams["ytick.labelsize"], (int, float)) else mpl.rcParams["font.size"])[0] + 6 if ylabels else 24)
    tick_w, tick_h = _text_block(xticks, mpl.rcParams["font.size"])
    if xtick_rotation:
        a = math.radians(xtick_rotation)
        tick_h = tick_w * math.sin(a) + tick_h * math.cos(a)
        left = max(left, PAD + tick_w * math.cos(a))
    bottom = PAD + tick_h + 3.5 + 3.5 + (_text_block([xlabel], xlabel_size)[1] + 4 if xlabel else 0)
    right = PAD + 4
    fig.subplots_adjust(left=left / w, right=1 - right / w, top=1 - top / h, bottom=bottom / h)


TITLE_SIZE = 12.5


def set_title(fig: Figure, title: str, width_chars: int | None = None) -> None:
    """The chart's title, left-aligned and wrapped to the figure's width as measured in the title's
    bold font (a fixed number of characters overflows the image when the words have wide letters);
    ``width_chars`` wraps at that many characters instead."""
    font = FontProperties(family="sans-serif", size=TITLE_SIZE, weight="bold")
    text = (textwrap.fill(str(title), width_chars) if width_chars is not None
            else fit_lines(str(title), font, 0.95 * fig.get_figwidth() * 72))
    fig.suptitle(text, x=0.01, ha="left", fontsize=TITLE_SIZE, fontweight="bold", color=INK)


@functools.lru_cache(maxsize=8)
def _advances(font_file: str) -> dict[str, float]:
    """Advance widths of the characters met so far in ``font_file``, in points per point of font
    size (filled lazily; :func:`zpb_lib.clear_caches` empties it)."""
    return {}


def text_width(text: str, font: FontProperties) -> float:
    """Width of one line of ``text`` in points in ``font``: the sum of the glyphs' advance widths
    (kerning ignored, 2% to spare). Laying a line out with FreeType for every label cost more than
    drawing the chart."""
    fname = findfont(font)
    table = _advances(fname)
    ft = None
    total = 0.0
    for ch in text:
        a = table.get(ch)
        if a is None:
            if ft is None:
                ft = get_font(fname)
                ft.set_size(100, 72)
            glyph = ft.load_char(ord(ch), flags=_NO_HINTING)
            a = table[ch] = glyph.linearHoriAdvance / 65536 / 100
        total += a
    return total * font.get_size_in_points() * 1.02


def fit_lines(text: str, font: FontProperties, width_pt: float) -> str:
    """``text`` wrapped at spaces into lines no wider than ``width_pt`` in ``font`` (a single word
    wider than that keeps a line of its own)."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", font) <= width_pt:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def top_legend(ax: Axes, handles: list[Any], ncols: int, **kw: Any) -> None:
    """The legend in a row between the title and the plot (constrained layout makes room)."""
    for h in handles:
        h.set_label(wrap(h.get_label(), 32))
    # x in figure coordinates (flush with the title, not with the axes, which long category
    # labels push right), y just above the axes.
    anchor = blended_transform_factory(ax.figure.transFigure, ax.transAxes)
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.01, 1.0), bbox_transform=anchor,
              ncols=max(ncols, 1), borderaxespad=0.5, alignment="left", **kw)


def wrap(text: Any, width: int = 34) -> str:
    return textwrap.fill(str(text), width, break_long_words=True)


def _percent_axis(ax: Axes, lang: str, axis: str = "x") -> None:
    formatter = FuncFormatter(lambda v, _pos: fmt.percent(v, 0, lang))
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(formatter)


def _number_axis(ax: Axes, lang: str, axis: str = "x", integer: bool = False) -> None:
    target = ax.xaxis if axis == "x" else ax.yaxis
    if integer:
        target.set_major_locator(MaxNLocator(integer=True))
    def tick(v: float, _pos: int) -> str:
        return fmt.number(v, 0 if integer or float(v).is_integer() else 1, lang)
    target.set_major_formatter(FuncFormatter(tick))


def _ordered(values: pd.Series) -> list[Any]:
    """Distinct values in order of first appearance (the caller's order is the reader's order)."""
    return list(dict.fromkeys(values.tolist()))


def _absent_note(threshold: int | None, lang: str) -> str:
    return (label("chart.suppressed", lang, threshold=threshold) if threshold is not None
            else label("chart.no_data", lang))


def _join_alt(title: str, parts: Sequence[str]) -> str:
    parts = [p for p in parts if p]
    return f"{title}: {'; '.join(parts)}" if parts else title


# --------------------------------------------------------------------------- survey indicators

def indicator_bars(data: pd.DataFrame, title: str, *, category: str = "category", series: str = "series",
                   value: str = "p", lo: str = "lo", hi: str = "hi", lang: str = "pl",
                   threshold: int | None = None, caption: str | None = None) -> Chart:
    """Horizontal bars of survey indicators (shares 0..1) with 95% interval whiskers, one group
    of bars per ``category`` (an indicator) and one bar per ``series`` (institution, county,
    voivodeship), in the order the rows come.

    ``data`` is long: one row per (category, series). A missing value (suppressed in the cube,
    or absent) is drawn as no bar with a "—" and explained under the chart (``threshold`` given:
    "fewer than N respondents"; else "no data"). A ``suppressed`` column, when present and true,
    hides the row's value too.
    """
    need = [category, series, value, lo, hi]
    _require(data, need)
    d = data.copy()
    dup = d.duplicated([category, series])
    if dup.any():
        first = d[dup].iloc[0]
        raise ValueError(f"indicator_bars: more than one row for {first[category]!r} / {first[series]!r}")
    if "suppressed" in d.columns:
        hidden = d["suppressed"].fillna(False).astype(bool)
        d.loc[hidden, [value, lo, hi]] = np.nan
    cats, sers = _ordered(d[category]), _ordered(d[series])
    nc, ns = len(cats), len(sers)
    absent_note = _absent_note(threshold, lang)
    with style():
        fig = new_figure(1.8 + nc * (0.24 * ns + 0.22), measured=True)
        set_title(fig, title)
        ax = fig.add_subplot()
        handles, any_absent = [], False
        for j, s in enumerate(sers):
            rows = d[d[series] == s].set_index(category)[[value, lo, hi]]
            handle, absent = _series_bars(ax, rows, cats, j, ns, str(s), lang)
            handles.append(handle)
            any_absent = any_absent or absent
        ax.set_yticks(range(nc), [wrap(c) for c in cats])
        ax.set_ylim(max(nc, 1) - 0.5, -0.5)
        ax.set_xlim(0, 1.1)
        ax.set_xticks(np.linspace(0, 1, 6))
        _percent_axis(ax, lang)
        ax.grid(axis="x")
        ax.tick_params(axis="y", length=0)
        notes = [label("chart.whiskers", lang)] + ([f"{fmt.MISSING} {absent_note}"] if any_absent else [])
        ax.set_xlabel("; ".join(notes), fontsize=8.5, loc="left")
        top_legend(ax, handles, ncols=min(ns, 3))
        fit_axes(fig, ax, ylabels=[wrap(c) for c in cats], xticks=["100%"], xlabel="; ".join(notes), xlabel_size=8.5,
                 legend=[h.get_label() for h in handles], legend_cols=min(ns, 3))
        alt = _indicator_alt(d, title, cats, sers, category, series, value, lang, absent_note)
        return render(fig, title, alt, caption, rows=ax)


def _series_bars(ax: Axes, rows: pd.DataFrame, cats: list[Any], j: int, ns: int, name: str,
                 lang: str) -> tuple[Patch, bool]:
    """Bars, whiskers and value labels of series ``j`` (``rows``: value, lo, hi by category);
    a missing value gets a "—" where the bar would start. Returns the legend handle and whether
    a value was missing."""
    slot = 0.8 / ns
    value, lo, hi = rows.columns
    drawn: list[tuple[float, float, Any, Any, str]] = []  # y, value, lo, hi, svg id
    absent = False
    for i, c in enumerate(cats):
        y = i - 0.4 + slot * (j + 0.5)
        v = rows.at[c, value] if c in rows.index else None
        if fmt.is_missing(v):
            absent = True
            ax.text(0.012, y, fmt.MISSING, va="center", ha="left", fontsize=9, gid=f"absent-{j}-{i}")
        else:
            drawn.append((y, float(v), rows.at[c, lo], rows.at[c, hi], f"bar-{j}-{i}"))
    colour, hatch = PALETTE[j % len(PALETTE)], HATCHES[j % len(HATCHES)]
    ys, vs, los, his, ids = (list(col) for col in zip(*drawn)) if drawn else ([], [], [], [], [])
    _name_bars(ax.barh(ys, vs, height=slot * 0.9, color=colour, hatch=hatch, edgecolor=EDGE, linewidth=0.6), ids)
    _whiskers(ax, ys, vs, los, his)
    for y, v, h in zip(ys, vs, his):
        end = v if fmt.is_missing(h) else max(v, float(h))
        ax.text(end + 0.012, y, fmt.percent(v, 0, lang), va="center", ha="left", fontsize=8.5)
    handle = Patch(facecolor=colour, hatch=hatch, edgecolor=EDGE, linewidth=0.6, label=name)
    return handle, absent


def _name_bars(bars: Any, ids: Sequence[str]) -> None:
    """SVG ids for the bars ("bar-<series>-<category>"): tests and readers of the SVG can tell
    which values were drawn."""
    for rect, gid in zip(bars.patches, ids):
        rect.set_gid(gid)


def _whiskers(ax: Axes, ys: list[float], vs: list[float], los: list[Any], his: list[Any]) -> None:
    keep = [i for i in range(len(ys)) if not (fmt.is_missing(los[i]) or fmt.is_missing(his[i]))]
    if not keep:
        return
    y = np.array([ys[i] for i in keep])
    v = np.array([vs[i] for i in keep])
    err = np.array([[v[n] - float(los[i]) for n, i in enumerate(keep)],
                    [float(his[i]) - v[n] for n, i in enumerate(keep)]]).clip(min=0)
    ax.errorbar(v, y, xerr=err, fmt="none", ecolor=INK, elinewidth=1.0, capsize=2.5, capthick=1.0)


def _indicator_alt(d: pd.DataFrame, title: str, cats: list, sers: list, category: str, series: str,
                   value: str, lang: str, absent_note: str) -> str:
    parts = []
    by_cell = dict(zip(zip(d[category], d[series]), d[value]))  # (category, series) is unique
    for c in cats:
        vals = []
        for s in sers:
            v = by_cell.get((c, s), np.nan)
            vals.append(f"{s} {fmt.percent(v, 0, lang)}" if not fmt.is_missing(v) else f"{s} {fmt.MISSING} ({absent_note})")
        parts.append(", ".join(vals) if len(cats) == 1 else f"{c}: {', '.join(vals)}")
    return _join_alt(title, parts)


# --------------------------------------------------------------------------- audit criteria

def criteria_points(data: pd.DataFrame, title: str, *, item: str = "label", points: str = "points",
                    max_points: str = "max_points", lang: str = "pl", caption: str | None = None) -> Chart:
    """Bullet bars: points scored per criterion (or area) over its maximum, with "2 z 3 pkt"
    written at the end, so that where points are lost reads at a glance."""
    _require(data, [item, points, max_points])
    labels_ = [str(x) for x in data[item]]
    got = [np.nan if fmt.is_missing(v) else float(v) for v in data[points]]
    top = [float(v) for v in data[max_points]]
    n = len(labels_)
    wrapped = [wrap(t, 44) for t in labels_]
    lines = max((t.count("\n") + 1 for t in wrapped), default=1)
    with style():
        fig = new_figure(1.6 + n * (0.14 + 0.16 * lines), measured=True)
        set_title(fig, title)
        ax = fig.add_subplot()
        y = np.arange(n)
        _name_bars(ax.barh(y, top, height=0.62, color=MAX_GREY, hatch="///", edgecolor="#777777", linewidth=0.6),
                   [f"max-{i}" for i in range(n)])
        scored = [i for i in range(n) if not np.isnan(got[i])]
        _name_bars(ax.barh([y[i] for i in scored], [got[i] for i in scored], height=0.62, color=PALETTE[0],
                           edgecolor=EDGE, linewidth=0.6), [f"bar-0-{i}" for i in scored])
        for i in range(n):
            ax.text(top[i] + max(top) * 0.015, y[i], _points_of(got[i], top[i], lang),
                    va="center", ha="left", fontsize=8.5)
        ax.set_yticks(y, wrapped)
        ax.set_ylim(max(n, 1) - 0.5, -0.5)
        ax.set_xlim(0, max(top) * 1.22 if top else 1)
        _number_axis(ax, lang, integer=True)
        ax.grid(axis="x")
        ax.tick_params(axis="y", length=0)
        legend = [Patch(facecolor=PALETTE[0], edgecolor=EDGE, label=label("chart.points_scored", lang)),
                  Patch(facecolor=MAX_GREY, hatch="///", edgecolor="#777777", label=label("chart.points_missing", lang))]
        top_legend(ax, legend, ncols=2)
        fit_axes(fig, ax, ylabels=wrapped, xticks=["10"], legend=[h.get_label() for h in legend], legend_cols=2)
        items = ", ".join(f"{t} {_points_of(g, m, lang)}" for t, g, m in zip(labels_, got, top))
        total = label("chart.total", lang, text=_points_of(sum(g for g in got if not np.isnan(g)), sum(top), lang))
        return render(fig, title, _join_alt(title, [items, total]), caption, rows=ax)


def _points_of(got: float, top: float, lang: str) -> str:
    """ "2 z 3 pkt"; half points keep their decimal."""
    def show(v: float) -> str:
        return fmt.MISSING if np.isnan(v) else fmt.number(v, 0 if float(v).is_integer() else 1, lang)
    return label("chart.points_of", lang, points=show(got), max=show(top))


# --------------------------------------------------------------------------- trends

def trend_lines(data: pd.DataFrame, title: str, *, x: str = "edition", series: str = "series",
                value: str = "value", as_percent: bool = False, decimals: int = 0, lang: str = "pl",
                ylabel: str | None = None, caption: str | None = None) -> Chart:
    """Lines over editions, one per series, each with its own colour, marker and dash; a missing
    value breaks the line instead of dropping to zero."""
    _require(data, [x, series, value])
    xs, sers = _ordered(data[x].astype(str)), _ordered(data[series])
    show = (lambda v: fmt.percent(v, decimals, lang)) if as_percent else (lambda v: fmt.number(v, decimals, lang))
    parts = []
    with style():
        fig = new_figure(3.9, measured=True)
        set_title(fig, title)
        ax = fig.add_subplot()
        handles = []
        for j, s in enumerate(sers):
            rows = data[data[series] == s]
            by_x = dict(zip(rows[x].astype(str), rows[value]))
            ys = np.array([np.nan if fmt.is_missing(by_x.get(k)) else float(by_x[k]) for k in xs])
            style_ = dict(color=PALETTE[j % len(PALETTE)], marker=MARKERS[j % len(MARKERS)],
                          linestyle=LINESTYLES[j % len(LINESTYLES)], linewidth=1.8, markersize=5.5)
            ax.plot(range(len(xs)), ys, gid=f"line-{j}", **style_)
            handles.append(Line2D([], [], label=str(s), **style_))
            known = [i for i in range(len(xs)) if not np.isnan(ys[i])]
            if known:
                a, b = known[0], known[-1]
                parts.append(f"{s} " + label("chart.from_to", lang, a=show(ys[a]), x0=xs[a], b=show(ys[b]), x1=xs[b]))
            else:
                parts.append(f"{s} {label('chart.no_data', lang)}")
        ax.set_xticks(range(len(xs)), xs, rotation=45 if len(xs) > 6 else 0, ha="right" if len(xs) > 6 else "center")
        ax.set_xlim(-0.4, len(xs) - 0.6)
        ax.set_ylim(bottom=0)
        if as_percent:
            _percent_axis(ax, lang, "y")
        else:
            _number_axis(ax, lang, "y", integer=decimals == 0)
        if ylabel:
            ax.set_ylabel(ylabel)
        ax.grid(axis="y")
        top_legend(ax, handles, ncols=min(len(sers), 3), handlelength=3)
        ticks = [t.get_text() for t in ax.get_yticklabels()] or ["100%"]
        fit_axes(fig, ax, ylabels=[show(v) for v in ax.get_yticks()] + ticks, xticks=xs,
                 xtick_rotation=45 if len(xs) > 6 else 0, xlabel=ylabel or "",
                 legend=[h.get_label() for h in handles], legend_cols=min(len(sers), 3))
        if ylabel:  # a y label sits left of the tick labels
            fig.subplots_adjust(left=fig.subplotpars.left + 16 / (fig.get_figwidth() * 72))
        return render(fig, title, _join_alt(title, parts), caption)


# --------------------------------------------------------------------------- simple bars

def bar_chart(data: Mapping[Any, Any] | pd.Series, title: str, *, as_percent: bool = False, decimals: int = 0,
              lang: str = "pl", xlabel: str | None = None, caption: str | None = None) -> Chart:
    """Horizontal bars of one value per category (e.g. counts per status), values written at
    the bar ends, categories in the given order; a missing value shows "—", not a zero bar."""
    items = list(data.items())
    cats = [str(k) for k, _ in items]
    vals = [np.nan if fmt.is_missing(v) else float(v) for _, v in items]
    show = (lambda v: fmt.percent(v, decimals, lang)) if as_percent else (lambda v: fmt.number(v, decimals, lang))
    known = [v for v in vals if not np.isnan(v)]
    top = max(known) if known else 1.0
    with style():
        fig = new_figure(1.3 + 0.34 * len(cats) + 0.2, measured=True)
        set_title(fig, title)
        ax = fig.add_subplot()
        present = [i for i in range(len(cats)) if not np.isnan(vals[i])]
        _name_bars(ax.barh(present, [vals[i] for i in present], height=0.62, color=PALETTE[0], edgecolor=EDGE,
                           linewidth=0.6), [f"bar-0-{i}" for i in present])
        for i, v in enumerate(vals):
            text = fmt.MISSING if np.isnan(v) else show(v)
            ax.text((0 if np.isnan(v) else max(v, 0)) + top * 0.015, i, text, va="center", ha="left", fontsize=8.5)
        ax.set_yticks(range(len(cats)), [wrap(c, 40) for c in cats])
        ax.set_ylim(max(len(cats), 1) - 0.5, -0.5)
        ax.set_xlim(0, top * 1.15 if top > 0 else 1)
        if as_percent:
            _percent_axis(ax, lang)
        else:
            _number_axis(ax, lang, integer=decimals == 0)
        if xlabel:
            ax.set_xlabel(xlabel)
        ax.grid(axis="x")
        ax.tick_params(axis="y", length=0)
        fit_axes(fig, ax, ylabels=[wrap(c, 40) for c in cats], xticks=[show(top)], xlabel=xlabel or "")
        alt = _join_alt(title, [", ".join(f"{c} {fmt.MISSING if np.isnan(v) else show(v)}" for c, v in zip(cats, vals))])
        return render(fig, title, alt, caption, rows=ax)


def _require(data: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise KeyError(f"chart data has no column(s) {', '.join(map(repr, missing))} "
                       f"(columns: {', '.join(map(str, data.columns))})")
