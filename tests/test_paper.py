"""Tests of calstudy.paper: the released format, its generator, the importer and its checks.

Every file here comes from :func:`calstudy.paper.write_release_sample`, the generator of the
released format that the benchmark and the book's CI build use too.
"""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau

from calstudy.cli import main
from calstudy.paper import (
    CHECKSUM_FILE,
    NATS_SIZES,
    PAPER_FILES,
    PAPER_SEED,
    import_paper_csv,
    import_paper_dir,
    nats_archs,
    parse_checksums,
    read_checksums,
    released_columns,
    verify_checksums,
    write_checksums,
    write_release_sample,
)
from calstudy.schema import ACCURACY_COLUMNS, ATTACK_COLUMNS, CORRUPTIONS
from calstudy.space import all_sss, all_tss, canonical_tss
from calstudy.store import Store

N_TSS, N_SSS = 60, 40
BINS = (5, 10, 15, 20, 25, 50, 100, 200, 500)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The six files, generated once for the module (copy before changing them)."""
    directory = tmp_path_factory.mktemp("release")
    write_release_sample(directory, n_tss=N_TSS, n_sss=N_SSS, seed=0, checksums=True)
    return directory


@pytest.fixture
def paper_dir(release: Path, tmp_path: Path) -> Path:
    """A private copy of the six files, without SHA256SUMS."""
    directory = tmp_path / "paper"
    shutil.copytree(release, directory)
    (directory / CHECKSUM_FILE).unlink()
    return directory


def raw(directory: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(directory / name, dtype={"arch": str})


# ── the released format ──────────────────────────────────────────────────────────────────────
def test_released_columns() -> None:
    tss, sss = released_columns("tss"), released_columns("sss")
    assert len(tss) == 158 and len(sss) == 107 and tss[:107] == sss
    assert sss[:5] == ["config", "acc", "correct_confidence", "incorrect_confidence", "arch"]
    assert sss[5:11] == [
        "pre_ECE_5", "post_ECE_5", "pre_ECE_em_5", "post_ECE_em_5", "pre_cwCE_5", "post_cwCE_5"
    ]  # fmt: skip
    assert sss[95:97] == ["pre_KSCE", "post_KSCE"] and sss[103:] == [
        "pre_Brier", "post_Brier", "pre_auc_cifar10c", "pre_auc_svhn"
    ]  # fmt: skip
    assert tss[107:] == [*ATTACK_COLUMNS, *CORRUPTIONS]
    assert tss[107] == "fgsm_Linf_acc0_1" and tss[117] == "fgsm_Linf_acc255_0"
    with pytest.raises(ValueError, match=r"Expected `space` to be 'tss' or 'sss', got 'x'"):
        released_columns("x")  # type: ignore[arg-type]


def test_nats_index_order() -> None:
    tss = nats_archs("tss")
    # Indices 0 and 1: the paper's cifar10_tss.csv; 0, 9, 123: NATS-Bench's own assertions.
    assert tss[0] == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|"
        "skip_connect~2|"
    )
    assert tss[1] == (
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
        "skip_connect~2|"
    )
    assert tss[9] == "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    assert tss[123] == (
        "|avg_pool_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|"
    )
    assert sorted(tss) == sorted(all_tss()) and len(set(tss)) == NATS_SIZES["tss"]
    assert tss != all_tss() and tss != sorted(tss)
    sss = nats_archs("sss")
    assert sss == all_sss() and len(sss) == NATS_SIZES["sss"]
    assert sss[:2] == ["8:8:8:8:8", "8:8:8:8:16"] and sss[-1] == "64:64:64:64:64"
    assert sss != sorted(sss)  # "16:…" sorts before "8:…" as text
    with pytest.raises(ValueError, match="Expected `space`"):
        nats_archs("both")  # type: ignore[arg-type]


def test_sample_has_the_released_format(release: Path) -> None:
    assert sorted(p.name for p in release.glob("*.csv")) == sorted(PAPER_FILES)
    archs = {space: nats_archs(space) for space in ("tss", "sss")}
    pairs: dict[str, pd.Series] = {}
    for name in PAPER_FILES:
        space = name[-7:-4]
        text = (release / name).read_text()
        header = text.split("\n", 1)[0]
        assert header == ",".join(released_columns(space))  # exact order, unquoted
        assert '"' not in text
        frame = raw(release, name)
        assert len(frame) == (N_TSS if space == "tss" else N_SSS)
        config = frame["config"].to_numpy()
        assert frame["config"].dtype == np.int64 and (np.diff(config) > 0).all()
        assert 0 <= config.min() and config.max() < NATS_SIZES[space]
        assert frame["arch"].tolist() == [archs[space][i] for i in config]
        # Fractions everywhere, with the released files' decimals.
        accuracies = [c for c in ACCURACY_COLUMNS if c in frame.columns]
        assert len(accuracies) == (1 + 36 + 15 if space == "tss" else 1)
        assert ((frame[accuracies] >= 0) & (frame[accuracies] <= 1)).all().all()
        for columns, decimals in (
            (["acc", *ATTACK_COLUMNS], 4),
            (["correct_confidence", "incorrect_confidence", *CORRUPTIONS], 3),
        ):
            present = [c for c in columns if c in frame.columns]
            values = frame[present].to_numpy()
            np.testing.assert_array_equal(values, np.round(values, decimals))
        assert (frame["correct_confidence"] >= frame["incorrect_confidence"]).all()
        # Calibration columns at full precision: most values need more than 6 decimals.
        ece = frame["pre_ECE_15"].to_numpy()
        assert (ece != np.round(ece, 6)).mean() > 0.9 and (ece > 0).all()
        # The same config ↔ arch pairs in every dataset's file of a space.
        previous = pairs.setdefault(space, frame.set_index("config")["arch"])
        pd.testing.assert_series_equal(frame.set_index("config")["arch"], previous)


def test_config_is_not_the_lexicographic_position(release: Path) -> None:
    frame = raw(release, "cifar10_tss.csv")
    position = {arch: i for i, arch in enumerate(all_tss())}
    assert (frame["arch"].map(position) != frame["config"]).mean() > 0.95
    assert frame["arch"].tolist() != sorted(frame["arch"])


def test_sample_is_seeded_and_validated(tmp_path: Path) -> None:
    a = write_release_sample(tmp_path / "a", n_tss=5, n_sss=0, datasets=["cifar100"], seed=3)
    b = write_release_sample(tmp_path / "b", n_tss=5, n_sss=0, datasets=["cifar100"], seed=3)
    c = write_release_sample(tmp_path / "c", n_tss=5, n_sss=0, datasets=["cifar100"], seed=4)
    assert [p.name for p in a] == ["cifar100_tss.csv"]
    assert a[0].read_bytes() == b[0].read_bytes() != c[0].read_bytes()
    assert not list((tmp_path / "a").glob(".*"))  # no temporary file left
    bad = [
        ({"n_tss": 15_626}, r"Expected `n_tss` to be in \[0, 15625\], got 15626"),
        ({"n_sss": -1}, r"Expected `n_sss` to be in \[0, 32768\], got -1"),
        ({"n_tss": 2.5}, r"Expected `n_tss` to be an integer, got 2.5"),
        ({"datasets": ["cifar10", "svhn"]}, r"Expected `datasets` to be distinct names"),
        ({"datasets": []}, r"Expected `datasets` to be distinct names"),
        ({"seed": -2}, r"Expected `seed` to be a non-negative integer, got -2"),
    ]
    for kwargs, message in bad:
        with pytest.raises(ValueError, match=message):
            write_release_sample(tmp_path / "bad", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "bad").exists()


def tau(a: pd.Series, b: pd.Series) -> float:
    return float(kendalltau(a, b).statistic)


def test_sample_values_carry_the_structure_the_chapters_need(tmp_path: Path) -> None:
    write_release_sample(tmp_path, n_tss=2000, n_sss=1500, seed=1)
    tss = {d: raw(tmp_path, f"{d}_tss.csv") for d in ("cifar10", "cifar100", "ImageNet")}
    c10, im = tss["cifar10"], tss["ImageNet"]
    assert 0.85 < c10["acc"].median() < 0.92 and c10["acc"].max() < 0.95
    assert 0.3 < im["acc"].median() < 0.45
    for frame in tss.values():
        # Binned estimators grow with the bin count (median over networks) …
        for prefix in ("pre", "post"):
            medians = [frame[f"{prefix}_ECE_{n}"].median() for n in BINS]
            assert np.all(np.diff(medians) > 0), (prefix, medians)
        # … agree across families and bin counts before scaling, not across pre/post.
        ece = frame["pre_ECE_15"]
        assert tau(ece, frame["pre_ECE_em_15"]) > 0.85 and tau(ece, frame["pre_KSCE"]) > 0.85
        assert tau(ece, frame["pre_MMCE"]) > 0.7 and tau(ece, frame["pre_ECE_25"]) > 0.85
        assert abs(tau(ece, frame["post_ECE_15"])) < 0.2
        assert abs(tau(ece, frame["pre_auc_svhn"])) < 0.2
        assert (frame["post_NLL"] < frame["pre_NLL"]).mean() > 0.9
        # Attacks: accuracy never rises with ε; PGD ends near 0, FGSM at a floor.
        for attack in ("fgsm", "pgd", "aa_apgd_ce", "aa_square"):
            columns = [c for c in ATTACK_COLUMNS if c.startswith(f"{attack}_Linf")]
            values = frame[columns].to_numpy()
            assert (np.diff(values, axis=1) <= 0).all() and (values[:, 0] <= frame["acc"]).all()
        assert frame["pgd_Linf_acc8_0"].median() < 0.005 < frame["fgsm_Linf_acc255_0"].median()
        assert (frame[list(CORRUPTIONS)].to_numpy() <= frame[["acc"]].to_numpy()).all()
        assert frame["gaussian_noise"].median() < frame["brightness"].median()
    # Datasets agree on calibration in part, CIFAR-10 and ImageNet16-120 least.
    assert (
        0
        < tau(c10["pre_ECE_15"], im["pre_ECE_15"])
        < tau(tss["cifar100"]["pre_ECE_15"], im["pre_ECE_15"])
    )
    # SSS: ECE grows with total width on CIFAR-100, hardly on CIFAR-10.
    trend = {}
    for dataset in ("cifar10", "cifar100"):
        sss = raw(tmp_path, f"{dataset}_sss.csv")
        width = sss["arch"].str.split(":").map(lambda w: sum(map(int, w)))
        trend[dataset] = tau(width, sss["pre_ECE_15"])
    assert trend["cifar100"] > 0.25 and abs(trend["cifar10"]) < 0.15, trend


@pytest.mark.slow
def test_full_size_rows_and_isomorphic_strings(tmp_path: Path, release: Path) -> None:
    paths = write_release_sample(tmp_path, datasets=["cifar10"], seed=0)
    for path, space in zip(paths, ("tss", "sss"), strict=True):
        frame = raw(tmp_path, path.name)
        assert len(frame) == NATS_SIZES[space]
        assert (frame["config"] == np.arange(NATS_SIZES[space])).all()
        assert frame["arch"].tolist() == nats_archs(space)
        # A smaller sample of the same seed holds the same rows.
        small = raw(release, path.name).set_index("config")
        pd.testing.assert_frame_equal(frame.set_index("config").loc[small.index], small)
    # Isomorphic strings share architecture factors: an ICC(1) across them is well above 0.
    tss = raw(tmp_path, "cifar10_tss.csv")[["arch", "acc", "pre_ECE_15"]]
    tss = tss[tss["acc"] > 0.2].assign(cls=lambda f: f["arch"].map(canonical_tss))
    tss = tss[tss.groupby("cls")["cls"].transform("size") > 1]
    for column, low in (("acc", 0.6), ("pre_ECE_15", 0.3)):
        values = np.log(tss[column]) if column != "acc" else tss[column]
        groups = values.groupby(tss["cls"])
        k, n = groups.size(), len(values)
        n0 = (n - (k**2).sum() / n) / (len(k) - 1)
        msb = (k * (groups.mean() - values.mean()) ** 2).sum() / (len(k) - 1)
        msw = ((values - tss["cls"].map(groups.mean())) ** 2).sum() / (n - len(k))
        icc = (msb - msw) / (msb + (n0 - 1) * msw)
        assert low < icc < 0.95, (column, icc)


# ── import ───────────────────────────────────────────────────────────────────────────────────
def test_import_tss_csv_maps_every_column(paper_dir: Path) -> None:
    source = raw(paper_dir, "cifar10_tss.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # fractions: nothing converted, nothing dropped
        frame = import_paper_csv(paper_dir / "cifar10_tss.csv")
    assert len(frame) == N_TSS
    assert (frame["space"] == "tss").all() and (frame["dataset"] == "cifar10").all()
    assert (frame["seed"] == PAPER_SEED).all() and (frame["fidelity"] == "nats-200").all()
    assert (frame["source"] == "paper-csv").all() and (frame["status"] == "ok").all()
    assert frame["arch"].tolist() == source["arch"].tolist()
    assert frame["arch_index"].tolist() == source["config"].tolist()
    values = [c for c in source.columns if c not in ("config", "arch")]
    assert len(values) == 156
    pd.testing.assert_frame_equal(frame[values], source[values])
    # The same file in percent, as NATS-Bench reports accuracies: read as percent with "auto".
    percent = source.copy()
    accuracies = ["acc", *ATTACK_COLUMNS, *CORRUPTIONS]
    percent[accuracies] = percent[accuracies] * 100
    path = paper_dir / "cifar10_tss.csv"
    percent.to_csv(path, index=False)
    with pytest.warns(UserWarning, match="read as percent"):
        frame = import_paper_csv(path)
    np.testing.assert_allclose(frame[accuracies], source[accuracies], rtol=1e-12)


def test_import_dir_and_store_round_trip(paper_dir: Path, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = import_paper_dir(paper_dir)
    assert len(frame) == 3 * (N_TSS + N_SSS)
    sss = frame[frame["space"] == "sss"]
    assert set(sss["fidelity"]) == {"nats-90"} and sss["snow"].isna().all()
    assert set(frame["dataset"]) == {"cifar10", "cifar100", "imagenet16-120"}
    assert frame["created_at"].nunique() == 1
    store = Store(tmp_path / "store")
    store.append_frame(frame)
    assert store.validate() == []
    back = store.read(frame.columns.tolist())
    key = ["dataset", "space", "arch"]
    back = back.sort_values(key, ignore_index=True)
    frame = frame.sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(
        back.astype(object).where(back.notna(), None),
        frame.astype(object).where(frame.notna(), None),
        check_dtype=False,
    )
    assert len(store.keys()) == len(frame)


def test_unknown_columns_warn_and_are_dropped(paper_dir: Path) -> None:
    path = paper_dir / "cifar100_tss.csv"
    source = raw(paper_dir, path.name)
    extra = pd.DataFrame({"Unnamed: 0": 0, "post_auc_svhn": 0.5}, index=source.index)
    pd.concat([extra[["Unnamed: 0"]], source, extra[["post_auc_svhn"]]], axis=1).to_csv(
        path, index=False
    )
    with pytest.warns(
        UserWarning,
        match=r"2 column\(s\) not in the schema, dropped: \['Unnamed: 0', 'post_auc_svhn'\]",
    ):
        frame = import_paper_csv(path)
    assert "post_auc_svhn" not in frame.columns and (frame["dataset"] == "cifar100").all()


def test_file_name_must_say_dataset_and_space(paper_dir: Path) -> None:
    path = paper_dir / "results.csv"
    shutil.copy(paper_dir / "cifar10_sss.csv", path)
    with pytest.raises(
        ValueError, match=r"Cannot infer dataset and space from the file name 'results.csv'"
    ):
        import_paper_csv(path)
    frame = import_paper_csv(path, dataset="cifar10", space="sss")
    assert set(frame["space"]) == {"sss"} and set(frame["fidelity"]) == {"nats-90"}
    with pytest.raises(ValueError, match=r"Expected `space` to be 'tss' or 'sss', got 'xyz'"):
        import_paper_csv(path, dataset="cifar10", space="xyz")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Expected `require` to be 'key' or 'released'"):
        import_paper_csv(path, dataset="cifar10", space="sss", require="all")  # type: ignore[arg-type]


def test_accuracy_units(paper_dir: Path) -> None:
    path = paper_dir / "ImageNet_sss.csv"
    source = raw(paper_dir, path.name)
    source.assign(acc=source["acc"] * 100).to_csv(path, index=False)
    frame = import_paper_csv(path, accuracy_unit="percent")
    np.testing.assert_allclose(frame["acc"], source["acc"])
    with pytest.raises(ValueError, match=r"Expected `accuracy_unit` to be 'auto'"):
        import_paper_csv(path, accuracy_unit="permille")  # type: ignore[arg-type]
    source.assign(acc=source["acc"] * 1000).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"Expected `acc` in .* to be a percentage in \[0, 100\]"):
        import_paper_csv(path, accuracy_unit="percent")


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"Paper CSV '.*cifar10_tss.csv' does not exist"):
        import_paper_csv(tmp_path / "cifar10_tss.csv")
    path = tmp_path / "cifar10_tss.csv"
    pd.DataFrame({"acc": [0.5], "arch": ["x"]}).to_csv(path, index=False)
    with pytest.raises(
        ValueError, match=r"Expected paper CSV 'cifar10_tss.csv' to have column\(s\) \['config'\]"
    ):
        import_paper_csv(path)
    pd.DataFrame({"config": [1], "arch": ["x"], "acc": ["high"]}).to_csv(path, index=False)
    with pytest.raises(
        ValueError,
        match=r"Expected `acc` in paper CSV 'cifar10_tss.csv' to be numeric, got 'high' "
        r"\(line 2, config 1; 1 such value\(s\)\)",
    ):
        import_paper_csv(path)


def test_import_dir_errors_and_missing_files(tmp_path: Path, paper_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        import_paper_dir(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"No paper CSV .* in"):
        import_paper_dir(tmp_path / "empty")
    for name in ("ImageNet_tss", "cifar100_sss", "cifar100_tss", "cifar10_sss"):
        (paper_dir / f"{name}.csv").unlink()
    with pytest.warns(UserWarning) as caught:
        frame = import_paper_dir(paper_dir)
    absent = [str(w.message) for w in caught if "absent" in str(w.message)]
    assert len(absent) == 1
    for name in ("ImageNet_tss", "cifar100_sss", "cifar100_tss", "cifar10_sss"):
        assert f"'{name}.csv'" in absent[0]
    assert "'cifar10_tss.csv'" not in absent[0]
    assert len(frame) == N_TSS + N_SSS


# ── bad released files: a clear error naming the file and column, nothing written ────────────
def _drop_column(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["pre_ECE_15"])


def _percent(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(acc=frame["acc"] * 100)


def _percent_corruption(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(snow=frame["snow"] * 100)


def _negative(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[3, "pgd_Linf_acc1_0"] = -0.25
    return frame


def _duplicate_config(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[5, "config"] = frame.loc[4, "config"]
    return frame


def _duplicate_arch(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[5, "arch"] = frame.loc[4, "arch"]
    return frame


def _fractional_config(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(config=frame["config"].astype(float).where(frame.index != 2, 7.5))


def _swapped_arch(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[[0, 1], "arch"] = frame.loc[[1, 0], "arch"].to_numpy()
    return frame


def _other_config(frame: pd.DataFrame) -> pd.DataFrame:
    used = set(frame["config"])
    free = next(i for i in range(NATS_SIZES["tss"]) if i not in used)
    return frame.assign(config=frame["config"].where(frame.index != 0, free)).sort_values("config")


def _text_value(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({"post_NLL": object})
    frame.loc[7, "post_NLL"] = "0.41 (fitted)"
    return frame


def _empty_arch(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[1, "arch"] = None
    return frame


BAD_FILES = {
    "missing column": (
        _drop_column,
        r"Expected paper CSV 'cifar100_tss.csv' to have column\(s\) \['pre_ECE_15'\] "
        r"\(every released file has these 105 columns\)",
    ),
    "percent accuracy": (
        _percent,
        r"Expected `acc` in paper CSV 'cifar100_tss.csv' to be a fraction in \[0, 1\], got "
        r"\d+\.\d+ \(line \d+, config \d+; \d+ such value\(s\)\); the released files hold "
        r"fractions: if this file holds percent, pass accuracy_unit='percent'",
    ),
    "percent corruption": (
        _percent_corruption,
        r"Expected `snow` in paper CSV 'cifar100_tss.csv' to be a fraction in \[0, 1\]",
    ),
    "negative accuracy": (
        _negative,
        r"Expected `pgd_Linf_acc1_0` in paper CSV 'cifar100_tss.csv' to be a fraction in "
        r"\[0, 1\], got -0.25 \(line 5, config \d+; 1 such value\(s\)\)\.",
    ),
    "duplicate config": (
        _duplicate_config,
        r"Expected `config` in paper CSV 'cifar100_tss.csv' to be unique, got \d+ on lines "
        r"\[6, 7\] \(1 repeated value\(s\)\)",
    ),
    "duplicate arch": (
        _duplicate_arch,
        r"Expected `arch` in paper CSV 'cifar100_tss.csv' to be unique, got '\|.*\|' on lines "
        r"\[6, 7\]",
    ),
    "fractional config": (
        _fractional_config,
        r"Expected `config` in paper CSV 'cifar100_tss.csv' to be a NATS-Bench index \(an "
        r"integer ≥ 0\), got 7.5 \(line 4\)",
    ),
    "arch disagrees across files": (
        _swapped_arch,
        r"Expected `arch` of config \d+ to be the same in every TSS paper CSV, got '\|.*\|' in "
        r"'\w+_tss.csv' and '\|.*\|' in '\w+_tss.csv' \(2 config\(s\) disagree\)",
    ),
    "config disagrees across files": (
        _other_config,
        r"Expected `config` of arch '\|.*\|' to be the same in every TSS paper CSV, got \d+ in "
        r"'\w+_tss.csv' and \d+ in '\w+_tss.csv' \(1 arch\(s\) disagree\)",
    ),
    "non-numeric value": (
        _text_value,
        r"Expected `post_NLL` in paper CSV 'cifar100_tss.csv' to be numeric, got "
        r"'0.41 \(fitted\)' \(line 9, config \d+; 1 such value\(s\)\)",
    ),
    "empty arch": (
        _empty_arch,
        r"Expected `arch` in paper CSV 'cifar100_tss.csv' to name an architecture, got an empty "
        r"value \(line 3, config \d+\)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_release_file_is_refused_before_anything_is_written(
    case: str, paper_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    change, message = BAD_FILES[case]
    path = paper_dir / "cifar100_tss.csv"
    change(raw(paper_dir, path.name)).to_csv(path, index=False)
    with pytest.raises(ValueError, match=message) as caught:
        import_paper_dir(paper_dir)
    assert "'cifar100_tss.csv'" in str(caught.value)  # the file at fault is named
    store = tmp_path / "store"
    assert main(["dataset", "import-paper", str(paper_dir), "--out", str(store)]) == 1
    err = capsys.readouterr().err
    assert re.search(message, err.replace("\n", " ")), err
    assert not store.exists() or not any(store.iterdir())  # nothing half-written


def test_repeated_header_is_refused(paper_dir: Path) -> None:
    path = paper_dir / "cifar10_sss.csv"
    lines = path.read_text().split("\n")
    lines[0] = lines[0].replace("post_ECE_5", "pre_ECE_5", 1)
    path.write_text("\n".join(lines))
    with pytest.raises(
        ValueError,
        match=r"Expected each column of paper CSV 'cifar10_sss.csv' once, got repeated "
        r"header\(s\) read as \['pre_ECE_5.1'\]",
    ):
        import_paper_dir(paper_dir)


def test_percent_directory_imports_when_told(paper_dir: Path, tmp_path: Path) -> None:
    for name in PAPER_FILES:
        frame = raw(paper_dir, name)
        columns = [c for c in ACCURACY_COLUMNS if c in frame.columns]
        frame.assign(**{c: frame[c] * 100 for c in columns}).to_csv(paper_dir / name, index=False)
    store = tmp_path / "store"
    argv = ["dataset", "import-paper", str(paper_dir), "--out", str(store)]
    assert main(argv) == 1
    assert main([*argv, "--accuracy-unit", "percent"]) == 0
    acc = Store(store).read(["acc"])["acc"]
    assert len(acc) == 3 * (N_TSS + N_SSS) and acc.between(0, 1).all()


# ── checksums ────────────────────────────────────────────────────────────────────────────────
def test_checksums_are_verified_on_import(
    release: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "paper"
    shutil.copytree(release, directory)
    sums = read_checksums(directory / CHECKSUM_FILE)
    assert sorted(sums) == sorted(PAPER_FILES)
    assert sorted(verify_checksums(directory)) == sorted(PAPER_FILES)
    # One changed byte: the import names the file and writes nothing.
    path = directory / "ImageNet_sss.csv"
    data = bytearray(path.read_bytes())
    data[-3] = ord("7") if data[-3] != ord("7") else ord("3")
    path.write_bytes(bytes(data))
    message = r"Expected '.*ImageNet_sss.csv' to have the SHA-256 listed in '.*SHA256SUMS'"
    with pytest.raises(ValueError, match=message):
        import_paper_dir(directory)
    store = tmp_path / "store"
    assert main(["dataset", "import-paper", str(directory), "--out", str(store)]) == 1
    assert "ImageNet_sss.csv" in capsys.readouterr().err and not store.exists()
    # A file SHA256SUMS does not list is imported, with a warning.
    del sums["ImageNet_sss.csv"]
    write_checksums(directory / CHECKSUM_FILE, sums)
    with pytest.warns(UserWarning, match=r"not listed in SHA256SUMS, not verified: \['Image"):
        import_paper_dir(directory)


def test_checksum_files(tmp_path: Path) -> None:
    digest = "ab" * 32
    assert parse_checksums(f"{digest}  a.csv\n\n{digest.upper()} *b c.csv\n", where="x") == {
        "a.csv": digest,
        "b c.csv": digest,
    }
    with pytest.raises(ValueError, match=r"Expected line 1 of x to read '<64 hex digits>"):
        parse_checksums("abc  a.csv\n", where="x")
    with pytest.raises(ValueError, match=r"Expected x to list 'a.csv' once, got it twice"):
        parse_checksums(f"{digest}  a.csv\n{digest}  a.csv\n", where="x")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_checksums(tmp_path / CHECKSUM_FILE)
    with pytest.raises(ValueError, match="Expected a file name and 64 hex digits"):
        write_checksums(tmp_path / CHECKSUM_FILE, {"a.csv": "12"})
    write_checksums(tmp_path / CHECKSUM_FILE, {"b.csv": digest, "a.csv": digest})
    assert (tmp_path / CHECKSUM_FILE).read_text() == f"{digest}  a.csv\n{digest}  b.csv\n"
    assert verify_checksums(tmp_path / "nowhere") == []
