"""Trends and regressions: the shape of a relation (LOWESS, linear, quadratic), OLS tables, and
the effect of each TSS edge's operation on a metric (RQ v, vii).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from calstudy._checks import check_columns, check_level, check_positive_int
from calstudy.space import TSS_EDGES, TSS_OPS, parse_tss
from calstudy.stats import correct_pvalues

__all__ = [
    "EDGES",
    "Trend",
    "edge_tests",
    "fit_trend",
    "ols_table",
    "op_effects",
]


#: Column names of the six TSS cell edges ``edge_{to}_{from}``, in the order of the arch string
#: (as written by :func:`calstudy.space.tss_features`).
EDGES: tuple[str, ...] = tuple(f"edge_{dst}_{src}" for dst, src in TSS_EDGES)


# ================================================================================================
# Trends and regressions
# ================================================================================================


@dataclass(frozen=True)
class Trend:
    """A fitted curve of ``y`` against ``x`` evaluated on a grid.

    Attributes
    ----------
    kind : {"lowess", "linear", "quadratic"}
        Model.
    x : ndarray of shape (g,)
        Grid over the observed range of ``x``.
    fit : ndarray of shape (g,)
        Fitted mean of ``y`` on the grid.
    low, high : ndarray of shape (g,)
        Pointwise confidence band of the fitted mean; NaN for ``"lowess"``.
    n : int
        Number of complete observations.
    params : dict
        OLS coefficients (``"intercept"``, ``"x"``, ``"x^2"``); empty for ``"lowess"``.
    pvalues : dict
        Their two-sided p-values; empty for ``"lowess"``.
    """

    kind: str
    x: np.ndarray
    fit: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: int
    params: dict[str, float] = field(default_factory=dict)
    pvalues: dict[str, float] = field(default_factory=dict)


def fit_trend(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    kind: Literal["lowess", "linear", "quadratic"] = "lowess",
    grid_size: int = 100,
    level: float = 0.95,
    frac: float = 2 / 3,
    delta: float | None = None,
) -> Trend:
    r"""Fit the trend of ``y`` against ``x`` (RQ v: ECE against accuracy).

    - ``"linear"``: OLS :math:`y = \beta_0 + \beta_1 x + \varepsilon`;
    - ``"quadratic"``: OLS :math:`y = \beta_0 + \beta_1 x + \beta_2 x^2 + \varepsilon`;
      both with a pointwise ``level`` confidence band for the mean;
    - ``"lowess"``: locally weighted linear regression (Cleveland, 1979) with smoothing span
      ``frac``, interpolated onto the grid; no band.

    Parameters
    ----------
    df : DataFrame
        Rows complete in ``x`` and ``y`` are used.
    x, y : str
        Predictor and response columns.
    kind : {"lowess", "linear", "quadratic"}, default="lowess"
        Model.
    grid_size : int, default=100
        Grid points between ``min(x)`` and ``max(x)``.
    level : float, default=0.95
        Confidence level of the band.
    frac : float, default=2/3
        LOWESS span, the fraction of points in each local fit.
    delta : float, optional
        LOWESS skips the local fit at points within ``delta`` of the last fitted one and
        interpolates there (statsmodels' ``delta``). Default: 0 up to 5,000 rows, else 1 % of
        the range of ``x``, which statsmodels recommends for large samples: at the paper's
        32,768 rows it makes a fit some 300 times faster and moves the curve by a
        thousandth of its range.

    Returns
    -------
    Trend

    References
    ----------
    W. S. Cleveland, "Robust locally weighted regression and smoothing scatterplots", JASA 74, 1979.
    """
    import statsmodels.api as sm

    if kind not in ("lowess", "linear", "quadratic"):
        raise ValueError(f"Expected `kind` to be 'lowess', 'linear' or 'quadratic', got {kind!r}.")
    grid_size = check_positive_int(grid_size, "grid_size")
    check_level(level)
    check_columns(df, [x, y])
    data = df[[x, y]].astype(float).dropna()
    degree = {"lowess": 1, "linear": 1, "quadratic": 2}[kind]
    if len(data) < degree + 2:
        raise ValueError(
            f"Expected at least {degree + 2} complete rows for a {kind} trend, got {len(data)}."
        )
    xs, ys = data[x].to_numpy(), data[y].to_numpy()
    grid = np.linspace(xs.min(), xs.max(), grid_size)
    if kind == "lowess":
        if delta is None:
            delta = 0.01 * float(np.ptp(xs)) if len(xs) > 5_000 else 0.0
        smoothed = sm.nonparametric.lowess(ys, xs, frac=frac, delta=delta, return_sorted=True)
        fitted = np.interp(grid, smoothed[:, 0], smoothed[:, 1])
        nan = np.full(grid_size, np.nan)
        return Trend(kind=kind, x=grid, fit=fitted, low=nan, high=nan.copy(), n=len(data))
    names = ["intercept", "x", "x^2"][: degree + 1]
    design = np.vander(xs, degree + 1, increasing=True)
    result = sm.OLS(ys, design).fit()
    prediction = result.get_prediction(np.vander(grid, degree + 1, increasing=True))
    band = prediction.conf_int(alpha=1 - level)
    return Trend(
        kind=kind,
        x=grid,
        fit=prediction.predicted_mean,
        low=band[:, 0],
        high=band[:, 1],
        n=len(data),
        params=dict(zip(names, map(float, result.params), strict=True)),
        pvalues=dict(zip(names, map(float, result.pvalues), strict=True)),
    )


def _coefficient_table(result: Any, level: float, correction: str) -> pd.DataFrame:
    """Tidy coefficient table of a fitted statsmodels regression, intercept excluded from the
    multiplicity correction."""
    params = pd.Series(result.params)
    ci = np.asarray(result.conf_int(alpha=1 - level))
    table = pd.DataFrame(
        {
            "term": params.index.astype(str),
            "coef": params.to_numpy(float),
            "low": ci[:, 0],
            "high": ci[:, 1],
            "p": np.asarray(result.pvalues, dtype=float),
        }
    )
    is_intercept = table["term"].isin(["Intercept", "const", "intercept"])
    adjusted = np.full(len(table), np.nan)
    adjusted[~is_intercept.to_numpy()] = correct_pvalues(
        table.loc[~is_intercept, "p"].to_numpy(),
        method=correction,
    )
    table[f"p_{correction}"] = adjusted
    return table


def ols_table(
    df: pd.DataFrame,
    formula: str,
    *,
    level: float = 0.95,
    correction: Literal["holm", "bh", "bonferroni"] = "holm",
    cov_type: str = "HC3",
) -> pd.DataFrame:
    """Fit an OLS model given as a formula and return its coefficients as a tidy table.

    Parameters
    ----------
    df : DataFrame
        Data; rows with a NaN in a used column are dropped.
    formula : str
        Model in Wilkinson notation, e.g. ``"post_ECE_15 ~ acc + I(acc ** 2)"``.
    level : float, default=0.95
        Confidence level of the coefficient intervals.
    correction : {"holm", "bh", "bonferroni"}, default="holm"
        Multiplicity correction applied to every non-intercept p-value.
    cov_type : str, default="HC3"
        statsmodels covariance estimator; ``"HC3"`` is robust to heteroscedasticity.

    Returns
    -------
    DataFrame
        Columns ``term, coef, low, high, p, p_<correction>``.
    """
    import statsmodels.formula.api as smf

    check_level(level)
    result = smf.ols(formula, data=df).fit(cov_type=cov_type)
    return _coefficient_table(result, level, correction)


def _edge_ops(df: pd.DataFrame) -> pd.DataFrame:
    """Per-edge operation columns ``edge_1_0`` … ``edge_3_2``, taken from ``df`` or parsed from
    its ``arch`` column."""
    if all(e in df.columns for e in EDGES):
        return df[list(EDGES)]
    check_columns(df, ["arch"])
    parsed = [parse_tss(a) for a in df["arch"]]
    return pd.DataFrame(parsed, columns=list(EDGES), index=df.index)


def _rare_rows(ops: pd.DataFrame, min_count: int) -> pd.Series:
    """Rows carrying, on some edge, an operation that fewer than ``min_count`` rows carry there,
    repeated until none is left: leaving rows out can make another edge's operation rare."""
    rare = pd.Series(False, index=ops.index)
    while True:
        kept = ops[~rare]
        more = pd.Series(False, index=ops.index)
        for edge in EDGES:
            counts = kept[edge].map(kept[edge].value_counts())
            more.loc[kept.index] |= counts < min_count
        if not more.any():
            return rare
        rare |= more


def _edge_design(
    ops: pd.DataFrame, reference: str
) -> tuple[pd.DataFrame, dict[str, list[str]], dict[str, str]]:
    """One indicator per (edge, operation) with one operation per edge left out.

    The left-out operation is ``reference`` where the edge carries it, else the edge's most
    common operation. Returns the design (no intercept), each edge's columns, and each edge's
    reference.
    """
    columns: dict[str, pd.Series] = {}
    by_edge: dict[str, list[str]] = {}
    references: dict[str, str] = {}
    for edge in EDGES:
        present = [o for o in TSS_OPS if (ops[edge] == o).any()]
        ref = reference if reference in present else ops[edge].value_counts().index[0]
        references[edge] = ref
        by_edge[edge] = [f"{edge}[{o}]" for o in present if o != ref]
        for o in present:
            if o != ref:
                columns[f"{edge}[{o}]"] = (ops[edge] == o).astype(float)
    return pd.DataFrame(columns, index=ops.index), by_edge, references


def op_effects(
    df: pd.DataFrame,
    target: str = "post_ECE_15",
    *,
    encoding: Literal["edge", "count"] = "edge",
    reference: str = "none",
    level: float = 0.95,
    correction: Literal["holm", "bh", "bonferroni"] = "holm",
    cov_type: str = "HC3",
    min_count: int = 1,
) -> pd.DataFrame:
    r"""Effect of cell operations on a metric, by OLS on the TSS architecture encoding (RQ vii).

    - ``encoding="edge"``: one indicator per (edge, operation) with the ``reference`` operation
      left out on every edge,

      .. math:: y = \beta_0 + \sum_{e=1}^{6} \sum_{o \ne o_{\mathrm{ref}}}
                \beta_{e,o}\,[\mathrm{op}_e = o] + \varepsilon,

      so :math:`\beta_{e,o}` is the change in ``target`` from placing ``o`` instead of the reference
      operation on edge ``e``, other edges fixed. Term names read ``edge_3_0[skip_connect]``. These
      are contrasts against one level: another reference gives other coefficients and other
      p-values. Whether an edge matters at all is :func:`edge_tests`, which does not depend on the
      coding.
    - ``encoding="count"``: the number of edges carrying each operation,
      :math:`y = \beta_0 + \sum_{o \ne o_{\mathrm{ref}}} \beta_o n_o + \varepsilon`; the reference
      count is left out because the six counts sum to 6. Term names read ``n_skip_connect``.

    Indicators never observed (an operation absent from an edge in ``df``) are dropped. With the
    edge encoding, rows carrying an operation that fewer than ``min_count`` rows carry on the
    same edge are left out first: such a row has leverage near 1, where the HC3 covariance
    divides zero by zero and its value depends on rounding. If that removes the reference
    operation from an edge, the edge's most common operation becomes its reference (column
    ``reference``). Architectures evaluated with several seeds enter once per row; use
    ``cov_type`` (default HC3, heteroscedasticity-robust) for the standard errors.

    Parameters
    ----------
    df : DataFrame
        Rows of the TSS space, with ``target`` and either ``edge_1_0`` … ``edge_3_2`` or ``arch``.
    target : str, default="post_ECE_15"
        Response column.
    encoding : {"edge", "count"}, default="edge"
        Design.
    reference : str, default="none"
        Operation absorbed into the intercept, one of :data:`calstudy.space.TSS_OPS`.
    level : float, default=0.95
        Confidence level of the coefficient intervals.
    correction : {"holm", "bh", "bonferroni"}, default="holm"
        Multiplicity correction over the non-intercept coefficients.
    cov_type : str, default="HC3"
        statsmodels covariance estimator.
    min_count : int, default=1
        Edge encoding only: fewest rows an (edge, operation) level needs to stay in the fit.

    Returns
    -------
    DataFrame
        Columns ``term, coef, low, high, p, p_<correction>``; the first row is the intercept.
        The edge encoding adds ``reference`` (the left-out operation of the term's edge) and
        ``n`` (rows carrying the term's operation on its edge); ``attrs["n_rows"]`` and
        ``attrs["n_dropped"]`` count the rows fitted and left out.
    """
    import statsmodels.api as sm

    if encoding not in ("edge", "count"):
        raise ValueError(f"Expected `encoding` to be 'edge' or 'count', got {encoding!r}.")
    if reference not in TSS_OPS:
        raise ValueError(f"Expected `reference` to be one of {TSS_OPS}, got {reference!r}.")
    check_level(level)
    min_count = check_positive_int(min_count, "min_count")
    check_columns(df, [target])
    rows = df[df[target].notna()]
    ops = _edge_ops(rows)
    n_dropped = 0
    if encoding == "edge":
        rare = _rare_rows(ops, min_count)
        n_dropped = int(rare.sum())
        rows, ops = rows[~rare], ops[~rare]
        design, by_edge, references = _edge_design(ops, reference)
    else:
        others = [o for o in TSS_OPS if o != reference]
        values = ops.to_numpy()
        design = pd.DataFrame(
            {f"n_{o}": (values == o).sum(axis=1).astype(float) for o in others}, index=rows.index
        )
        design = design.loc[:, design.to_numpy().any(axis=0)]
    if len(rows) <= design.shape[1] + 1:
        raise ValueError(
            f"Expected more rows than the {design.shape[1] + 1} coefficients, got {len(rows)}."
        )
    design.insert(0, "intercept", 1.0)
    result = sm.OLS(rows[target].to_numpy(float), design).fit(cov_type=cov_type)
    table = _coefficient_table(result, level, correction)
    if encoding == "edge":
        edge_of = {term: edge for edge, terms in by_edge.items() for term in terms}
        table["reference"] = table["term"].map(lambda t: references.get(edge_of.get(t, ""), ""))
        table["n"] = [
            int(design[t].sum()) if t in edge_of else len(rows) for t in table["term"]
        ]
    table.attrs.update(n_rows=len(rows), n_dropped=n_dropped)
    return table


def edge_tests(
    df: pd.DataFrame,
    target: str = "post_ECE_15",
    *,
    correction: Literal["holm", "bh", "bonferroni"] = "holm",
    cov_type: str = "HC3",
    min_count: int = 5,
) -> pd.DataFrame:
    r"""Does the operation on each TSS edge matter? One joint Wald test per edge (RQ vii).

    Fits the edge model of :func:`op_effects` and tests, for each edge :math:`e`, the joint null
    hypothesis that none of its operations moves ``target``, the other edges fixed:

    .. math:: H_0^{(e)}:\ \beta_{e,o} = 0 \ \text{for every operation } o
              \quad\Longleftrightarrow\quad R_e\beta = 0,

    with the robust Wald statistic :math:`F = (R_e\hat\beta)^\top (R_e \hat V R_e^\top)^{-1}
    (R_e\hat\beta) / q_e` against :math:`F(q_e, n - p)`, :math:`q_e` the edge's operations
    minus one. Unlike the single contrasts of :func:`op_effects`, the statistic does not depend on
    which operation is the reference (the model's column space and :math:`\hat V`'s hat matrix
    are the same under any coding). The effect size ``spread`` is the range of the edge's
    operation effects, largest minus smallest, also coding-free. Rows carrying an operation
    that fewer than ``min_count`` rows carry on its edge are left out (see :func:`op_effects`).

    Parameters
    ----------
    df : DataFrame
        Rows of the TSS space, with ``target`` and either ``edge_1_0`` … ``edge_3_2`` or ``arch``.
    target : str, default="post_ECE_15"
        Response column.
    correction : {"holm", "bh", "bonferroni"}, default="holm"
        Multiplicity correction over the six edges.
    cov_type : str, default="HC3"
        statsmodels covariance estimator.
    min_count : int, default=5
        Fewest rows an (edge, operation) level needs to stay in the fit.

    Returns
    -------
    DataFrame
        One row per edge with at least two operations: ``edge, n_ops, F, df_num, df_denom, p,
        p_<correction>, spread, best, worst`` (``best``/``worst``: the operations with the
        lowest/highest effect on ``target``); ``attrs["n_rows"]`` and ``attrs["n_dropped"]``
        count the rows fitted and left out.

    References
    ----------
    H. White, "A heteroskedasticity-consistent covariance matrix estimator and a direct test for
    heteroskedasticity", Econometrica 48(4), 1980. J. G. MacKinnon, H. White, "Some
    heteroskedasticity-consistent covariance matrix estimators with improved finite sample
    properties", J. Econometrics 29(3), 1985 (HC3).
    """
    import statsmodels.api as sm

    min_count = check_positive_int(min_count, "min_count")
    check_columns(df, [target])
    rows = df[df[target].notna()]
    ops = _edge_ops(rows)
    rare = _rare_rows(ops, min_count)
    rows, ops = rows[~rare], ops[~rare]
    design, by_edge, references = _edge_design(ops, "none")
    if len(rows) <= design.shape[1] + 1:
        raise ValueError(
            f"Expected more rows than the {design.shape[1] + 1} coefficients, got {len(rows)}."
        )
    design.insert(0, "intercept", 1.0)
    result = sm.OLS(rows[target].to_numpy(float), design).fit(cov_type=cov_type)
    params = pd.Series(result.params, index=design.columns)
    records = []
    for edge, terms in by_edge.items():
        if not terms:
            continue
        restriction = np.zeros((len(terms), design.shape[1]))
        for i, term in enumerate(terms):
            restriction[i, design.columns.get_loc(term)] = 1.0
        wald = result.wald_test(restriction, use_f=True, scalar=True)
        effects = pd.Series(
            [0.0, *params[terms].to_numpy()],
            index=[references[edge], *(t[len(edge) + 1 : -1] for t in terms)],
        )
        records.append(
            {
                "edge": edge,
                "n_ops": len(terms) + 1,
                "F": float(np.squeeze(wald.statistic)),
                "df_num": len(terms),
                "df_denom": float(wald.df_denom),
                "p": float(wald.pvalue),
                "spread": float(effects.max() - effects.min()),
                "best": str(effects.idxmin()),
                "worst": str(effects.idxmax()),
            }
        )
    columns = ["edge", "n_ops", "F", "df_num", "df_denom", "p", "spread", "best", "worst"]
    table = pd.DataFrame.from_records(records, columns=columns)
    table.insert(6, f"p_{correction}", correct_pvalues(table["p"].to_numpy(), method=correction))
    table.attrs.update(n_rows=len(rows), n_dropped=int(rare.sum()))
    return table
