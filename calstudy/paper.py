"""Import the paper's released CSVs into calstudy's schema.

Tao et al. (ICLR 2024) released one CSV per dataset × search space,
``{cifar10,cifar100,ImageNet}_{tss,sss}.csv``, with the columns ``config`` (NATS-Bench
index), ``acc``, ``correct_confidence``, ``incorrect_confidence``, ``arch``, 112 ``pre_``/
``post_`` calibration columns, ``pre_auc_cifar10c``, ``pre_auc_svhn``, and (TSS, after Jung et
al. 2023) attack and corruption accuracies. :func:`import_paper_csv` maps one file to our
columns; :func:`import_paper_dir` all of them.

What the paper does not say, and what we record instead:

* **Seed.** NATS-Bench trained most 200-epoch TSS networks with several seeds (777, 888, 999)
  and the paper does not say whose weights it evaluated. Paper rows get ``seed = -1``
  (:data:`PAPER_SEED`), "not stated".
* **Fidelity.** TSS rows used the 200-epoch weights (the paper says so): ``"nats-200"``.
  For SSS the paper is silent; NATS-Bench SSS trained for 1, 12 and 90 epochs and releases
  weights only of the 90-epoch runs, so ``"nats-90"`` is our best reading, not a fact. Pass
  ``fidelity=`` to record another.
* **Units.** NATS-Bench reports accuracies in percent, our schema in fractions. With
  ``accuracy_unit="auto"`` the accuracy columns of a file (``acc``, attack and corruption
  accuracies) are read as percent when any of them exceeds 1, and divided by 100.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Literal

import pandas as pd

from calstudy.schema import ACCURACY_COLUMNS, SCHEMA, utc_now, validate_table

__all__ = [
    "DATASET_NAMES",
    "FILE_PATTERN",
    "PAPER_FIDELITY",
    "PAPER_SEED",
    "import_paper_csv",
    "import_paper_dir",
]

FILE_PATTERN = re.compile(r"^(?P<dataset>cifar10|cifar100|ImageNet)_(?P<space>tss|sss)\.csv$")
"""Names of the released files."""
DATASET_NAMES: dict[str, str] = {
    "cifar10": "cifar10",
    "cifar100": "cifar100",
    "ImageNet": "imagenet16-120",
}
"""File-name dataset → calstudy dataset."""
PAPER_SEED = -1
"""``seed`` of paper rows: the paper does not state which training seed's weights it used."""
PAPER_FIDELITY: dict[str, str] = {"tss": "nats-200", "sss": "nats-90"}
"""``fidelity`` of paper rows per space (SSS: our reading, see the module docstring)."""

_RENAMES = {"config": "arch_index"}


def import_paper_csv(
    path: str | Path,
    *,
    dataset: str | None = None,
    space: Literal["tss", "sss"] | None = None,
    fidelity: str | None = None,
    accuracy_unit: Literal["auto", "fraction", "percent"] = "auto",
    created_at: str | None = None,
) -> pd.DataFrame:
    """Read one of the paper's CSVs as a frame of calstudy's schema.

    Parameters
    ----------
    path : str or pathlib.Path
        A CSV in the paper's format.
    dataset, space : str, keyword-only, optional
        Override what the file name (:data:`FILE_PATTERN`) implies; required when it does
        not match.
    fidelity : str, keyword-only, optional
        Defaults to :data:`PAPER_FIDELITY` of the space.
    accuracy_unit : {"auto", "fraction", "percent"}, keyword-only
        Unit of the file's accuracy columns; see the module docstring.
    created_at : str, keyword-only, optional
        Timestamp of the rows; the time of the import by default.

    Returns
    -------
    pandas.DataFrame
        One row per CSV row with ``space``, ``arch``, ``arch_index`` (from ``config``),
        ``dataset``, ``seed`` (:data:`PAPER_SEED`), ``fidelity``, ``source = "paper-csv"``,
        ``status = "ok"``, ``created_at``, ``calstudy_version``, and every paper column
        whose name is in the schema. Validated with :func:`calstudy.schema.validate_table`.

    Warns
    -----
    UserWarning
        Listing columns that are not in the schema (they are dropped), and when accuracies
        are converted from percent.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the dataset or space cannot be inferred, ``config``/``arch`` are missing, or a
        column has the wrong type.
    """
    from calstudy.schema import provenance

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Paper CSV '{path}' does not exist.")
    match = FILE_PATTERN.match(path.name)
    if match is not None:
        dataset = dataset or DATASET_NAMES[match["dataset"]]
        space = space or match["space"]  # type: ignore[assignment]
    if dataset is None or space is None:
        raise ValueError(
            f"Cannot infer dataset and space from the file name {path.name!r} (expected "
            "{cifar10,cifar100,ImageNet}_{tss,sss}.csv); pass `dataset=` and `space=`."
        )
    if space not in PAPER_FIDELITY:
        raise ValueError(f"Expected `space` to be 'tss' or 'sss', got {space!r}.")
    frame = pd.read_csv(path).rename(columns=_RENAMES)
    missing = [c for c in ("arch_index", "arch") if c not in frame.columns]
    if missing:
        names = ["config" if c == "arch_index" else c for c in missing]
        raise ValueError(f"Paper CSV '{path}' lacks column(s) {names}.")
    unknown = [c for c in frame.columns if c not in SCHEMA.names]
    if unknown:
        warnings.warn(
            f"Paper CSV {path.name!r}: {len(unknown)} column(s) not in the schema, dropped: "
            f"{unknown}.",
            stacklevel=2,
        )
        frame = frame.drop(columns=unknown)
    frame = _to_fractions(frame, unit=accuracy_unit, name=path.name)
    stamp = utc_now() if created_at is None else created_at
    origin = provenance()
    constants = {
        "space": space,
        "dataset": dataset,
        "seed": PAPER_SEED,
        "fidelity": fidelity or PAPER_FIDELITY[space],
        "source": "paper-csv",
        "status": "ok",
        "created_at": stamp,
        "calstudy_version": origin["calstudy_version"],
        "git_commit": origin["git_commit"],
    }
    frame = pd.concat([frame, pd.DataFrame(constants, index=frame.index)], axis=1)
    # Round-trip through validation so callers get exactly what a Store would hold.
    validate_table(frame, where=f"paper CSV {path.name!r}")
    ordered = [c for c in SCHEMA.names if c in frame.columns]
    return frame.loc[:, ordered]


def import_paper_dir(
    directory: str | Path,
    *,
    accuracy_unit: Literal["auto", "fraction", "percent"] = "auto",
) -> pd.DataFrame:
    """Import every paper CSV of a directory (those matching :data:`FILE_PATTERN`).

    Parameters
    ----------
    directory : str or pathlib.Path
        Directory holding some or all of the six released CSVs.
    accuracy_unit : {"auto", "fraction", "percent"}, keyword-only
        As in :func:`import_paper_csv`, decided per file.

    Returns
    -------
    pandas.DataFrame
        The files' rows, concatenated in file-name order, sharing one ``created_at``.

    Warns
    -----
    UserWarning
        Naming the released files that are absent.

    Raises
    ------
    FileNotFoundError
        If ``directory`` does not exist or holds no paper CSV.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"Directory '{directory}' does not exist.")
    files = sorted(p for p in directory.iterdir() if FILE_PATTERN.match(p.name))
    if not files:
        raise FileNotFoundError(
            f"No paper CSV ({{cifar10,cifar100,ImageNet}}_{{tss,sss}}.csv) in '{directory}'."
        )
    expected = {f"{d}_{s}.csv" for d in DATASET_NAMES for s in PAPER_FIDELITY}
    absent = sorted(expected - {p.name for p in files})
    if absent:
        warnings.warn(f"Paper CSV(s) absent from '{directory}': {absent}.", stacklevel=2)
    stamp = utc_now()
    frames = [import_paper_csv(p, accuracy_unit=accuracy_unit, created_at=stamp) for p in files]
    frame = pd.concat(frames, ignore_index=True)
    return frame.loc[:, [c for c in SCHEMA.names if c in frame.columns]]


def _to_fractions(
    frame: pd.DataFrame, *, unit: Literal["auto", "fraction", "percent"], name: str
) -> pd.DataFrame:
    """Express the accuracy columns of ``frame`` as fractions."""
    if unit not in ("auto", "fraction", "percent"):
        raise ValueError(
            f"Expected `accuracy_unit` to be 'auto', 'fraction' or 'percent', got {unit!r}."
        )
    columns = [c for c in ACCURACY_COLUMNS if c in frame.columns]
    if not columns:
        return frame
    columns = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])]  # others fail later
    values = frame[columns]
    if unit == "auto":
        unit = "percent" if (values > 1).to_numpy().any() else "fraction"
        if unit == "percent":
            warnings.warn(
                f"Paper CSV {name!r}: accuracies exceed 1, read as percent and divided by 100 "
                f"({len(columns)} column(s)).",
                stacklevel=3,
            )
    if unit == "percent":
        frame = frame.copy()
        frame[columns] = frame[columns] / 100
    return frame
