"""What every book chapter needs: load the study with checked parameters, and the paper's numbers.

Notebooks stay thin: their first code cell calls :func:`load_study`, which turns a bad papermill
parameter (unknown metric, a bin count the store does not hold, an empty store, an unknown space
or dataset) into one clear error before any analysis runs. :data:`PAPER` holds the reference
study's headline numbers so each chapter can put them beside ours.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Literal

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------------------------
# The paper's headline numbers
# ---------------------------------------------------------------------------------------------

PAPER_SOURCE = (
    "Tao, Zhu, Guo, Dong, Xu, 'A Benchmark Study on Calibration', ICLR 2024; numbers read off "
    "the figures of its public repository Linwei94/calibration-study."
)


@dataclass(frozen=True)
class PaperNumber:
    """One number reported by the reference study, with the research question it answers."""

    rq: str
    quantity: str
    value: str  # kept as text: several are ranges or approximate ("≈ 0", "0.09 – 0.36")
    note: str = ""


PAPER: tuple[PaperNumber, ...] = (
    PaperNumber("i", "τ(ECE_15 on CIFAR-10, on CIFAR-100), TSS, all models", "0.36",
                "all 15,625 TSS rows, released plotting/q1.ipynb"),
    PaperNumber("i", "τ(ECE_15 on CIFAR-100, on ImageNet16-120), TSS, all models", "0.66",
                "all 15,625 TSS rows, released plotting/q1.ipynb"),
    PaperNumber("i", "τ(ECE_15 on CIFAR-10, on ImageNet16-120), TSS, all models", "0.14",
                "all 15,625 TSS rows, released plotting/q1.ipynb"),
    PaperNumber("i", "τ(ECE_15 on CIFAR-10, on CIFAR-100), TSS, top 100", "0.14",
                "the paper's quoted value: project-page figure 'filtered by top 100 accuracy'"),
    PaperNumber("i", "τ(ECE_15 on CIFAR-100, on ImageNet16-120), TSS, top 100", "0.12",
                "the paper's quoted value: project-page figure 'filtered by top 100 accuracy'"),
    PaperNumber("i", "τ(ECE_15 on CIFAR-10, on ImageNet16-120), TSS, top 100", "−0.23",
                "the paper's quoted value: project-page figure 'filtered by top 100 accuracy'"),
    PaperNumber("ii", "τ(ECE, ECE_em), all models", "0.98"),
    PaperNumber("ii", "τ(ECE, KSCE), all models", "0.97"),
    PaperNumber("ii", "τ(ECE, MMCE), all models", "0.91"),
    PaperNumber("ii", "τ(ECE, accuracy under PGD / Square / corruptions), all models",
                "0.09 – 0.36", "CIFAR-10 TSS, read at N = 15,000 of its population-size curves"),
    PaperNumber("ii", "τ(ECE, AUROC on CIFAR-10-C or SVHN), all models", "≈ 0"),
    PaperNumber("ii", "calibration and robustness among high-accuracy models",
                "tracks robustness only among them",
                "at N = 1,000, which its code took as the LEAST accurate 1,000 "
                "(sort_values('acc').head(N))"),
    PaperNumber("iii", "τ(ECE, ECE_em), CIFAR-10", "0.98"),
    PaperNumber("iii", "τ(ECE, KSCE), CIFAR-10", "0.98"),
    PaperNumber("iii", "τ(ECE, KDECE), CIFAR-10", "0.93"),
    PaperNumber("iii", "τ(ECE, MMCE), CIFAR-10", "0.91"),
    PaperNumber("iii", "τ(ECE, cwCE), CIFAR-10", "0.81"),
    PaperNumber("iii", "τ(ECE, cwCE_em), CIFAR-10", "0.36"),
    PaperNumber("iii", "τ(ECE, ECE_em), ImageNet16-120", "0.96"),
    PaperNumber("iii", "τ(ECE, KSCE), ImageNet16-120", "0.97"),
    PaperNumber("iii", "τ(ECE, KDECE), ImageNet16-120", "0.95"),
    PaperNumber("iii", "τ(ECE, MMCE), ImageNet16-120", "0.96"),
    PaperNumber("iii", "τ(ECE, cwCE), ImageNet16-120", "0.81"),
    PaperNumber("iii", "τ(ECE, cwCE_em), ImageNet16-120", "−0.15"),
    PaperNumber("iv", "τ(pre-scaling ECE, post-scaling ECE)", "≈ 0.00 – 0.01"),
    PaperNumber("iv", "τ between bin counts, pre-scaling", "0.82 – 0.98"),
    PaperNumber("iv", "τ between bin counts, post-scaling", "0.25 – 0.81",
                "5 vs 500 bins post-scaling: 0.25"),
    PaperNumber("v", "ECE range of models above 90 % accuracy", "3.8 – 6.8 %",
                "falls as accuracy rises"),
    PaperNumber("v", "relation of ECE and accuracy, all models", "not monotone"),
    PaperNumber("vi", "median post-scaling ECE at 5 / 15 / 50 / 100 / 200 / 500 bins "
                "(ImageNet16-120)", "1.5 / 2.1 / 3.3 / 4.5 / 6.3 / 9.7 %"),
    PaperNumber("vi", "median pre-scaling ECE, 5–25 bins vs 500 bins (ImageNet16-120)",
                "≈ 5.3 % vs 6.2 %",
                "uncertain reading: the released q6.ipynb plot reads otherwise (next row)"),
    PaperNumber("vi", "median pre-scaling ECE, 5 vs 500 bins (ImageNet16-120), read off the "
                "released q6.ipynb plot", "≈ 3.2 % vs 9.2 %", "uncertain reading"),
    PaperNumber("vii", "SSS ImageNet16-120: median ECE, size 40–80 vs 280–320",
                "1.7 % vs 6.8 %"),
    PaperNumber("vii", "SSS CIFAR-10: ECE while accuracy rises 84.7 → 92.3 %", "flat, 3.9 – 4.4 %",
                "uncertain reading: the released q7.3 CIFAR-10 panel reads ≈ 3.5 – 4.5 %"),
    PaperNumber("vii", "uniform width 8 → 64 on CIFAR-100: ECE pre / post scaling",
                "1.5 → 10.7 % / 1 → 2.7 %"),
    PaperNumber("vii", "top-20 TSS by HCS: edge 0→3", "always skip_connect",
                "edge 0→1 a convolution; pooling and none rare"),
)


def paper_numbers(rq: str) -> pd.DataFrame:
    """The paper's numbers for one research question (``"i"`` … ``"vii"``) as a table."""
    rows = [n for n in PAPER if n.rq == rq]
    if not rows:
        known = sorted({n.rq for n in PAPER})
        raise ValueError(f"Expected `rq` to be one of {known}, got {rq!r}.")
    return pd.DataFrame(
        {"quantity": [n.quantity for n in rows], "paper": [n.value for n in rows],
         "note": [n.note for n in rows]}
    )


# ---------------------------------------------------------------------------------------------
# Loading the study with checked parameters
# ---------------------------------------------------------------------------------------------


def resolve_store(store: str | os.PathLike[str]) -> Path:
    """A store path as given, else relative to the repository root (notebooks run from either)."""
    path = Path(store).expanduser()
    if path.exists() or path.is_absolute():
        return path
    return REPO_ROOT / path


def column(metric: str, *, n_bins: int | None = None, prefix: str = "pre") -> str:
    """Dataset column of a metric: ``column("ECE", n_bins=15)`` → ``"pre_ECE_15"``."""
    if prefix not in ("pre", "post"):
        raise ValueError(f"Expected `prefix` to be 'pre' or 'post', got {prefix!r}.")
    return f"{prefix}_{metric}" + (f"_{n_bins}" if n_bins is not None else "")


def _check_study_options(
    store: object,
    space: object,
    datasets: object,
    metrics: object,
    bin_counts: object,
    seeds: object,
    min_rows: object,
) -> None:
    """Check the types of :func:`load_study`'s parameters, before the store is read."""

    def got(x: object) -> str:
        return f"{x!r} ({type(x).__name__})"

    def is_int(x: object) -> bool:
        return isinstance(x, Integral) and not isinstance(x, bool)

    def items(name: str, x: object, what: str, ok: Callable[[object], bool]) -> None:
        if isinstance(x, str | bytes) or not isinstance(x, Collection):
            raise ValueError(f"Expected `{name}` to be a list of {what}, got {got(x)}.")
        bad = [item for item in x if not ok(item)]
        if bad:
            raise ValueError(f"Expected `{name}` to be a list of {what}, got {got(bad[0])} in it.")

    if not isinstance(store, str | os.PathLike):
        raise ValueError(f"Expected `store` to be a path, got {got(store)}.")
    for name, value in (("space", space), ("datasets", datasets)):
        if value is not None and not isinstance(value, str):
            items(name, value, "str (or one str)", lambda v: isinstance(v, str))
    items("metrics", metrics, "metric names (str)", lambda v: isinstance(v, str))
    items("bin_counts", bin_counts, "positive ints", lambda v: is_int(v) and v >= 1)
    if not isinstance(seeds, str):
        items("seeds", seeds, "int seeds (or 'first' or 'all')", is_int)
    if not is_int(min_rows) or min_rows < 0:
        raise ValueError(f"Expected `min_rows` to be a non-negative int, got {got(min_rows)}.")


def load_study(
    store: str | os.PathLike[str],
    *,
    space: str | Sequence[str] | None = None,
    datasets: Sequence[str] | None = None,
    metrics: Sequence[str] = (),
    bin_counts: Sequence[int] = (),
    seeds: Literal["first", "all"] | Sequence[int] = "first",
    min_rows: int = 1,
) -> pd.DataFrame:
    """Read the finished rows of a store, checking the chapter's parameters against it.

    Parameters
    ----------
    store : path
        Store directory (absolute, or relative to the working directory or repository root).
    space, datasets : optional
        Keep only these search spaces / datasets; each must occur in the store.
    metrics : sequence of str
        Metric families (``"ECE"``, ``"ECE_em"``, ``"cwCE"``, ``"KSCE"``, …) or full column
        names (``"pre_ECE_15"``) the chapter reads; each must be a column of the store.
    bin_counts : sequence of int
        Bin counts the chapter reads for binned metric families; each must be in the store.
    seeds : "first", "all" or sequence of int, default="first"
        Which training seeds to keep. ``"first"`` keeps, for every (space, arch, dataset,
        fidelity), its lowest seed, so each network counts once in rank statistics even where
        the store holds repeated trainings (the seed study); ``"all"`` keeps every row; a
        sequence keeps those seeds.
    min_rows : int
        Fewest rows the chapter can work with after filtering.

    Raises
    ------
    ValueError
        Naming the unknown metric, the missing bin count, the empty store, or the unknown
        space/dataset, with the values that are available; and, before the store is read, a
        parameter of the wrong type (``metrics="ECE"``, ``bin_counts=["15"]``, ``min_rows=2.5``).
    """
    _check_study_options(store, space, datasets, metrics, bin_counts, seeds, min_rows)
    from calstudy.store import Store

    root = resolve_store(store)
    if not root.is_dir():
        raise ValueError(f"Expected `store` to be a calibration store directory, got {str(store)!r}"
                         f" (looked for {root}).")
    frame = Store(root).read()
    if "status" in frame.columns:
        frame = frame[frame["status"] == "ok"]
    if frame.empty:
        raise ValueError(f"The store at {root} holds no finished rows; run `calstudy sweep` first.")

    for name, wanted in (("space", space), ("dataset", datasets)):
        if wanted is None:
            continue
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        present = sorted(frame[name].dropna().unique())
        missing = [value for value in wanted if value not in present]
        if missing:
            raise ValueError(f"Expected `{name}` values from {present}, got {missing}.")
        frame = frame[frame[name].isin(wanted)]

    frame = _select_seeds(frame, seeds)

    columns = set(frame.columns)
    for metric in metrics:
        if metric in columns:
            continue
        families = _families(columns)
        if metric not in families:
            close = difflib.get_close_matches(metric, sorted(families | columns), n=3)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise ValueError(f"Unknown metric {metric!r}; the store has {sorted(families)}.{hint}")
        if families[metric] and bin_counts:
            missing = [n for n in bin_counts if n not in families[metric]]
            if missing:
                raise ValueError(
                    f"Bin count(s) {missing} are not in the store for {metric}; available: "
                    f"{sorted(families[metric])}. Add them with `calstudy dataset recompute`."
                )
    if len(frame) < min_rows:
        raise ValueError(f"Expected at least {min_rows} rows after filtering, got {len(frame)}.")
    return frame.reset_index(drop=True)


def _select_seeds(frame: pd.DataFrame, seeds: str | Sequence[int]) -> pd.DataFrame:
    if isinstance(seeds, str):
        if seeds == "all":
            return frame
        if seeds != "first":
            raise ValueError(f"Expected `seeds` to be 'first', 'all' or a list of seeds, got {seeds!r}.")
        key = [c for c in ("space", "arch", "dataset", "fidelity") if c in frame.columns]
        lowest = frame.groupby(key, dropna=False)["seed"].transform("min")
        return frame[frame["seed"] == lowest]
    wanted = [int(seed) for seed in seeds]
    present = sorted(int(seed) for seed in frame["seed"].dropna().unique())
    missing = [seed for seed in wanted if seed not in present]
    if missing:
        raise ValueError(f"Expected `seeds` values from {present}, got {missing}.")
    return frame[frame["seed"].isin(wanted)]


def _families(columns: set[str]) -> dict[str, set[int]]:
    """Metric family → bin counts present, from ``pre_`` columns (empty set: not binned)."""
    families: dict[str, set[int]] = {}
    for name in columns:
        if not name.startswith("pre_"):
            continue
        base = name[4:]
        stem, _, suffix = base.rpartition("_")
        if stem and suffix.isdigit():
            families.setdefault(stem, set()).add(int(suffix))
        else:
            families.setdefault(base, set())
    return families


# ---------------------------------------------------------------------------------------------
# The software a book was built with
# ---------------------------------------------------------------------------------------------

#: Distributions whose versions :func:`software_versions` reports, beside Python and calstudy.
KEY_PACKAGES: tuple[str, ...] = (
    "numpy", "scipy", "pandas", "statsmodels", "pyarrow", "duckdb", "torch", "matplotlib",
    "seaborn", "jupyter-book",
)  # fmt: skip


def software_versions(packages: Sequence[str] = KEY_PACKAGES) -> pd.DataFrame:
    """Versions of Python, the key packages and calstudy (with its git commit) running now.

    Versions come from the installed distributions' metadata (:mod:`importlib.metadata`), so
    nothing heavy is imported; a package that is not installed is reported as such.

    Parameters
    ----------
    packages : sequence of str, default=KEY_PACKAGES
        Distribution names, e.g. ``"jupyter-book"``.

    Returns
    -------
    DataFrame
        Indexed by ``package`` (``python``, the packages, ``calstudy``, ``calstudy git commit``),
        one column ``version``; the commit reads ``+dirty`` with uncommitted changes and
        "not a git checkout" outside one.

    Examples
    --------
    >>> table = software_versions(["numpy"])
    >>> list(table.index)
    ['python', 'numpy', 'calstudy', 'calstudy git commit']
    """
    import platform
    from importlib import metadata

    from calstudy import __version__
    from calstudy.schema import provenance

    if isinstance(packages, str) or not all(isinstance(p, str) for p in packages):
        raise ValueError(
            f"Expected `packages` to be a list of distribution names, got {packages!r}."
        )

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    rows = {"python": platform.python_version(), **{p: version(p) for p in packages}}
    rows["calstudy"] = __version__
    rows["calstudy git commit"] = provenance()["git_commit"] or "not a git checkout"
    return pd.DataFrame({"version": rows}).rename_axis("package")
