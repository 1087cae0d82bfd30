"""The ``calstudy`` command line.

::

    calstudy dataset validate DIR [--fix]        exit 1 and print each problem, if any
    calstudy dataset describe DIR
    calstudy dataset merge DIR
    calstudy dataset migrate DIR                 give shards written without a checksum theirs
    calstudy dataset recompute DIR --metrics ECE_15 smECE [--no-progress]
    calstudy dataset fetch-paper --out DIR [--base-url URL_OR_DIR] [--commit SHA]
    calstudy dataset import-paper CSV_OR_DIR --out DIR [--dataset D --space S]
    calstudy dataset query DIR "SELECT dataset, count(*) FROM calibration GROUP BY 1"
    calstudy metrics PRED [--labels FILE] [--out record.csv] [--diagram reliability.png]
    calstudy evaluate CHECKPOINT --arch ARCH [--dataset cifar10] [--data-dir DIR]
    calstudy sweep ...                           from calstudy.sweep.add_cli
    calstudy book ...                            from calstudy.book.add_cli
    calstudy early ...                           from calstudy.early.add_cli
    calstudy --version

``metrics``, ``evaluate``, ``sweep``, ``book`` and ``early`` are plug-ins: a hook of their module
(:data:`PLUGIN_HOOKS`; ``calstudy.<name>.add_cli`` unless listed there) takes the subparsers,
adds its own parser with ``subparsers.add_parser(name, ...)`` and sets ``func``, a callable taking
the parsed :class:`argparse.Namespace` and returning an exit code, via ``set_defaults(func=...)``.
They are imported only when their command is run, so ``calstudy dataset`` stays fast and
``calstudy metrics`` needs no torch.

While a command runs, calstudy's log messages (the ``calstudy`` logger, WARNING and above) and
Python warnings are written to stderr through tqdm's ``logging_redirect_tqdm``, so that they do not
break a progress bar: ``calstudy: warning: ...``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calstudy.store import Store

__all__ = ["PLUGINS", "PLUGIN_HOOKS", "build_parser", "main"]

PLUGINS: dict[str, str] = {
    "metrics": "audit the calibration of saved predictions (logits or probabilities)",
    "evaluate": "audit the calibration of a NATS-Bench network checkpoint on a test set",
    "sweep": "run a sweep of training/evaluation jobs into a store",
    "book": "build the Jupyter Book",
    "early": "measure a sweep's networks after their first epochs (resumable)",
}
"""Subcommands provided by plug-in modules, with their one-line help."""

PLUGIN_HOOKS: dict[str, tuple[str, str]] = {
    "metrics": ("audit", "add_metrics_cli"),
    "evaluate": ("audit", "add_evaluate_cli"),
}
"""``(module, function)`` registering a plug-in, where it is not ``(<name>, "add_cli")``."""

Handler = Callable[[argparse.Namespace], "int | None"]


# ── dataset commands ─────────────────────────────────────────────────────────────────────────
def _existing_store(directory: str) -> Store:
    from calstudy.store import Store

    path = Path(directory)
    if not path.is_dir():
        raise FileNotFoundError(f"Store directory '{path}' does not exist.")
    return Store(path)


def _validate(args: argparse.Namespace) -> int:
    store = _existing_store(args.dir)
    problems = store.validate(fix=args.fix)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in '{store.root}'.", file=sys.stderr)
        return 1
    print(f"'{store.root}': {len(store.shards())} shard(s), no problems.")
    return 0


def _describe(args: argparse.Namespace) -> int:
    print(_existing_store(args.dir).describe())
    return 0


def _merge(args: argparse.Namespace) -> int:
    store = _existing_store(args.dir)
    n_before = len(store.shards())
    merged = store.merge()
    if merged is None:
        print(f"'{store.root}' has no shards; nothing to merge.")
    else:
        print(f"Merged {n_before} shard(s) into '{merged.name}'.")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    store = _existing_store(args.dir)
    migrated = store.migrate()
    if not migrated:
        print(f"'{store.root}': every shard carries its checksum; nothing to migrate.")
    else:
        print(
            f"Migrated {len(migrated)} shard(s) in '{store.root}': each validated and renamed "
            "to carry the SHA-256 of its bytes (contents unchanged)."
        )
    return 0


def _recompute(args: argparse.Namespace) -> int:
    store = _existing_store(args.dir)
    shard = store.recompute(args.metrics, progress=not args.no_progress)
    if shard is None:
        print(f"No ok row in '{store.root}' has saved logits; nothing recomputed.")
    else:
        print(f"Recomputed {', '.join(args.metrics)}; new rows in '{shard.name}'.")
    return 0


def _fetch_paper(args: argparse.Namespace) -> int:
    from calstudy.paper_fetch import PAPER_COMMIT, fetch_paper

    fetched = fetch_paper(
        args.out,
        base_url=args.base_url,
        commit=args.commit or PAPER_COMMIT,
        progress=not args.no_progress,
        timeout=args.timeout,
    )
    kept = sum(not f.downloaded for f in fetched)
    print(
        f"Fetched {len(fetched)} file(s) into '{args.out}' ({len(fetched) - kept} downloaded, "
        f"{kept} already there and verified); SHA-256 sums in "
        f"'{Path(args.out) / 'SHA256SUMS'}'."
    )
    return 0


def _import_paper(args: argparse.Namespace) -> int:
    from calstudy.paper import import_paper_csv, import_paper_dir
    from calstudy.store import Store

    source = Path(args.source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if source.is_dir():
            frame = import_paper_dir(source, accuracy_unit=args.accuracy_unit or "fraction")
        else:
            frame = import_paper_csv(
                source,
                dataset=args.dataset,
                space=args.space,
                accuracy_unit=args.accuracy_unit or "auto",
            )
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    shard = Store(args.out).append_frame(frame)
    where = "nothing written" if shard is None else f"'{shard}'"
    print(f"Imported {len(frame)} row(s) from '{source}': {where}.")
    return 0


def _query(args: argparse.Namespace) -> int:
    import duckdb
    import pandas as pd

    store = _existing_store(args.dir)
    attempts = 3
    for attempt in range(attempts):
        shards = store.shards()
        con = store.duckdb_view(name=args.view)  # verifies every shard first
        try:
            result = con.execute(args.sql).fetchdf()
            break
        except duckdb.Error as err:
            # A shard merged away between the view and the query: verify the new ones.
            moved = isinstance(err, duckdb.IOException) and store.shards() != shards
            if moved and attempt + 1 < attempts:
                continue
            print(f"calstudy: error: query failed: {err}", file=sys.stderr)
            return 1
    with pd.option_context("display.max_rows", args.max_rows, "display.width", 200):
        print(result.to_string(index=False, max_rows=args.max_rows))
    return 0


def _add_dataset(subparsers: argparse._SubParsersAction) -> None:
    dataset = subparsers.add_parser("dataset", help="inspect and maintain a calibration store")
    commands = dataset.add_subparsers(dest="dataset_command", required=True, metavar="COMMAND")

    def command(name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        parser = commands.add_parser(name, help=help, description=help)
        parser.set_defaults(func=handler)
        return parser

    p = command("validate", _validate, "check every shard; exit 1 and print each problem")
    p.add_argument("dir", help="store directory")
    p.add_argument("--fix", action="store_true", help="remove stale temporary files first")

    p = command("describe", _describe, "summarise rows, seeds, metrics and provenance")
    p.add_argument("dir", help="store directory")

    p = command("merge", _merge, "compact all shards into one, latest row per key")
    p.add_argument("dir", help="store directory")

    p = command(
        "migrate",
        _migrate,
        "give legacy shards (no checksum) their checksum: validate each, rename it atomically",
    )
    p.add_argument("dir", help="store directory")

    p = command("recompute", _recompute, "recompute catalogue metrics from saved logits")
    p.add_argument("dir", help="store directory")
    p.add_argument(
        "--metrics", nargs="+", required=True, metavar="NAME", help="catalogue names, e.g. ECE_15"
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    p = command(
        "fetch-paper",
        _fetch_paper,
        "download the paper's six released CSVs (a pinned commit), recording their SHA-256 sums",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="directory to download into")
    p.add_argument(
        "--base-url",
        metavar="URL_OR_DIR",
        help="a mirror: URL prefix ({commit} is replaced) or local directory (default: the "
        "raw files of Linwei94/calibration-study on GitHub)",
    )
    p.add_argument(
        "--commit",
        metavar="SHA",
        help="commit of Linwei94/calibration-study (default 768ba9b9…, 2024-03-05)",
    )
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per request (default 60)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")

    p = command("import-paper", _import_paper, "import the paper's released CSV(s) into a store")
    p.add_argument("source", metavar="CSV_OR_DIR", help="one CSV, or a directory of them")
    p.add_argument("--out", required=True, metavar="DIR", help="store directory to append to")
    p.add_argument("--dataset", help="dataset of a CSV whose name does not say")
    p.add_argument("--space", choices=("tss", "sss"), help="space of a CSV whose name does not say")
    p.add_argument(
        "--accuracy-unit",
        choices=("auto", "fraction", "percent"),
        default=None,
        help="unit of the accuracy columns (default: fraction, as released, for a directory; "
        "auto, percent if any exceeds 1, for one CSV)",
    )

    p = command("query", _query, "run SQL (DuckDB) on the view `calibration`; print a table")
    p.add_argument("dir", help="store directory")
    p.add_argument("sql", help='e.g. "SELECT dataset, count(*) FROM calibration GROUP BY 1"')
    p.add_argument("--view", default="calibration", help="name of the view (default calibration)")
    p.add_argument("--max-rows", type=int, default=50, help="rows to print (default 50)")


# ── plug-ins ─────────────────────────────────────────────────────────────────────────────────
def _add_plugin(subparsers: argparse._SubParsersAction, name: str, *, load: bool) -> None:
    """Register ``calstudy <name>`` from its hook (:data:`PLUGIN_HOOKS`, default
    ``calstudy.<name>.add_cli``), or a stand-in that explains."""
    reason = None
    if load:
        module_name, hook = PLUGIN_HOOKS.get(name, (name, "add_cli"))
        try:
            module = importlib.import_module(f"calstudy.{module_name}")
        except ImportError as err:
            reason = f"calstudy.{module_name} cannot be imported ({err})"
        else:
            if hasattr(module, hook):
                getattr(module, hook)(subparsers)
                return
            reason = f"calstudy.{module_name} has no {hook}(subparsers)"
    parser = subparsers.add_parser(name, help=PLUGINS[name], add_help=False)
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    def unavailable(args: argparse.Namespace) -> int:
        print(f"calstudy: error: `calstudy {name}` is unavailable: {reason}.", file=sys.stderr)
        return 1

    parser.set_defaults(func=unavailable)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """Build the argument parser.

    Parameters
    ----------
    argv : sequence of str
        The arguments about to be parsed: a plug-in's module is imported only when ``argv``
        names it.

    Returns
    -------
    argparse.ArgumentParser
    """
    from calstudy import __version__

    parser = argparse.ArgumentParser(
        prog="calstudy",
        description="A reproducible study of calibration across the NATS-Bench spaces.",
    )
    parser.add_argument(
        "--version", action="version", version=f"calstudy {__version__}", help="print the version"
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_dataset(subparsers)
    for name in PLUGINS:
        _add_plugin(subparsers, name, load=bool(argv) and argv[0] == name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``calstudy`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        Exit code: 0 on success, 1 when the command failed (the error is printed to stderr),
        2 for a usage error.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits on --help and on usage errors
        return int(exit_.code or 0)
    try:
        with _console_logging():
            code = args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"calstudy: error: {err}", file=sys.stderr)
        return 1
    return int(code or 0)


class _Formatter(logging.Formatter):
    """``calstudy: warning: message``, as the command line writes its errors."""

    def format(self, record: logging.LogRecord) -> str:
        return f"calstudy: {record.levelname.lower()}: {record.getMessage()}"


@contextlib.contextmanager
def _console_logging() -> Iterator[None]:
    """Write calstudy's log messages (WARNING and above) and Python warnings to stderr while a
    command runs, through ``tqdm.write`` so that a progress bar is redrawn below them.

    The ``calstudy`` logger gets its own handler and stops propagating meanwhile, so a message is
    not written twice when the root logger has a console handler too; Python warnings go through
    :func:`logging.captureWarnings` and keep their filters (each shown once per place). Both are
    restored afterwards.
    """
    from tqdm.contrib.logging import logging_redirect_tqdm

    loggers = [logging.getLogger("calstudy"), logging.getLogger("py.warnings")]
    formatters = [_Formatter(), logging.Formatter("%(message)s")]
    propagate = [lg.propagate for lg in loggers]
    handlers = []
    for lg, formatter in zip(loggers, formatters, strict=True):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter)
        handler.setLevel(logging.WARNING)
        lg.addHandler(handler)
        lg.propagate = False
        handlers.append(handler)
    captured = getattr(warnings.showwarning, "__module__", None) == "logging"
    logging.captureWarnings(True)
    try:
        with logging_redirect_tqdm(loggers=loggers):
            yield
    finally:
        if not captured:
            logging.captureWarnings(False)
        for lg, handler, was in zip(loggers, handlers, propagate, strict=True):
            lg.removeHandler(handler)
            lg.propagate = was


if __name__ == "__main__":
    sys.exit(main())
