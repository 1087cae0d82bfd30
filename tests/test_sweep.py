"""Sweeps: configuration, resume after kills, concurrent workers, determinism, bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calstudy import sweep
from calstudy.store import Store

TSS_A = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
TSS_B = "|skip_connect~0|+|nor_conv_1x1~0|none~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|"

# A micro sweep: each job trains a C=4, N=1 network for one epoch on 128 images.
MICRO = sweep.SweepConfig(
    name="micro",
    archs={"tss": [TSS_A, TSS_B], "sss": ["8:8:16:8:8"]},
    datasets=("cifar10",),
    seeds=(0, 1),
    epochs=1,
    C=4,
    N=1,
    n_train=128,
    n_test=100,
)

# Provenance legitimately differs between runs; everything else must not.
PROVENANCE = {"wall_time_s", "created_at", "train_time_s", "eval_time_s", "git_commit"}


def _rows(root: Path) -> pd.DataFrame:
    frame = Store(root).read()
    keep = [c for c in frame.columns if c not in PROVENANCE]
    return frame[keep].sort_values(["space", "arch", "dataset", "seed"]).reset_index(drop=True)


def test_presets_expand_to_the_documented_jobs():
    tiny = sweep.expand_jobs(sweep.preset_config("tiny"))
    assert len(tiny) == 5  # 3 TSS + 2 SSS on one dataset, one seed
    assert {job.space for job in tiny} == {"tss", "sss"}
    demo = sweep.preset_config("demo")
    assert demo.archs == {"tss": 122, "sss": 48} and len(demo.datasets) == 2
    assert len(sweep.expand_jobs(demo)) == 340
    # The sample is deterministic: the same config lists the same architectures.
    assert [j.arch for j in tiny] == [
        j.arch for j in sweep.expand_jobs(sweep.preset_config("tiny"))
    ]


def test_job_keys_are_unique_and_carry_the_fidelity():
    jobs = sweep.expand_jobs(MICRO)
    keys = [job.key for job in jobs]
    assert len(keys) == len(set(keys)) == 6
    assert all(key[-1] == "ep1-C4N1-n128" for key in keys)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"archs": {"xyz": 3}}, "unknown space"),
        ({"source": "magic"}, "source"),
        ({"epochs": 0}, "epochs"),
        ({"datasets": ()}, "datasets"),
        ({"heldout_frac": 1.5}, "heldout_frac"),
    ],
)
def test_bad_configs_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MICRO.replace(**kwargs)


def test_unknown_preset_and_option_are_named():
    with pytest.raises(ValueError, match=r"Expected `preset` to be one of .*got 'huge'"):
        sweep.preset_config("huge")
    with pytest.raises(
        ValueError, match=r"unknown option\(s\) \['epoch'\] \(did you mean 'epochs'"
    ):
        MICRO.replace(epoch=3)


def test_malformed_arch_list_fails_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="bogus"):  # refused when the config is built
        config = MICRO.replace(archs={"tss": ["|nor_conv_3x3~0|+|bogus~0|"]})
        sweep.run_sweep(config, tmp_path / "store", progress=False)
    assert not (tmp_path / "store").exists()


def test_missing_data_dir_fails_before_anything_is_written(tmp_path):
    with pytest.raises(FileNotFoundError):
        sweep.run_sweep(MICRO, tmp_path / "store", data_dir=str(tmp_path / "nope"), progress=False)
    assert not list((tmp_path / "store").glob("**/*.parquet"))


def test_corrupt_shard_stops_the_sweep(tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    (root / "shard-broken.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ValueError, match="validate"):
        sweep.run_sweep(MICRO, root, progress=False)


def test_sweep_resumes_and_is_bit_identical(tmp_path):
    once = tmp_path / "once"
    summary = sweep.run_sweep(MICRO, once, progress=False)
    assert summary.done == 6 and summary.failed == 0, summary
    again = sweep.run_sweep(MICRO, once, progress=False)
    assert again.done == 0 and again.skipped == 6

    pieces = tmp_path / "pieces"
    for _ in range(3):
        sweep.run_sweep(MICRO, pieces, max_jobs=2, progress=False)
    pd.testing.assert_frame_equal(_rows(once), _rows(pieces))
    assert Store(once).validate() == []
    row = _rows(once).iloc[0]
    assert 0.0 <= row["acc"] <= 1.0 and 0.0 <= row["pre_ECE_15"] <= 1.0
    logits = Store(once).load_logits(
        tuple(_rows(once).loc[0, ["space", "arch", "dataset", "seed", "fidelity"]])
    )
    assert logits["test"].shape == (100, 10)


def test_failed_job_is_recorded_and_does_not_stop_the_others(tmp_path, monkeypatch):
    real = sweep.run_one

    def flaky(job, **kwargs):
        if job.space == "sss":
            raise RuntimeError("simulated out-of-memory")
        return real(job, **kwargs)

    monkeypatch.setattr(sweep, "run_one", flaky)
    config = MICRO.replace(seeds=(0,))
    summary = sweep.run_sweep(config, tmp_path / "s", progress=False)
    assert (summary.done, summary.failed) == (2, 1)
    assert "simulated out-of-memory" in str(summary)
    frame = Store(tmp_path / "s").read()
    failed = frame[frame["status"] == "failed"]
    assert len(failed) == 1 and "simulated out-of-memory" in failed["error"].iloc[0]
    # A rerun retries the failed job (here it succeeds) and keeps the finished ones.
    monkeypatch.setattr(sweep, "run_one", real)
    summary = sweep.run_sweep(config, tmp_path / "s", progress=False)
    assert (summary.done, summary.skipped) == (1, 2)


def _cli(out: Path, config_path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "calstudy",
        "sweep",
        "--config",
        str(config_path),
        "--out",
        str(out),
        "--quiet",
        "--device",
        "cpu",
    ]


def _write_micro_config(path: Path, seeds: int) -> Path:
    import yaml

    values = MICRO.to_dict()
    values["seeds"] = list(range(seeds))
    path.write_text(yaml.safe_dump(values))
    return path


@pytest.mark.slow
def test_sigkill_twenty_times_then_resume_equals_an_uninterrupted_run(tmp_path):
    config_path = _write_micro_config(tmp_path / "micro.yaml", seeds=2)
    reference = tmp_path / "reference"
    sweep.run_sweep(sweep.SweepConfig.from_yaml(config_path), reference, progress=False)

    killed = tmp_path / "killed"
    rng = np.random.default_rng(0)
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    for _ in range(20):
        process = subprocess.Popen(
            _cli(killed, config_path), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(float(rng.uniform(1.0, 6.0)))
        process.send_signal(signal.SIGKILL)
        process.wait()
    finished = subprocess.run(_cli(killed, config_path), env=env, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert Store(killed).validate() == []
    pd.testing.assert_frame_equal(_rows(reference), _rows(killed))


@pytest.mark.slow
def test_two_concurrent_workers_split_the_jobs_without_corruption(tmp_path):
    out = tmp_path / "shared"
    summary = sweep.run_parallel(MICRO, out, workers=2, progress=False)
    assert (summary.done, summary.failed) == (6, 0), summary
    store = Store(out)
    assert store.validate() == []
    frame = store.read()
    assert len(frame) == 6 and not frame.duplicated(["space", "arch", "dataset", "seed"]).any()


def test_time_limit_stops_before_the_next_job_and_resume_finishes(tmp_path):
    stopped = sweep.run_sweep(MICRO, tmp_path / "s", time_limit_s=0.0, progress=False)
    assert stopped.stopped_early and stopped.done == 0
    assert "time limit" in str(stopped)
    resumed = sweep.run_sweep(MICRO.replace(seeds=(0,)), tmp_path / "s", progress=False)
    assert resumed.done == 3 and not resumed.stopped_early


def test_workers_must_be_a_positive_integer(tmp_path):
    with pytest.raises(ValueError, match="`workers`"):
        sweep.run_parallel(MICRO, tmp_path / "s", workers=0)


def test_ray_backend_matches_local(tmp_path):
    ray = pytest.importorskip("ray")
    config = MICRO.replace(seeds=(0,), archs={"tss": [TSS_A]})
    sweep.run_sweep(config, tmp_path / "local", progress=False)
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        summary = sweep.run_sweep(config, tmp_path / "ray", backend="ray", progress=False)
    finally:
        ray.shutdown()
    assert summary.done == 1, summary
    pd.testing.assert_frame_equal(
        _rows(tmp_path / "local").drop(columns=["device"]),
        _rows(tmp_path / "ray").drop(columns=["device"]),
    )
