"""Tests of calstudy.audit: loading predictions, the audit, and `calstudy metrics` / `evaluate`."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calstudy import metrics
from calstudy.audit import HEADLINE, audit, load_predictions
from calstudy.calibrate import heldout_split
from calstudy.catalogue import BIN_COUNTS, full_record
from calstudy.cli import main

ROOT = Path(__file__).resolve().parents[1]
ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def predictions(n: int = 600, k: int = 10, *, seed: int = 0, scale: float = 3.0):
    """Over-confident logits that carry the labels: y ~ softmax(logits / scale)."""
    rng = np.random.default_rng(seed)
    logits = scale * rng.standard_normal((n, k))
    labels = (logits / scale + rng.gumbel(size=(n, k))).argmax(axis=1)
    return logits, labels


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
    return predictions(600)


@pytest.fixture(scope="module")
def result(sample):
    return audit(*sample, n_boot=200, n_boot_smooth=20)


# ---------------------------------------------------------------------------------------------
# load_predictions
# ---------------------------------------------------------------------------------------------


def test_npz_of_logits(tmp_path: Path, sample) -> None:
    logits, labels = sample
    path = tmp_path / "p.npz"
    np.savez(path, logits=logits.astype(np.float32), labels=labels.astype(np.int32))
    z, y = load_predictions(path)
    assert z.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(z, logits.astype(np.float32))
    np.testing.assert_array_equal(y, labels)


def test_npz_of_probabilities_becomes_log_probabilities(tmp_path: Path, sample) -> None:
    logits, labels = sample
    probs = metrics.to_probs(logits)
    probs[0] = [1.0] + [0.0] * 9  # an exact zero: floored, stays finite
    path = tmp_path / "p.npz"
    np.savez(path, probs=probs, labels=labels)
    z, y = load_predictions(path)
    assert np.all(np.isfinite(z))
    np.testing.assert_allclose(metrics.to_probs(z), probs, atol=1e-300, rtol=1e-12)
    # The same model: every metric is unchanged, and the record is the one of log p.
    assert metrics.ece(metrics.to_probs(z), y) == pytest.approx(metrics.ece(probs, labels), abs=1e-12)


def test_npz_with_both_uses_the_logits(tmp_path: Path, sample) -> None:
    logits, labels = sample
    path = tmp_path / "p.npz"
    np.savez(path, logits=logits, probs=np.full_like(logits, 0.1), labels=labels)
    np.testing.assert_array_equal(load_predictions(path)[0], logits)


def test_pt_dict_and_pt_tensor(tmp_path: Path, sample) -> None:
    torch = pytest.importorskip("torch")
    logits, labels = sample
    path = tmp_path / "p.pt"
    torch.save({"logits": torch.tensor(logits), "labels": torch.tensor(labels)}, path)
    z, y = load_predictions(path)
    np.testing.assert_array_equal(z, logits)
    np.testing.assert_array_equal(y, labels)
    bare = tmp_path / "logits.pt"
    torch.save(torch.tensor(logits, dtype=torch.bfloat16), bare)
    z, y = load_predictions(bare, labels=torch.tensor(labels))
    np.testing.assert_allclose(z, logits, rtol=1e-2)  # bf16 -> float32 -> float64
    np.testing.assert_array_equal(y, labels)


@pytest.mark.parametrize("kind", ["array", "npy", "npz", "txt", "csv", "pt"])
def test_labels_given_separately(tmp_path: Path, sample, kind: str) -> None:
    logits, labels = sample
    pred = tmp_path / "logits.npy"
    np.save(pred, logits)
    if kind == "array":
        given = labels.tolist()
    elif kind == "npy":
        np.save(given := tmp_path / "y.npy", labels)
    elif kind == "npz":
        np.savez(given := tmp_path / "y.npz", y=labels)  # its only array
    elif kind == "txt":
        (given := tmp_path / "y.txt").write_text("\n".join(map(str, labels)) + "\n")
    elif kind == "csv":
        (given := tmp_path / "y.csv").write_text("label\n" + "\n".join(f"{v}.0" for v in labels))
    else:
        torch = pytest.importorskip("torch")
        torch.save({"labels": torch.tensor(labels)}, given := tmp_path / "y.pt")
    z, y = load_predictions(pred, labels=given)
    np.testing.assert_array_equal(z, logits)
    np.testing.assert_array_equal(y, labels)


def test_given_labels_replace_the_files(tmp_path: Path, sample) -> None:
    logits, labels = sample
    path = tmp_path / "p.npz"
    np.savez(path, logits=logits, labels=np.zeros_like(labels))
    np.testing.assert_array_equal(load_predictions(path, labels=labels)[1], labels)


def test_a_bare_array_of_probabilities_is_read_as_logits_with_a_hint(
    tmp_path: Path, sample, caplog: pytest.LogCaptureFixture
) -> None:
    logits, labels = sample
    path = tmp_path / "probs.npy"
    np.save(path, metrics.to_probs(logits))
    with caplog.at_level(logging.WARNING, logger="calstudy"):
        z, _ = load_predictions(path, labels=labels)
    np.testing.assert_array_equal(z, metrics.to_probs(logits))  # never guessed
    assert "read as logits" in caplog.text and "probs=" in caplog.text


class Opaque:
    """A class torch.load(weights_only=True) must refuse to rebuild."""


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, object]]:
    torch = pytest.importorskip("torch")
    logits, labels = predictions(20, 3)
    probs = metrics.to_probs(logits)
    files: dict[str, tuple[Path, object]] = {}

    def npz(name: str, labels_arg: object = None, **arrays: object) -> None:
        np.savez(path := tmp_path / f"{name}.npz", **arrays)
        files[name] = (path, labels_arg)

    npz("no_scores", scores=logits, labels=labels)
    npz("no_labels", logits=logits)
    npz("short_labels", logits=logits, labels=labels[:-1])
    npz("flat_logits", logits=logits[:, 0], labels=labels)
    npz("one_class", logits=logits[:, :1], labels=labels)
    nan = logits.copy()
    nan[3, 1] = np.nan
    npz("nan", logits=nan, labels=labels)
    rows = probs.copy()
    rows[1] = [0.5, 0.3, 0.3]
    npz("rows", probs=rows, labels=labels)
    npz("negative", probs=probs - 0.5, labels=labels)
    npz("range", logits=logits, labels=labels + 3)
    npz("fractional", logits=logits, labels=labels + 0.5)
    npz("strings", logits=logits.astype(str), labels=labels)
    npz("pickled", logits=np.array([object()] * 20, dtype=object), labels=labels)
    (path := tmp_path / "p.h5").write_bytes(b"")
    files["suffix"] = (path, None)
    files["missing"] = (tmp_path / "nope.npz", None)
    np.save(path := tmp_path / "logits.npy", logits)
    files["missing_labels_file"] = (path, tmp_path / "nope.npy")
    (text := tmp_path / "y.txt").write_text("0\n1\ntwo\n")
    files["text_labels"] = (path, text)
    torch.save({"logits": Opaque()}, path := tmp_path / "opaque.pt")
    files["opaque_pt"] = (path, None)
    torch.save([1, 2], path := tmp_path / "list.pt")
    files["list_pt"] = (path, None)
    (path := tmp_path / "broken.npz").write_bytes(b"not a zip")
    files["broken_npz"] = (path, None)
    return files


BAD_INPUTS = {
    "no_scores": (ValueError, r"hold an array `logits` or `probs`, got keys \['labels', 'scores'\]"),
    "no_labels": (ValueError, r"Expected labels for the 20 predictions in '.*no_labels.npz', got "
                  r"none: it holds no `labels` array; pass `labels`"),
    "short_labels": (ValueError, r"Expected `labels` in '.*' to have shape \(20,\), one label per "
                     r"prediction, got \(19,\)"),
    "flat_logits": (ValueError, r"Expected `logits` in '.*' to be 2-D \(N, K\)"),
    "one_class": (ValueError, r"K >= 2 classes, got shape \(20, 1\)"),
    "nan": (ValueError, r"Expected `logits` in '.*nan.npz' to be finite, got NaN in row 3"),
    "rows": (ValueError, r"Expected `probs` in '.*' to be probabilities, rows summing to 1 "
             r"\(tolerance 3e-06\), got row 1 summing to 1.1"),
    "negative": (ValueError, r"Expected `probs` in '.*' to lie in \[0, 1\]"),
    "range": (ValueError, r"Expected `labels` in '.*' to be class indices in \[0, 2\], got values "
              r"in \[3, 5\]"),
    "fractional": (ValueError, r"Expected `labels` in '.*' to be integers, got non-integer"),
    "strings": (ValueError, r"to hold real numbers, got dtype <U"),
    "pickled": (ValueError, r"plain numeric arrays, got pickled objects"),
    "suffix": (ValueError, r"Expected `path` to end in .npz, .pt, .pth, .npy, got '.*p.h5'"),
    "missing": (FileNotFoundError, r"Expected `path` to be an existing file, got '.*nope.npz'"),
    "missing_labels_file": (FileNotFoundError, r"Expected `labels` to be an existing file of "
                            r"labels, got '.*nope.npy'"),
    "text_labels": (ValueError, r"one integer per line, got 'two' on data line 3"),
    "opaque_pt": (ValueError, r"readable with torch.load\(weights_only=True\)"),
    "list_pt": (ValueError, r"a tensor of logits or a dict .*, got a list"),
    "broken_npz": (ValueError, r"Expected '.*broken.npz' to be a readable .npz file"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_each_have_a_clear_error(tmp_path: Path, case: str) -> None:
    path, labels = _bad_files(tmp_path)[case]
    error, match = BAD_INPUTS[case]
    with pytest.raises(error, match=match):
        load_predictions(path, labels=labels)


def test_bad_input_errors_name_the_cli_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _bad_files(tmp_path)
    assert main(["metrics", str(files["no_labels"][0])]) == 1
    assert "pass `--labels`." in capsys.readouterr().err
    path, labels = files["missing_labels_file"]
    assert main(["metrics", str(path), "--labels", str(labels)]) == 1
    assert "Expected `--labels` to be an existing file" in capsys.readouterr().err
    assert main(["metrics", str(files["missing"][0])]) == 1
    assert "calstudy: error: Expected PRED to be an existing file" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# audit
# ---------------------------------------------------------------------------------------------


def test_audit_numbers_are_full_records(sample, result) -> None:
    logits, labels = sample
    record = full_record(logits, labels)
    assert result.record == record
    assert result.temperature == record["temperature"]
    assert (result.n_samples, result.n_classes) == (600, 10)
    assert (result.n_heldout, result.n_eval) == (record["n_heldout"], record["n_eval"])
    frame = result.to_frame()
    assert list(frame.index) == ["accuracy", "ECE_15", "ECE_em_15", "KSCE", "smECE", "NLL", "Brier"]
    for name in frame.index[1:]:
        assert frame.loc[name, "before"] == record[f"pre_{name}"]
        assert frame.loc[name, "after"] == record[f"post_{name}"]
    _, eval_idx = heldout_split(600, frac=0.2, seed=0)
    assert frame.loc["accuracy", "before"] == record["acc"]
    assert frame.loc["accuracy", "after"] == metrics.accuracy(
        metrics.to_probs(logits[eval_idx]), labels[eval_idx]
    )


def test_a_bin_count_outside_the_catalogue_is_computed(sample) -> None:
    logits, labels = sample
    assert 12 not in BIN_COUNTS
    frame = audit(logits, labels, n_bins=12, n_boot=0).to_frame()
    probs = metrics.to_probs(logits)
    assert frame.loc["ECE_12", "before"] == metrics.ece(probs, labels, n_bins=12)
    assert frame.loc["ECE_em_12", "before"] == metrics.ece_em(probs, labels, n_bins=12)
    assert frame[["before_low", "after_high"]].isna().all().all()
    assert (frame["n_boot"] == 0).all()


def test_intervals_contain_the_estimates(result) -> None:
    frame = result.to_frame()
    assert (frame["before_low"] <= frame["before"]).all()
    assert (frame["before"] <= frame["before_high"]).all()
    assert (frame["before_low"] < frame["before_high"]).all()
    for name in ("accuracy", "NLL", "Brier"):  # unbiased: the estimate sits inside after scaling
        assert frame.loc[name, "after_low"] <= frame.loc[name, "after"] <= frame.loc[name, "after_high"]
    assert frame["n_boot"].tolist() == [200, 200, 200, 200, 20, 200, 200]


def _ties_and_saturation(n: int, seed: int):
    """Duplicated rows (tied confidences), confidences of exactly 1.0, ties in the arg-max."""
    logits, labels = predictions(n, 4, seed=seed)
    logits[: n // 3] = logits[0]
    logits[n // 3 : n // 3 + 10] = [800.0, 0.0, 0.0, 0.0]
    logits[-10:] = [1.0, 1.0, -5.0, -5.0]
    return logits, labels


@pytest.mark.filterwarnings("ignore::calstudy.calibrate.SmallSampleWarning")
@pytest.mark.parametrize(
    ("make", "n_bins"),
    [
        (partial(predictions, 300, 5, seed=3), 15),
        (partial(_ties_and_saturation, 240, seed=4), 7),
        (partial(_ties_and_saturation, 50, seed=5), 50),  # fewer predictions than bins
    ],
)
def test_intervals_are_those_of_bootstrap_ci(make, n_bins: int) -> None:
    """The weighted, all-at-once bootstrap gives metrics.bootstrap_ci's intervals exactly."""
    logits, labels = make()
    result = audit(logits, labels, n_bins=n_bins, n_boot=60, n_boot_smooth=4, level=0.9, seed=7)
    frame = result.to_frame()
    _, eval_idx = heldout_split(len(labels), frac=0.2, seed=7)
    stages = {
        "before": (metrics.to_probs(logits), labels),
        "after": (metrics.to_probs(logits[eval_idx] / result.temperature), labels[eval_idx]),
    }
    functions = {
        "accuracy": metrics.accuracy,
        f"ECE_{n_bins}": partial(metrics.ece, n_bins=n_bins),
        f"ECE_em_{n_bins}": partial(metrics.ece_em, n_bins=n_bins),
        "KSCE": metrics.ksce,
        "smECE": metrics.smooth_ece,
        "NLL": metrics.nll,
        "Brier": metrics.brier,
    }
    for stage, (probs, y) in stages.items():
        for name, func in functions.items():
            n_boot = 4 if name == "smECE" else 60
            _, low, high = metrics.bootstrap_ci(func, probs, y, n_boot=n_boot, level=0.9, seed=7)
            got = frame.loc[name, [f"{stage}_low", f"{stage}_high"]].to_numpy(float)
            atol = 1e-8 if name == "smECE" else 1e-12  # smECE: two root finders, both to 1e-9
            np.testing.assert_allclose(got, [low, high], rtol=0, atol=atol, err_msg=f"{stage} {name}")


def test_separable_predictions_audit_to_zero_smece(caplog: pytest.LogCaptureFixture) -> None:
    labels = np.arange(600) % 4
    logits = 50.0 * np.eye(4)[labels]
    with caplog.at_level(logging.WARNING, logger="calstudy"):
        frame = audit(logits, labels, n_boot=20, n_boot_smooth=5).to_frame()
    assert "lies on the bound T = 0.05" in caplog.text  # logged by fit_temperature
    assert frame.loc["smECE", ["before", "before_low", "before_high"]].tolist() == [0.0] * 3
    assert frame.loc["accuracy", "after"] == 1.0


def test_tensors_are_audited_like_arrays(sample) -> None:
    torch = pytest.importorskip("torch")
    logits, labels = sample
    expected = audit(logits, labels, n_boot=30, n_boot_smooth=3).to_frame()
    got = audit(torch.tensor(logits), torch.tensor(labels), n_boot=30, n_boot_smooth=3)
    pd.testing.assert_frame_equal(got.to_frame(), expected)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"n_bins": 0}, r"Expected `n_bins` to be a positive integer, got 0"),
        ({"n_bins": 10_001}, r"Expected `n_bins` to be at most 10000 .*, got 10001"),
        ({"n_boot": -1}, r"Expected `n_boot` to be a non-negative integer, got -1"),
        ({"n_boot": 1.5}, r"Expected `n_boot` to be a non-negative integer, got 1.5"),
        ({"n_boot_smooth": True}, r"Expected `n_boot_smooth` to be a non-negative integer, got True"),
        ({"level": 1.0}, r"Expected `level` to be in \(0, 1\), got 1.0"),
        ({"heldout_frac": 0.001}, r"Expected `heldout_frac` to hold out at least 2 of the 600"),
    ],
)
def test_bad_options_are_refused(sample, options: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        audit(*sample, **options)


def test_record_table_and_files(tmp_path: Path, result) -> None:
    row = result.to_record()
    for column in ("pre_ECE_5", "post_MCE_500", "temperature", "acc", "post_acc", "acc_low",
                   "post_smECE_high", "pre_ECE_15_low", "n_boot", "level"):  # fmt: skip
        assert column in row, column
    assert row["post_ECE_15"] == result.record["post_ECE_15"]
    csv = result.save(tmp_path / "out" / "record.csv")
    read = pd.read_csv(csv)
    assert read.shape == (1, len(row)) and read.loc[0, "pre_ECE_15"] == pytest.approx(row["pre_ECE_15"])
    data = json.loads(result.save(tmp_path / "record.json").read_text())
    assert data["post_Brier_low"] == row["post_Brier_low"] and data["n_boot_smooth"] == 20
    with pytest.raises(ValueError, match=r"Expected `path` to end in .csv or .json, got '.*r.txt'"):
        result.save(tmp_path / "r.txt")
    table = result.table()
    assert "600 predictions, 10 classes" in table and "from 200 resamples (20 for smECE)" in table
    lines = table.splitlines()
    header = next(line for line in lines if line.startswith("metric"))
    assert header.split("  ")[0] == "metric" and "before TS [95 % CI]" in header
    assert any(line.startswith("ECE_15 ") for line in lines)
    assert str(result) == table and "CalibrationAudit(n_samples=600" in repr(result)


def test_the_diagram_is_a_png(tmp_path: Path, result) -> None:
    import matplotlib.image

    path = tmp_path / "reliability.png"
    fig = result.figure(title="mine")
    assert [ax.get_title() for ax in fig.axes[:2]][0].startswith("Before temperature scaling")
    fig.savefig(path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    height, width, _ = matplotlib.image.imread(path).shape
    assert width > height > 100
    assert result.reliability_before.ece == pytest.approx(result.record["pre_ECE_15"], abs=1e-12)
    assert result.reliability_after.counts.sum() == result.n_eval


# ---------------------------------------------------------------------------------------------
# calstudy metrics
# ---------------------------------------------------------------------------------------------


def test_cli_metrics(tmp_path: Path, sample, capsys: pytest.CaptureFixture[str]) -> None:
    logits, labels = sample
    pred = tmp_path / "preds.npz"
    np.savez(pred, logits=logits, labels=labels)
    argv = ["metrics", str(pred), "--n-boot", "40", "--n-boot-smooth", "4", "--seed", "1"]
    out_csv, diagram = tmp_path / "rec" / "record.csv", tmp_path / "fig" / "rel.png"
    assert main([*argv, "--out", str(out_csv), "--diagram", str(diagram)]) == 0
    out = capsys.readouterr().out
    assert f"Calibration of '{pred}' (logits)." in out
    assert "metric" in out and "before TS [95 % CI]" in out and "after TS [95 % CI]" in out
    expected = audit(logits, labels, n_boot=40, n_boot_smooth=4, seed=1)
    ece = expected.to_frame().loc["ECE_15"]
    from calstudy.report import ci

    assert ci(ece["before"], ece["before_low"], ece["before_high"], 4, signed=False) in out
    assert f"Wrote the full record ({len(expected.to_record())} columns) to '{out_csv}'." in out
    assert pd.read_csv(out_csv).loc[0, "post_ECE_15"] == pytest.approx(ece["after"])
    assert diagram.read_bytes()[:8] == PNG_SIGNATURE


def test_cli_metrics_on_probabilities_with_labels_apart(
    tmp_path: Path, sample, capsys: pytest.CaptureFixture[str]
) -> None:
    logits, labels = sample
    np.savez(pred := tmp_path / "p.npz", probs=metrics.to_probs(logits))
    np.savetxt(given := tmp_path / "y.txt", labels, fmt="%d")
    argv = ["metrics", str(pred), "--labels", str(given), "--n-boot", "0", "--out"]
    assert main([*argv, str(out := tmp_path / "r.json")]) == 0
    text = capsys.readouterr().out
    assert "(probabilities, audited as log-probabilities)" in text and "No intervals" in text
    record = json.loads(out.read_text())
    assert record["pre_ECE_15"] == pytest.approx(full_record(logits, labels)["pre_ECE_15"], abs=1e-12)
    assert record["pre_ECE_15_low"] is None  # NaN in JSON is null


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--n-bins", "0"], "argument --n-bins: Expected `--n-bins` to be an integer >= 1, got '0'"),
        (["--n-boot", "x"], "Expected `--n-boot` to be an integer >= 0, got 'x'"),
        (["--level", "95"], "Expected `--level` to be in (0, 1), got '95'"),
        (["--heldout-frac", "1"], "Expected `--heldout-frac` to be in (0, 1), got '1'"),
        (["--out", "r.txt"], "Expected `--out` to end in .csv or .json, got 'r.txt'"),
        (["--diagram", "r.gif"], "Expected `--diagram` to end in .png or .pdf or .svg"),
    ],
)
def test_cli_metrics_usage_errors_exit_2(
    tmp_path: Path, sample, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    np.savez(pred := tmp_path / "p.npz", logits=sample[0], labels=sample[1])
    assert main(["metrics", str(pred), *extra]) == 2
    assert message in capsys.readouterr().err


def test_cli_heldout_frac_too_small_for_the_data_names_the_flag(
    tmp_path: Path, sample, capsys: pytest.CaptureFixture[str]
) -> None:
    np.savez(pred := tmp_path / "p.npz", logits=sample[0][:20], labels=sample[1][:20])
    assert main(["metrics", str(pred), "--heldout-frac", "0.01"]) == 1
    assert "Expected `--heldout-frac` to hold out at least 2 of the 20" in capsys.readouterr().err


def test_cli_metrics_runs_without_torch(tmp_path: Path, sample) -> None:
    np.savez(pred := tmp_path / "p.npz", logits=sample[0], labels=sample[1])
    script = textwrap.dedent(
        f"""
        import sys

        class Blocked:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "torchvision", "skimage"):
                    raise ImportError(f"{{name}} is blocked by the test")

        sys.meta_path.insert(0, Blocked())
        from calstudy.cli import main
        code = main(["metrics", {str(pred)!r}, "--n-boot", "20", "--n-boot-smooth", "2"])
        assert not [m for m in sys.modules if m.split(".")[0] == "torch"]
        print("exit", code)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("exit 0"), done.stderr[-3000:]
    assert "ECE_15" in done.stdout


# ---------------------------------------------------------------------------------------------
# calstudy evaluate
# ---------------------------------------------------------------------------------------------


def test_cli_evaluate_on_the_shipped_sample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch")
    from calstudy.models import build_network
    from calstudy.train import save_checkpoint

    monkeypatch.delenv("CALSTUDY_DATA", raising=False)
    checkpoint = save_checkpoint(
        build_network("tss", ARCH, num_classes=10, C=8, N=1), tmp_path / "net.pt"
    )
    argv = ["evaluate", str(checkpoint), "--arch", ARCH, "--C", "8", "--N", "1", "--device", "cpu"]
    argv += ["--n-boot", "20", "--n-boot-smooth", "2", "--out", str(tmp_path / "r.json")]
    assert main([*argv, "--save-predictions", str(tmp_path / "p.npz")]) == 0
    captured = capsys.readouterr()
    assert "Calibration of tss network" in captured.out and "1,000 images, cpu" in captured.out
    assert "1,000 predictions, 10 classes" in captured.out and "ECE_em_15" in captured.out
    record = json.loads((tmp_path / "r.json").read_text())
    saved = np.load(tmp_path / "p.npz")
    assert saved["logits"].shape == (1000, 10) and record["n_samples"] == 1000
    assert record["pre_ECE_15"] == pytest.approx(
        full_record(saved["logits"].astype(np.float64), saved["labels"])["pre_ECE_15"], abs=1e-12
    )
    # A checkpoint of another shape is refused, naming the flags to check.
    assert argv[6:8] == ["--N", "1"]
    assert main([*argv[:7], "2", *argv[8:]]) == 1
    assert "does not fit" in (err := capsys.readouterr().err) and "--N 2" in err
    # No data where --data-dir points: the hint names the flag.
    (empty := tmp_path / "empty").mkdir()
    assert main([*argv, "--data-dir", str(empty)]) == 1
    assert "Pass --data-dir DIR to the calstudy command" in capsys.readouterr().err


def test_headline_is_what_the_table_lists(result) -> None:
    assert len(HEADLINE) == len(result.to_frame()) == 7
