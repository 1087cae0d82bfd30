"""The cost model of the study at scale: hand-checkable cases, bounds, monotonicity, errors."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calstudy import measure, projection
from calstudy.projection import NetworkCost, project, required_for, throughput
from calstudy.sweep import parse_fidelity

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "benchmarks" / "results"


# --------------------------------------------------------------------------------------------
# The study's size


def test_the_paper_counts_117702_networks_from_unique_tss_and_all_sss():
    from calstudy.space import all_sss, unique_tss

    assert projection.PAPER_NETWORKS == {"tss": len(unique_tss()), "sss": len(all_sss())}
    assert projection.N_NETWORKS == 3 * (6_466 + 32_768) == 117_702
    study = projection.study_networks()
    assert len(study) == 6 and int(study["networks"].sum()) == projection.N_NETWORKS
    assert sum(projection.EVAL_IMAGES.values()) == 46_032


def test_population_flops_are_the_mean_over_each_space():
    from calstudy.space import sss_features, tss_features, unique_tss

    flops = projection.population_flops()
    assert set(flops) == {"tss", "sss"} and all(v > 0 for v in flops.values())
    tss = [tss_features(a, C=16, N=5)["flops"] for a in unique_tss()]
    assert flops["tss"] == pytest.approx(np.mean(tss))
    smallest, largest = (sss_features(a)["flops"] for a in ("8:8:8:8:8", "64:64:64:64:64"))
    assert smallest < flops["sss"] < largest


# --------------------------------------------------------------------------------------------
# The cost model, by hand


def test_network_cost_from_throughput():
    cost = NetworkCost.from_throughput(images=1000, images_per_s=500, record_s=0.5, host_s=2.0)
    assert cost.gpu_s == 2.0 and cost.latency_s == 2.5 and cost.cpu_s == 2.5


def test_one_job_per_gpu_is_the_serial_rate():
    cost = NetworkCost(gpu_s=1.5, record_s=0.5)
    rate = throughput(cost, cores=16)
    assert rate.networks_per_s == pytest.approx(1 / 2.0) and rate.bound == "slots"
    frame = project(cost, n_networks=3600, gpus=[1])
    assert frame["hours"].iloc[0] == pytest.approx(2.0)  # 3600 networks × 2 s


@pytest.mark.parametrize(
    ("kwargs", "expected", "bound"),
    [
        # 8 jobs, 3x aggregate: GPU 3 / 1 s; slots 8 / 2 s; 16 cores / 1 s: the GPU binds.
        (dict(jobs_per_gpu=8, speedup=3.0, cores=16), 3.0, "gpu"),
        # The same with 2 cores and a quarter core per job: 1 core-second per network.
        (dict(jobs_per_gpu=8, speedup=3.0, cores=2, cpus_per_job=0.25), 2.0, "cpu"),
        # 2 jobs, 2x: slots 2 / 2 s = 1 per second, GPU 2 per second.
        (dict(jobs_per_gpu=2, speedup=2.0, cores=16), 1.0, "slots"),
        # 8 GPUs with 4 jobs each but 4 cores: only 4 slots, 4 / 2 s.
        (dict(gpus=8, jobs_per_gpu=4, speedup=1.0, cores=4, cpus_per_job=1.0), 2.0, "slots"),
        # No CPU bound without `cores`.
        (dict(jobs_per_gpu=8, speedup=8.0), 4.0, "slots"),
    ],
)
def test_throughput_is_the_smallest_bound(kwargs, expected, bound):
    cost = NetworkCost(gpu_s=1.0, record_s=1.0)  # no host time: CPU needs 1 core-s per network
    rate = throughput(cost, **kwargs)
    assert rate.networks_per_s == pytest.approx(expected)
    assert rate.bound == bound
    assert rate.networks_per_s == min(rate.gpu, rate.cpu, rate.slots)


def test_reproduces_the_recorded_h100_projection():
    """benchmarks/README.md: t_net = 46,032 / 59,024 + 0.91 = 1.69 s, 55.2 and 25.5 GPU-hours."""
    cost = NetworkCost.from_throughput(images=46_032, images_per_s=59_024, record_s=0.91)
    serial = project(cost, gpus=[1])
    assert serial["hours"].iloc[0] == pytest.approx(55.25, abs=0.01)
    overlapped = project(cost, gpus=[1], jobs_per_gpu=8, speedup=1.0)
    assert overlapped["hours"].iloc[0] == pytest.approx(25.50, abs=0.01)
    assert overlapped["bound"].iloc[0] == "gpu"


def test_project_columns_and_gpu_hours():
    cost = NetworkCost(gpu_s=0.5, record_s=0.5)
    frame = project(cost, n_networks=7200, gpus=[1, 2, 3], gpus_per_node=2, cores_per_node=8)
    assert frame["nodes"].tolist() == [1, 1, 2] and frame["cores"].tolist() == [8, 8, 16]
    np.testing.assert_allclose(frame["hours"], [2.0, 1.0, 2 / 3])
    np.testing.assert_allclose(frame["gpu_hours"], frame["hours"] * frame["gpus"])
    np.testing.assert_allclose(frame["s_per_network"], 1.0)


# --------------------------------------------------------------------------------------------
# Monotonicity and the CPU bound


@pytest.mark.parametrize(("jobs", "speedup"), [(1, 1.0), (8, 1.0), (8, 3.0), (4, 4.0)])
@pytest.mark.parametrize(("gpus_per_node", "cores_per_node"), [(1, 16), (8, 16), (4, 2)])
def test_more_gpus_never_take_longer(jobs, speedup, gpus_per_node, cores_per_node):
    cost = NetworkCost(gpu_s=0.78, record_s=0.91, host_s=0.78)
    gpus = [1, 2, 3, 4, 8, 16, 64, 256]
    frame = project(
        cost,
        gpus=gpus,
        jobs_per_gpu=jobs,
        speedup=speedup,
        gpus_per_node=gpus_per_node,
        cores_per_node=cores_per_node,
    )
    assert (np.diff(frame["hours"]) <= 1e-12).all()
    assert (np.diff(frame["gpu_hours"]) >= -1e-9).all()


def test_gpu_hours_stay_constant_when_every_node_brings_its_cores():
    cost = NetworkCost(gpu_s=0.78, record_s=0.91, host_s=0.78)
    frame = project(cost, gpus=[1, 4, 32], jobs_per_gpu=8, speedup=2.0, cores_per_node=16)
    np.testing.assert_allclose(frame["gpu_hours"], frame["gpu_hours"].iloc[0])
    np.testing.assert_allclose(frame["hours"] * frame["gpus"], frame["gpu_hours"])


def test_the_cpu_bound_takes_over_on_one_node_with_many_gpus():
    """16 cores shared by all GPUs: hours fall, then stop at n × cpu_s / 16."""
    cost = NetworkCost(gpu_s=1.0, record_s=1.0, host_s=1.0)  # 2 core-seconds per network
    frame = project(
        cost,
        n_networks=3600,
        gpus=[1, 2, 4, 8, 16, 32],
        jobs_per_gpu=4,
        speedup=4.0,
        gpus_per_node=64,
        cores_per_node=16,
    )
    floor = 3600 * 2.0 / 16 / 3600
    assert frame["bound"].iloc[0] != "cpu" and frame["bound"].iloc[-1] == "cpu"
    assert frame["hours"].iloc[-1] == pytest.approx(floor)
    assert frame["hours"].iloc[-2] == pytest.approx(floor)  # more GPUs buy nothing more
    assert frame["hours"].iloc[0] > 2 * floor


def test_required_for_inverts_the_bounds():
    cost = NetworkCost(gpu_s=0.78, record_s=0.91, host_s=0.78)
    need = required_for(cost, 10.0, n_networks=117_702, gpus=1, cores=16)
    assert need["rate"] == pytest.approx(117_702 / 36_000)
    assert need["speedup"] == pytest.approx(need["rate"] * 0.78)
    assert need["jobs_per_gpu"] == math.ceil(need["rate"] * 1.69)
    assert need["cpu_floor_hours"] == pytest.approx(117_702 * 1.69 / 16 / 3600)
    assert need["cpu_ok"] == 1.0
    meets = project(
        cost,
        gpus=[1],
        jobs_per_gpu=int(need["jobs_per_gpu"]),
        speedup=need["speedup"],
        cores_per_node=16,
    )
    assert meets["hours"].iloc[0] == pytest.approx(10.0)
    assert required_for(cost, 10.0, cores=1)["cpu_ok"] == 0.0
    assert math.isnan(required_for(cost, 10.0)["cpu_floor_hours"])


# --------------------------------------------------------------------------------------------
# Training


def test_train_projection_by_hand():
    frame = projection.train_projection(
        {"tss": 0.5},
        epochs={"tss": 2},
        train_images={"a": 10, "b": 20},
        networks={"tss": 3},
        size_factor={"tss": 2.0},
    )
    # per network: 2 epochs × images × 0.5 s × 2 = 20 s (a), 40 s (b); 3 networks each.
    np.testing.assert_allclose(frame["s_per_network"], [20.0, 40.0])
    assert frame["hours"].sum() == pytest.approx(3 * 60 / 3600)


def test_train_projection_defaults_are_nats_bench():
    frame = projection.train_projection({"tss": 1e-4, "sss": 1e-4})
    assert set(frame["space"]) == {"tss", "sss"} and len(frame) == 6
    tss = frame[frame["space"] == "tss"]
    assert (tss["epochs"] == 200).all() and tss["networks"].sum() == 3 * 6_466
    assert frame.loc[frame["dataset"] == "imagenet16-120", "images_per_epoch"].iloc[0] == 151_700


def test_fidelities_and_scales():
    assert parse_fidelity("ep1-C8N1-n1000") == {
        "epochs": 1,
        "C": 8,
        "N": 1,
        "n_train": 1000,
    }
    assert parse_fidelity("ep12-C16N5-nall")["n_train"] is None
    tiny = projection.scale_fidelity("tiny")
    assert (tiny["C"], tiny["N"], tiny["epochs"]["tss"], tiny["n_train"]) == (8, 1, 1, 1000)
    full = projection.scale_fidelity("full")
    assert (full["C"], full["N"], full["epochs"]) == (16, 5, {"tss": 200, "sss": 90})


# --------------------------------------------------------------------------------------------
# A store's runs


def _rows(spec):
    """Rows finishing at ``end`` seconds after a fixed time and lasting ``wall`` seconds."""
    t0 = pd.Timestamp("2026-01-01T00:00:00Z")
    return pd.DataFrame(
        [
            {
                "device": device,
                "space": space,
                "created_at": (t0 + pd.Timedelta(seconds=end)).isoformat(),
                "wall_time_s": wall,
                "train_time_s": wall / 2,
                "eval_time_s": wall / 4,
            }
            for device, space, end, wall in spec
        ]
    )


def test_row_costs_by_littles_law():
    rows = _rows(
        [
            ("cuda:X", "tss", 10, 10),
            ("cuda:X", "sss", 10, 10),  # run 1: 2 jobs at once, D = 10
            ("cuda:X", "tss", 20, 10),
            ("cuda:X", "tss", 20, 10),  # ... then 2 more: D = 20, L = 2
            ("cuda:X", "tss", 100, 5),
            ("cuda:X", "tss", 105, 5),  # run 2 after 75 s idle: serial
            ("cpu", "tss", 13, 12),  # a CPU row overlapping run 1 is a run of its own
        ]
    )
    costs = projection.row_costs(rows, gap_s=20)
    runs = projection.sweep_runs(rows, gap_s=20)
    assert runs["rows"].tolist() == [4, 1, 2]  # numbered by start time
    assert runs["device"].tolist() == ["cuda:X", "cpu", "cuda:X"]
    np.testing.assert_allclose(runs["concurrency"], [2.0, 1.0, 1.0])
    np.testing.assert_allclose(runs["duration_s"], [20.0, 12.0, 10.0])
    np.testing.assert_allclose(runs["s_per_row"], [5.0, 12.0, 5.0])
    assert runs["start"].is_monotonic_increasing
    assert runs["spaces"].iloc[0] == "sss+tss"
    for _, run in costs.groupby("run"):  # node shares add up to the run's duration
        duration = (run["end"].max() - run["start"].min()).total_seconds()
        assert run["node_s"].sum() == pytest.approx(duration)
    first = costs[costs["run"] == 1]
    np.testing.assert_allclose(first["node_s"], 5.0)
    np.testing.assert_allclose(first["train_node_s"], 2.5)
    np.testing.assert_allclose(first["eval_node_s"], 1.25)
    # A larger gap tolerance merges the two GPU runs.
    assert len(projection.sweep_runs(rows, gap_s=100)) == 2


def test_row_costs_on_a_store(tmp_path):
    from calstudy.schema import provenance
    from calstudy.store import Store

    store = Store(tmp_path / "store")
    base = {
        "space": "tss",
        "dataset": "cifar10",
        "seed": 0,
        "fidelity": "ep1-C8N1-n1000",
        "source": "trained",
        "status": "ok",
    }
    store.append(
        [
            {
                **base,
                "arch": f"|none~0|+|none~0|none~1|+|none~0|none~1|skip_connect~{i}|",
                **provenance(device="cpu", wall_time_s=1.0),
            }
            for i in range(3)
        ]
    )
    runs = projection.sweep_runs(store.read())
    assert runs["rows"].sum() == 3 and (runs["concurrency"] > 0).all()


# --------------------------------------------------------------------------------------------
# Benchmark files


@pytest.mark.parametrize("path", sorted(RESULTS.glob("*.json")), ids=lambda p: p.name)
def test_the_committed_benchmark_files_load(path):
    data = projection.load_measurement(path)
    assert data["schema"] == "calstudy-bench/1"
    assert data["source"]["kind"] in ("measured", "transcribed")
    if data["benchmark"] == "train_bench":
        ev = data["eval"]
        assert ev["images_per_s"] == pytest.approx(ev["n_images"] / ev["logits_s"], rel=0.03)


def test_the_h100_file_reproduces_its_recorded_projection():
    data = projection.load_measurement("benchmarks/results/h100-2026-11-25-train_bench.json")
    assert data["source"]["kind"] == "transcribed" and data["source"]["date"] == "2026-11-25"
    ev, recorded = data["eval"], data["projection"]
    cost = NetworkCost.from_throughput(
        images=recorded["images_per_network"],
        images_per_s=ev["images_per_s"],
        record_s=ev["record_s"],
    )
    hours = project(cost, n_networks=recorded["n_networks"])["hours"].iloc[0]
    assert hours == pytest.approx(recorded["hours"], abs=0.1)  # the file's inputs are rounded


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("not json", "to hold JSON"),
        ("[1, 2]", "with a 'source' object"),
        (json.dumps({"source": {"kind": "measured"}}), r"to name \['device'"),
        (
            json.dumps(
                {
                    "source": {
                        "kind": "guessed",
                        "device": "x",
                        "torch": "2",
                        "date": "d",
                        "command": "c",
                    }
                }
            ),
            "'measured' or 'transcribed'",
        ),
    ],
)
def test_load_measurement_rejects_bad_files(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=match):
        projection.load_measurement(path)


def test_load_measurement_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="No benchmark file"):
        projection.load_measurement(tmp_path / "absent.json")


# --------------------------------------------------------------------------------------------
# Measuring on this device (tiny inputs)


def test_measure_eval_cost_returns_positive_finite_times():
    m = measure.measure_eval_cost(
        spaces=["tss", "sss"], n_archs=1, n_images=8, record_n=300, record_classes=3, device="cpu"
    )
    assert m.device == "cpu" and len(m.logits) == 2 and set(m.logits["space"]) == {"tss", "sss"}
    assert np.isfinite(m.logits["seconds"]).all() and (m.logits["seconds"] > 0).all()
    assert math.isfinite(m.record_s) and m.record_s > 0 and m.record_shape == (300, 3)
    assert m.images_per_s == pytest.approx(16 / m.logits["seconds"].sum())
    assert set(m.by_space().index) == {"tss", "sss"}


def test_measure_train_cost_returns_positive_finite_times():
    m = measure.measure_train_cost("tiny", space="sss", n_images=16, batch_size=8, device="cpu")
    assert (m.C, m.N, m.images) == (8, 1, 16)
    assert math.isfinite(m.seconds) and m.seconds > 0 and m.images_per_s > 0
    # tiny: 1 epoch of 1,000 images
    assert m.per_network_s == pytest.approx(m.seconds / m.images * 1000)




def test_projection_imports_no_torch():
    script = textwrap.dedent(
        """
        import sys

        class Blocked:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "torch":
                    raise ImportError(f"{name} is blocked by the test")

        sys.meta_path.insert(0, Blocked())
        from calstudy import projection
        from calstudy.projection import NetworkCost, project

        hours = project(NetworkCost(gpu_s=0.5, record_s=0.5), n_networks=7200, gpus=[1, 2])
        assert hours["hours"].tolist() == [2.0, 1.0], hours
        assert projection.scale_fidelity("tiny")["C"] == 8
        assert "torch" not in sys.modules
        print("ok")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=REPO_ROOT, timeout=300)  # fmt: skip
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]


# --------------------------------------------------------------------------------------------
# Clear errors


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: NetworkCost.from_throughput(images=10, images_per_s=0, record_s=1),
            r"Expected `images_per_s` to be a positive finite number, got 0",
        ),
        (
            lambda: NetworkCost.from_throughput(images=10, images_per_s=-5.0, record_s=1),
            r"`images_per_s`",
        ),
        (lambda: NetworkCost(gpu_s=math.inf, record_s=1), r"`gpu_s` to be a positive finite"),
        (lambda: NetworkCost(gpu_s=1, record_s=-1), r"`record_s` to be a non-negative"),
        (
            lambda: NetworkCost.from_throughput(images=0, images_per_s=1, record_s=1),
            r"`images` to be a positive integer",
        ),
        (
            lambda: throughput(NetworkCost(1, 1), jobs_per_gpu=2, speedup=3.0),
            r"`speedup` to be at most `jobs_per_gpu` = 2",
        ),
        (lambda: throughput(NetworkCost(1, 1), speedup=0.0), r"`speedup` to be a positive"),
        (lambda: throughput(NetworkCost(1, 1), gpus=0), r"`gpus` to be a positive integer"),
        (lambda: throughput(NetworkCost(1, 1), cores=0.5), r"`cores` to be at least"),
        (lambda: project(NetworkCost(1, 1), gpus=[]), r"`gpus` to list at least one"),
        (lambda: project(NetworkCost(1, 1), gpus=[1, 0]), r"`gpus` to be a positive integer"),
        (lambda: required_for(NetworkCost(1, 1), 0.0), r"`hours` to be a positive"),
        (
            lambda: projection.scale_fidelity("huge"),
            r"`scale` to be one of \('tiny', 'demo', 'full'\), got 'huge'",
        ),
        (lambda: measure.measure_train_cost("huge"), r"`scale` to be one of"),
        (lambda: measure.measure_train_cost("tiny", epochs=1), r"`epochs` to be at least 2"),
        (lambda: measure.measure_train_cost("tiny", space="xss"), r"`space` to be .tss. or .sss."),
        (lambda: measure.measure_eval_cost(spaces=["tss", "nope"]), r"`spaces` among"),
        (lambda: measure.measure_eval_cost(n_images=0), r"`n_images` to be a positive integer"),
        (
            lambda: measure.measure_eval_cost(record_classes=1),
            r"`record_classes` to be at least 2",
        ),
        (lambda: parse_fidelity("nats-200"), r"trained fidelity label"),
        (lambda: projection.train_projection({"tss": 1.0}), r"cost for space 'sss'"),
        (
            lambda: projection.train_projection({"tss": 0.0, "sss": 1.0}),
            r"`per_image_s\['tss'\]` to be a positive",
        ),
        (
            lambda: projection.row_costs(pd.DataFrame({"device": ["cpu"]})),
            r"\['created_at', 'wall_time_s'\]",
        ),
        (lambda: projection.study_networks({"tss": 0}), r"`networks\['tss'\]` to be a positive"),
    ],
)
def test_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_eval_bench_measures_concurrent_jobs_and_writes_a_loadable_file(tmp_path):
    """benchmarks/eval_bench.py: s_1 = 1 by construction, s_2 measured, file in the format."""
    import subprocess
    import sys

    out = tmp_path / "cpu-eval_bench.json"
    command = [sys.executable, str(REPO_ROOT / "benchmarks" / "eval_bench.py"), "--device", "cpu",
               "--jobs", "2", "--networks", "1", "--images", "64", "--N", "1", "--repeats", "1",
               "--json", str(out)]  # fmt: skip
    printed = subprocess.run(command, check=True, capture_output=True, text=True, cwd=tmp_path)
    assert "speed-up s_k" in printed.stdout
    data = projection.load_measurement(out)
    assert data["benchmark"] == "eval_bench" and data["source"]["kind"] == "measured"
    runs = {r["jobs"]: r for r in data["runs"]}
    assert sorted(runs) == [1, 2] and runs[1]["speedup"] == 1.0
    assert runs[2]["images"] == 2 * runs[1]["images"] == 128
    for r in runs.values():
        assert r["images_per_s"] == pytest.approx(r["images"] / r["seconds"])
        assert 0 < r["speedup"] <= 2 * r["jobs"]  # k jobs cannot be much more than k times one
    bad = subprocess.run([*command[:2], "--jobs", "0"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--jobs must be positive" in bad.stderr


def test_concurrency_speedup_reads_an_eval_bench_file():
    runs = [{"jobs": 1, "images_per_s": 50.0}, {"jobs": 4, "images_per_s": 150.0}]
    bench = {"benchmark": "eval_bench", "runs": runs}
    assert projection.concurrency_speedup(bench, 4) == 3.0
    assert projection.concurrency_speedup(bench, 1) == 1.0
    with pytest.raises(ValueError, match=r"runs with \[8\] job"):
        projection.concurrency_speedup(bench, 8)
    with pytest.raises(ValueError, match="eval_bench.py measurement"):
        projection.concurrency_speedup({"benchmark": "train_bench"}, 4)


def test_write_measurement_round_trips_through_load_measurement(tmp_path) -> None:
    path = measure.write_measurement(
        tmp_path / "sub" / "x.json", "eval_bench", script="benchmarks/eval_bench.py",
        argv=["--jobs", "1 2"], device="cpu", device_name="cpu (x86_64)",
        runs=[{"jobs": 1, "images_per_s": 10.0, "speedup": 1.0}],
    )  # fmt: skip
    data = projection.load_measurement(path)
    assert data["schema"] == "calstudy-bench/1" and data["benchmark"] == "eval_bench"
    assert data["source"]["kind"] == "measured" and data["device_name"] == "cpu (x86_64)"
    assert data["source"]["command"] == "python benchmarks/eval_bench.py --jobs '1 2'"
    assert projection.concurrency_speedup(data, 1) == 1.0
