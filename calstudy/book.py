"""Build the calstudy book: jupytext sources → papermill → jupyter-book.

The book never executes notebooks itself (``execute_notebooks: off`` in ``_config.yml``).
Instead each chapter's jupytext source in ``notebooks/`` is converted to a notebook, executed
by papermill with its parameters injected, and written to ``book/executed/``; jupyter-book then
renders those executed notebooks. This keeps one execution path for the book, for a reader
who reruns a chapter with new parameters, and for the tests.

Typical use::

    calstudy book build                          # every chapter, then the HTML
    calstudy book list                           # the chapters and their parameters
    calstudy book run rq6_bin_count -p metric ECE_em -p space sss   # one chapter, new parameters

The chapters ship with the repository, not with the installed package: from a wheel the
commands say so and give the repository to clone (:data:`REPOSITORY_URL`).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import math
import os
import re
import shutil
import subprocess
import sys
import time
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from calstudy._checks import check_positive_int

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
EXECUTED_DIR = REPO_ROOT / "book" / "executed"
BUILD_DIR = REPO_ROOT / "book" / "_build"
DEFAULT_STORE = "data/demo"
REPOSITORY_URL = "https://github.com/calstudy/calstudy"
"""Where the book's sources live (``repository.url`` of ``_config.yml``, which a wheel lacks)."""

# How jupyter-book shows each kind of code cell (cell tags): the reader gets the whole argument
# without opening code. Parameters stay visible (they say what produced the page); analysis code
# folds behind "show code" with its output shown; cells that only check the run (asserts) are
# left out of the page, though they run like every other cell.
_PARAMETER_TAGS = ("parameters", "injected-parameters")
_ANALYSIS_TAG = "hide-input"
_CHECK_TAG = "remove-cell"


def is_check_cell(source: str) -> bool:
    r"""True for a code cell that only checks: tagged ``checks``, or made of nothing but
    ``assert`` statements (at any depth of ``for``/``if``/``with`` blocks).

    >>> is_check_cell("# claims\nfor r in rows:\n    assert r > 0\nassert ok")
    True
    >>> is_check_cell("x = 1\nassert x")
    False
    """

    def only_asserts(body: list[ast.stmt]) -> bool:
        for node in body:
            if isinstance(node, ast.Assert):
                continue
            if isinstance(node, ast.For | ast.While | ast.With):
                if not only_asserts(node.body) or not only_asserts(getattr(node, "orelse", [])):
                    return False
            elif isinstance(node, ast.If):
                if not only_asserts(node.body) or not only_asserts(node.orelse):
                    return False
            else:
                return False
        return True

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return bool(tree.body) and only_asserts(tree.body)


def _display_tags(cell: Any) -> list[str]:
    """The cell's tags plus the one that decides how the book shows it."""
    tags = [t for t in cell.metadata.get("tags", []) if t not in ("hide-cell",)]
    if cell.cell_type != "code" or any(t in tags for t in _PARAMETER_TAGS):
        return tags
    if "checks" in tags or is_check_cell(cell.source):
        return [*tags, _CHECK_TAG] if _CHECK_TAG not in tags else tags
    if any(t.startswith(("remove-", "hide-")) for t in tags):
        return tags  # the chapter chose
    return [*tags, _ANALYSIS_TAG]


@dataclass(frozen=True)
class Chapter:
    """One executed chapter of the book.

    Parameters
    ----------
    name : str
        File stem of the jupytext source in ``notebooks/`` and of the executed notebook.
    title : str
        Short title, used in progress output.
    parameters : dict
        Parameters injected by papermill on top of the notebook's own defaults.
    """

    name: str
    title: str
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> Path:
        return NOTEBOOK_DIR / f"{self.name}.py"


def chapters() -> list[Chapter]:
    """The executed chapters, in the order of ``_toc.yml``: every ``notebooks/*.py`` source."""
    return [Chapter(path.stem, _title_of(path)) for path in sorted(NOTEBOOK_DIR.glob("*.py"))]


def _require_chapters() -> None:
    """Raise, saying where to get them, when ``notebooks/`` holds no chapter (an installed
    calstudy without the repository)."""
    if not any(NOTEBOOK_DIR.glob("*.py")):
        raise FileNotFoundError(
            f"Expected the book's chapters in '{NOTEBOOK_DIR}', got none: they ship with the "
            f"repository, not with the installed package. Clone it (git clone {REPOSITORY_URL}), "
            "install it there (pip install -e '.[book]') and run calstudy book from the checkout."
        )


def _title_of(source: Path) -> str:
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.startswith("# # "):
            return line[4:].strip()
    return source.stem


@dataclass(frozen=True)
class _Parameter:
    """One assignment of a ``parameters`` cell.

    ``default`` is the literal value, or the source text when it is not a literal (then
    ``literal`` is False and the value's type is not checked); ``accepts_none`` says whether
    None is a valid value: the default is None or the line's comment names None.
    """

    default: Any
    literal: bool
    accepts_none: bool


_NONE_WORD = re.compile(r"\bNone\b")


def _parameter_cell(source: Path) -> dict[str, _Parameter]:
    import jupytext

    nb = jupytext.read(source)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            comments: dict[int, str] = {}
            for token in tokenize.generate_tokens(io.StringIO(cell.source).readline):
                if token.type == tokenize.COMMENT:
                    comments[token.start[0]] = token.string
            specs: dict[str, _Parameter] = {}
            for node in ast.parse(cell.source).body:
                if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
                    continue
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                try:
                    default, literal = ast.literal_eval(node.value), True
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    default, literal = ast.unparse(node.value), False
                end = node.end_lineno or node.lineno
                comment = " ".join(comments.get(line, "") for line in range(node.lineno, end + 1))
                none_ok = (literal and default is None) or bool(_NONE_WORD.search(comment))
                for target in targets:
                    if isinstance(target, ast.Name):
                        specs[target.id] = _Parameter(default, literal, none_ok)
            return specs
    raise ValueError(
        f"Expected notebook {source.name} to have a cell tagged 'parameters', got none."
    )


def notebook_parameters(source: Path) -> dict[str, Any]:
    """Names and default values of a jupytext source's ``parameters`` cell.

    A default that is not a Python literal is given as its source text.

    Raises
    ------
    ValueError
        If the notebook has no cell tagged ``parameters``.
    """
    return {name: spec.default for name, spec in _parameter_cell(source).items()}


def check_parameters(source: Path, parameters: Mapping[str, Any]) -> None:
    """Reject parameters the notebook does not declare or whose type is wrong, before anything
    is executed.

    A value must have the type of the notebook's default: an ``int`` for an int default (a bool
    is not one), an int or finite float for a float, a ``str`` for a str, a ``bool`` for a bool,
    a ``list`` for a list, whose elements each match an element type of the default when the
    default is non-empty (``[10, 25]`` takes ints, ``[2.0, 4.0]`` ints or floats), and a
    ``dict`` for a dict. None is accepted where the default is None or the parameter's comment
    names None as a value (``n_bins = 15  # …; None for estimators without bins``). A None
    default, or one that is not a literal, fixes no type, but the value must still be one
    papermill writes into the notebook faithfully: None, a bool, int, finite float or str, or a
    list or str-keyed dict of those (a tuple or a set would arrive as its string).

    Raises
    ------
    ValueError
        Naming the parameter, e.g. "Expected parameter `n_bins` to be an int (its default is
        15), got 'abc' (str)."
    """
    specs = _parameter_cell(source)
    for name in parameters:
        if name not in specs:
            close = difflib.get_close_matches(name, list(specs), n=3)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise ValueError(
                f"Unknown parameter {name!r} for notebook {source.stem}; "
                f"it accepts: {', '.join(sorted(specs))}.{hint}"
            )
    for name, value in parameters.items():
        spec = specs[name]
        if value is None and spec.accepts_none:
            continue
        typed = spec.literal and spec.default is not None
        if _injectable(value) and (not typed or _conforms(value, spec.default)):
            continue
        if typed:
            expected = _type_name(spec.default) + (" or None" if spec.accepts_none else "")
            context = f"its default is {spec.default!r}"
        else:
            expected = "None, a bool, int, float, str, or a list or dict of those"
            context = "what papermill can write into the notebook"
        raise ValueError(
            f"Expected parameter `{name}` to be {expected} ({context}), got {value!r} "
            f"({type(value).__name__})."
        )


def _injectable(value: Any) -> bool:
    """Whether papermill's Python translator writes ``value`` back as an equal literal."""
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_injectable(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _injectable(v) for k, v in value.items())
    return False


def _conforms(value: Any, template: Any) -> bool:
    """Whether ``value`` has the type of the default ``template`` (rules of check_parameters)."""
    if template is None:
        return True
    if isinstance(template, bool):
        return isinstance(value, bool)
    if isinstance(template, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(template, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(template, str):
        return isinstance(value, str)
    if isinstance(template, list | tuple):
        if not isinstance(value, type(template)):
            return False
        return not template or all(any(_conforms(v, t) for t in template) for v in value)
    if isinstance(template, dict):
        return isinstance(value, dict)
    return isinstance(value, type(template))


def _type_name(template: Any, *, article: bool = True) -> str:
    """How an error message names the type of the default ``template``: "an int", "a float or
    an int", "a list of str", …; without ``article`` the bare word ("int", "float", "list")."""
    if isinstance(template, list | tuple):
        kind = type(template).__name__
        items = list(dict.fromkeys(_type_name(item, article=False) for item in template))
        word = f"{kind} of {' or '.join(items)}" if items else kind
    elif isinstance(template, bool | int | str | dict):
        word = type(template).__name__
    elif isinstance(template, float):
        return "a float or an int" if article else "float"
    elif template is None:
        return "None"
    else:
        word = type(template).__name__
    if not article:
        return word
    return ("an " if word[0] in "aeiou" else "a ") + word


def execute_chapter(
    source: Path | str,
    *,
    parameters: Mapping[str, Any] | None = None,
    output: Path | str | None = None,
    timeout: int = 600,
    progress: bool = False,
) -> Path:
    """Execute one jupytext notebook with papermill and return the executed ``.ipynb``.

    The output is written to a temporary file and renamed into place only when execution
    succeeded, so a failed run never leaves a half-executed chapter for the book to render.

    Parameters
    ----------
    source : path
        A jupytext percent-format ``.py`` file, or a chapter name such as ``"rq1_transfer"``.
    parameters : mapping, optional
        Values injected after the notebook's ``parameters`` cell.
    output : path, optional
        Where to write the executed notebook; defaults to ``book/executed/<name>.ipynb``.
    timeout : int
        Seconds allowed per cell.
    """
    import jupytext
    import nbformat
    import papermill

    source = _resolve_source(source)
    parameters = dict(parameters or {})
    check_parameters(source, parameters)
    output = Path(output) if output is not None else EXECUTED_DIR / f"{source.stem}.ipynb"
    output.parent.mkdir(parents=True, exist_ok=True)

    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    tmp_in = output.with_name(f".{output.stem}.input.ipynb")
    tmp_out = output.with_name(f".{output.stem}.partial.ipynb")
    nbformat.write(notebook, tmp_in)
    try:
        papermill.execute_notebook(
            str(tmp_in),
            str(tmp_out),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(REPO_ROOT),
            progress_bar=progress,
            execution_timeout=timeout,
        )
        executed = nbformat.read(tmp_out, as_version=4)
        for cell in executed.cells:
            cell.metadata["tags"] = _display_tags(cell)
        nbformat.write(executed, tmp_out)
        os.replace(tmp_out, output)
    finally:
        tmp_in.unlink(missing_ok=True)
        tmp_out.unlink(missing_ok=True)
    return output


def _resolve_source(source: Path | str) -> Path:
    path = Path(source)
    if path.suffix == ".py" and path.exists():
        return path.resolve()
    candidate = NOTEBOOK_DIR / f"{path.stem}.py"
    if candidate.exists():
        return candidate
    _require_chapters()
    names = [chapter.name for chapter in chapters()]
    close = difflib.get_close_matches(path.stem, names, n=3)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise FileNotFoundError(
        f"No notebook {str(source)!r}: expected a jupytext .py file or one of "
        f"{', '.join(names)}.{hint}"
    )


def build(
    *,
    store: str | None = None,
    only: Sequence[str] | None = None,
    html: bool = True,
    builder_args: Sequence[str] = (),
    out: str | os.PathLike[str] | None = None,
    title: str | None = None,
    jobs: int | None = None,
) -> Path:
    """Execute every chapter against ``store`` and render the HTML book.

    Parameters
    ----------
    store : str, optional
        Calibration store every chapter with a ``store`` parameter reads (default: its own,
        the committed demo).
    only : sequence of str, optional
        Execute only these chapters (the others keep their last executed notebook).
    html : bool, default=True
        Render the HTML after executing.
    builder_args : sequence of str
        Extra arguments to ``jupyter-book build``.
    out : path, optional
        Build an *edition* into this folder instead of ``book/``: the book's sources are copied
        to ``<out>/source``, its chapters executed into ``<out>/source/book/executed``, and the
        HTML rendered to ``<out>/_build/html``, so that several editions (the demo's, the
        paper's) sit side by side. ``only`` is not allowed with ``out``: an edition is whole.
    title : str, optional
        The edition's title (``_config.yml``'s ``title`` otherwise).
    jobs : int, optional
        Chapters executed at once, each in its own kernel (default :func:`default_jobs`);
        see :func:`execute_chapters`.

    Returns
    -------
    Path
        The directory holding ``index.html`` (or the executed notebooks when ``html=False``).
    """
    _require_chapters()
    selected = chapters()
    if only:
        if out is not None:
            raise ValueError(f"Expected `only` to be empty when `out` is given, got {list(only)}.")
        names = {chapter.name for chapter in selected}
        unknown = [name for name in only if name not in names]
        if unknown:
            raise ValueError(f"Unknown chapter(s) {unknown}; known: {', '.join(sorted(names))}.")
        selected = [chapter for chapter in selected if chapter.name in only]
    if store is not None:
        from calstudy.chapter import resolve_store

        # The chapters run in the repository root; hand them the path this check found.
        resolved = resolve_store(store).resolve()
        if not resolved.is_dir():
            raise FileNotFoundError(f"Expected `store` to be a store directory, got {store!r}.")
    jobs = default_jobs() if jobs is None else check_positive_int(jobs, "jobs")
    root = REPO_ROOT if out is None else _stage_edition(Path(out), title=title)
    executed_dir = root / "book" / "executed"
    runs = []
    for chapter in selected:
        parameters = dict(chapter.parameters)
        if store is not None and "store" in notebook_parameters(chapter.source):
            parameters["store"] = str(resolved)
        runs.append((chapter, parameters, executed_dir / f"{chapter.name}.ipynb"))
    execute_chapters(runs, jobs=jobs, durations=executed_dir / DURATIONS_FILE)
    if not html:
        return executed_dir
    if out is None:
        return render_html(builder_args=builder_args)
    return render_html(builder_args=builder_args, root=root, output=Path(out))


# Chapters run side by side, each in its own kernel: the book's chapters are independent (each
# reads the store and writes its own notebook), and most of their time is single-threaded
# Python, so two kernels on two cores take about half the time of one after the other.
JOBS_ENV = "CALSTUDY_BOOK_JOBS"
MAX_DEFAULT_JOBS = 4  # each kernel holds a store in memory (~1 GB for the paper's 145,179 rows)
DURATIONS_FILE = ".durations.json"
"""Each chapter's last execution time, read to start the longest chapters first."""
DEFAULT_DURATIONS = REPO_ROOT / "book" / "durations.json"
"""The chapters' seconds in a demo build on 2 cores: the order of a build that has no times of
its own yet (a fresh clone), so that RQ viii, the longest, does not start last."""

RUN_ALONE = frozenset({"scale"})
"""Chapters that time this machine (the scale chapter measures what one network costs): they
run after the others, alone, so that no neighbouring kernel slows the clock they read."""

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_jobs() -> int:
    """Chapters executed at once: ``$CALSTUDY_BOOK_JOBS``, else one per core, at most 4."""
    named = os.environ.get(JOBS_ENV)
    if named:
        try:
            value: object = int(named)
        except ValueError:
            value = named
        return check_positive_int(value, f"${JOBS_ENV}")
    return max(1, min(_cores(), MAX_DEFAULT_JOBS))


def _start_worker(threads: int) -> None:
    # The kernel papermill starts inherits this environment: numpy's BLAS and torch use
    # `threads` each instead of every core, so kernels side by side do not oversubscribe.
    for name in _THREAD_VARIABLES:
        os.environ[name] = str(threads)


class ChapterRun(NamedTuple):
    """How one chapter's execution went: its seconds, and its error as text (None: it ran)."""

    seconds: float
    error: str | None


def _describe(err: Exception) -> str:
    """The exception a chapter raised, with the notebook line that raised it (papermill's)."""
    ename = getattr(err, "ename", None)  # papermill's PapermillExecutionError
    if ename is None:
        return f"{type(err).__name__}: {err}"
    trace = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(getattr(err, "traceback", None) or []))
    arrows = [line.strip() for line in trace.splitlines() if line.strip().startswith("---->")]
    where = f" (at `{arrows[-1].removeprefix('---->').strip()}`)" if arrows else ""
    return f"{ename}: {getattr(err, 'evalue', '')}{where}"


# A kernel that could not start (two kernels launched at once can race for a port) is not the
# chapter's fault: such a start is tried once more.
_KERNEL_START_ERRORS = ("Address already in use", "ZMQError", "Kernel didn't respond",
                        "Kernel died before replying")  # fmt: skip


def _execute_timed(
    source: Path, parameters: Mapping[str, Any], output: Path, timeout: int
) -> ChapterRun:
    """:func:`execute_chapter`, timed, its error returned as text (it runs in a worker process,
    and an exception from papermill does not always survive pickling back to the parent)."""
    start = time.perf_counter()
    for attempt in (1, 2):
        try:
            execute_chapter(source, parameters=parameters, output=output, timeout=timeout)
        except Exception as err:  # noqa: BLE001 (the caller reports it, or raises)
            error = _describe(err)
            if attempt == 1 and getattr(err, "ename", None) is None and any(
                marker in error for marker in _KERNEL_START_ERRORS
            ):
                continue
            return ChapterRun(time.perf_counter() - start, error)
        break
    return ChapterRun(time.perf_counter() - start, None)


def _read_durations(*paths: Path) -> dict[str, float]:
    import json

    for path in paths:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float)}
    return {}


def execute_chapters(
    runs: Sequence[tuple[Chapter, Mapping[str, Any], Path]],
    *,
    jobs: int = 1,
    durations: Path | None = None,
    keep_going: bool = False,
    timeout: int = 600,
) -> dict[str, ChapterRun]:
    """Execute chapters, ``jobs`` at a time, and return how each one went.

    Each chapter runs in its own kernel, as :func:`execute_chapter` runs it; with ``jobs`` > 1
    they run side by side in worker processes, each kernel limited to ``cores // jobs`` BLAS
    and torch threads. The longest chapters (by ``durations``, the times of the last build,
    else those of the repository's own build, else :data:`DEFAULT_DURATIONS`) start first;
    the chapters of :data:`RUN_ALONE` run last, one by one. The first failure stops the build:
    chapters not started are not run, those already running finish first, and the error names
    the chapter; with ``keep_going`` every chapter runs and the failures are returned. A kernel
    that fails to start (a port race between kernels started at once) is started once more. A
    failed chapter leaves no executed notebook
    (:func:`execute_chapter` writes it only on success).

    Parameters
    ----------
    runs : sequence of (Chapter, parameters, output path)
    jobs : int, default=1
        Chapters executed at once.
    durations : path, optional
        JSON file of each chapter's last time in seconds: read to order the chapters, written
        with this build's times.
    keep_going : bool, default=False
        Run every chapter and return the failures (a benchmark) instead of raising.
    timeout : int, default=600
        Seconds allowed per cell.

    Raises
    ------
    RuntimeError
        When a chapter fails (unless ``keep_going``), naming it and the line that raised.
    """
    import json
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from calstudy.files import atomic_write_bytes

    jobs = check_positive_int(jobs, "jobs")
    sources = (durations, EXECUTED_DIR / DURATIONS_FILE, DEFAULT_DURATIONS)
    last = _read_durations(*(p for p in sources if p))  # the order of this build
    own = _read_durations(durations) if durations is not None else {}  # what it rewrites
    alone = [run for run in runs if run[0].name in RUN_ALONE]
    shared = sorted((run for run in runs if run[0].name not in RUN_ALONE),
                    key=lambda run: -last.get(run[0].name, 0.0))  # fmt: skip
    took: dict[str, ChapterRun] = {}

    def finished(chapter: Chapter, run: ChapterRun) -> None:
        if run.error is not None and not keep_going:
            raise RuntimeError(f"Chapter {chapter.name} ({chapter.source}) failed: {run.error}")
        took[chapter.name] = run
        status = "done" if run.error is None else f"FAILED ({run.error.splitlines()[0][:200]})"
        print(f"[book]   {chapter.name} {status} in {run.seconds:.1f} s", flush=True)

    workers = min(jobs, len(shared))
    if workers > 1:
        print(f"[book] executing {len(shared)} chapters, {workers} at a time …", flush=True)
        threads = max(1, _cores() // workers)
        with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(threads,)) as pool:
            pending = {pool.submit(_execute_timed, c.source, p, o, timeout): c
                       for c, p, o in shared}  # fmt: skip
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        chapter = pending.pop(future)
                        try:
                            run = future.result()
                        except Exception as err:  # a worker died (BrokenProcessPool)
                            run = ChapterRun(math.nan, f"{type(err).__name__}: {err}")
                        finished(chapter, run)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # running chapters finish first
                raise
    else:
        alone = shared + alone
    for chapter, parameters, output in alone:
        print(f"[book] executing {chapter.name} ({chapter.title}) …", flush=True)
        finished(chapter, _execute_timed(chapter.source, parameters, output, timeout))
    if durations is not None:
        durations.parent.mkdir(parents=True, exist_ok=True)
        seconds = {name: run.seconds for name, run in took.items() if run.error is None}
        text = json.dumps({**own, **seconds}, indent=1, sort_keys=True).encode()
        atomic_write_bytes(durations, text)
    return took


# What an edition copies of the book's sources: configuration, pages, bibliography, extension.
_EDITION_SOURCES = ("_config.yml", "_toc.yml", "book/intro.md", "book/reproduce.md",
                    "book/api.md", "book/references.bib", "book/_ext")  # fmt: skip


def _stage_edition(out: Path, *, title: str | None) -> Path:
    """Copy the book's sources to ``<out>/source`` (fresh) and return that root."""
    import yaml

    root = out / "source"
    if out.resolve() == REPO_ROOT or REPO_ROOT.resolve().is_relative_to(out.resolve()):
        raise ValueError(f"Expected `out` to be a folder of its own, got {str(out)!r}.")
    shutil.rmtree(root, ignore_errors=True)
    for name in _EDITION_SOURCES:
        source, target = REPO_ROOT / name, root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    if title is not None:
        config_path = root / "_config.yml"
        config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        config["title"] = title
        config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return root


def render_html(
    *,
    builder_args: Sequence[str] = (),
    root: Path = REPO_ROOT,
    output: Path | None = None,
) -> Path:
    """Run ``jupyter-book build`` on ``root`` (``_config.yml``, ``_toc.yml``); return the HTML
    folder, ``<output>/_build/html`` (``book/_build/html`` by default)."""
    jupyter_book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
    if jupyter_book is None:
        raise RuntimeError("jupyter-book is not installed; install calstudy with the [book] extra.")
    output = REPO_ROOT / "book" if output is None else output
    # A clean build: Sphinx's incremental build keeps pages of chapters that were removed.
    shutil.rmtree(output / "_build", ignore_errors=True)
    command = [jupyter_book, "build", str(root), "--path-output", str(output)]
    subprocess.run([*command, *builder_args], check=True, cwd=root)
    return output / "_build" / "html"


def _parse_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def add_cli(subparsers: argparse._SubParsersAction) -> None:
    """Register ``calstudy book build``, ``calstudy book list`` and ``calstudy book run``."""
    parser = subparsers.add_parser("book", help="build the book or rerun one chapter")
    commands = parser.add_subparsers(dest="book_command", required=True, metavar="COMMAND")

    build_parser = commands.add_parser("build", help="execute every chapter and render the HTML")
    build_parser.add_argument("--store", help="dataset directory (default: each chapter's own)")
    build_parser.add_argument("--only", nargs="+", help="execute only these chapters")
    build_parser.add_argument("--no-html", action="store_true", help="execute, do not render")
    build_parser.add_argument(
        "--out",
        help="build a separate edition into this folder (HTML in OUT/_build/html), e.g. the "
        "paper edition: --store data/paper --out book/paper",
    )
    build_parser.add_argument("--title", help="title of the edition built with --out")
    build_parser.add_argument(
        "--jobs",
        type=int,
        help=f"chapters executed at once, each in its own kernel (default: ${JOBS_ENV}, else one "
        f"per core, at most {MAX_DEFAULT_JOBS})",
    )
    build_parser.set_defaults(func=_cli_build)

    list_parser = commands.add_parser(
        "list",
        help="list the chapters and their parameters with defaults",
        description="List the chapters (notebooks/*.py) and the parameters each accepts in "
        "`calstudy book run NAME -p PARAMETER VALUE`, with their defaults.",
    )
    list_parser.set_defaults(func=_cli_list)

    run_parser = commands.add_parser(
        "run",
        help="rerun one chapter with new parameters",
        description="Execute one chapter with new parameter values into book/executed/ (or "
        "--output). `calstudy book list` shows the chapters and their parameters with defaults.",
    )
    run_parser.add_argument(
        "notebook", help="chapter name (e.g. rq6_bin_count; see `calstudy book list`) or .py path"
    )
    run_parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="parameter value (Python literal, else a string); repeatable",
    )
    run_parser.add_argument("-o", "--output", help="executed notebook path")
    run_parser.set_defaults(func=_cli_run)


def _cli_list(args: argparse.Namespace) -> int:
    _require_chapters()
    print("Chapters (rerun one: calstudy book run NAME -p PARAMETER VALUE):")
    for chapter in chapters():
        print(f"\n{chapter.name}: {chapter.title}")
        specs = _parameter_cell(chapter.source)
        width = max((len(name) for name in specs), default=0)
        for name, spec in specs.items():
            default = repr(spec.default) if spec.literal else spec.default
            print(f"    {name.ljust(width)} = {default}")
    return 0


def _cli_build(args: argparse.Namespace) -> int:
    _require_chapters()
    out = build(
        store=args.store, only=args.only, html=not args.no_html, out=args.out, title=args.title,
        jobs=args.jobs,
    )
    print(f"[book] {out}")
    return 0


def _cli_run(args: argparse.Namespace) -> int:
    parameters = {name: _parse_value(value) for name, value in args.parameter}
    source = _resolve_source(args.notebook)
    try:
        check_parameters(source, parameters)
    except ValueError as err:  # a usage error: one line, exit status 2, nothing executed
        print(f"calstudy book run: error: {err}", file=sys.stderr)
        return 2
    out = execute_chapter(source, parameters=parameters, output=args.output, progress=True)
    print(f"[book] executed notebook: {out}")
    return 0
