"""Choropleth map of the 22 counties of Małopolska, drawn with matplotlib patches (no GIS stack
is needed for 22 polygons) and returned as a :class:`~zpb_lib.report.charts.Chart`.

* Projection: plain lon/lat with x scaled by cos(50°), so that the shapes are not stretched at
  Małopolska's latitude (a degree of longitude there is about 0.64 of a degree of latitude).
* Classes: "nice" limits (steps of 1, 2, 2.5 or 5 × 10ⁿ) covering the values, a sequential
  colour-blind-safe colour map, and the limits written in the legend in the report's number
  format. Every county also carries its value as text, so colour is not the only carrier.
* Missing or suppressed values: grey with hatching, "brak danych" / "no data" in the legend.
* City counties (TERYT 1261–1263) are drawn after the land counties: powiat krakowski
  surrounds Kraków.
"""
from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import to_hex
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.ticker import MaxNLocator

from zpb_lib.core import fmt
from zpb_lib.reference import reference
from zpb_lib.report.charts import INK, Chart, new_figure, render, set_title, style
from zpb_lib.domain.labels import county_name, label

X_SCALE = math.cos(math.radians(50.0))
NO_DATA_FACE = "#e3e3e3"
NO_DATA_HATCH = "////"
BORDER = "#555555"
VOIVODESHIP = "12"

Ring = np.ndarray  # (n, 2) projected x, y
Shapes = dict[str, list[list[Ring]]]  # teryt → polygons → rings (exterior first, then holes)


# --------------------------------------------------------------------------- geometry

def _signed_area(ring: Ring) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _oriented(ring: Ring, ccw: bool) -> Ring:
    """Exteriors counter-clockwise, holes clockwise: holes stay holes under any fill rule."""
    return ring if (_signed_area(ring) > 0) == ccw else ring[::-1]


def _project(coords: Sequence[Sequence[float]]) -> Ring:
    a = np.asarray(coords, dtype=float)[:, :2]
    return np.column_stack([a[:, 0] * X_SCALE, a[:, 1]])


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> Shapes:
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    shapes: Shapes = {}
    for n, feature in enumerate(doc.get("features", [])):
        teryt = str((feature.get("properties") or {}).get("teryt", ""))
        geom = feature.get("geometry") or {}
        kind, coords = geom.get("type"), geom.get("coordinates")
        if not teryt or kind not in ("Polygon", "MultiPolygon"):
            raise ValueError(f"{Path(path).name}: feature #{n + 1} needs a teryt and a (Multi)Polygon geometry")
        polygons = [coords] if kind == "Polygon" else coords
        shapes[teryt] = [[_oriented(_project(r), i == 0) for i, r in enumerate(poly)] for poly in polygons]
    return shapes


def load_shapes(path: str | Path) -> Shapes:
    """County polygons from the GeoJSON file, projected; cached per file version."""
    p = Path(path)
    return _load(str(p), p.stat().st_mtime)


def _path(polygons: list[list[Ring]]) -> MplPath:
    rings = [MplPath(np.vstack([r, r[:1]]), closed=True) for poly in polygons for r in poly]
    return MplPath.make_compound_path(*rings)


def is_city(teryt: str) -> bool:
    """TERYT codes 61 and above are cities with county rights."""
    return int(teryt[2:]) >= 61


def draw_order(teryts: Sequence[str]) -> list[str]:
    return sorted(teryts, key=lambda t: (is_city(t), t))


def label_point(polygons: list[list[Ring]], grid: int = 40) -> tuple[float, float]:
    """A point well inside the county's largest polygon, for its value: of a grid of candidate
    points inside it (holes excluded), the one farthest from any edge. A centroid can fall
    outside a concave county or inside the hole a city county makes."""
    poly = max(polygons, key=lambda p: abs(_signed_area(p[0])))
    path = _path([poly])
    lo, hi = poly[0].min(axis=0), poly[0].max(axis=0)
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], grid + 2)[1:-1], np.linspace(lo[1], hi[1], grid + 2)[1:-1])
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    pts = pts[path.contains_points(pts)]
    if not len(pts):
        return float(poly[0][:, 0].mean()), float(poly[0][:, 1].mean())
    a = np.vstack([r for r in poly])
    b = np.vstack([np.roll(r, -1, axis=0) for r in poly])
    return tuple(float(v) for v in pts[int(np.argmax(_edge_distance(pts, a, b)))])


def _edge_distance(pts: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance of each point to the nearest segment a[i]–b[i]."""
    ab = b - a
    length2 = np.maximum((ab ** 2).sum(axis=1), 1e-18)
    t = np.clip(((pts[:, None, :] - a[None]) * ab[None]).sum(axis=2) / length2, 0, 1)
    nearest = a[None] + t[..., None] * ab[None]
    return np.sqrt(((pts[:, None, :] - nearest) ** 2).sum(axis=2)).min(axis=1)


# --------------------------------------------------------------------------- classes

def class_limits(values: Sequence[float], classes: int = 5, integer: bool = False) -> list[float]:
    """Nice class limits covering ``values`` (at most ``classes`` classes; one when all equal)."""
    lo, hi = float(min(values)), float(max(values))
    if lo == hi:
        return [lo, hi]
    ticks = MaxNLocator(nbins=classes, steps=[1, 2, 2.5, 5, 10], integer=integer).tick_values(lo, hi)
    ticks = [float(t) for t in ticks]
    start = max(i for i, t in enumerate(ticks) if t <= lo + 1e-12)
    end = min(i for i, t in enumerate(ticks) if t >= hi - 1e-12)
    return ticks[start:end + 1]


def class_of(value: float, limits: Sequence[float]) -> int:
    """Index of the class holding ``value``; each class includes its lower limit, the last also
    its upper one."""
    k = len(limits) - 1
    return int(min(max(np.searchsorted(limits, value, side="right") - 1, 0), k - 1))


def class_colours(k: int, cmap: str = "YlGnBu") -> list[str]:
    """``k`` colours from light to dark, avoiding the near-white end (reserved look of no data)."""
    cm = colormaps[cmap]
    return [to_hex(cm(v)) for v in (np.linspace(0.18, 0.9, k) if k > 1 else [0.55])]


def _text_colour(face: str) -> str:
    r, g, b = (int(face[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45 else INK


# --------------------------------------------------------------------------- the map

def _clean_values(values: Mapping[Any, Any] | pd.Series, known: Sequence[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, v in dict(values).items():
        teryt = str(key)
        if teryt == VOIVODESHIP:
            continue
        if teryt not in known:
            raise KeyError(f"choropleth: unknown county TERYT {teryt!r}")
        if not fmt.is_missing(v):
            out[teryt] = float(v)
    return out


def choropleth(values: Mapping[Any, Any] | pd.Series, title: str, *, lang: str = "pl",
               highlight: str | None = None, as_percent: bool = False, decimals: int = 0,
               classes: int = 5, limits: Sequence[float] | None = None, cmap: str = "YlGnBu",
               legend_title: str | None = None, caption: str | None = None, ref: Any = None,
               geojson: str | Path | None = None) -> Chart:
    """Counties coloured by their value (TERYT → number; missing, None or NaN = no data), with an
    optional ``highlight``-ed county (thick outline, name and value written out).

    ``as_percent`` reads values as shares 0..1; ``limits`` overrides the automatic class limits.
    ``ref`` (reference data) names the counties; ``geojson`` defaults to ``ref.geojson_path``.
    """
    if ref is None:
        ref = reference()
    shapes = load_shapes(geojson or ref.geojson_path)
    vals = _clean_values(values, list(shapes))
    if highlight is not None and str(highlight) not in shapes:
        raise KeyError(f"choropleth: unknown county to highlight {highlight!r}")
    highlight = None if highlight is None else str(highlight)
    show = (lambda v: fmt.percent(v, decimals, lang)) if as_percent else (lambda v: fmt.number(v, decimals, lang))
    bare = (lambda v: fmt.number(v * 100, decimals, lang)) if as_percent else show
    lims = list(limits) if limits is not None else (
        class_limits(list(vals.values()), classes, integer=not as_percent and decimals == 0) if vals else [])
    colours = class_colours(len(lims) - 1, cmap) if len(lims) > 1 else []
    with style():
        fig = new_figure(4.9)
        # The legend ends at the right edge; browsers draw small SVG text up to ~10% wider than
        # matplotlib measures it (hinting), so leave it more room than the default padding.
        fig.get_layout_engine().set(w_pad=0.3)
        set_title(fig, title)
        ax = fig.add_subplot()
        for teryt in draw_order(list(shapes)):
            _draw_county(ax, teryt, shapes[teryt], vals.get(teryt), lims, colours)
        for teryt in draw_order(list(shapes)):
            if teryt != highlight:
                _value_label(ax, shapes[teryt], vals.get(teryt), lims, colours, show)
        if highlight is not None:
            _draw_highlight(ax, highlight, shapes[highlight], vals.get(highlight), show, lang, ref)
        ax.set_aspect("equal")
        ax.autoscale_view()
        ax.set_axis_off()
        handles = _legend_handles(lims, colours, show, bare, any(t not in vals for t in shapes), lang)
        if highlight is not None:
            shown = show(vals[highlight]) if highlight in vals else label("map.no_data", lang)
            handles.append(Patch(facecolor="none", edgecolor=INK, linewidth=2.4,
                                 label=f"{county_name(highlight, lang, ref)}: {shown}"))
        # Right of the map, bottom-aligned: clear of the title, which may be long.
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(1.0, 0.0), title=legend_title,
                  alignment="left", handlelength=1.8, handleheight=1.2, borderaxespad=0)
        alt = _alt(title, vals, shapes, highlight, show, lang, ref)
        return render(fig, title, alt, caption)


def _face(value: float | None, lims: Sequence[float], colours: Sequence[str]) -> str | None:
    return None if value is None or not colours else colours[class_of(value, lims)]


def _draw_county(ax: Any, teryt: str, polygons: list[list[Ring]], value: float | None,
                 lims: Sequence[float], colours: Sequence[str]) -> None:
    face = _face(value, lims, colours)
    patch = PathPatch(_path(polygons), facecolor=face or NO_DATA_FACE, hatch=None if face else NO_DATA_HATCH,
                      edgecolor=BORDER, linewidth=0.7, joinstyle="round", zorder=3 if is_city(teryt) else 2)
    patch.set_gid(f"county-{teryt}")
    ax.add_patch(patch)


def _value_label(ax: Any, polygons: list[list[Ring]], value: float | None, lims: Sequence[float],
                 colours: Sequence[str], show: Any) -> None:
    x, y = label_point(polygons)
    face = _face(value, lims, colours)
    # "—" on the hatching gets a small white box, or it would vanish among the hatch lines.
    box = None if face else dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none")
    ax.text(x, y, fmt.MISSING if value is None else show(value), ha="center", va="center", fontsize=7,
            color=_text_colour(face) if face else INK, zorder=5, bbox=box)


def _draw_highlight(ax: Any, teryt: str, polygons: list[list[Ring]], value: float | None, show: Any,
                    lang: str, ref: Any) -> None:
    outline = PathPatch(_path(polygons), facecolor="none", edgecolor=INK, linewidth=2.6, zorder=6)
    outline.set_gid(f"highlight-{teryt}")
    ax.add_patch(outline)
    # The value in bold on a white box; the name goes in the legend next to the outline sample
    # (a name written on the map would hide the neighbours' values: counties are small).
    x, y = label_point(polygons)
    ax.text(x, y, fmt.MISSING if value is None else show(value), ha="center", va="center", fontsize=8,
            fontweight="bold", color=INK, zorder=7,
            bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor=INK, linewidth=0.6))


def _legend_handles(lims: Sequence[float], colours: Sequence[str], show: Any, bare: Any, any_missing: bool,
                    lang: str) -> list[Patch]:
    """Class limits as "60–65%" (the unit once, after the upper limit)."""
    handles = []
    for i, colour in enumerate(colours):
        a, b = bare(lims[i]), show(lims[i + 1])
        text = b if show(lims[i]) == b else f"{a}{fmt.EN_DASH}{b}"
        handles.append(Patch(facecolor=colour, edgecolor=BORDER, linewidth=0.6, label=text))
    if any_missing:
        handles.append(Patch(facecolor=NO_DATA_FACE, hatch=NO_DATA_HATCH, edgecolor=BORDER, linewidth=0.6,
                             label=label("map.no_data", lang)))
    return handles


def _alt(title: str, vals: dict[str, float], shapes: Shapes, highlight: str | None, show: Any, lang: str,
         ref: Any) -> str:
    parts = [label("map.alt", lang)]
    if vals:
        lo = min(sorted(vals), key=lambda t: vals[t])
        hi = max(sorted(vals), key=lambda t: vals[t])
        parts.append(label("map.range", lang, lo=show(vals[lo]), lo_name=county_name(lo, lang, ref),
                           hi=show(vals[hi]), hi_name=county_name(hi, lang, ref)))
    if highlight is not None:
        shown = show(vals[highlight]) if highlight in vals else label("map.no_data", lang)
        parts.append(label("map.highlighted", lang, name=county_name(highlight, lang, ref), value=shown))
    missing = sum(1 for t in shapes if t not in vals)
    if missing:
        parts.append(label("map.missing_count", lang, n=missing, total=len(shapes)))
    return f"{title}. {'; '.join(parts)}."
