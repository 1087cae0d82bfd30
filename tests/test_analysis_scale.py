"""The scale chapter's tables (calstudy.projection): timed_rows, eval_images, benchmark_cost,
machine_projection, match_recorded_runs, alone_throughput, shared_training, eval_scenarios,
scenario_table, cost_what_ifs, training_projections."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calstudy import measure, projection

BENCH = {
    "eval": {"images_per_s": 46_032.0, "record_s": 1.0},
    "train": {"ours_images_per_s": 1000.0},
    "train_steady_state": [
        {"N": 1, "precision": "fp32", "channels_last": True, "images_per_s": 2000.0},
        {"N": 5, "precision": "fp32", "channels_last": True, "images_per_s": 500.0},
        {"N": 1, "precision": "fp32", "channels_last": True, "compile": True,
         "images_per_s": 9999.0},
    ],
}  # fmt: skip


def gpu_rows() -> pd.DataFrame:
    """Two concurrent trained rows per space, each 10 s (train 8 s) in one 10-s run: L = 4."""
    t0 = pd.Timestamp("2026-01-01T00:00:10Z")
    return pd.DataFrame([
        {"device": "cuda:X", "space": space, "source": "trained", "fidelity": "ep2-C16N1-n100",
         "created_at": t0.isoformat(), "wall_time_s": 10.0, "train_time_s": 8.0,
         "eval_time_s": 2.0}
        for space in ("tss", "tss", "sss", "sss")
    ])  # fmt: skip


def test_timed_rows_and_eval_images() -> None:
    rows = gpu_rows()
    assert len(projection.timed_rows(rows)) == 4
    assert projection.timed_rows(rows.assign(wall_time_s=np.nan)).empty
    assert projection.timed_rows(rows.drop(columns="created_at")).empty
    assert projection.eval_images() == 46_032


def test_benchmark_cost_is_images_over_throughput() -> None:
    cost = projection.benchmark_cost(BENCH)
    assert cost.gpu_s == pytest.approx(1.0) and cost.host_s == cost.gpu_s
    assert cost.record_s == 1.0 and cost.latency_s == pytest.approx(2.0)


def test_machine_projection_by_hand() -> None:
    logits = pd.DataFrame({"space": ["tss", "sss"], "images": [46_032, 46_032],
                           "seconds": [2.0, 1.0]})  # fmt: skip
    ev = measure.EvalMeasurement("cpu", logits, 1.0, (10, 10))
    train = {s: measure.TrainMeasurement("demo", s, "a", "cpu", "fp32", 16, 1, 10, 1.0, 10.0,
                                             3600.0) for s in ("tss", "sss")}  # fmt: skip
    networks = pd.DataFrame({"dataset": "c", "space": ["tss", "sss"], "networks": [1, 1]})
    out = projection.machine_projection(ev, train, networks=networks)
    assert out["cost"].gpu_s == pytest.approx(1.5)  # mean of 2 s and 1 s
    assert out["eval_hours"] == pytest.approx(2 * 2.5 / 3600)
    assert out["train_hours"] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="training measurements"):
        projection.machine_projection(ev, {"tss": train["tss"]}, networks=networks)


def test_match_recorded_runs_only_when_they_agree() -> None:
    runs = pd.DataFrame({"run": [1, 2], "device": ["cuda:H100 x", "cuda:H100 x"],
                         "rows": [10, 5]})  # fmt: skip
    record = {"device_name": "H100", "runs": [
        {"workers": 4, "workers_detail": "4", "new_rows": 10, "wall_s": 30},
        {"workers": 2, "workers_detail": "1 + 1", "new_rows": 5, "wall_s": 10}]}  # fmt: skip
    out, matched = projection.match_recorded_runs(runs, record)
    assert matched and out["workers"].tolist() == [4, 2]
    assert out["s_per_row_recorded"].tolist() == [3.0, 2.0]
    other, matched = projection.match_recorded_runs(runs.assign(rows=[10, 6]), record)
    assert not matched and "workers" not in other
    assert not projection.match_recorded_runs(runs.iloc[:0], record)[1]


def test_shared_training_by_hand() -> None:
    assert projection.alone_throughput(BENCH) == {(1, "fp32", True): 2000.0,
                                                  (5, "fp32", True): 500.0}  # fmt: skip
    costs = projection.row_costs(gpu_rows())
    training = projection.shared_training(costs, BENCH)
    # 2 epochs × 100 images = 200 per row; train_node_s = 8 s / L (L = 4) = 2 s.
    assert training["row_images"] == 200
    assert training["shared_rate"]["tss"] == pytest.approx(100.0)
    assert training["per_image"]["sss"] == pytest.approx(0.01)
    assert training["size_factor"] == pytest.approx(4.0)
    assert training["ratio"] == pytest.approx(100.0 / 2000.0)
    assert projection.shared_training(costs.assign(source="pretrained"), BENCH) is None


def test_eval_scenarios_and_their_checks() -> None:
    scenarios = projection.eval_scenarios(jobs_per_gpu=4, speedups=[2.0], s_train=9.0,
                                          s_measured=1.5, measured_on="GPU")  # fmt: skip
    assert scenarios == [("serial, 1 job", 1, 1.0), ("4 jobs, s = 1", 4, 1.0),
                         ("4 jobs, s = 2 (assumed)", 4, 2.0),
                         ("4 jobs, s = 4.00 (as training)", 4, 4.0),
                         ("4 jobs, s = 1.50 (measured, GPU)", 4, 1.5)]  # fmt: skip
    assert len(projection.eval_scenarios(jobs_per_gpu=4, speedups=[2.0], s_train=0.8)) == 3
    for bad in ([], [1.0], [5.0]):
        with pytest.raises(ValueError, match="speedups"):
            projection.eval_scenarios(jobs_per_gpu=4, speedups=bad)


def test_scenario_table_marks_the_goal() -> None:
    cost = projection.NetworkCost(gpu_s=1.0, record_s=1.0)
    scenarios = [("serial", 1, 1.0), ("fast", 4, 4.0)]
    table = projection.scenario_table(cost, scenarios, goal_hours=1.0, gpus=[1, 2],
                                      cores_per_node=None)  # fmt: skip
    assert table["scenario"].tolist() == ["serial", "serial", "fast", "fast"]
    assert (table["meets_goal"] == (table["gpu_hours"] <= 1.0)).all()
    with pytest.raises(ValueError, match="goal_hours"):
        projection.scenario_table(cost, scenarios, goal_hours=0)


def test_cost_what_ifs_scale_the_gpu_time_per_space() -> None:
    cost = projection.NetworkCost(gpu_s=1.0, record_s=0.0 + 1e-9)
    networks = pd.DataFrame({"dataset": "c", "space": ["tss", "sss"], "networks": [1, 3]})
    factors = {"same": {"tss": 1.0, "sss": 1.0}, "sss half": {"tss": 1.0, "sss": 0.5}}
    out = projection.cost_what_ifs(cost, factors, [("a", 1, 1.0), ("b", 2, 1.0)],
                                   goal_hours=1.0, networks=networks)  # fmt: skip
    assert out.loc["same", "mean_gpu_s"] == pytest.approx(1.0)
    assert out.loc["sss half", "mean_gpu_s"] == pytest.approx((1 + 3 * 0.5) / 4)
    assert out.loc["sss half", "serial_h"] < out.loc["same", "serial_h"]


def test_training_projections_by_hand() -> None:
    costs = projection.row_costs(gpu_rows())
    training = projection.shared_training(costs, BENCH)
    networks = pd.DataFrame({"dataset": "c", "space": ["tss", "sss"], "networks": [3600, 3600]})
    out = projection.training_projections(costs, training, networks=networks)
    assert out["node_s"].to_dict() == pytest.approx({"sss": 2.5, "tss": 2.5})  # 10 s / L = 4
    assert out["demo_hours"] == pytest.approx(5.0)
    assert out["nats_hours"] > 0 and set(out["nats"]["space"]) == {"tss", "sss"}
    tss = out["nats"][out["nats"]["space"] == "tss"]
    assert (tss["size_factor"] == 4.0).all()  # N = 1 rows scaled to N = 5
    only_tss = projection.training_projections(costs[costs["space"] == "tss"],
                                               projection.shared_training(
                                                   costs[costs["space"] == "tss"], BENCH),
                                               networks=networks)  # fmt: skip
    assert only_tss["demo_hours"] is None and only_tss["nats"] is None


def test_scale_sentences_follow_the_numbers() -> None:
    rows = gpu_rows()
    assert "4 of them with the timings" in projection.store_sentence(
        rows, projection.timed_rows(rows), store="s")
    untimed = rows.assign(wall_time_s=np.nan)
    said = projection.store_sentence(untimed, projection.timed_rows(untimed), store="s")
    assert "none of them with timings" in said and "demo edition" in said

    cost = projection.NetworkCost(gpu_s=1.0, record_s=1.0)
    scenarios = projection.eval_scenarios(jobs_per_gpu=4, speedups=[4.0], s_measured=1.5,
                                          measured_on="GPU")  # fmt: skip
    one_gpu = projection.scenario_table(cost, scenarios, goal_hours=40.0, cores_per_node=16)
    need = projection.required_for(cost, 40.0, gpus=1, cores=16)
    text = projection.goal_sentence(one_gpu, cost, need, goal_hours=40.0, cores=16,
                                    jobs_per_gpu=4, s_measured=1.5, measured_on="GPU")
    assert f"{projection.N_NETWORKS:,} × 2.00 s = 65.4 GPU-hours (1.6× the goal of 40)" in text
    assert "the goal is **met**" in text  # 1.5 jobs' worth: 32.7 / 1.5 = 21.8 h ≤ 40
    assert "Scenarios that meet it: 4 jobs, s = 1, 4 jobs, s = 4 (assumed) and" in text
    unmeasured = projection.goal_sentence(one_gpu.iloc[:3], cost, need, goal_hours=40.0,
                                          cores=16, jobs_per_gpu=4)  # fmt: skip
    assert "No speed-up was measured" in unmeasured

    cluster = projection.scenario_table(cost, scenarios[:2], goal_hours=1.0, gpus=[1, 4],
                                        cores_per_node=16)  # fmt: skip
    said = projection.cluster_sentence(cluster, cores_per_node=16, gpus_per_node=1)
    assert said.startswith("On 4 GPUs") and "stay the same at every size" in said

    costs = projection.row_costs(rows)
    training = projection.shared_training(costs, BENCH)
    runs, _ = projection.match_recorded_runs(projection.sweep_runs(rows), {"runs": []})
    said = projection.gpu_rows_sentence(costs, runs, matched=False, training=training)
    assert "4 rows ran on a GPU in 1 run, with L = 4.0 (they do not match" in said
    assert "0.05× as fast in aggregate" in said
    trained = projection.training_projections(costs, training)
    assert "node-hours" in projection.training_sentence(trained, training)
