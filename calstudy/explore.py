"""The interactive explorer: every network of a store as a point, in the static book.

The explorer chapter lets a reader pick the two axes and the colour among a store's metric,
accuracy and robustness columns, search the networks by architecture string (the matches are
highlighted and listed with their values), hover a point for its architecture and values, and
click one to see its whole row. It runs in the static HTML page, with no kernel and no network.

Two steps, compute then draw, as in :mod:`calstudy.plots`:

* :func:`build_payload` turns a store frame into a compact payload: a seeded sample of at most
  ``max_points`` rows, each offered column quantised to one of 4,095 levels of its range
  (linear, or logarithmic for a positive column that is not a fraction and spans two decades
  or more, such as the parameter count, which the page then draws on a log axis) and written as
  two characters per value, the categories as one character per value, and the architecture
  strings as codes into a vocabulary of their parts. A paper-size store (20,000 points,
  55 columns) takes about 2.5 MB; the same numbers as rounded JSON would take three times that.
* :func:`render_html` writes the payload into a ``<div>`` with labelled controls, a canvas for
  the points, an SVG overlay for the axes and highlighted matches, and about 300 lines of
  plain JavaScript (no library, nothing fetched). :func:`decode` reads a payload back into a
  frame, for tests and for anyone who wants the explorer's numbers in Python.

Every name a reader sees comes from :func:`calstudy.catalogue.display_name`; accuracies and the
ECE-type estimators are shown in percent, as elsewhere in the book.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from calstudy.catalogue import display_name
from calstudy.schema import ACCURACY_COLUMNS, ATTACK_COLUMNS, CORRUPTIONS

__all__ = [
    "ALPHABET",
    "CATEGORY_COLUMNS",
    "DEFAULT_COLUMNS",
    "LEVELS",
    "build_payload",
    "decode",
    "intro",
    "offered_columns",
    "payload_bytes",
    "render_html",
]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"
"""The 64 characters of the packed codes (JSON-safe, so nothing needs escaping)."""
LEVELS = 64 * 64 - 1
"""Quantisation levels of a numeric column: codes ``0 … LEVELS - 1``; code ``LEVELS`` is
missing. The largest error of a shown value is half a level, 1/8,188 of the column's range."""

_CALIBRATION = ("ECE_15", "ECE_em_15", "cwCE_15", "cwCE_em_15", "MCE_15", "KSCE", "KDECE",
                "MMCE", "smECE", "dL2ECE_15", "NLL", "Brier")  # fmt: skip
_ATTACK_EPS = ("1_0", "8_0")  # two strengths per attack keep the default payload small
DEFAULT_COLUMNS: tuple[str, ...] = (
    "acc",
    *(f"{stage}_{m}" for m in _CALIBRATION for stage in ("pre", "post")),
    "temperature",
    "correct_confidence",
    "incorrect_confidence",
    *(f"{method}_{m}" for method in ("vs", "hist", "iso") for m in ("ECE_15", "acc")),
    "pre_auc_cifar10c",
    "pre_auc_svhn",
    "pre_auc_ood",
    *(c for c in ATTACK_COLUMNS if c.endswith(_ATTACK_EPS)),
    *CORRUPTIONS,
    "n_params",
    "flops",
)
"""Columns offered on the axes and the colour when the chapter names none (those a store fills)."""
CATEGORY_COLUMNS: tuple[str, ...] = ("space", "dataset", "seed")
"""Categorical columns embedded for the colour, the filter and the rows (``seed`` only when a
store holds more than one)."""

_PERCENT_FAMILIES = frozenset({"ECE", "ECE_em", "cwCE", "cwCE_em", "MCE", "KSCE", "KDECE",
                               "smECE", "dL2ECE"})  # fmt: skip
_STAGES = ("pre", "post", "vs", "hist", "iso")
_ARCH_PARTS = re.compile(r"([|+:,;\s]+)")  # separators of NATS-Bench strings, kept as parts
_NOT_EMBEDDED = ("notes", "positions")  # for the chapter, not the page
_LOG_SPAN = 100.0  # a positive column spanning this ratio or more is quantised in log space


def _is_percent(column: str) -> bool:
    """Accuracies, confidences and the ECE-type estimators read in percent (fractions in [0, 1])."""
    if column in ACCURACY_COLUMNS or column in ("correct_confidence", "incorrect_confidence"):
        return True
    stage, _, rest = column.partition("_")
    family = re.sub(r"_\d+$", "", rest)
    return stage in _STAGES and family in _PERCENT_FAMILIES


def _numeric(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series.astype("object").where(series.notna(), np.nan),
                         errors="coerce").to_numpy(float)  # fmt: skip


def offered_columns(df: pd.DataFrame, columns: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """The numeric columns the explorer offers: ``columns`` (default :data:`DEFAULT_COLUMNS`)
    that ``df`` fills with at least one finite number.

    Parameters
    ----------
    df : DataFrame
        Rows of a store.
    columns : sequence of str, optional
        Columns to offer, in this order; empty: the default list.

    Returns
    -------
    (list of str, list of str)
        The offered columns, and one sentence per requested column left out (a default column a
        store lacks is left out silently: most stores fill only some of them).

    Examples
    --------
    >>> rows = pd.DataFrame({"acc": [0.9, 0.8], "pre_NLL": [0.3, None], "temperature": [None] * 2})
    >>> offered_columns(rows)
    (['acc', 'pre_NLL'], [])
    >>> offered_columns(rows, ["pre_NLL", "temperature"])[1]
    ['`temperature` (temperature) holds no number in this store; it is not offered.']
    """
    requested = list(dict.fromkeys(columns)) or list(DEFAULT_COLUMNS)
    if columns:
        unknown = [c for c in requested if c not in df.columns]
        if unknown:
            raise ValueError(
                f"Expected `columns` to name columns of the store, got unknown {unknown}; "
                f"the store has, e.g., {sorted(df.columns)[:6]}."
            )
    offered, notes = [], []
    for column in requested:
        if column not in df.columns:
            continue
        if np.isfinite(_numeric(df[column])).any():
            offered.append(column)
        elif columns:
            notes.append(f"`{column}` ({display_name(column)}) holds no number in this store; "
                         "it is not offered.")  # fmt: skip
    return offered, notes


def _pack(codes: np.ndarray, width: int) -> str:
    """Integer codes as ``width`` characters each of :data:`ALPHABET` (most significant first)."""
    chars = np.array(list(ALPHABET))
    digits = [chars[(codes // 64**k) % 64] for k in reversed(range(width))]
    return "".join(np.stack(digits, axis=1).ravel()) if len(codes) else ""


def _unpack(text: str, width: int) -> np.ndarray:
    index = {c: i for i, c in enumerate(ALPHABET)}
    values = np.array([index[c] for c in text], dtype=np.int64).reshape(-1, width)
    return values @ (64 ** np.arange(width - 1, -1, -1))


def _width(n_values: int) -> int:
    return 1 if n_values <= 64 else 2


def _quantise(column: str, values: np.ndarray) -> dict[str, Any]:
    finite = np.isfinite(values)
    # Bounded fractions (accuracies, ECE) stay linear: a reader compares them in percentage points.
    log = bool(not _is_percent(column) and finite.any() and (values[finite] > 0).all()
               and values[finite].max() >= _LOG_SPAN * values[finite].min())  # fmt: skip
    scaled = np.log10(values, where=finite & (values > 0), out=np.full_like(values, np.nan))
    scaled = scaled if log else values
    lo, hi = float(scaled[finite].min()), float(scaled[finite].max())
    span = hi - lo if hi > lo else 1.0
    codes = np.full(len(values), LEVELS, dtype=np.int64)
    codes[finite] = np.rint((scaled[finite] - lo) / span * (LEVELS - 1)).astype(np.int64)
    return {"column": column, "name": display_name(column), "percent": _is_percent(column),
            "log": log, "lo": lo, "hi": hi, "codes": _pack(codes, 2)}  # fmt: skip


def _categories(column: str, series: pd.Series) -> dict[str, Any]:
    text = series.astype("object").where(series.notna(), None)
    values = sorted({str(v) for v in text if v is not None})
    if text.isna().any():
        values.append("—")
    lookup = {v: i for i, v in enumerate(values)}
    codes = np.array([lookup["—" if v is None else str(v)] for v in text], dtype=np.int64)
    width = _width(len(values))
    return {"column": column, "name": display_name(column), "values": values, "width": width,
            "codes": _pack(codes, width)}  # fmt: skip


def _architectures(archs: pd.Series) -> dict[str, Any]:
    """Architecture strings as codes into a vocabulary of their parts (operations with their
    input, channel counts, separators): a TSS string of ~90 characters becomes 13."""
    parts = [[p for p in _ARCH_PARTS.split(str(a)) if p] for a in archs]
    vocab = sorted({p for row in parts for p in row})
    if len(vocab) > 64 * 64:  # strings without NATS-Bench structure: keep them whole
        return {"rows": [str(a) for a in archs]}
    lookup = {p: i for i, p in enumerate(vocab)}
    width = _width(len(vocab))
    rows = [_pack(np.array([lookup[p] for p in row], dtype=np.int64), width) for row in parts]
    return {"vocab": vocab, "width": width, "rows": rows}


def build_payload(
    df: pd.DataFrame,
    *,
    columns: Sequence[str] = (),
    x: str = "acc",
    y: str = "pre_ECE_15",
    color: str = "space",
    max_points: int = 20_000,
    seed: int = 0,
) -> dict[str, Any]:
    """The explorer's data: a seeded sample of ``df``, its offered columns packed, the start view.

    Parameters
    ----------
    df : DataFrame
        Rows of a store, with ``arch``, ``space`` and ``dataset``.
    columns : sequence of str, optional
        Numeric columns offered on the axes and the colour (default :data:`DEFAULT_COLUMNS`);
        see :func:`offered_columns`.
    x, y, color : str
        The view the page opens with. ``color`` is a category (``space``, ``dataset``) or an
        offered column. A choice the store does not fill falls back, with a note.
    max_points : int, default=20_000
        Larger frames are shown as a random sample of this many rows.
    seed : int, default=0
        Seed of the sample and of the drawing order (points are drawn in a shuffled order, so
        that no group hides another by being drawn last).

    Returns
    -------
    dict
        ``total`` (rows of ``df``), ``n`` (rows shown), ``arch``, ``categories``, ``numbers``
        (one packed column each), ``start`` (``x``, ``y``, ``color``), ``notes`` (sentences
        for the reader: sample, fallbacks, left-out columns) and ``positions`` (the shown rows'
        positions in ``df``, in drawing order). The page embeds all but the last two.
    """
    if not isinstance(max_points, int | np.integer) or max_points < 1:
        raise ValueError(f"Expected `max_points` to be a positive integer, got {max_points!r}.")
    missing = [c for c in ("arch", "space", "dataset") if c not in df.columns]
    if missing:
        raise ValueError(f"Expected `df` to have columns {missing}, got {list(df.columns)[:8]}.")
    if df.empty:
        raise ValueError("Expected at least one row to explore, got an empty frame.")
    offered, notes = offered_columns(df, columns)
    positions = np.random.default_rng(seed).permutation(len(df))[: int(max_points)]
    shown = df.iloc[positions]
    sampled = {c: _numeric(shown[c]) for c in offered}
    numbers = [_quantise(c, v) for c, v in sampled.items() if np.isfinite(v).any()]
    if not numbers:
        wanted = list(columns or DEFAULT_COLUMNS)
        raise ValueError(f"Expected `df` to fill one of the columns {wanted[:6]} (of "
                         f"{len(wanted)}) with numbers, got none.")  # fmt: skip
    kept = [n["column"] for n in numbers]
    categories = [_categories(c, shown[c]) for c in CATEGORY_COLUMNS
                  if c in shown.columns and (c != "seed" or shown[c].nunique() > 1)]  # fmt: skip
    if len(shown) < len(df):
        notes.insert(0, f"The page shows a random sample of {len(shown):,} of the store's "
                     f"{len(df):,} networks (`max_points`, `seed`).")  # fmt: skip
    start = {}
    colours = [*(c["column"] for c in categories), *kept]
    for role, wanted, choices in (("x", x, kept), ("y", y, kept), ("color", color, colours)):
        if wanted in choices:
            start[role] = wanted
            continue
        pick = next((c for c in choices if c != start.get("x")), choices[0])
        start[role] = pick
        notes.append(f'`{role} = "{wanted}"` is not a column this page offers for this store; '
                     f"it opens with {display_name(pick)} (`{pick}`) instead.")  # fmt: skip
    return {
        "total": len(df),
        "n": len(shown),
        "arch": _architectures(shown["arch"]),
        "categories": categories,
        "numbers": numbers,
        "start": start,
        "notes": notes,
        "positions": positions.tolist(),
    }


def intro(df: pd.DataFrame, payload: dict[str, Any]) -> str:
    """The chapter's opening box: what the page shows of this store, what a reader can do, and a
    first network to look for (the drawn one with the lowest value on the page's vertical axis).

    Parameters
    ----------
    df : DataFrame
        The store's rows the payload was built from.
    payload : dict
        Output of :func:`build_payload`.

    Returns
    -------
    str
        Markdown.
    """
    from calstudy.report import join, plural

    groups = df.groupby(["space", "dataset"]).size()
    y = payload["start"]["y"]
    shown = df.iloc[payload["positions"]]  # the first network must be one the page draws
    values = _numeric(shown[y])
    best = shown.iloc[int(np.nanargmin(values))]
    number = next(n for n in payload["numbers"] if n["column"] == y)
    lowest = f"{100 * values.min():.2f} %" if number["percent"] else f"{values.min():.4g}"
    sample = (f", {payload['n']:,} of them drawn as a random sample" if payload["n"] < len(df)
              else "")  # fmt: skip
    return (
        f"**What this page holds.** {plural(len(df), 'network')} of this store "
        f"({join(f'{s} × {d}: {n:,}' for (s, d), n in groups.items())}){sample}, each with "
        f"{plural(len(payload['numbers']), 'column')} to plot: accuracy, calibration before and "
        "after temperature scaling, and whichever robustness columns the store fills.\n\n"
        "**What you can do.** Choose the two axes and the colour, keep one search space or "
        "dataset, and type part of an architecture string in the search box: the matching "
        "networks are ringed and listed with their values. Hover a point for its architecture "
        "and values; click it for its whole row. Everything runs in this page, offline.\n\n"
        f"**A place to start.** The lowest {display_name(y)} among the drawn networks, "
        f"{lowest}, belongs to `{best['arch']}` ({best['space']}, {best['dataset']}): paste that "
        "string into the search box."
    )


def decode(payload: dict[str, Any]) -> pd.DataFrame:
    """The rows a payload holds, as the page shows them (quantised values, in store units).

    Parameters
    ----------
    payload : dict
        Output of :func:`build_payload`.

    Returns
    -------
    DataFrame
        ``arch``, the categories and the numeric columns, one row per shown network.
    """
    arch = payload["arch"]
    if "vocab" in arch:
        archs = ["".join(arch["vocab"][int(i)] for i in _unpack(row, arch["width"]))
                 for row in arch["rows"]]  # fmt: skip
    else:
        archs = list(arch["rows"])
    frame = {"arch": archs}
    for cat in payload["categories"]:
        frame[cat["column"]] = [cat["values"][int(i)] for i in _unpack(cat["codes"], cat["width"])]
    for num in payload["numbers"]:
        codes = _unpack(num["codes"], 2)
        scaled = num["lo"] + codes / (LEVELS - 1) * (
            num["hi"] - num["lo"] if num["hi"] > num["lo"] else 1.0
        )
        values = 10.0**scaled if num["log"] else scaled
        frame[num["column"]] = np.where(codes == LEVELS, np.nan, values)
    return pd.DataFrame(frame)


def payload_bytes(payload: dict[str, Any]) -> int:
    """Bytes of the payload as :func:`render_html` embeds it (its JSON)."""
    return len(_json(payload).encode())


def _json(payload: dict[str, Any]) -> str:
    embedded = {k: v for k, v in payload.items() if k not in _NOT_EMBEDDED}
    return json.dumps(embedded, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _options(items: Sequence[tuple[str, str]], selected: str) -> str:
    return "".join(
        f'<option value="{html.escape(value, quote=True)}"'
        + (" selected" if value == selected else "")
        + f">{html.escape(label)}</option>"
        for value, label in items
    )


def _label(number: dict[str, Any]) -> str:
    return (
        number["name"]
        + (" (%)" if number["percent"] else "")
        + (" (log scale)" if number["log"] else "")
    )


def render_html(payload: dict[str, Any], *, element_id: str | None = None) -> str:
    """The explorer as a self-contained HTML fragment (no library, nothing fetched).

    Parameters
    ----------
    payload : dict
        Output of :func:`build_payload`.
    element_id : str, optional
        HTML id of the explorer; default derived from the payload, so that the output is
        reproducible and two explorers on a page do not collide.

    Returns
    -------
    str
        ``<div class="calstudy-explorer">`` holding the controls (axis, colour and subset
        selects, the search box), the canvas and its SVG overlay, the legend, a summary (also
        the figure's ``aria-label``), the table of matches, the selected row, the data and the
        script.
    """
    for key in ("arch", "categories", "numbers", "start", "n"):
        if key not in payload:
            raise ValueError(f"Expected `payload` from build_payload with key {key!r}, got "
                             f"keys {sorted(payload)}.")  # fmt: skip
    data = _json(payload)
    embedded = data.replace("</", "<\\/")  # no "</script>" inside the JSON
    if element_id is None:
        element_id = "calstudy-explorer-" + hashlib.sha256(data.encode()).hexdigest()[:10]
    safe_id = html.escape(element_id, quote=True)
    start = payload["start"]
    axes = [(n["column"], _label(n)) for n in payload["numbers"]]
    colours = [(c["column"], c["name"]) for c in payload["categories"]] + axes
    subsets = [("", "every network")] + [
        (f"{c['column']}={v}", f"{c['name']}: {v}")
        for c in payload["categories"] if c["column"] in ("space", "dataset")
        for v in c["values"]
    ]  # fmt: skip
    select = 'style="max-width:100%"'
    return (
        f'<div id="{safe_id}" class="calstudy-explorer" style="max-width:760px;margin:0 auto;'
        'text-align:left;font-size:14px">\n'
        '<div style="display:grid;grid-template-columns:auto 1fr;gap:4px 10px;'
        'align-items:center">\n'
        f'<label for="{safe_id}-x">Horizontal axis</label><select id="{safe_id}-x" name="x" '
        f"{select}>{_options(axes, start['x'])}</select>\n"
        f'<label for="{safe_id}-y">Vertical axis</label><select id="{safe_id}-y" name="y" '
        f"{select}>{_options(axes, start['y'])}</select>\n"
        f'<label for="{safe_id}-color">Colour</label><select id="{safe_id}-color" name="color" '
        f"{select}>{_options(colours, start['color'])}</select>\n"
        f'<label for="{safe_id}-subset">Networks</label><select id="{safe_id}-subset" '
        f'name="subset" {select}>{_options(subsets, "")}</select>\n'
        f'<label for="{safe_id}-search">Find an architecture</label><input id="{safe_id}-search" '
        'name="search" type="search" autocomplete="off" placeholder="part of an architecture '
        'string, e.g. nor_conv_3x3~0 (several words: all must match)">\n'
        "</div>\n"
        '<div class="plot" style="position:relative;margin-top:8px">'
        '<canvas width="720" height="460" style="width:100%;display:block" role="img" '
        'aria-label="Scatter plot of the networks"></canvas>'
        '<svg viewBox="0 0 720 460" style="position:absolute;left:0;top:0;width:100%;'
        'height:100%;pointer-events:none" aria-hidden="true"></svg>'
        '<div class="tip" hidden style="position:absolute;pointer-events:none;background:#fff;'
        "border:1px solid #888;border-radius:4px;padding:4px 6px;font-size:12px;max-width:360px;"
        'box-shadow:0 1px 4px rgba(0,0,0,.2);z-index:2"></div></div>\n'
        '<div class="legend" style="display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px;'
        'margin:4px 0"></div>\n'
        '<p class="summary" aria-live="polite"></p>\n'
        '<div class="matches" style="overflow-x:auto;font-size:12px"></div>\n'
        '<div class="row" style="overflow-x:auto;font-size:12px"></div>\n'
        f'<script type="application/json">{embedded}</script>\n'
        f"<script>{_EXPLORER_JS.replace('__ID__', safe_id)}</script>\n"
        "</div>"
    )


_EXPLORER_JS = r"""
(function () {
  var root = document.getElementById("__ID__");
  var data = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_", IDX = {};
  for (var a = 0; a < A.length; a++) { IDX[A[a]] = a; }
  var LEVELS = 4095, N = data.n, MATCH_ROWS = 10, MATCH_RINGS = 500;
  var W = 720, H = 460, L = 70, R = 16, T = 14, B = 46, w = W - L - R, h = H - T - B;
  var canvas = root.querySelector("canvas"), svg = root.querySelector("svg");
  var tip = root.querySelector(".tip"), NS = "http://www.w3.org/2000/svg";
  var ctl = {};
  ["x", "y", "color", "subset", "search"].forEach(function (k) {
    ctl[k] = root.querySelector("[name=" + k + "]");
  });
  function codes(s, width) {
    var n = s.length / width, out = new Array(n);
    for (var i = 0; i < n; i++) {
      var c = 0;
      for (var k = 0; k < width; k++) { c = c * 64 + IDX[s.charAt(i * width + k)]; }
      out[i] = c;
    }
    return out;
  }
  // Decode once: architecture strings, categories, numbers (NaN where missing).
  var arch = data.arch.vocab ? data.arch.rows.map(function (r) {
    return codes(r, data.arch.width).map(function (c) { return data.arch.vocab[c]; }).join("");
  }) : data.arch.rows;
  var archLower = arch.map(function (s) { return s.toLowerCase(); });
  var cols = {}, order = [];
  data.categories.forEach(function (c) {
    cols[c.column] = {kind: "cat", name: c.name, values: c.values, v: codes(c.codes, c.width)};
    order.push(c.column);
  });
  data.numbers.forEach(function (c) {
    var span = c.hi > c.lo ? c.hi - c.lo : 1, v = codes(c.codes, 2).map(function (q) {
      if (q === LEVELS) { return NaN; }
      var s = c.lo + q / (LEVELS - 1) * span;
      return c.log ? Math.pow(10, s) : s;
    });
    cols[c.column] = {kind: "num", name: c.name, percent: c.percent, log: c.log, v: v};
    order.push(c.column);
  });
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf"];
  var VIRIDIS = [[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
                 [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]];
  function ramp(t) {
    var s = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
    var i = Math.min(Math.floor(s), VIRIDIS.length - 2), f = s - i;
    var c = VIRIDIS[i].map(function (x, k) { return Math.round(x + f * (VIRIDIS[i + 1][k] - x)); });
    return "rgb(" + c.join(",") + ")";
  }
  function fmt(v, col) {
    if (col.kind === "cat") { return col.values[v]; }
    if (!isFinite(v)) { return "—"; }
    var x = col.percent ? 100 * v : v;
    return x.toLocaleString("en-US", {maximumSignificantDigits: 3}) + (col.percent ? " %" : "");
  }
  function label(col) {
    return col.name + (col.percent ? " (%)" : "") + (col.log ? " (log scale)" : "");
  }
  function niceTicks(lo, hi, n) {
    var raw = (hi - lo) / n, step = Math.pow(10, Math.floor(Math.log10(raw))), err = raw / step;
    step *= err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1;
    var out = [];
    for (var k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) {
      out.push(k * step + 0);  // + 0: never "-0"
    }
    return out;
  }
  function el(parent, tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (text !== undefined) { e.textContent = text; }
    parent.appendChild(e);
    return e;
  }
  function html(tag, text, style) {
    var e = document.createElement(tag);
    if (text !== undefined) { e.textContent = text; }
    if (style) { e.setAttribute("style", style); }
    return e;
  }
  var state = {px: [], py: [], drawn: [], selected: -1, matches: []};
  function scaleOf(col, idx, bare) {
    var lo = Infinity, hi = -Infinity;
    idx.forEach(function (i) {
      var v = col.log ? Math.log10(col.v[i]) : col.v[i];
      if (v < lo) { lo = v; } if (v > hi) { hi = v; }
    });
    if (lo > hi) { lo = 0; hi = 1; }  // nothing to draw: an empty frame, no "NaN" ticks
    if (!(hi > lo)) { lo -= 0.5; hi += 0.5; }
    var pad = bare ? 0 : 0.03 * (hi - lo);
    return {lo: lo - pad, hi: hi + pad, log: col.log};
  }
  function pos(s, v) { return ((s.log ? Math.log10(v) : v) - s.lo) / (s.hi - s.lo); }
  function axis(s, col, horizontal) {
    niceTicks(s.lo, s.hi, horizontal ? 7 : 6).forEach(function (t) {
      var v = s.log ? Math.pow(10, t) : t, f = (t - s.lo) / (s.hi - s.lo);
      var text = fmt(v, col).replace(" %", "");
      if (horizontal) {
        el(svg, "line", {x1: L + f * w, x2: L + f * w, y1: T + h, y2: T + h + 5, stroke: "#555"});
        el(svg, "text", {x: L + f * w, y: T + h + 18, "text-anchor": "middle", "font-size": 11}, text);
      } else {
        el(svg, "line", {x1: L - 5, x2: L, y1: T + (1 - f) * h, y2: T + (1 - f) * h, stroke: "#555"});
        el(svg, "text", {x: L - 8, y: T + (1 - f) * h + 4, "text-anchor": "end",
                         "font-size": 11}, text);
      }
    });
    if (horizontal) {
      el(svg, "text", {x: L + w / 2, y: H - 6, "text-anchor": "middle", "font-size": 13,
                       "class": "xlabel"}, label(col));
    } else {
      el(svg, "text", {x: 14, y: T + h / 2, "text-anchor": "middle", "font-size": 13, "class": "ylabel",
                       transform: "rotate(-90 14 " + (T + h / 2) + ")"}, label(col));
    }
  }
  function colourer(col, idx) {
    if (col.kind === "cat") { return function (i) { return PALETTE[col.v[i] % PALETTE.length]; }; }
    var s = scaleOf(col, idx.filter(function (i) { return isFinite(col.v[i]); }), true);
    return function (i) { return isFinite(col.v[i]) ? ramp(pos(s, col.v[i])) : "#bbbbbb"; };
  }
  function legend(col, idx, colour) {
    var box = root.querySelector(".legend");
    box.textContent = "";
    box.appendChild(html("span", "Colour: " + label(col), "font-weight:600"));
    if (col.kind === "cat") {
      col.values.forEach(function (v, k) {
        var n = idx.filter(function (i) { return col.v[i] === k; }).length;
        if (!n) { return; }
        var item = html("span", "", "white-space:nowrap");
        item.className = "item";
        item.appendChild(html("span", "", "display:inline-block;width:10px;height:10px;border-radius:50%;" +
                              "margin-right:4px;background:" + PALETTE[k % PALETTE.length]));
        item.appendChild(document.createTextNode(v + " (" + n.toLocaleString("en-US") + ")"));
        box.appendChild(item);
      });
      return;
    }
    var finite = idx.filter(function (i) { return isFinite(col.v[i]); });
    var s = scaleOf(col, finite, true);
    var lo = s.log ? Math.pow(10, s.lo) : s.lo, hi = s.log ? Math.pow(10, s.hi) : s.hi;
    var stops = VIRIDIS.map(function (c, k) {
      return "rgb(" + c.join(",") + ") " + (100 * k / (VIRIDIS.length - 1)) + "%";
    });
    var item = html("span", "", "white-space:nowrap");
    item.className = "item";
    item.appendChild(document.createTextNode(fmt(lo, col) + " "));
    item.appendChild(html("span", "", "display:inline-block;width:140px;height:10px;vertical-align:middle;" +
                          "background:linear-gradient(to right," + stops.join(",") + ")"));
    item.appendChild(document.createTextNode(" " + fmt(hi, col)));
    box.appendChild(item);
    if (finite.length < idx.length) { box.appendChild(html("span", "grey: no value")); }
  }
  function rowTable(rows, columns, caption) {
    var table = html("table", undefined, "border-collapse:collapse;margin:4px 0");
    if (caption) { table.appendChild(html("caption", caption, "text-align:left;caption-side:top")); }
    var head = html("tr");
    ["architecture"].concat(columns.map(function (c) { return cols[c].name; })).forEach(function (t) {
      head.appendChild(html("th", t, "text-align:left;padding:2px 8px;border-bottom:1px solid #999"));
    });
    table.appendChild(head);
    rows.forEach(function (i) {
      var tr = html("tr");
      tr.appendChild(html("td", arch[i], "font-family:monospace;padding:2px 8px;word-break:break-all;" +
                          "min-width:14em"));
      columns.forEach(function (c) {
        tr.appendChild(html("td", fmt(cols[c].v[i], cols[c]), "padding:2px 8px"));
      });
      table.appendChild(tr);
    });
    return table;
  }
  function draw() {
    var xc = cols[ctl.x.value], yc = cols[ctl.y.value], cc = cols[ctl.color.value];
    var subset = ctl.subset.value.split("="), sc = subset.length === 2 ? cols[subset[0]] : null;
    var sk = sc ? sc.values.indexOf(subset[1]) : -1;
    var terms = ctl.search.value.toLowerCase().split(/\s+/).filter(function (t) { return t; });
    var idx = [], match = [];
    for (var i = 0; i < N; i++) {
      if (sc && sc.v[i] !== sk) { continue; }
      var xv = xc.v[i], yv = yc.v[i];
      if (!isFinite(xv) || !isFinite(yv) || (xc.log && xv <= 0) || (yc.log && yv <= 0)) { continue; }
      idx.push(i);
    }
    var sx = scaleOf(xc, idx), sy = scaleOf(yc, idx), colour = colourer(cc, idx);
    var dpr = window.devicePixelRatio || 1;
    if (canvas.width !== W * dpr) { canvas.width = W * dpr; canvas.height = H * dpr; }
    var g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    g.fillStyle = "#fff"; g.fillRect(0, 0, W, H);
    var r = idx.length > 5000 ? 2 : idx.length > 500 ? 3 : 4;
    state.px = []; state.py = []; state.drawn = idx;
    idx.forEach(function (i) {
      state.px.push(L + pos(sx, xc.v[i]) * w);
      state.py.push(T + (1 - pos(sy, yc.v[i])) * h);
      if (terms.length && terms.every(function (t) { return archLower[i].indexOf(t) >= 0; })) {
        match.push(i);
      }
    });
    state.matches = match;
    g.globalAlpha = terms.length ? 0.25 : 0.75;
    idx.forEach(function (i, k) {
      g.fillStyle = terms.length ? "#b0b0b0" : colour(i);
      g.beginPath(); g.arc(state.px[k], state.py[k], r, 0, 2 * Math.PI); g.fill();
    });
    g.globalAlpha = 1;
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    el(svg, "rect", {x: L, y: T, width: w, height: h, fill: "none", stroke: "#999"});
    axis(sx, xc, true);
    axis(sy, yc, false);
    var at = {};
    idx.forEach(function (i, k) { at[i] = k; });
    match.forEach(function (i, m) {
      var k = at[i];
      g.fillStyle = colour(i);
      g.beginPath(); g.arc(state.px[k], state.py[k], r + 2, 0, 2 * Math.PI); g.fill();
      if (m < MATCH_RINGS) {
        el(svg, "circle", {cx: state.px[k], cy: state.py[k], r: r + 4, fill: "none", stroke: "#000",
                           "stroke-width": 1.5, "class": "match", "data-row": i});
      }
    });
    if (state.selected >= 0 && at[state.selected] !== undefined) {
      var ks = at[state.selected];
      el(svg, "circle", {cx: state.px[ks], cy: state.py[ks], r: r + 6, fill: "none", stroke: "#d62728",
                         "stroke-width": 2, "class": "selected"});
    }
    legend(cc, idx, colour);
    var shown = idx.length.toLocaleString("en-US") + " networks drawn" +
      (data.total > N ? " (a sample of " + N.toLocaleString("en-US") + " from the store's " +
       data.total.toLocaleString("en-US") + ")" : "") +
      (sc ? ", " + sc.name + " " + subset[1] : "") + "; horizontal: " + label(xc) +
      "; vertical: " + label(yc) + "; colour: " + label(cc) + ".";
    if (terms.length) {
      shown += " " + match.length.toLocaleString("en-US") +
        (match.length === 1 ? " network matches" : " networks match") +
        " \u201c" + ctl.search.value.trim() + "\u201d" +
        (match.length ? ", ringed in black and listed below." : ".");
    }
    root.querySelector("p.summary").textContent = shown;
    canvas.setAttribute("aria-label", "Scatter plot: " + shown);
    var box = root.querySelector(".matches");
    box.textContent = "";
    if (match.length) {
      var columns = order.filter(function (c) { return cols[c].kind === "cat"; });
      [ctl.x.value, ctl.y.value, ctl.color.value].forEach(function (c) {
        if (columns.indexOf(c) < 0) { columns.push(c); }
      });
      var more = match.length > MATCH_ROWS ? " (the first " + MATCH_ROWS + " of " +
        match.length.toLocaleString("en-US") + ")" : "";
      box.appendChild(rowTable(match.slice(0, MATCH_ROWS), columns, "Matching networks" + more));
    }
  }
  function nearest(e) {
    var rect = canvas.getBoundingClientRect();
    var mx = (e.clientX - rect.left) * W / rect.width, my = (e.clientY - rect.top) * H / rect.height;
    var best = -1, bestD = 64;  // within 8 px
    for (var k = 0; k < state.drawn.length; k++) {
      var dx = state.px[k] - mx, dy = state.py[k] - my, d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = k; }
    }
    if (best < 0) { return null; }
    return {i: state.drawn[best], x: state.px[best] * rect.width / W,
            y: state.py[best] * rect.height / H};
  }
  canvas.addEventListener("mousemove", function (e) {
    var p = nearest(e);
    if (!p) { tip.hidden = true; return; }
    tip.textContent = "";
    tip.appendChild(html("div", arch[p.i], "font-family:monospace;font-weight:600;word-break:break-all"));
    var seen = {};
    order.filter(function (c) { return cols[c].kind === "cat"; })
      .concat([ctl.x.value, ctl.y.value, ctl.color.value])
      .forEach(function (c) {
        if (seen[c]) { return; } seen[c] = true;
        tip.appendChild(html("div", cols[c].name + ": " + fmt(cols[c].v[p.i], cols[c])));
      });
    tip.hidden = false;
    tip.style.left = Math.min(p.x + 12, canvas.clientWidth - 220) + "px";
    tip.style.top = (p.y + 12) + "px";
  });
  canvas.addEventListener("mouseleave", function () { tip.hidden = true; });
  canvas.addEventListener("click", function (e) {
    var p = nearest(e);
    state.selected = p ? p.i : -1;
    var box = root.querySelector(".row");
    box.textContent = "";
    if (p) {
      var table = html("table", undefined, "border-collapse:collapse;margin:4px 0");
      table.appendChild(html("caption", "Selected network: " + arch[p.i] +
                             " (click another point, or empty space to clear)",
                             "text-align:left;caption-side:top;font-family:monospace"));
      order.forEach(function (c) {
        var tr = html("tr");
        tr.appendChild(html("th", label(cols[c]), "text-align:left;padding:1px 8px;font-weight:normal"));
        tr.appendChild(html("td", fmt(cols[c].v[p.i], cols[c]), "padding:1px 8px"));
        table.appendChild(tr);
      });
      box.appendChild(table);
    }
    draw();
  });
  ["x", "y", "color", "subset"].forEach(function (k) { ctl[k].addEventListener("change", draw); });
  ctl.search.addEventListener("input", draw);
  draw();
})();
"""
