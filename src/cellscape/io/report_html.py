"""One self-contained HTML report of a run or plan folder (``cellscape report``).

The report is a single UTF-8 file that opens offline and can be mailed: every figure is a PNG
embedded as a ``data:`` URI, the style sheet is inline, there is no script and no reference to
any other file or server. It gathers what ``cellscape run`` and ``cellscape plan`` wrote:

- **coverage** (``coverage.tif``, ``best_sector.tif``, ``kpis.json``): heat maps of RSRP, SINR,
  throughput and serving sector; CDFs of RSRP, SINR and throughput; the KPI tables (covered area
  per RSRP threshold, percentiles over all / outdoor / indoor pixels, served area per sector);
- **line of sight** (``los_probability.csv``, ``line_of_sight`` in ``kpis.json``): the LOS
  probability the buildings give against TR 38.901 Table 7.4.2-1, as a plot and a table;
- **scenario** (``meta`` of ``kpis.json``, ``scenario.json`` when the folder has one): the models,
  policies and inputs of the run;
- **plan** (``plan.json``, ``plan.md``, ``rollout.png``, ``rsrp_before.png``,
  ``rsrp_after.png``, ``sinr_before.png``, ``sinr_after.png``, ``coverage_after.tif``): the plan report with its tables and figures.

Figures already in the folder are reused (they carry site markers and building outlines); a
missing one is redrawn from the GeoTIFFs (without site markers or buildings: the rasters do not
hold them, unless the folder has ``scenario.json`` and ``buildings.geojson``), as is every one with
``regenerate_maps=True``. The throughput CDF is always drawn here (``cellscape run`` writes none).
Redrawn CDFs are over all pixels: the GeoTIFFs do not say which pixels are indoor. Figures are
embedded as 256-colour PNGs by default (``compact``): 3 to 4 times smaller (the report of the
Helsinki example: 1.6 MB, 5.4 MB with the PNGs byte for byte).
"""

from __future__ import annotations

import base64
import csv
from dataclasses import dataclass, field
from datetime import datetime, timezone
import html
import io
import json
import math
import os
from pathlib import Path
import re
import tempfile

import numpy as np

from cellscape import __version__
from cellscape.errors import DataFileError
from cellscape.geo.grid import RasterGrid
from cellscape.io.atomic import write_text_atomic
from cellscape.io.coverage_outputs import MAP_STYLES, OSM_ATTRIBUTION, SIONNA_ATTRIBUTION
from cellscape.io.geotiff import read_geotiff
from cellscape.io.plots import plot_cdf_png, plot_los_probability_png, plot_map_png
from cellscape.scenario.records import SIONNA_PREFIX
from cellscape.units import unit_of

REPORT_NAME = "report.html"
"""Default file name of the report, inside the folder it describes."""

MAP_NAMES: tuple[str, ...] = ("rsrp_dbm", "sinr_db", "throughput_mbps", "best_sector")
"""The heat maps of a coverage run, in report order (file ``<name>.png``, band or file ``<name>``)."""

# quantity -> (PNG written by `cellscape run`, x label with unit, title)
CDF_SPECS: dict[str, tuple[str, str, str]] = {
    "rsrp_dbm": ("rsrp_cdf.png", "RSRP [dBm]", "Best-server RSRP, CDF over map area"),
    "sinr_db": ("sinr_cdf.png", "SINR [dB]", "Downlink SINR, CDF over map area"),
    "throughput_mbps": ("throughput_cdf.png", "throughput [Mbit/s]",
                        "Downlink throughput (full allocation), CDF over map area"),
}

LOS_TABLE_MAX_ROWS = 20
"""At most this many distance bins per environment in the LOS table (every k-th bin beyond it)."""

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;max-width:1150px;
margin:1.5em auto;padding:0 1em;line-height:1.4}
h1{border-bottom:2px solid #446;padding-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #bbb}
table{border-collapse:collapse;margin:.6em 0 1.2em;display:block;overflow-x:auto;max-width:100%}
td,th{border:1px solid #bbb;padding:3px 8px}
th{background:#eef;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{display:inline-block;margin:.4em;vertical-align:top;max-width:48%}
figure.wide{max-width:75%}img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.85em;color:#555}.note{color:#555;font-size:.9em}nav a{margin-right:1em}
footer{margin-top:3em;border-top:1px solid #bbb;font-size:.85em;color:#555}
""".strip()


@dataclass
class _Report:
    """The pieces gathered from one folder while the HTML is built."""

    folder: Path
    tmp: Path
    regenerate: bool
    compact: bool = True
    kpis: dict | None = None
    scenario: dict | None = None
    sections: list[tuple[str, str, str]] = field(default_factory=list)   # (anchor, heading, html body)
    plan_name: str | None = None
    overlay: dict | None = None          # site markers and buildings of redrawn maps, found once
    _bands: tuple[dict, RasterGrid] | None = None

    def coverage_bands(self) -> tuple[dict, RasterGrid]:
        """``coverage.tif`` (+ ``best_sector`` from ``best_sector.tif``), read once."""
        if self._bands is None:
            bands, grid = read_geotiff(self.folder / "coverage.tif")
            bands = dict(bands)
            if (self.folder / "best_sector.tif").is_file():
                bands.update(read_geotiff(self.folder / "best_sector.tif")[0])
            self._bands = (bands, grid)
        return self._bands


# ------------------------------------------------------------------------------------------ helpers


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def pct_text(v, digits: int = 1) -> str:
    """A fraction in [0, 1] as a percentage; 'n/a' when undefined.

    >>> pct_text(0.9420833), pct_text(None)
    ('94.2 %', 'n/a')
    """
    return f"{100.0 * v:.{digits}f} %" if _finite(v) else "n/a"


def num_text(v, fmt: str = "{:.1f}") -> str:
    return fmt.format(v) if _finite(v) else "n/a"


def _value_text(v) -> str:
    """A scenario/meta value as short plain text."""
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (list, tuple)):
        if all(not isinstance(x, (dict, list)) for x in v):
            shown = ", ".join(_value_text(x) for x in v[:12])
            return shown + (f", … ({len(v)} values)" if len(v) > 12 else "")
        return f"{len(v)} entries"
    if v is None:
        return "none"
    text = str(v)
    if os.path.isabs(text):
        return f"…/{Path(text).name}"         # a mailed report does not show the sender's folders
    return text if len(text) <= 240 else text[:237] + "..."


def _table(header: list[str], rows: list[list], *, numeric: tuple[int, ...] | None = None) -> str:
    """An HTML table; the columns ``numeric`` (default: all but the first) are right-aligned."""
    numeric = tuple(range(1, len(header))) if numeric is None else numeric
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if i in numeric else ''}>{_esc(c)}</td>" for i, c in enumerate(r))
        + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataFileError(f"cannot read {path}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise DataFileError(f"cannot read {path}: expected a JSON object, got {type(data).__name__}")
    return data


def _palette_png(raw: bytes) -> bytes:
    """``raw`` (an opaque PNG figure) re-encoded with a 256-colour palette, or ``raw`` when that
    is not smaller or the image has transparency.

    A heat map's colour map has 256 entries, so its pixels survive unchanged; only the
    anti-aliased edges of text and lines are rounded to the nearest palette colour. The file
    shrinks 3 to 4 times.
    """
    from PIL import Image   # matplotlib's own image library

    with Image.open(io.BytesIO(raw)) as im:
        if im.mode == "RGBA" and im.getextrema()[3][0] < 255:
            return raw                                                      # transparent: keep
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                           dither=Image.Dither.NONE)
        buf = io.BytesIO()
        small.save(buf, format="PNG")
    return buf.getvalue() if buf.tell() < len(raw) else raw


def _data_uri(png: Path, *, compact: bool = True) -> str:
    """``png`` as a ``data:image/png;base64,...`` URI (see :func:`_palette_png` for ``compact``)."""
    try:
        raw = png.read_bytes()
    except OSError as exc:
        raise DataFileError(f"cannot read {png}: {exc}") from None
    if not raw.startswith(b"\x89PNG\r\n\x1a\n"):
        raise DataFileError(f"{png} is not a PNG image")
    if compact:
        raw = _palette_png(raw)
    return "data:image/png;base64," + base64.b64encode(raw).decode("ascii")


def _figure(rep: _Report, png: Path, caption: str, *, wide: bool = False) -> str:
    cls = " class=wide" if wide else ""
    return (f"<figure{cls}><img src=\"{_data_uri(png, compact=rep.compact)}\" alt=\"{_esc(caption)}\">"
            f"<figcaption>{_esc(caption)}</figcaption></figure>")


def _note(text: str) -> str:
    return f"<p class=note>{_esc(text)}</p>"


def _scenario_of(data: dict) -> dict:
    """The scenario mapping of ``scenario.json`` (``{"version": .., "scenario": {..}}`` or bare)."""
    inner = data.get("scenario")
    return inner if isinstance(inner, dict) and "version" in data else data


def _building_attribution(rep: _Report) -> str | None:
    """The credit line for the buildings the run used (None when it used none).

    ``scenario.json`` names the source; without it, ``kpis.json`` meta says whether buildings
    were used (O2I from buildings, geometric LOS over buildings), and the OSM line is given.
    """
    sc = rep.scenario or {}
    b = sc.get("buildings")
    source = (b.get("path") or b.get("source")) if isinstance(b, dict) else b
    if source:
        sionna = str(source).startswith(SIONNA_PREFIX) or (isinstance(b, dict) and b.get("kind") == "sionna")
        return SIONNA_ATTRIBUTION if sionna else OSM_ATTRIBUTION
    meta = (rep.kpis or {}).get("meta") or {}
    if "buildings" in str(meta.get("los_geometry", "")):
        return OSM_ATTRIBUTION
    o2i = meta.get("o2i_model")
    if o2i is not None and not str(o2i).startswith("none"):
        return OSM_ATTRIBUTION
    return None


# ---------------------------------------------------------------------------------------- figures


def _site_overlay(rep: _Report, grid: RasterGrid) -> dict:
    """Site markers and boresight ticks for a redrawn map, from ``scenario.json`` when its
    coordinates are in the grid's CRS (they are in a resolved scenario); {} otherwise."""
    sc = rep.scenario or {}
    if not isinstance(sc.get("area"), dict) or sc["area"].get("crs") != grid.crs:
        return {}
    try:
        xy_az = [(float(site["x"]), float(site["y"]), float(sec["azimuth_deg"]))
                 for site in sc.get("sites") or [] for sec in site.get("sectors") or []]
    except (KeyError, TypeError, ValueError, AttributeError):
        return {}
    if not xy_az:
        return {}
    arr = np.asarray(xy_az)                                                # (n_sectors, 3)
    return {"sites_xy_m": arr[:, :2], "sector_azimuth_deg": arr[:, 2]}


def _footprints(rep: _Report, grid: RasterGrid):
    """The outlines of ``buildings.geojson`` (WGS 84, written by ``cellscape run``) in the grid's
    CRS, or None when the folder has none."""
    path = rep.folder / "buildings.geojson"
    if not path.is_file():
        return None
    import geopandas as gpd

    try:
        frame = gpd.read_file(path)
    except (OSError, ValueError, RuntimeError) as exc:
        raise DataFileError(f"cannot read {path}: {exc}") from None
    if frame.empty:
        return None
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")                                  # RFC 7946 GeoJSON
    return frame.to_crs(grid.crs).geometry.to_numpy()


def _map_png(rep: _Report, name: str) -> tuple[Path | None, bool]:
    """The heat map ``name``: the folder's PNG, or one redrawn from the GeoTIFFs (path, redrawn)."""
    existing = rep.folder / f"{name}.png"
    if existing.is_file() and not rep.regenerate:
        return existing, False
    bands, grid = rep.coverage_bands()
    if name not in bands:
        return None, False
    arr = np.asarray(bands[name])
    style = dict(MAP_STYLES[name])
    if name == "throughput_mbps":
        style["vmax"] = float(np.nanmax(arr)) if np.isfinite(arr).any() else 1.0
    if name == "best_sector":
        sectors = (rep.kpis or {}).get("sectors")
        n_sectors = len(sectors) if sectors else int(arr.max()) + 1 if arr.size else 1
        style["vmin"], style["vmax"] = -0.5, max(n_sectors - 0.5, 0.5)
    if rep.overlay is None:
        rep.overlay = _site_overlay(rep, grid)
        footprints = _footprints(rep, grid)
        if footprints is not None:
            rep.overlay["footprints"] = footprints
    path = plot_map_png(rep.tmp / f"{name}.png", arr, grid, categorical=name == "best_sector",
                        attribution=_building_attribution(rep), **rep.overlay, **style)
    return path, True


def _cdf_png(rep: _Report, name: str, bands: dict | None = None, *, when: str = "") -> tuple[Path | None, bool]:
    """The CDF of ``name`` (path, redrawn): the folder's PNG, or one drawn from ``bands`` (default
    the bands of ``coverage.tif``); ``when`` is added to the title and file name of a drawn one."""
    file_name, xlabel, title = CDF_SPECS[name]
    existing = rep.folder / file_name
    if bands is None and existing.is_file() and not rep.regenerate:
        return existing, False
    if bands is None:
        bands = rep.coverage_bands()[0]
    if name not in bands:
        return None, False
    stem = f"{name}_{when.replace(' ', '_')}" if when else name
    path = plot_cdf_png(rep.tmp / f"{stem}_cdf.png", {"all pixels": np.asarray(bands[name])},
                        xlabel=xlabel, title=f"{title}, {when}" if when else title)
    return path, True


# --------------------------------------------------------------------------------------- sections


def _coverage_section(rep: _Report) -> None:
    maps, redrawn = [], []
    for name in MAP_NAMES:
        png, new = _map_png(rep, name)
        if png is None:
            continue
        maps.append(_figure(rep, png, MAP_STYLES[name]["title"] + f" ({MAP_STYLES[name]['units_label']})"))
        if new:
            redrawn.append(f"{name}.png")
    cdfs = []
    for name in CDF_SPECS:
        png, new = _cdf_png(rep, name)
        if png is None:
            continue
        cdfs.append(_figure(rep, png, CDF_SPECS[name][2] + f" ({CDF_SPECS[name][1]})"))
        if new and name != "throughput_mbps":
            redrawn.append(CDF_SPECS[name][0])
    body = "".join(maps)
    if redrawn:
        has = rep.overlay or {}
        extras = [what for key, what in (("sites_xy_m", "sites from scenario.json"),
                                         ("footprints", "buildings from buildings.geojson")) if key in has]
        body += _note(f"Redrawn from the GeoTIFFs ({', '.join(extras) if extras else 'without sites and buildings'}): "
                      f"{', '.join(redrawn)}.")
    rep.sections.append(("maps", "Coverage maps", body or _note("No map could be drawn.")))
    cdf_note = _note("Redrawn CDFs are over all pixels; the throughput CDF is drawn from coverage.tif "
                     "(full-allocation user rate).")
    rep.sections.append(("cdfs", "Distributions (CDF)", "".join(cdfs) + cdf_note))


def _kpi_section(rep: _Report) -> None:
    k = rep.kpis
    if k is None:
        rep.sections.append(("kpis", "Key performance indicators", _note("This folder has no kpis.json.")))
        return
    parts = []
    g = k.get("grid") or {}
    rows = [["map area", num_text(k.get("map_area_km2"), "{:.3f}"), "km²"],
            ["pixels (all / outdoor / indoor)",
             f"{k.get('n_pixels', 'n/a')} / {k.get('n_pixels_outdoor', 'n/a')} / {k.get('n_pixels_indoor', 'n/a')}",
             "pixels"],
            ["pixels with no usable sector", k.get("n_pixels_unserved", "n/a"), "pixels"],
            ["pixel size", num_text(g.get("resolution_m"), "{:g}"), "m"],
            ["grid (rows x columns)", f"{g.get('n_rows', 'n/a')} x {g.get('n_cols', 'n/a')}", "pixels"],
            ["CRS", g.get("crs", "n/a"), ""]]
    if isinstance(g.get("bounds_m"), list) and len(g["bounds_m"]) == 4:
        rows.append(["bounds (x min, y min, x max, y max)", ", ".join(num_text(v, "{:.1f}") for v in g["bounds_m"]), "m"])
    parts.append("<h3>Map</h3>" + _table(["quantity", "value", "unit"], rows, numeric=(1,)))

    cov = k.get("coverage") or {}
    if cov:
        rows = [[f"≥ {num_text(e.get('threshold_dbm'), '{:g}')}" if "threshold_dbm" in e else key,
                 pct_text(e.get("all")), pct_text(e.get("outdoor")), pct_text(e.get("indoor")), num_text(e.get("area_km2"), "{:.4f}")]
                for key, e in cov.items() if isinstance(e, dict)]
        parts.append("<h3>Covered area per RSRP threshold</h3>"
                     + _table(["RSRP threshold [dBm]", "all pixels [%]", "outdoor [%]", "indoor [%]",
                               "covered area [km²]"], rows)
                     + _note("Share of the map's pixels whose best-server RSRP reaches the threshold; "
                             "pixels with no value count as not covered."))

    quantities = (("sinr_db", "SINR", "dB", "{:.1f}"), ("throughput_mbps", "throughput", "Mbit/s", "{:.1f}"),
                  ("rsrp_dbm", "RSRP", "dBm", "{:.1f}"))
    by_loc = k.get("percentiles_by_location") or {}
    qs = None
    rows = []
    for key, label, unit, fmt in quantities:
        for where, p in [("all", k.get(f"{key}_percentiles"))] + [(w, (by_loc.get(w) or {}).get(key))
                                                                   for w in ("outdoor", "indoor")]:
            if not isinstance(p, dict):
                continue
            qs = qs or list(p)
            rows.append([f"{label} [{unit}]", where] + [num_text(p.get(q), fmt) for q in qs])
    if rows:
        parts.append("<h3>Percentiles</h3>" + _table(["quantity [unit]", "pixels"] + [f"p{q}" for q in qs], rows,
                                                     numeric=tuple(range(2, 2 + len(qs))))
                     + _note("pN: the value N % of the pixels are at or below. Throughput is the full-allocation "
                             "user rate (TS 38.214 CQI table, TS 38.306 rate formula)."))

    sectors = k.get("sectors") or []
    if sectors:
        rows = [[i, s.get("sector_id", ""), s.get("site_id", ""), s.get("served_pixels", "n/a"),
                 num_text(s["served_area_m2"] / 1e6 if _finite(s.get("served_area_m2")) else None, "{:.4f}"),
                 pct_text(s.get("served_fraction"))] for i, s in enumerate(sectors)]
        parts.append("<h3>Sectors (best server)</h3>"
                     + _table(["index (serving-sector map)", "sector", "site", "served pixels", "served area [km²]",
                               "share of map [%]"], rows, numeric=(0, 3, 4, 5)))
    rep.sections.append(("kpis", "Key performance indicators", "".join(parts)))


def _los_table_from_csv(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """``los_probability.csv`` back as :func:`cellscape.kpi.los_probability_table`'s dict."""
    table: dict[str, dict[str, list]] = {}
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                t = table.setdefault(row["environment"], {"d2d_m": [], "n_links": [], "empirical": [], "tr38901": []})
                t["d2d_m"].append(float(row["d2d_m"]))
                t["n_links"].append(int(row["n_links"]))
                t["empirical"].append(float(row["empirical"]) if row["empirical"] else math.nan)
                t["tr38901"].append(float(row["tr38901"]))
    except (KeyError, ValueError, TypeError, OSError, csv.Error) as exc:
        raise DataFileError(f"cannot read {path}: expected columns environment,d2d_m,n_links,empirical,tr38901 "
                            f"({type(exc).__name__}: {exc})") from None
    return {env: {c: np.asarray(v) for c, v in t.items()} for env, t in table.items()}


def _los_section(rep: _Report) -> None:
    csv_path = rep.folder / "los_probability.csv"
    los = (rep.kpis or {}).get("line_of_sight")
    if not csv_path.is_file() and not los:
        return
    parts = []
    if los:
        rows = [[env, e.get("outdoor_links", "n/a"), pct_text(e.get("los_fraction")),
                 num_text(e.get("vs_tr38901_mean_abs_diff"), "{:.3f}"), num_text(e.get("vs_tr38901_max_abs_diff"), "{:.3f}"),
                 num_text(e.get("vs_tr38901_bias"), "{:+.3f}"), num_text(e.get("compared_up_to_m"), "{:g}")]
                for env, e in los.items()]
        parts.append(_table(["environment", "outdoor links", "LOS share of links [%]",
                             "mean |P - P_38.901|", "max |P - P_38.901|", "bias P - P_38.901",
                             "compared up to d2D [m]"], rows)
                     + _note("P: LOS probability (0 to 1) marched over the buildings, per 2-D distance bin with "
                             "enough links; P_38.901: TR 38.901 Table 7.4.2-1. A positive bias means more LOS "
                             "than the table. n/a: no bin had enough links."))
    if csv_path.is_file():
        table = _los_table_from_csv(csv_path)
        png = rep.folder / "los_probability.png"
        if rep.regenerate or not png.is_file():
            png = plot_los_probability_png(rep.tmp / "los_probability.png", table)
        parts.append(_figure(rep, png, "LOS probability against 2-D distance: from the buildings vs TR 38.901",
                             wide=True))
        rows, thinned = [], False
        for env, t in table.items():
            ok = np.flatnonzero(np.isfinite(t["empirical"]))
            if ok.size > LOS_TABLE_MAX_ROWS:
                ok = ok[:: math.ceil(ok.size / LOS_TABLE_MAX_ROWS)]
                thinned = True
            rows += [[env, f"{t['d2d_m'][i]:g}", int(t["n_links"][i]), f"{t['empirical'][i]:.3f}",
                      f"{t['tr38901'][i]:.3f}"] for i in ok]
        if rows:
            parts.append(_table(["environment", "d2D bin centre [m]", "outdoor links", "P(LOS) from buildings",
                                 "P(LOS) TR 38.901"], rows)
                         + (_note("Every k-th bin shown; los_probability.csv has all.") if thinned else ""))
        else:
            parts.append(_note("No distance bin has enough links for an empirical LOS probability "
                               "(los_probability.csv lists the link counts)."))
    rep.sections.append(("los", "Line of sight", "".join(parts)))


def _scenario_rows(data, prefix: str = "") -> list[list[str]]:
    """Flatten a scenario/meta mapping into (key, value, unit) rows; sites are counted, not listed."""
    rows = []
    for key, v in data.items():
        name = f"{prefix}{key}"
        if key == "sites" and isinstance(v, list):
            n_sectors = sum(len(s.get("sectors") or []) for s in v if isinstance(s, dict))
            rows.append([name, f"{len(v)} sites, {n_sectors} sectors", ""])
        elif isinstance(v, dict) and v:
            rows += _scenario_rows(v, f"{name}.")
        else:
            rows.append([name, _value_text(v), unit_of(str(key))])
    return rows


def _sector_table(sc: dict) -> str:
    """One row per sector of ``scenario.json``: position, height, azimuth, tilts, power, antenna."""
    rows = []
    for site in sc.get("sites") or []:
        if not isinstance(site, dict):
            continue
        for sec in site.get("sectors") or []:
            if not isinstance(sec, dict):
                continue
            ant = sec.get("antenna") if isinstance(sec.get("antenna"), dict) else {}
            rows.append([sec.get("sector_id", ""), site.get("site_id", ""), num_text(site.get("x"), "{:.1f}"),
                         num_text(site.get("y"), "{:.1f}"), num_text(site.get("height_m"), "{:g}"),
                         num_text(sec.get("azimuth_deg"), "{:g}"), num_text(sec.get("mech_tilt_deg"), "{:g}"),
                         num_text(sec.get("elec_tilt_deg"), "{:g}"), num_text(sec.get("tx_power_dbm"), "{:g}"),
                         ant.get("model", ""), num_text(ant.get("max_gain_dbi"), "{:g}")])
    if not rows:
        return ""
    crs = (sc.get("area") or {}).get("crs", "") if isinstance(sc.get("area"), dict) else ""
    return ("<h3>Sites and sectors</h3>"
            + _table(["sector", "site", f"x [m] ({crs})", f"y [m] ({crs})", "height [m]", "azimuth [deg]",
                      "mech. tilt [deg]", "elec. tilt [deg]", "tx power [dBm]", "antenna", "max gain [dBi]"],
                     rows, numeric=(2, 3, 4, 5, 6, 7, 8, 10)))


def _scenario_section(rep: _Report) -> None:
    parts = []
    if rep.scenario is not None:
        parts.append("<h3>Scenario (scenario.json)</h3>"
                     + _table(["field", "value", "unit"], _scenario_rows(rep.scenario), numeric=())
                     + _sector_table(rep.scenario))
    meta = (rep.kpis or {}).get("meta")
    if isinstance(meta, dict) and meta:
        parts.append("<h3>Models and policies of the run (kpis.json meta)</h3>"
                     + _table(["field", "value", "unit"], _scenario_rows(meta), numeric=()))
    if not parts:
        parts.append(_note("No scenario.json and no kpis.json in this folder."))
    elif rep.scenario is None:
        parts.append(_note("This folder has no scenario.json (older runs do not write one)."))
    rep.sections.append(("scenario", "Scenario", "".join(parts)))


_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(text: str) -> str:
    """Escape Markdown text; **bold** becomes <strong>, a link keeps its text only (no href)."""
    return _BOLD.sub(r"<strong>\1</strong>", _esc(_LINK.sub(r"\1", text)))


def _markdown_html(md: str, rep: _Report) -> tuple[str | None, str]:
    """The subset of Markdown ``plan.md`` uses (headings, paragraphs, tables, images) as HTML.

    Returns the text of the first ``#`` heading (the section's title, None without one) and the
    body; ``##`` headings become h3 and so on; images are embedded from the folder as data URIs.
    """
    out, table, title = [], [], None

    def flush():
        rows = [r.strip().strip("|").split("|") for r in table if not set(r.strip()) <= set("|-: ")]
        if rows:
            out.append(_table_md(rows))
        table.clear()

    for line in md.splitlines():
        if line.lstrip().startswith("|"):
            table.append(line)
            continue
        flush()
        heading = re.match(r"(#{1,5}) (.*)", line)
        if heading and title is None and heading.group(1) == "#" and not out:
            title = heading.group(2).strip()
        elif heading:
            level = min(len(heading.group(1)) + 1, 6)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif _IMAGE.search(line):
            for alt, target in _IMAGE.findall(line):
                png = rep.folder / target
                if Path(target).name == target and target.lower().endswith(".png") and png.is_file():
                    out.append(_figure(rep, png, alt))
                elif target == "rsrp_after.png" and (rep.folder / "coverage_after.tif").is_file():
                    out.append(_figure(rep, _plan_after_map(rep), alt + " (redrawn from coverage_after.tif)"))
                else:
                    out.append(_note(f"{alt}: {target} is not in the folder."))
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
    flush()
    return title, "".join(out)


def _table_md(rows: list[list[str]]) -> str:
    head, *body = rows
    cells = "".join(f"<th>{_inline(c.strip())}</th>" for c in head)
    cells_body = "".join("<tr>" + "".join(f"<td{' class=n' if i else ''}>{_inline(c.strip())}</td>"
                                          for i, c in enumerate(r)) + "</tr>" for r in body)
    return f"<table><tr>{cells}</tr>{cells_body}</table>"


def _plan_after_map(rep: _Report) -> Path:
    bands, grid = read_geotiff(rep.folder / "coverage_after.tif")
    style = dict(MAP_STYLES["rsrp_dbm"])
    style["title"] = "Best-server RSRP, after the plan"
    return plot_map_png(rep.tmp / "rsrp_after.png", bands["rsrp_dbm"], grid, **style)


def _plan_section(rep: _Report) -> None:
    plan = _read_json(rep.folder / "plan.json")
    rep.plan_name = plan.get("name")
    md_path = rep.folder / "plan.md"
    parts, heading = [], f"Network plan: {plan.get('name', '')}".rstrip(": ")
    if md_path.is_file():
        try:
            md = md_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataFileError(f"cannot read {md_path}: {exc}") from None
        title, body = _markdown_html(md, rep)
        heading = title or heading
        parts.append(body)
    else:
        unit = plan.get("cost_unit", "")
        rows = [[r.get("method"), r.get("status"), r.get("sites"), num_text(r.get("cost")), pct_text(r.get("covered_fraction"))]
                for r in (plan.get("milp"), plan.get("greedy")) if isinstance(r, dict)]
        parts.append(_table(["method", "status", "sites", f"cost [{unit}]", "covered (optimiser) [%]"], rows,
                            numeric=(2, 3, 4)))
        rows = [[t.get("target"), num_text(t.get("required"), "{:.2f}") if t.get("sense") == "max" else
                 pct_text(t.get("required")), num_text(t.get("measured"), "{:.2f}") if t.get("sense") == "max" else
                 pct_text(t.get("measured")), "met" if t.get("met") else "not met"]
                for t in plan.get("targets_after") or [] if isinstance(t, dict)]
        if rows:
            parts.append(_table(["target", "required", "after the plan (re-measured)", ""], rows,
                                numeric=(1, 2)))
        for name, caption in (("rsrp_before.png", "RSRP before the plan"), ("rsrp_after.png", "RSRP after the plan"),
                              ("sinr_before.png", "SINR before the plan"), ("sinr_after.png", "SINR after the plan"),
                              ("rollout.png", "Phased rollout")):
            if (rep.folder / name).is_file():
                parts.append(_figure(rep, rep.folder / name, caption))
        parts.append(_note("This folder has no plan.md; the figures above come from plan.json."))
    after = rep.folder / "coverage_after.tif"
    if after.is_file() and not (rep.folder / "coverage.tif").is_file():
        bands, _ = read_geotiff(after)
        cdfs = [_figure(rep, _cdf_png(rep, name, bands, when="after the plan")[0],
                        CDF_SPECS[name][2] + f", after the plan ({CDF_SPECS[name][1]})")
                for name in ("rsrp_dbm", "sinr_db") if name in bands]
        if cdfs:
            parts.append("<h3>Distributions after the plan (coverage_after.tif)</h3>" + "".join(cdfs))
    rep.sections.append(("plan", heading, "".join(parts)))


def _simulation_section(rep: _Report) -> None:
    """The system-level simulation of a ``cellscape simulate`` folder: headline KPIs, slices, users
    per group (from ue_kpis.parquet) and the folder's plots."""
    summary = _read_json(rep.folder / "summary.json")
    sim = _read_json(rep.folder / "simulation.json")
    rep.plan_name = rep.plan_name or sim.get("name")
    thr = summary.get("user_throughput_mbps") or {}
    rows = [
        ["users / sectors", f"{summary.get('users')} / {summary.get('sectors')}"],
        ["time measured [s]", num_text(summary.get("measured_s"), "{:.2f}")],
        ["cell spectral efficiency [bit/s/Hz]", num_text(summary.get("cell_spectral_efficiency_bps_hz"), "{:.2f}")],
        ["user throughput p5 / p50 / p95 [Mbit/s]",
         " / ".join(num_text(thr.get(k), "{:.2f}") for k in ("p5", "p50", "p95"))],
        ["5th-percentile user spectral efficiency [bit/s/Hz]",
         num_text(summary.get("user_spectral_efficiency_p5_bps_hz"), "{:.3f}")],
        ["downlink PRB utilisation, mean", pct_text(summary.get("prb_utilisation_dl_mean"))],
        ["first-transmission BLER (median user)", num_text(summary.get("dl_bler_mean"), "{:.3f}")],
        ["handovers (per user and s)", f"{summary.get('handovers')} ({num_text(summary.get('handover_rate_per_user_s'), '{:.3f}')})"],
        ["ping-pong share of handovers", pct_text(summary.get("ping_pong_rate"))],
        ["radio-link failures per user and s", num_text(summary.get("rlf_rate_per_user_s"), "{:.4f}")],
    ]
    parts = [_table(["KPI", "value"], rows, numeric=(1,))]
    slices = summary.get("slices") or {}
    if slices:
        parts.append(_table(["slice", "users", "SLA met [%]", "user throughput p50 [Mbit/s]", "median p99 latency [ms]"],
                            [[name, v.get("users"), pct_text(v.get("sla_satisfaction")),
                              num_text(v.get("user_throughput_mbps_p50"), "{:.2f}"),
                              num_text(v.get("latency_p99_ms_median"), "{:.1f}")] for name, v in slices.items()],
                            numeric=(1, 2, 3, 4)))
    ue_path = rep.folder / "ue_kpis.parquet"
    if ue_path.is_file():
        import pyarrow.parquet as pq

        try:
            ue = pq.read_table(ue_path, columns=["group", "device", "slice", "dl_throughput_mbps", "ul_throughput_mbps",
                                                 "handovers", "rlfs"]).to_pydict()
        except (OSError, ValueError, KeyError) as exc:
            raise DataFileError(f"cannot read {ue_path}: {exc}") from None
        groups: dict[str, list[int]] = {}
        for i, g in enumerate(ue["group"]):
            groups.setdefault(g, []).append(i)
        grow = []
        for g, idx in groups.items():
            dl = np.array([ue["dl_throughput_mbps"][i] for i in idx], dtype=float)
            ul = np.array([ue["ul_throughput_mbps"][i] for i in idx], dtype=float)
            grow.append([g, ue["device"][idx[0]], ue["slice"][idx[0]], len(idx), num_text(float(np.mean(dl)), "{:.2f}"),
                         num_text(float(np.mean(ul)), "{:.2f}"), int(sum(ue["handovers"][i] for i in idx)),
                         int(sum(ue["rlfs"][i] for i in idx))])
        parts.append(_table(["group", "device", "slice", "users", "mean DL [Mbit/s]", "mean UL [Mbit/s]", "handovers",
                             "RLFs"], grow, numeric=(3, 4, 5, 6, 7)))
    for name, caption in (("user_throughput_cdf.png", "User throughput, CDF over users"),
                          ("latency_cdf.png", "Mean packet latency per user, CDF"),
                          ("cell_load.png", "Downlink PRB utilisation over time"),
                          ("cell_throughput.png", "Downlink cell throughput over time"),
                          ("users.png", "Users coloured by downlink throughput")):
        if (rep.folder / name).is_file():
            parts.append(_figure(rep, rep.folder / name, caption))
    parts.append(_note("System-level simulation (docs/simulation.md): users on the coverage engine's per-sector "
                       "maps, scheduled per slot; per-user and per-sector tables are in ue_kpis.parquet and "
                       "cell_kpis.parquet."))
    iot = summary.get("iot")
    if iot:
        parts.append(_iot_part(rep, iot))
    rep.sections.append(("simulation", f"System-level simulation: {sim.get('name', '')}".rstrip(": "), "".join(parts)))


def _iot_part(rep: _Report, iot: dict) -> str:
    """The massive-IoT evaluation of a simulation folder (summary.json's ``iot``): coverage classes,
    the configured density, the connection density against IMT-2020, and its plots."""
    share = iot.get("area_share") or {}
    run = iot.get("at_configured_density") or {}
    lat = run.get("latency_s") or {}
    cd = iot.get("connection_density_per_km2")
    verdict = {True: "meets", False: "does not meet", None: "not evaluated"}[iot.get("meets_imt2020_connection_density")]
    rows = [
        ["NB-IoT carrier [GHz]", num_text(iot.get("fc_ghz"), "{:g}")],
        ["area in CE0 / CE1 / CE2 / beyond the MCL",
         " / ".join(pct_text(share.get(k)) for k in ("ce0", "ce1", "ce2", "out_of_coverage"))],
        ["configured density [devices/km2]", num_text(run.get("density_per_km2"), "{:,.0f}")],
        ["random-access success", pct_text(run.get("access_success_rate"), 2)],
        ["packet outage (ITU-R M.2412)", pct_text(run.get("packet_outage_rate"), 2)],
        ["report latency p50 / p99 [s]", " / ".join(num_text(lat.get(k), "{:.2f}") for k in ("p50", "p99"))],
        ["connection density at 1 % outage [devices/km2]", num_text(cd, "{:,.0f}")],
        ["IMT-2020 requirement (1,000,000 devices/km2)", verdict],
    ]
    parts = ["<h3>Massive IoT</h3>", _table(["KPI", "value"], rows, numeric=(1,))]
    for name, caption in (("iot_ce_level.png", "NB-IoT coverage class per pixel (3 = beyond the MCL)"),
                          ("iot_outage.png", "Packet outage against device density")):
        if (rep.folder / name).is_file():
            parts.append(_figure(rep, rep.folder / name, caption))
    parts.append(_note("NB-IoT coverage classes, random access and reporting (docs/simulation.md, Massive IoT); "
                       "per-density figures in iot_density.csv."))
    return "".join(parts)


# ------------------------------------------------------------------------------------------- API


def build_report_html(folder: str | os.PathLike, *, regenerate_maps: bool = False, compact: bool = True) -> str:
    """The self-contained HTML report of a ``cellscape run``, ``plan`` or ``simulate`` output folder.

    Parameters
    ----------
    folder : str or os.PathLike
        A run folder (``coverage.tif``, optionally ``best_sector.tif``, ``kpis.json``, PNGs,
        ``los_probability.csv``, ``scenario.json``) or a plan folder (``plan.json``,
        ``plan.md``, PNGs, ``coverage_after.tif``) or a simulation folder (``summary.json``,
        ``simulation.json``, ``ue_kpis.parquet``, PNGs).
    regenerate_maps : bool, default False
        Redraw every figure from the GeoTIFFs (and ``los_probability.csv``) instead of reusing
        the PNGs in the folder.
    compact : bool, default True
        Embed each figure as a 256-colour palette PNG (3 to 4 times smaller, the colour-mapped
        pixels unchanged); False embeds the PNGs byte for byte.

    Returns
    -------
    html : str
        One HTML document; every image is a ``data:image/png;base64`` URI, nothing else is
        referenced.

    Raises
    ------
    DataFileError
        If ``folder`` does not exist, holds neither ``coverage.tif`` nor ``plan.json``, or one of
        its files cannot be read.
    """
    path = Path(folder)
    if not path.is_dir():
        raise DataFileError(f"report: folder {path} does not exist")
    is_run = (path / "coverage.tif").is_file()
    is_plan = (path / "plan.json").is_file()
    is_sim = (path / "summary.json").is_file() and (path / "simulation.json").is_file()
    if not (is_run or is_plan or is_sim):
        raise DataFileError(f"{path} is not a cellscape output folder: it has neither coverage.tif "
                            "(from `cellscape run`), plan.json (from `cellscape plan`) nor summary.json and "
                            "simulation.json (from `cellscape simulate`)")
    with tempfile.TemporaryDirectory(prefix="cellscape-report-") as tmp:
        rep = _Report(folder=path, tmp=Path(tmp), regenerate=regenerate_maps, compact=compact)
        if (path / "kpis.json").is_file():
            rep.kpis = _read_json(path / "kpis.json")
        if (path / "scenario.json").is_file():
            rep.scenario = _scenario_of(_read_json(path / "scenario.json"))
        if is_plan:
            _plan_section(rep)
        if is_sim:
            _simulation_section(rep)
        if is_run:
            _kpi_section(rep)
            _coverage_section(rep)
            _los_section(rep)
        if is_run or rep.scenario is not None:
            _scenario_section(rep)
        return _document(rep)


def _document(rep: _Report) -> str:
    name = (rep.scenario or {}).get("name") or rep.plan_name or rep.folder.resolve().name
    kind = " and ".join(k for k, ok in (("coverage", (rep.folder / "coverage.tif").is_file()),
                                        ("plan", (rep.folder / "plan.json").is_file()),
                                        ("simulation", (rep.folder / "simulation.json").is_file())) if ok)
    title = f"cellscape {kind} report: {name}"
    nav = "".join(f"<a href=\"#{a}\">{_esc(h)}</a>" for a, h, _ in rep.sections)
    body = "".join(f"<section id=\"{a}\"><h2>{_esc(h)}</h2>{b}</section>" for a, h, b in rep.sections)
    credit = _building_attribution(rep)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    footer = (f"<p>Generated by cellscape {_esc(__version__)} from the folder {_esc(rep.folder.resolve().name)} "
              f"on {stamp}. Path loss and LOS probability: 3GPP TR 38.901; throughput: TS 38.214 / TS 38.306.</p>"
              + (f"<p>{_esc(credit)}</p>" if credit else ""))
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_esc(title)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{_esc(title)}</h1><nav>{nav}</nav>{body}<footer>{footer}</footer></body></html>\n")


def write_report_html(folder: str | os.PathLike, out: str | os.PathLike | None = None, *,
                      regenerate_maps: bool = False, compact: bool = True) -> Path:
    """Write :func:`build_report_html` of ``folder`` atomically; return the file written.

    Parameters
    ----------
    folder : str or os.PathLike
        The run or plan folder.
    out : str or os.PathLike, optional
        The HTML file (an existing folder receives ``report.html``); default
        ``<folder>/report.html``.
    regenerate_maps, compact : bool
        See :func:`build_report_html`.

    Returns
    -------
    path : Path

    Raises
    ------
    DataFileError
        As :func:`build_report_html`, or if the folder of ``out`` does not exist.
    """
    target = Path(folder) / REPORT_NAME if out is None else Path(out)
    if target.is_dir():
        target = target / REPORT_NAME
    text = build_report_html(folder, regenerate_maps=regenerate_maps, compact=compact)
    return write_text_atomic(target, text)
