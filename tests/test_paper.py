"""Tests of calstudy.paper on fabricated CSVs in the released format."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calstudy.paper import PAPER_SEED, import_paper_csv, import_paper_dir
from calstudy.store import Store

BINS = (5, 10, 15, 20, 25, 50, 100, 200, 500)
EPS_LONG = ("0_1", "0_5", "1_0", "2_0", "3_0", "4_0", "5_0", "6_0", "7_0", "8_0", "255_0")
EPS_SHORT = ("0_1", "0_5", "1_0", "2_0", "3_0", "4_0", "8_0")
CORRUPTIONS = (
    "brightness contrast defocus_blur elastic_transform fog frost gaussian_noise glass_blur "
    "impulse_noise jpeg_compression motion_blur pixelate shot_noise snow zoom_blur"
).split()
TSS_ARCHS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|none~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|",
    "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|",
]
SSS_ARCHS = ["64:64:64:64:64", "8:16:24:32:40", "8:8:8:8:8"]


def paper_columns(*, robustness: bool) -> list[str]:
    """The released CSV's columns, in the order the paper's README lists them."""
    columns = ["config", "acc", "correct_confidence", "incorrect_confidence", "arch"]
    for n in BINS:
        for estimator in ("ECE", "ECE_em", "cwCE", "cwCE_em", "MCE"):
            columns += [f"pre_{estimator}_{n}", f"post_{estimator}_{n}"]
    for name in ("KSCE", "KDECE", "MMCE", "NLL", "Brier"):
        columns += [f"pre_{name}", f"post_{name}"]
    columns += ["pre_auc_cifar10c", "pre_auc_svhn"]
    if robustness:
        columns += [f"fgsm_Linf_acc{e}" for e in EPS_LONG]
        columns += [f"pgd_Linf_acc{e}" for e in EPS_LONG]
        columns += [f"aa_apgd_ce_Linf_acc{e}" for e in EPS_SHORT]
        columns += [f"aa_square_Linf_acc{e}" for e in EPS_SHORT]
        columns += CORRUPTIONS
    return columns


def write_paper_csv(
    path: Path, archs: list[str], *, robustness: bool, seed: int = 0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    columns = paper_columns(robustness=robustness)
    frame = pd.DataFrame(rng.uniform(0.01, 0.3, (len(archs), len(columns))), columns=columns)
    frame["config"] = rng.choice(15625, len(archs), replace=False)
    frame["arch"] = archs
    frame["acc"] = rng.uniform(85, 94, len(archs))  # NATS-Bench style: percent
    frame["correct_confidence"] = 0.95
    if robustness:
        frame[CORRUPTIONS] = rng.uniform(20, 90, (len(archs), len(CORRUPTIONS)))
    frame = frame[columns]
    frame.to_csv(path, index=False)
    return frame


@pytest.fixture
def paper_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "paper"
    directory.mkdir()
    write_paper_csv(directory / "cifar10_tss.csv", TSS_ARCHS, robustness=True)
    write_paper_csv(directory / "ImageNet_sss.csv", SSS_ARCHS, robustness=False, seed=1)
    return directory


def test_import_tss_csv_maps_every_column(paper_dir: Path) -> None:
    raw = pd.read_csv(paper_dir / "cifar10_tss.csv")
    with pytest.warns(UserWarning, match="read as percent"):
        frame = import_paper_csv(paper_dir / "cifar10_tss.csv")
    assert len(frame) == 3
    assert (frame["space"] == "tss").all() and (frame["dataset"] == "cifar10").all()
    assert (frame["seed"] == PAPER_SEED).all() and (frame["fidelity"] == "nats-200").all()
    assert (frame["source"] == "paper-csv").all() and (frame["status"] == "ok").all()
    assert frame["arch"].tolist() == TSS_ARCHS
    assert frame["arch_index"].tolist() == raw["config"].tolist()
    np.testing.assert_allclose(frame["acc"], raw["acc"] / 100)
    np.testing.assert_allclose(frame["snow"], raw["snow"] / 100)
    np.testing.assert_allclose(frame["pgd_Linf_acc255_0"], raw["pgd_Linf_acc255_0"] / 100)
    unchanged = [c for c in raw.columns if c.startswith(("pre_", "post_", "correct", "incorr"))]
    assert len(unchanged) == 2 + 90 + 10 + 2
    pd.testing.assert_frame_equal(frame[unchanged], raw[unchanged])


def test_import_sss_imagenet_and_store_round_trip(paper_dir: Path, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = import_paper_dir(paper_dir)
    assert len(frame) == 6
    sss = frame[frame["space"] == "sss"]
    assert set(sss["dataset"]) == {"imagenet16-120"} and set(sss["fidelity"]) == {"nats-90"}
    assert sss["snow"].isna().all()  # SSS files carry no robustness columns
    assert frame["created_at"].nunique() == 1
    store = Store(tmp_path / "store")
    store.append_frame(frame)
    assert store.validate() == []
    back = store.read(frame.columns.tolist())
    pd.testing.assert_frame_equal(
        back.astype(object).where(back.notna(), None),
        frame.astype(object).where(frame.notna(), None),
        check_dtype=False,
    )
    assert len(store.keys()) == 6


def test_unknown_columns_warn_and_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "cifar100_tss.csv"
    write_paper_csv(path, TSS_ARCHS, robustness=False)
    raw = pd.read_csv(path)
    extra = pd.DataFrame({"Unnamed: 0": 0, "post_auc_svhn": 0.5}, index=raw.index)
    pd.concat([raw, extra], axis=1).to_csv(path, index=False)
    with pytest.warns(
        UserWarning,
        match=r"2 column\(s\) not in the schema, dropped: \['Unnamed: 0', 'post_auc_svhn'\]",
    ):
        frame = import_paper_csv(path, accuracy_unit="percent")
    assert "post_auc_svhn" not in frame.columns and (frame["dataset"] == "cifar100").all()


def test_file_name_must_say_dataset_and_space(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    write_paper_csv(path, SSS_ARCHS, robustness=False)
    with pytest.raises(
        ValueError, match=r"Cannot infer dataset and space from the file name 'results.csv'"
    ):
        import_paper_csv(path)
    frame = import_paper_csv(path, dataset="cifar10", space="sss", accuracy_unit="percent")
    assert set(frame["space"]) == {"sss"} and set(frame["fidelity"]) == {"nats-90"}
    with pytest.raises(ValueError, match=r"Expected `space` to be 'tss' or 'sss', got 'xyz'"):
        import_paper_csv(path, dataset="cifar10", space="xyz")  # type: ignore[arg-type]


def test_accuracy_units(paper_dir: Path) -> None:
    path = paper_dir / "ImageNet_sss.csv"
    raw = pd.read_csv(path)
    frame = import_paper_csv(path, accuracy_unit="percent")
    np.testing.assert_allclose(frame["acc"], raw["acc"] / 100)
    raw.assign(acc=raw["acc"] / 100).to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # fractions: no conversion, no warning
        frame = import_paper_csv(path)
    np.testing.assert_allclose(frame["acc"], raw["acc"] / 100)
    with pytest.raises(ValueError, match=r"Expected `accuracy_unit` to be 'auto'"):
        import_paper_csv(path, accuracy_unit="permille")  # type: ignore[arg-type]


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"Paper CSV '.*cifar10_tss.csv' does not exist"):
        import_paper_csv(tmp_path / "cifar10_tss.csv")
    path = tmp_path / "cifar10_tss.csv"
    pd.DataFrame({"acc": [0.5], "arch": ["x"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['config'\]"):
        import_paper_csv(path)
    pd.DataFrame({"config": [1], "arch": ["x"], "acc": ["high"]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"`acc` in paper CSV 'cifar10_tss.csv' to be double"):
        import_paper_csv(path)


def test_import_dir_errors_and_missing_files(tmp_path: Path, paper_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        import_paper_dir(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"No paper CSV .* in"):
        import_paper_dir(tmp_path)
    with pytest.warns(UserWarning) as caught:
        import_paper_dir(paper_dir)
    absent = [str(w.message) for w in caught if "absent" in str(w.message)]
    assert len(absent) == 1
    for name in ("ImageNet_tss", "cifar100_sss", "cifar100_tss", "cifar10_sss"):
        assert f"'{name}.csv'" in absent[0]
    assert "'cifar10_tss.csv'" not in absent[0]
