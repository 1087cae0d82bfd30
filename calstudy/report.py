"""Numbers into words: how the book states a finding from the numbers of its run.

A chapter never writes a result into its Markdown. It computes the result, then states it with
these helpers, so that the same chapter run on another store (the paper's data, a user's sweep)
states *that* store's findings::

    r = analysis.kendall_ci(x, y)
    report.md(f"ECE and KSCE rank the networks alike: {report.tau(r)}.")

Formatting rules, the same on every page: p-values with two significant digits and ``< 1e-4``
below that; estimates with their interval as ``+0.36 [+0.33, +0.39]``; ``—`` for a value that
does not exist (not reported, not computable); never ``-0.0`` or ``NaN``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from calstudy.catalogue import reader_label

__all__ = [
    "MISSING",
    "P_FLOOR",
    "answer",
    "ci",
    "ci_columns",
    "ci_table",
    "fixed",
    "format_table",
    "glue_md",
    "join",
    "md",
    "num",
    "pct",
    "plural",
    "pvalue",
    "tau",
]

MISSING = "—"
P_FLOOR = 1e-4


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(np.isnan(x))
    except TypeError:
        return False


def num(x: Any, digits: int = 3, *, signed: bool = False) -> str:
    """A number with ``digits`` significant digits (``—`` for None/NaN, never ``-0``).

    >>> num(0.0123456), num(-0.00004, 2), num(1234.5, 2), num(float("nan")), num(0.5, signed=True)
    ('0.0123', '-4e-05', '1.2e+03', '—', '+0.5')
    """
    if _missing(x):
        return MISSING
    x = float(x)
    if x == 0 or abs(x) < 10 ** -(digits + 6):
        return "+0" if signed else "0"
    text = f"{x:{'+' if signed else ''}.{digits}g}"
    return text.replace("-0", "0") if float(text) == 0 else text


def fixed(x: Any, decimals: int = 2, *, signed: bool = True) -> str:
    """A number with ``decimals`` decimals; ``-0.00`` is written ``+0.00`` (``0.00`` unsigned)."""
    if _missing(x):
        return MISSING
    text = f"{float(x):{'+' if signed else ''}.{decimals}f}"
    if float(text) == 0:
        text = ("+" if signed else "") + f"{0:.{decimals}f}"
    return text


def pvalue(p: Any, *, floor: float = P_FLOOR) -> str:
    """A p-value: two significant digits, ``< 1e-4`` below ``floor``, ``—`` when missing.

    >>> pvalue(0.01234), pvalue(3e-9), pvalue(1.0), pvalue(None)
    ('0.012', '< 1e-4', '1', '—')
    """
    if _missing(p):
        return MISSING
    p = float(p)
    if p < floor:
        return f"< {floor:.0e}".replace("e-0", "e-")
    return f"{p:.2g}"


def ci(estimate: Any, low: Any, high: Any, decimals: int = 2, *, signed: bool = True) -> str:
    """An estimate with its interval: ``+0.36 [+0.33, +0.39]``.

    >>> ci(0.3612, 0.331, 0.389)
    '+0.36 [+0.33, +0.39]'
    """
    if _missing(estimate):
        return MISSING
    interval = (
        f" [{fixed(low, decimals, signed=signed)}, {fixed(high, decimals, signed=signed)}]"
        if not (_missing(low) or _missing(high))
        else ""
    )
    return fixed(estimate, decimals, signed=signed) + interval


def pct(x: Any, decimals: int = 1) -> str:
    """A fraction as a percentage: ``pct(0.0412) == '4.1 %'``."""
    return MISSING if _missing(x) else f"{100 * float(x):.{decimals}f} %"


def tau(result: Any, decimals: int = 2, *, symbol: str = "τ") -> str:
    """A τ result (anything with ``tau``, ``low``, ``high``; a Mapping or a row) in words.

    >>> tau({"tau": 0.3612, "low": 0.331, "high": 0.389, "n": 500})
    'τ = +0.36 [+0.33, +0.39], n = 500'
    """
    get = result.get if isinstance(result, Mapping | pd.Series) else lambda k, d=None: getattr(
        result, k, d
    )
    text = f"{symbol} = {ci(get('tau'), get('low'), get('high'), decimals)}"
    n = get("n", None)
    return text if _missing(n) else f"{text}, n = {int(n):,}"


def plural(n: int, word: str, words: str | None = None) -> str:
    """``plural(1, 'edge') == '1 edge'``, ``plural(3, 'edge') == '3 edges'``."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def join(items: Iterable[Any], *, last: str = "and", empty: str = "none") -> str:
    """``join(['a', 'b', 'c']) == 'a, b and c'``; ``empty`` when there are none."""
    words = [str(i) for i in items]
    if not words:
        return empty
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def md(*paragraphs: str) -> Any:
    """Display generated Markdown in a notebook (an IPython ``Markdown`` object).

    Blank-line-separated paragraphs; a list of findings is written as ``"- a\\n- b"``.
    """
    from IPython.display import Markdown

    return Markdown("\n\n".join(p for p in paragraphs if p))


def glue_md(name: str, text: str) -> None:
    """Hand generated Markdown to a ``{glue:md}`` directive anywhere on the page.

    The chapter's first cell holds the answer box with the directive, before the code that
    computes the answer has run::

        :::{admonition} The answer
        ```{glue:md} rq1-answer
        :format: myst
        ```
        :::

    and a later cell calls ``glue_md("rq1-answer", report.answer(...))``; jupyter-book fills
    the box when it renders the executed notebook. Needs ``myst_nb`` (the ``book`` extra).
    """
    from IPython.display import Markdown
    from myst_nb import glue

    glue(name, Markdown(text), display=False)


def answer(question: str, ours: str, *, paper: str | None = None, caveat: str | None = None) -> str:
    """The answer box's text: the question, our answer with its number, the paper's, a caveat.

    >>> print(answer("Does ECE transfer?", "No: τ = +0.02 [-0.10, +0.14].", paper="0.36"))
    **Question.** Does ECE transfer?
    <BLANKLINE>
    **This store's answer.** No: τ = +0.02 [-0.10, +0.14].
    <BLANKLINE>
    **The paper.** 0.36
    """
    parts = [f"**Question.** {question}", f"**This store's answer.** {ours}"]
    if paper:
        parts.append(f"**The paper.** {paper}")
    if caveat:
        parts.append(f"**Caveat.** {caveat}")
    return "\n\n".join(parts)


def ci_table(
    table: pd.DataFrame,
    *,
    index: str,
    columns: str | None = None,
    estimate: str = "tau",
    low: str = "low",
    high: str = "high",
    p: str | None = None,
    alpha: float = 0.05,
    decimals: int = 2,
    names: Any = None,
    nowrap: bool = True,
) -> pd.DataFrame:
    """Estimates with their intervals, pivoted for reading: ``+0.36 [+0.33, +0.39]`` per cell.

    One row per value of ``index`` (in order of appearance), one column per value of
    ``columns`` (or a single column named ``estimate``); ``—`` where a cell has no estimate. A
    cell whose ``p`` is below ``alpha`` ends in `` *``, so that a long table shows at a glance
    which estimates survive a correction (say which in the caption: "* Holm p < 0.05"). The
    cells' spaces are non-breaking (unless ``nowrap`` is False: a table of many columns must
    wrap its cells to fit the page), so that a narrow page wraps the labels, not the numbers.

    Parameters
    ----------
    table : DataFrame
        Long table with the columns named below.
    index, columns : str
        Columns whose values label the rows and the columns.
    estimate, low, high : str
        The estimate and its interval.
    p : str, optional
        A p-value column (e.g. ``"p_holm"``) to mark cells by.
    alpha : float, default=0.05
        The marking threshold.
    decimals : int, default=2
        Decimals of the numbers.
    names : callable, optional
        Maps the row labels to reader-facing names; by default a raw column name becomes its
        display name (:func:`calstudy.catalogue.reader_label`), as do the column labels.
    nowrap : bool, default=True
        Non-breaking spaces in the cells.

    Examples
    --------
    >>> t = pd.DataFrame({"m": ["a", "b"], "tau": [0.31, 0.02], "low": [0.2, -0.1],
    ...                   "high": [0.4, 0.1], "p_holm": [0.001, 0.9]})
    >>> ci_table(t, index="m", p="p_holm")["tau"].str.replace("\u00a0", " ").to_dict()
    {'a': '+0.31 [+0.20, +0.40] *', 'b': '+0.02 [-0.10, +0.10]'}
    """
    needed = [c for c in (index, columns, estimate, low, high, p) if c is not None]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(f"Expected `table` to have columns {missing}, got {list(table.columns)}.")
    marked = [
        ci(e, lo, hi, decimals) + (" *" if p is not None and not _missing(q) and q < alpha else "")
        for e, lo, hi, q in zip(table[estimate], table[low], table[high],
                                table[p] if p is not None else [None] * len(table), strict=True)
    ]  # fmt: skip
    # Non-breaking spaces: a cell reads as one unit and the label column wraps instead.
    long = table.assign(_cell=[m.replace(" ", "\u00a0") if nowrap else m for m in marked])
    rows = list(dict.fromkeys(table[index]))
    if columns is None:
        out = long.drop_duplicates(index).set_index(index)[["_cell"]].rename(
            columns={"_cell": estimate})
    else:
        out = long.pivot_table(index=index, columns=columns, values="_cell", aggfunc="first",
                               sort=False)  # fmt: skip
        out = out.reindex(columns=list(dict.fromkeys(table[columns])))
    out = out.reindex(index=rows).fillna(MISSING)
    out.columns.name = None
    out = out.rename(index=names or reader_label, columns=reader_label)
    return out.rename_axis(index=index)


def ci_columns(
    table: pd.DataFrame,
    *,
    index: str,
    columns: Mapping[str, Sequence[str]],
    scale: Mapping[str, float] | None = None,
    alpha: float = 0.05,
    decimals: int = 2,
    names: Any = None,
    nowrap: bool = True,
) -> pd.DataFrame:
    """Several estimates per row with their intervals, side by side (:func:`ci_table` each).

    Parameters
    ----------
    table : DataFrame
        One row per value of ``index``.
    index : str
        The column whose values label the rows.
    columns : mapping of str to (estimate, low, high) or (estimate, low, high, p)
        Each output column and the columns of ``table`` it shows; with ``p``, a cell whose
        p-value is below ``alpha`` ends in an asterisk.
    scale : mapping of str to float, optional
        Factors of output columns (100: a fraction shown in percent or percentage points).
    alpha, decimals, names, nowrap
        As in :func:`ci_table`.

    Examples
    --------
    >>> t = pd.DataFrame({"g": ["a"], "tau": [0.3], "tau_low": [0.1], "tau_high": [0.5],
    ...                   "d": [-0.0075], "d_low": [-0.01], "d_high": [-0.005], "p": [1e-5]})
    >>> ci_columns(t, index="g", columns={"τ": ("tau", "tau_low", "tau_high"),
    ...            "change (points)": ("d", "d_low", "d_high", "p")},
    ...            scale={"change (points)": 100}).loc["a"].str.replace("\u00a0", " ").tolist()
    ['+0.30 [+0.10, +0.50]', '-0.75 [-1.00, -0.50] *']
    """
    parts = []
    for name, spec in columns.items():
        if len(spec) not in (3, 4):
            raise ValueError(
                f"Expected `columns[{name!r}]` to be (estimate, low, high[, p]), got {spec!r}."
            )
        estimate, low, high, *p = spec
        factor = (scale or {}).get(name, 1)
        scaled = table.assign(**{c: factor * table[c] for c in (estimate, low, high)})
        parts.append(ci_table(scaled, index=index, estimate=estimate, low=low, high=high,
                              p=p[0] if p else None, alpha=alpha, decimals=decimals,
                              names=names, nowrap=nowrap).set_axis([name], axis=1))  # fmt: skip
    return pd.concat(parts, axis=1)


def format_table(
    df: pd.DataFrame,
    *,
    digits: int = 3,
    decimals: Mapping[str, int] | None = None,
    percent: Sequence[str] = (),
) -> pd.DataFrame:
    """A table for people: p-value columns (``p``, ``p_*``) as :func:`pvalue`, percentages,
    other floats with ``digits`` significant digits (or ``decimals[col]`` decimals), ``—`` for
    missing values, and a raw column name, as a label or a cell, by its display name
    (:func:`calstudy.catalogue.reader_label`). Returns strings.
    """
    decimals = dict(decimals or {})
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        values = df[col]
        name = str(col)
        if name == "p" or name.startswith("p_"):
            out[col] = [pvalue(v) for v in values]
        elif name in percent:
            out[col] = [pct(v, decimals.get(name, 1)) for v in values]
        elif pd.api.types.is_float_dtype(values):
            out[col] = [
                fixed(v, decimals[name], signed=False) if name in decimals else num(v, digits)
                for v in values
            ]
        else:
            out[col] = [MISSING if _missing(v) else reader_label(v) for v in values]
    return out.rename(index=reader_label, columns=reader_label)
