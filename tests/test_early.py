"""Early-training signals: the first epochs of a sweep's networks, measured on held-out images."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from calstudy import early, predict, sweep
from calstudy.cli import main
from calstudy.data import load_dataset, sample_data_dir
from calstudy.models import build_network
from calstudy.train import train

# A small sweep: 3 TSS networks, C=8, N=1, 3-epoch schedule on 500 sample images.
CONFIG = sweep.preset_config("tiny").replace(
    name="early-test", archs={"tss": 3}, epochs=3, n_train=500
)
ARCHS = sweep.resolve_archs("tss", 3)


@pytest.fixture(scope="module")
def data():
    return early.validation_split("cifar10", None, n_train=CONFIG.n_train, n_val=200, seed=0)


# --------------------------------------------------------------------------------------------
# The validation split


def test_validation_split_trains_on_the_sweeps_images_and_validates_on_others(data) -> None:
    swept = sweep._load_data("cifar10", sweep.default_data_dir(), CONFIG.n_train, CONFIG.n_test)
    np.testing.assert_array_equal(data.x_train, swept.x_train)  # exactly the sweep's images
    np.testing.assert_array_equal(data.y_train, swept.y_train)
    full = load_dataset("cifar10", sample_data_dir())
    train_idx, _ = full.subset_indices(CONFIG.n_train, None, seed=0)
    # Every validation image is a training-split image outside the sweep's subset.
    outside = full.x_train[np.setdiff1d(np.arange(len(full.y_train)), train_idx)]
    outside_bytes = {img.tobytes() for img in outside}
    assert all(img.tobytes() in outside_bytes for img in data.x_test)
    assert len(data.y_test) == 200
    assert np.bincount(data.y_test).tolist() == [20] * 10  # class-stratified


def test_validation_split_needs_images_left_over() -> None:
    with pytest.raises(ValueError, match="n_train=None"):
        early.validation_split("cifar10", None, n_train=None, n_val=10)
    n = len(load_dataset("cifar10", sample_data_dir()).y_train)
    with pytest.raises(ValueError, match="outside the sweep"):
        early.validation_split("cifar10", None, n_train=n - 5, n_val=10)
    with pytest.raises(ValueError, match="n_val"):
        early.validation_split("cifar10", None, n_train=100, n_val=0)


# --------------------------------------------------------------------------------------------
# Stopping a schedule early; observing each epoch


def test_stop_after_is_the_start_of_the_full_run(data) -> None:
    seen = {}

    def snapshot(epoch, net):
        assert not net.training and not torch.is_grad_enabled()
        if epoch == 2:
            seen["state"] = {k: v.clone() for k, v in net.state_dict().items()}
        return {"probe": float(epoch)}

    def fresh():
        torch.manual_seed(0)
        return build_network("tss", ARCHS[0], num_classes=10, C=8, N=1)

    full = train(fresh(), data, epochs=3, seed=0, device="cpu", on_epoch=snapshot)
    part = train(fresh(), data, epochs=3, stop_after=2, seed=0, device="cpu")
    assert [h["probe"] for h in full.history] == [1.0, 2.0, 3.0]
    # Epoch 2 runs at the 3-epoch schedule's second rate, not at a 2-epoch schedule's.
    assert [h["lr"] for h in part.history] == [h["lr"] for h in full.history[:2]]
    assert part.history[1]["lr"] == pytest.approx(0.05 * (1 + np.cos(np.pi / 3)))
    assert "test_acc" in part.history[1]  # the last epoch trained is evaluated
    for key, value in part.net.state_dict().items():
        torch.testing.assert_close(value, seen["state"][key], rtol=0, atol=0)
    short = train(fresh(), data, epochs=1, seed=0, device="cpu")  # its own 1-epoch schedule
    assert short.history[0]["lr"] == full.history[0]["lr"]  # cosine starts at the peak


def test_stop_after_cannot_exceed_the_schedule(data) -> None:
    net = build_network("tss", ARCHS[0], num_classes=10, C=8, N=1)
    with pytest.raises(ValueError, match="stop_after"):
        train(net, data, epochs=2, stop_after=3, device="cpu")
    with pytest.raises(ValueError, match="new history keys.*train_loss"):
        train(net, data, epochs=1, device="cpu", on_epoch=lambda e, n: {"train_loss": 0.0})


# --------------------------------------------------------------------------------------------
# One network's signals


def test_early_signals_row(data) -> None:
    row = early.early_signals(
        "tss", ARCHS[0], data=data, config=CONFIG, epochs=2, seed=0, device="cpu"
    )
    assert early.signal_columns(list(row)) == [
        f"early_{s}_e{e}" for e in (1, 2) for s in early.SIGNALS
    ]
    assert row["schedule_epochs"] == 3 and row["fidelity"] == CONFIG.fidelity
    assert row["n_val"] == 200 and row["device"] == "cpu" and row["seconds"] > 0
    for e in (1, 2):
        assert 0 <= row[f"early_ece_e{e}"] <= 1 and 0 <= row[f"early_acc_e{e}"] <= 1
        assert row[f"early_gap_e{e}"] == pytest.approx(
            row[f"early_conf_e{e}"] - row[f"early_acc_e{e}"]
        )
        assert row[f"early_nll_e{e}"] > 0 and row[f"early_train_loss_e{e}"] > 0
    again = early.early_signals(
        "tss", ARCHS[0], data=data, config=CONFIG, epochs=2, seed=0, device="cpu"
    )
    assert all(row[c] == again[c] for c in early.signal_columns(list(row)))  # deterministic
    short = early.early_signals(
        "tss", ARCHS[0], data=data, config=CONFIG, epochs=1, seed=0, schedule_epochs=1,
        device="cpu",
    )  # fmt: skip
    assert short["schedule_epochs"] == 1
    # Epoch 1 of both schedules runs at the same peak learning rate: the same network.
    assert short["early_ece_e1"] == row["early_ece_e1"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"epochs": 4}, "epochs"), ({"epochs": 2, "schedule_epochs": 1}, "epochs"),
     ({"epochs": 1, "schedule_epochs": 0}, "schedule_epochs")],
)  # fmt: skip
def test_early_signals_rejects_bad_epochs(data, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        early.early_signals("tss", ARCHS[0], data=data, config=CONFIG, seed=0, **kwargs)


# --------------------------------------------------------------------------------------------
# Many networks: workers, resume, damaged files, the command line


def test_workers_split_and_a_rerun_resumes(tmp_path, monkeypatch) -> None:
    kwargs = dict(space="tss", dataset="cifar10", epochs=1, n_val=100, progress=False)
    first = early.run_early_signals(tmp_path, CONFIG, worker=(0, 2), **kwargs)
    assert sorted(first["arch"]) == sorted(ARCHS[0::2])
    both = early.run_early_signals(tmp_path, CONFIG, worker=(1, 2), **kwargs)
    assert sorted(both["arch"]) == sorted(ARCHS)
    tag = "early-tss-cifar10-seed0-sched3-n100"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{tag}-w0of2.parquet",
        f"{tag}-w1of2.parquet",
    ]
    for path in tmp_path.iterdir():  # each file is written with its content checksum
        assert len(pq.ParquetFile(path).metadata.metadata[early.CHECKSUM_KEY.encode()]) == 64

    def fail(*args, **kwargs):
        raise AssertionError("a finished network was trained again")

    monkeypatch.setattr(early, "early_signals", fail)
    again = early.run_early_signals(tmp_path, CONFIG, worker=(0, 1), **kwargs)
    pd.testing.assert_frame_equal(again, both)
    # Asking for more epochs than were recorded measures the networks again.
    with pytest.raises(AssertionError, match="trained again"):
        early.run_early_signals(tmp_path, CONFIG, **{**kwargs, "epochs": 2})


def test_a_damaged_file_is_named(tmp_path) -> None:
    (tmp_path / "early-w0of1.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(early.CorruptEarlyFileError, match="early-w0of1.parquet.*not readable"):
        early.load_early_signals(tmp_path)
    assert early.load_early_signals(tmp_path / "missing").empty


def test_run_rejects_what_the_sweep_does_not_hold(tmp_path) -> None:
    with pytest.raises(ValueError, match="space"):
        early.run_early_signals(tmp_path, CONFIG, space="sss", dataset="cifar10")
    with pytest.raises(ValueError, match="dataset"):
        early.run_early_signals(tmp_path, CONFIG, space="tss", dataset="cifar100")
    with pytest.raises(ValueError, match="architectures of the sweep"):
        early.run_early_signals(tmp_path, CONFIG, space="tss", dataset="cifar10", archs=["x"])
    with pytest.raises(ValueError, match="worker"):
        early.run_early_signals(tmp_path, CONFIG, space="tss", dataset="cifar10", worker=(2, 2))
    with pytest.raises(ValueError, match="seeds"):
        early.run_early_signals(tmp_path, CONFIG, space="tss", dataset="cifar10", seed=5)
    with pytest.raises(ValueError, match="the string"):
        early.run_early_signals(tmp_path, CONFIG, space="tss", dataset="cifar10", archs=ARCHS[0])
    with pytest.raises(ValueError, match="epochs"):  # checked before any data is loaded
        early.run_early_signals(tmp_path, CONFIG, space="tss", dataset="cifar10", epochs=4)
    pretrained = sweep.preset_config("full")
    with pytest.raises(ValueError, match="trains its networks"):
        early.run_early_signals(tmp_path, pretrained, space="tss", dataset="cifar10")
    assert not list(tmp_path.iterdir())  # nothing was written


def test_command_line(tmp_path, capsys) -> None:
    args = ["early", "--preset", "tiny", "--space", "tss", "--dataset", "cifar10", "--epochs",
            "1", "--n-val", "100", "--out", str(tmp_path), "--device", "cpu", "--quiet"]  # fmt: skip
    assert main(args) == 0
    assert "networks of tss/cifar10" in capsys.readouterr().out
    rows = early.load_early_signals(tmp_path)
    assert len(rows) == len(sweep.resolve_archs("tss", 3)) and rows["schedule_epochs"].eq(1).all()
    assert main([*args[:-1], "--worker", "2/2"]) == 2
    assert "expected I/N with I < N" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# Early signals as predictor inputs


def test_predictors_use_early_signals() -> None:
    rng = np.random.default_rng(0)
    n = 30
    frame = pd.DataFrame({"arch": [f"a{i}" for i in range(n)], "x1": rng.uniform(size=n),
                          "n_params": rng.uniform(size=n), "flops": rng.uniform(size=n)})  # fmt: skip
    frame["y"] = rng.uniform(size=n)
    data = predict.PredictionData(frame=frame, target="y", features=("x1", "n_params", "flops"))
    signals = pd.DataFrame({"arch": frame["arch"], "early_ece_e1": frame["y"] + 0.01 * rng.normal(size=n),
                            "early_acc_e1": rng.uniform(size=n), "seconds": 1.0})  # fmt: skip
    with_early = predict.add_early(data, signals)
    assert with_early.early == ("early_ece_e1", "early_acc_e1")  # bookkeeping columns left out
    predictors = predict.standard_predictors(with_early, candidates=["ridge"])
    assert predictors["early: ECE after epoch 1"].kind == "early training"
    assert "model: architecture + proxies + early training" in predictors
    result = predict.compare_predictors(with_early, predictors, n_splits=3, n_repeats=1, n_boot=50)
    scores = result.scores.set_index("predictor")["tau"]
    assert scores["early: ECE after epoch 1"] > 0.8  # the signal tracks the target by design
    with pytest.raises(ValueError, match="every architecture"):
        predict.add_early(data, signals.iloc[1:])
    with pytest.raises(ValueError, match="one early-signal row"):
        predict.add_early(data, pd.concat([signals, signals.iloc[:1]]))
    gappy = signals.assign(early_ece_e2=[0.1] * (n - 1) + [np.nan])
    with pytest.raises(ValueError, match="fewer epochs"):
        predict.add_early(data, gappy)
    with pytest.raises(ValueError, match="early_<signal>_e<epoch>"):
        predict.add_early(data, signals[["arch", "seconds"]])


def test_signals_for_picks_one_sweeps_networks() -> None:
    base = {"space": "tss", "dataset": "cifar10", "fidelity": "ep3-C8N1-n500", "n_val": 100,
            "early_ece_e1": 0.1}  # fmt: skip
    table = pd.DataFrame(
        [
            {**base, "arch": "a", "seed": 0, "schedule_epochs": 3},
            {**base, "arch": "b", "seed": 0, "schedule_epochs": 3},
            {**base, "arch": "a", "seed": 1, "schedule_epochs": 3},
            {**base, "arch": "a", "seed": 0, "schedule_epochs": 1, "dataset": "fashion-mnist"},
        ]
    )
    pick = dict(space="tss", dataset="cifar10", fidelity="ep3-C8N1-n500")
    with pytest.raises(ValueError, match="one seed"):
        early.signals_for(table, **pick)
    rows = early.signals_for(table, **pick, seed=0)
    assert rows["arch"].tolist() == ["a", "b"]
    every_seed = early.signals_for(table, **pick, seed="all")  # for seed-noise estimates
    pairs = sorted(zip(every_seed["arch"], every_seed["seed"], strict=True))
    assert pairs == [("a", 0), ("a", 1), ("b", 0)]
    assert early.signals_for(table, **{**pick, "fidelity": "other"}).empty


def test_add_early_can_drop_networks_not_measured_yet() -> None:
    frame = pd.DataFrame({"arch": ["a", "b", "c", "d"], "x1": [1.0, 2, 3, 4], "y": [1.0, 2, 3, 4]})
    data = predict.PredictionData(frame=frame, target="y", features=("x1",))
    signals = pd.DataFrame({"arch": ["a", "c", "d"], "early_ece_e1": [0.1, 0.2, 0.3]})
    kept = predict.add_early(data, signals, missing="drop")
    assert kept.frame["arch"].tolist() == ["a", "c", "d"]
    assert kept.frame["early_ece_e1"].tolist() == [0.1, 0.2, 0.3]
    with pytest.raises(ValueError, match="missing"):
        predict.add_early(data, signals, missing="ignore")
