"""Tests of the dataset chapter's functions: calstudy.analysis (what a store holds, its
provenance, its progress against a preset, its logits, in tables and sentences) and
calstudy.chapter.software_versions."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calstudy import analysis, chapter, schema


def store_rows(n: int = 6, *, source: str = "trained") -> pd.DataFrame:
    """Rows with every schema column, as Store.read returns them, a few of them filled."""
    frame = pd.DataFrame({name: [None] * n for name in schema.SCHEMA.names})
    frame["space"] = ["tss", "sss"] * (n // 2)
    frame["arch"] = [f"a{i}" for i in range(n)]
    frame["dataset"] = "cifar10"
    frame["seed"] = 0
    frame["fidelity"] = "ep10-C16N1-n10000"
    frame["source"] = source
    frame["status"] = "ok"
    frame["acc"] = np.linspace(0.5, 0.6, n)
    frame["calstudy_version"] = "0.1.0"
    frame["created_at"] = [f"2026-01-0{i + 1}T00:00:00.000000+00:00" for i in range(n)]
    return frame


def test_store_column_groups_counts_filled_columns() -> None:
    groups = analysis.store_column_groups(store_rows(), n_examples=2)
    assert list(groups.index) == list(schema.GROUPS)
    assert groups["columns"].tolist() == [len(c) for c in schema.GROUPS.values()]
    identity = groups.loc["identity"]
    assert identity["filled"] == 6 and identity["empty"] == "arch_index"
    assert identity["examples"] == "space, arch, …"
    assert groups.loc["metrics", "filled"] == 1  # acc only
    assert groups.loc["features", "filled"] == 0 and groups.loc["features", "examples"] == ""


def test_column_groups_sentence_names_few_empty_columns() -> None:
    groups = analysis.store_column_groups(store_rows())
    sentence = analysis.column_groups_sentence(groups)
    filled = int(groups["filled"].sum())
    assert sentence.startswith(f"fills {filled} of the {len(schema.SCHEMA)} columns: ")
    assert "of `identity`, 6 of 7 (empty here: arch_index)" in sentence
    assert "of `features`, 0 of 22;" in sentence  # too many empty columns to list
    assert "empty here" not in analysis.column_groups_sentence(groups, max_listed=0)


def test_store_provenance_lists_values_and_absent_columns() -> None:
    rows = store_rows().assign(wall_time_s=[10.0, 20.0, 30.0, 40.0, 50.0, 3600.0],
                               device=["cpu", "cpu", "cpu", "gpu", "gpu", "tpu"])  # fmt: skip
    table = analysis.store_provenance(rows, top=2)
    assert table.loc["device", "values"] == "cpu (3), gpu (2), … 1 more"
    assert table.loc["wall_time_s", "values"] == "total 1.04 h, median 35 s"
    assert table.loc["created_at", "values"].startswith("2026-01-01T")
    assert table.loc["source", "rows"] == 6
    assert "torch_version" in table.attrs["absent"] and "device" not in table.attrs["absent"]
    assert list(table.index) == [c for c in analysis.ORIGIN_COLUMNS if c in table.index]


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("ep10-C16N1-n10000", ("10", "C = 16, N = 1", "10,000")),
        ("ep1-C8N2-nall", ("1", "C = 8, N = 2", "all")),
        ("nats-90", ("90 (NATS-Bench weights)", "C = 16, N = 5", "the full training split")),
        ("something-else", ("something-else", "—", "—")),
    ],
)
def test_describe_fidelity(label: str, expected: tuple[str, str, str]) -> None:
    assert tuple(analysis.describe_fidelity(label).values()) == expected


def test_store_scale_beside_the_paper() -> None:
    every_seed = store_rows(8)
    every_seed.loc[7, "seed"] = 1  # a repeated seed of network a7
    networks = every_seed.iloc[:7]
    table = analysis.store_scale(networks, every_seed)
    assert list(table.columns) == ["this store", "paper"]
    assert list(table.index) == list(analysis.PAPER_SCALE)
    ours = table["this store"]
    assert ours["rows"] == "8" and ours["architectures"] == "sss: 3, tss: 4"
    assert ours["seeds"] == "0, 1 (1 repeated-seed rows)"
    assert ours["training epochs"] == "10" and ours["test images behind post_ columns"] == "—"
    assert table.loc["rows", "paper"].startswith("117,702")


def test_plan_progress() -> None:
    plan = pd.DataFrame({"space": ["tss", "tss", "sss"], "arch": ["a0", "a2", "a1"],
                         "dataset": "cifar10", "seed": 0})  # fmt: skip
    rows = store_rows(6)
    progress = analysis.plan_progress(plan, rows)
    assert progress.loc[("tss", "cifar10")].tolist() == [2, 2, 1.0]
    assert progress.loc[("sss", "cifar10")].tolist() == [1, 1, 1.0]
    assert progress.attrs == {"planned": 3, "finished": 3, "outside": 3}
    other = analysis.plan_progress(plan.assign(fidelity="ep1-C8N1-n1000"), rows)
    assert other.attrs["finished"] == 0 and (other["share"] == 0).all()


def test_median_iqr_table_drops_empty_columns() -> None:
    rows = store_rows(6).assign(pre_ECE_15=[0.01, 0.02, 0.03, 0.04, 0.05, 0.06])
    table = analysis.median_iqr_table(rows, ["acc", "pre_ECE_15", "temperature"])
    assert list(table.columns) == ["networks", "acc", "pre_ECE_15"]
    assert table.loc[("tss", "cifar10"), "pre_ECE_15"] == "0.030 [0.020, 0.040]"
    assert table["networks"].tolist() == [3, 3]


def test_temperature_shift_and_sentence() -> None:
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"dataset": ["hot"] * 40 + ["flat"] * 40 + ["few"] * 2,
                         "temperature": np.r_[1.2 + rng.normal(0, 0.02, 40),
                                             1.0 + rng.normal(0, 0.01, 40), 1.0, 1.0]})  # fmt: skip
    shift = analysis.temperature_shift(rows, n_boot=200)
    assert list(shift.index) == ["flat", "hot"]  # "few" has fewer than min_n temperatures
    direct = analysis.paired_difference(rows.loc[rows["dataset"] == "hot", "temperature"], 1.0,
                                        n_boot=200)  # fmt: skip
    assert shift.loc["hot", "estimate"] == pytest.approx(direct.estimate)
    assert shift.loc["hot", "low"] == pytest.approx(direct.low) and shift.loc["hot", "n"] == 40
    sentence = analysis.temperature_sentence(shift)
    flat, hot = sentence.split("; on hot")
    assert "essentially calibrated" in flat and "overconfident (T > 1)" in hot
    cold = shift.assign(estimate=-shift["estimate"], low=-shift["high"], high=-shift["low"])
    assert "underconfident (T < 1)" in analysis.temperature_sentence(cold)
    assert analysis.temperature_shift(rows.assign(temperature=np.nan)).empty


def test_software_versions() -> None:
    table = chapter.software_versions()
    assert list(table.columns) == ["version"]
    expected = ["python", *chapter.KEY_PACKAGES, "calstudy", "calstudy git commit"]
    assert list(table.index) == expected
    assert table.loc["python", "version"] == platform.python_version()
    assert table.loc["numpy", "version"] == metadata.version("numpy")
    import calstudy

    assert table.loc["calstudy", "version"] == calstudy.__version__
    assert table.loc["calstudy git commit", "version"]  # a commit, or "not a git checkout"
    missing = chapter.software_versions(["no-such-distribution-calstudy"])
    assert missing.loc["no-such-distribution-calstudy", "version"] == "not installed"
    with pytest.raises(ValueError, match="Expected `packages`"):
        chapter.software_versions("numpy")


# ------------------------------------------------------------------------------------------------
# The chapter's sentences: contents, provenance, progress against a preset, logits


def test_store_contents_sentence() -> None:
    every_seed = store_rows(8).assign(source=["trained"] * 5 + ["paper-csv"] * 3)
    every_seed.loc[7, "seed"] = 1  # a repeated seed of network a7
    networks = every_seed.iloc[:7]
    assert analysis.store_contents_sentence(networks, every_seed, store="data/x") == (
        "This store (the whole of `data/x`) holds 8 finished rows of 7 networks in sss and tss on "
        "cifar10; 1 row are further seeds of networks already counted (the seed study, see the "
        "Seed noise chapter). Rows by source: trained 5 and paper-csv 3.")  # fmt: skip
    one = store_rows(2).assign(dataset=["cifar10", "cifar100"])
    assert analysis.store_contents_sentence(one, one, store="s", whole=False) == (
        "This store (the selected part of `s`) holds 2 finished rows of 2 networks in sss and tss "
        "on cifar10 and cifar100; no network has a second seed. Rows by source: trained 2.")  # fmt: skip
    with pytest.raises(ValueError, match="every_seed"):
        analysis.store_contents_sentence(one, one.drop(columns="source"), store="s")


def test_provenance_sentence() -> None:
    origin = analysis.store_provenance(store_rows())
    assert analysis.provenance_sentence(origin) == (
        "Not recorded in this store: `git_commit`, `device`, `torch_version`, `config_hash`, "
        "`wall_time_s`, `train_time_s` and `eval_time_s`.")  # fmt: skip
    full = origin.copy()
    full.attrs["absent"] = []
    assert analysis.provenance_sentence(full) == "Every origin column is recorded."
    assert analysis.provenance_sentence(full, paper_csv=True) == (
        "Every origin column is recorded. Rows imported from the paper's CSVs (`source = "
        "\"paper-csv\"`) record the import — the calstudy version, commit and time of `calstudy "
        "dataset import-paper` — not how the paper measured them.")  # fmt: skip


def test_preset_progress_and_table() -> None:
    from calstudy.sweep import expand_jobs, preset_config

    config = preset_config("tiny")  # 3 TSS and 2 SSS jobs on cifar10
    keys = [j.key for j in expand_jobs(config)]
    finished = pd.DataFrame(keys[:2] + keys[3:4], columns=["space", "arch", "dataset", "seed",
                                                            "fidelity"])  # fmt: skip
    finished = pd.concat([finished, finished.iloc[:1].assign(seed=7)])  # a row of no job
    progress = analysis.preset_progress(config, finished)
    assert progress.attrs == {"planned": 5, "finished": 3, "outside": 1}
    assert progress.loc[("tss", "cifar10")].tolist() == [3, 2, pytest.approx(2 / 3)]
    assert progress.loc[("sss", "cifar10")].tolist() == [2, 1, 0.5]
    within = analysis.preset_progress(config, finished, within=finished[finished["space"] == "sss"])
    assert within.attrs == {"planned": 2, "finished": 1, "outside": 3}
    assert list(within.index) == [("sss", "cifar10")]
    none = analysis.preset_progress(None, finished)
    assert none.empty and list(none.columns) == ["planned", "finished", "share"]
    assert none.attrs == {"planned": 0, "finished": 0, "outside": 0}
    table = analysis.preset_table(config, "tiny")
    assert list(table.columns) == ["preset 'tiny'"] and list(table.index) == list(config.to_dict())
    shown = table["preset 'tiny'"]
    assert shown["archs"] == "tss: 3, sss: 2" and shown["corruptions"] == "gaussian_noise, contrast"
    assert shown["epochs"] == "1" and shown["fgsm_eps"] == "1.0, 8.0"


def test_progress_sentence_and_summary() -> None:
    plan = pd.DataFrame({"space": ["tss", "tss", "sss"], "arch": ["a0", "a2", "a1"],
                         "dataset": "cifar10", "seed": 0})  # fmt: skip
    complete = analysis.plan_progress(plan, store_rows(4))  # a0, a1, a2 and a3 outside
    assert analysis.progress_sentence(complete, "demo") == (
        "Preset `demo`: 3 of 3 planned jobs finished (100.0 %); 1 row of this store is outside "
        "the preset. This store is complete for the preset.")  # fmt: skip
    assert analysis.progress_summary(complete, "demo") == (
        "It holds 3 of the 3 jobs of preset `demo`, all of them.")
    partial = analysis.plan_progress(plan, store_rows(2))  # a0 and a1
    assert analysis.progress_sentence(partial, "full") == (
        "Preset `full`: 2 of 3 planned jobs finished (66.7 %); 0 rows of this store are outside "
        "the preset. This store is **partial** for the preset.")  # fmt: skip
    assert analysis.progress_summary(partial, "full") == (
        "It holds 2 of the 3 jobs of preset `full`: every chapter works on a partial sample.")
    none = analysis.preset_progress(None, store_rows(2))
    assert analysis.progress_sentence(none, "") == (
        "No preset's plan to measure this store against (see above).")
    assert analysis.progress_summary(none, "") == "Its rows are not measured against a preset's plan."


def test_logits_sentence_counts_saved_logits(tmp_path: Path) -> None:
    for name in ("a.npz", "b.npz", "notes.txt"):
        (tmp_path / name).write_text("")
    assert analysis.logits_sentence(tmp_path, 1234) == (
        "This store holds 2 logits files for 1,234 networks: new metrics can be added with "
        "`calstudy dataset recompute`.")  # fmt: skip
    assert analysis.logits_sentence(tmp_path / "missing", 1) == (
        "This store holds 0 logits files for 1 networks: a new metric needs the networks "
        "evaluated again (a sweep into a new store).")  # fmt: skip

