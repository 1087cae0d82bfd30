"""Tests of the calstudy command line, run in-process through main()."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from calstudy.cli import main
from calstudy.store import Store


def record(arch: str, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "space": "sss",
        "arch": arch,
        "dataset": "cifar10",
        "seed": 0,
        "fidelity": "nats-90",
        "source": "trained",
        "status": "ok",
        "created_at": "2024-01-01T00:00:00Z",
        "acc": 0.8,
        "pre_ECE_15": 0.1,
        "heldout_frac": 0.2,
        "split_seed": 0,
    }
    row.update(overrides)
    return row


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "store")
    store.append([record("8:8:8:8:8"), record("16:16:16:16:16", acc=0.9)])
    store.append([record("8:8:8:8:8", acc=0.7, created_at="2024-02-01T00:00:00Z")])
    return store


def test_validate_reports_problems_and_exit_code(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dataset", "validate", str(store.root)]) == 1
    out, err = capsys.readouterr()
    assert "[duplicate] 1 key(s) have more than one row" in out
    assert "1 problem(s)" in err
    assert main(["dataset", "merge", str(store.root)]) == 0
    assert "Merged 2 shard(s) into 'shard-" in capsys.readouterr().out
    assert main(["dataset", "validate", str(store.root)]) == 0
    assert "1 shard(s), no problems" in capsys.readouterr().out


def test_validate_fix_removes_stale_temp_files(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["dataset", "merge", str(store.root)])
    leftover = store.root / ".shard-dead.parquet.00000000.tmp"
    leftover.write_bytes(b"PAR1")
    assert main(["dataset", "validate", str(store.root)]) == 1
    assert "[temp-file]" in capsys.readouterr().out
    os.utime(leftover, (0, 0))  # make it old: a writer killed long ago
    assert main(["dataset", "validate", "--fix", str(store.root)]) == 0
    assert not leftover.exists()


def test_missing_directory_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dataset", "describe", str(tmp_path / "nope")]) == 1
    assert "calstudy: error: Store directory '" in capsys.readouterr().err


def test_describe(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dataset", "describe", str(store.root)]) == 0
    out = capsys.readouterr().out
    assert "2 shard(s), 2 row(s) (1 superseded row(s) hidden)" in out
    assert "Fidelities: nats-90" in out


def test_query_prints_table(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    sql = "SELECT arch, acc FROM calibration ORDER BY acc"
    assert main(["dataset", "query", str(store.root), sql]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["arch", "acc"]
    assert [line.split() for line in lines[1:]] == [["8:8:8:8:8", "0.7"], ["16:16:16:16:16", "0.9"]]
    assert main(["dataset", "query", str(store.root), "SELECT nope FROM calibration"]) == 1
    assert "query failed" in capsys.readouterr().err


def test_recompute(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 200)
    logits = rng.normal(size=(200, 10))
    logits[np.arange(200), labels] += 2.0  # informative: accuracy well above chance
    key = ("sss", "8:8:8:8:8", "cifar10", 0, "nats-90")
    store.save_logits(key, {"test": logits, "labels": labels})
    argv = ["dataset", "recompute", str(store.root), "--metrics", "ECE_15", "KSCE"]
    assert main([*argv, "--no-progress"]) == 0
    assert "Recomputed ECE_15, KSCE; new rows in 'shard-" in capsys.readouterr().out
    frame = store.read(["arch", "pre_ECE_15", "pre_KSCE"]).set_index("arch")
    assert frame.loc["8:8:8:8:8", "pre_ECE_15"] != 0.1
    assert np.isfinite(frame.loc["8:8:8:8:8", "pre_KSCE"])
    assert frame.loc["16:16:16:16:16", "pre_ECE_15"] == 0.1


def test_recompute_unknown_metric_lists_choices(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dataset", "recompute", str(store.root), "--metrics", "ECE_7"]) == 1
    err = capsys.readouterr().err
    assert "unknown ['ECE_7']" in err and "Choices:" in err and "ECE_15" in err


def test_import_paper(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "cifar100_sss.csv"
    csv.write_text(
        "config,acc,correct_confidence,incorrect_confidence,arch,pre_ECE_15,extra\n"
        "0,71.5,0.9,0.6,8:8:8:8:8,0.05,1\n1,72.5,0.9,0.6,16:8:8:8:8,0.04,2\n"
    )
    out_dir = tmp_path / "store"
    assert main(["dataset", "import-paper", str(csv), "--out", str(out_dir)]) == 0
    out, err = capsys.readouterr()
    assert "Imported 2 row(s)" in out
    assert "warning:" in err and "['extra']" in err
    frame = Store(out_dir).read(["arch", "acc", "dataset", "source"])
    assert frame["acc"].tolist() == [0.715, 0.725]
    assert set(frame["dataset"]) == {"cifar100"} and set(frame["source"]) == {"paper-csv"}
    bad = tmp_path / "mine.csv"
    bad.write_text(csv.read_text())
    assert main(["dataset", "import-paper", str(bad), "--out", str(out_dir)]) == 1
    assert "pass `dataset=` and `space=`" in capsys.readouterr().err
    argv = ["dataset", "import-paper", str(bad), "--out", str(out_dir), "--dataset", "cifar10"]
    assert main([*argv, "--space", "sss"]) == 0


def test_usage_errors_return_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["dataset", "recompute", "x"]) == 2
    assert "--metrics" in capsys.readouterr().err
    assert main(["dataset", "--help"]) == 0
    assert "import-paper" in capsys.readouterr().out


def test_plugin_hooks(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[list[str]] = []

    def add_cli(subparsers: object) -> None:
        parser = subparsers.add_parser("sweep")  # type: ignore[attr-defined]
        parser.add_argument("preset")
        parser.set_defaults(func=lambda args: calls.append([args.preset]) or 0)

    monkeypatch.setitem(sys.modules, "calstudy.sweep", types.SimpleNamespace(add_cli=add_cli))
    assert main(["sweep", "tiny"]) == 0 and calls == [["tiny"]]
    monkeypatch.setitem(sys.modules, "calstudy.sweep", None)  # import fails
    assert main(["sweep", "tiny"]) == 1
    assert "`calstudy sweep` is unavailable: calstudy.sweep cannot be imported" in (
        capsys.readouterr().err
    )
    monkeypatch.setitem(sys.modules, "calstudy.book", types.SimpleNamespace())
    assert main(["book", "build"]) == 1
    assert "calstudy.book has no add_cli(subparsers)" in capsys.readouterr().err


# ── conventions shared by every command ──────────────────────────────────────────────────────
def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from calstudy import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"calstudy {__version__}"


# Options of plug-ins owned elsewhere that still lack a help text (to empty, not to grow).
HELP_GAPS = {("early", "--space"), ("early", "--dataset")}


def test_every_option_of_every_command_has_help() -> None:
    import argparse

    from calstudy.cli import PLUGINS, build_parser

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> list[tuple[str, str]]:
        missing = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    missing += walk(sub, (*path, name))
            elif not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append((" ".join(path), "/".join(action.option_strings) or action.dest))
        return missing

    missing = set(walk(build_parser(["dataset"]), ()))
    for name in PLUGINS:
        missing |= set(walk(build_parser([name]), ()))
    assert missing <= HELP_GAPS, sorted(missing - HELP_GAPS)


def test_metrics_and_evaluate_are_plugins_of_calstudy_audit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from calstudy.cli import PLUGIN_HOOKS

    assert PLUGIN_HOOKS["metrics"] == ("audit", "add_metrics_cli")
    assert main(["metrics", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--labels FILE" in out and "--diagram FIGURE.png" in out and "--n-boot" in out
    assert main(["evaluate", "--help"]) == 0
    assert "--arch ARCH" in (out := capsys.readouterr().out) and "--data-dir" in out


def test_book_list_shows_chapters_and_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("jupytext")
    assert main(["book", "list"]) == 0
    out = capsys.readouterr().out
    assert "primer: A calibration primer" in out
    primer = out.split("primer: ")[1].split("\n\n")[0]
    assert any(line.split() == ["n_bins", "=", "15"] for line in primer.splitlines())
    assert "calstudy book run NAME -p PARAMETER VALUE" in out
    assert main(["book", "run", "--help"]) == 0
    assert "calstudy book list" in capsys.readouterr().out


def test_book_without_chapters_says_where_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    from calstudy import book

    config = yaml.safe_load((Path(book.__file__).parents[1] / "_config.yml").read_text())
    assert book.REPOSITORY_URL == config["repository"]["url"]
    monkeypatch.setattr(book, "NOTEBOOK_DIR", tmp_path / "notebooks")  # as from a wheel
    for argv in (["book", "list"], ["book", "run", "primer"], ["book", "build", "--no-html"]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert "they ship with the repository, not with the installed package" in err, argv
        assert f"git clone {book.REPOSITORY_URL}" in err and "one of ." not in err


def test_log_messages_and_warnings_go_around_the_progress_bar(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging
    import warnings

    from tqdm import tqdm

    from calstudy.calibrate import fit_temperature

    def run(args: object) -> int:
        for i in tqdm(range(4), desc="work", file=sys.stderr):
            if i == 2:  # a fit that ends on a bound, a warning, a message of calstudy's own
                fit_temperature(np.tile([[3.0, 0.0], [0.0, 3.0]], (60, 1)), np.tile([0, 1], 60))
                warnings.warn("a Python warning", UserWarning, stacklevel=1)
                logging.getLogger("calstudy.sweep").info("not shown: below WARNING")
        return 0

    def add_cli(subparsers: object) -> None:
        subparsers.add_parser("sweep").set_defaults(func=run)  # type: ignore[attr-defined]

    monkeypatch.setitem(sys.modules, "calstudy.sweep", types.SimpleNamespace(add_cli=add_cli))
    logger = logging.getLogger("calstudy")
    handlers, propagate, showwarning = list(logger.handlers), logger.propagate, warnings.showwarning
    assert main(["sweep"]) == 0
    err = capsys.readouterr().err
    lines = err.replace("\r", "\n").splitlines()
    bound = "calstudy: warning: The NLL-optimal temperature of 120 samples lies on the bound T = 0.05"
    assert any(line.startswith(bound) for line in lines), err
    assert any(line.endswith("UserWarning: a Python warning") for line in lines), err
    assert "below WARNING" not in err and "work: 100%" in err
    # Everything is as it was: a library user's logging and warnings are not changed.
    assert logger.handlers == handlers and logger.propagate == propagate
    assert warnings.showwarning is showwarning
