"""Tests for calstudy.data: every source format written for real, read back exactly."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from calstudy import data
from calstudy.data import (
    CIFAR10_CLASSES,
    CIFAR100_CLASSES,
    DATASETS,
    FASHION_MNIST_CLASSES,
    ImageDataset,
    load_dataset,
    nats_splits,
    sample_data_dir,
)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the cache at tmp_path and forget any CALSTUDY_DATA of the developer."""
    monkeypatch.setenv("CALSTUDY_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("CALSTUDY_DATA", raising=False)


def _images(n: int, size: int = 32, *, seed: int = 0, channels: int = 3) -> np.ndarray:
    shape = (n, size, size, channels) if channels > 1 else (n, size, size)
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def _planes(x: np.ndarray) -> np.ndarray:
    """NHWC images to CIFAR's (N, 3*S*S) rows: the red plane, then green, then blue."""
    return x.transpose(0, 3, 1, 2).reshape(len(x), -1)


def _dump(obj: object, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(obj, protocol=2))


def _png(img: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def _cache_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache" / "datasets").glob("*.npz"))


# ----------------------------------------------------------------------------------------------
# CIFAR pickles (torchvision's download format, bytes keys as in the original Python-2 pickles)
# ----------------------------------------------------------------------------------------------


def _write_cifar10_pickles(
    root: Path, x_train: np.ndarray, y_train: np.ndarray, x_test, y_test
) -> None:
    folder = root / "cifar-10-batches-py"
    for i, chunk in enumerate(np.array_split(np.arange(len(x_train)), 5), start=1):
        _dump(
            {
                b"batch_label": f"training batch {i} of 5".encode(),
                b"labels": y_train[chunk].tolist(),
                b"data": _planes(x_train[chunk]),
                b"filenames": [f"img_{j}.png".encode() for j in chunk],
            },
            folder / f"data_batch_{i}",
        )
    _dump({b"labels": y_test.tolist(), b"data": _planes(x_test)}, folder / "test_batch")
    _dump(
        {b"label_names": [c.encode() for c in CIFAR10_CLASSES], b"num_vis": 3072},
        folder / "batches.meta",
    )


def test_cifar10_pickles_round_trip(tmp_path: Path) -> None:
    x_train, x_test = _images(10, seed=1), _images(4, seed=2)
    y_train, y_test = np.arange(10) % 10, np.array([3, 1, 4, 1])
    _write_cifar10_pickles(tmp_path, x_train, y_train, x_test, y_test)

    ds = load_dataset("cifar10", tmp_path)

    np.testing.assert_array_equal(ds.x_train, x_train)
    np.testing.assert_array_equal(ds.x_test, x_test)
    np.testing.assert_array_equal(ds.y_train, y_train)
    np.testing.assert_array_equal(ds.y_test, y_test)
    assert ds.y_train.dtype == np.int64 and ds.x_train.dtype == np.uint8
    assert ds.classes == CIFAR10_CLASSES
    assert ds.mean == pytest.approx((125.3 / 255, 123.0 / 255, 113.9 / 255))


def test_cifar_pickle_row_is_red_then_green_then_blue_planes(tmp_path: Path) -> None:
    """Hand-made row: offset 1 is red at (row 0, col 1); offset 1024 + 32 is green at (1, 0)."""
    row = np.zeros((1, 3072), np.uint8)
    row[0, 1], row[0, 1024 + 32] = 255, 7
    folder = tmp_path / "cifar-10-batches-py"
    for i in range(1, 6):
        _dump({b"data": row, b"labels": [0]}, folder / f"data_batch_{i}")
    _dump({b"data": row, b"labels": [9]}, folder / "test_batch")

    ds = load_dataset("cifar10", tmp_path, cache=False)

    assert ds.x_test[0, 0, 1].tolist() == [255, 0, 0]
    assert ds.x_test[0, 1, 0].tolist() == [0, 7, 0]
    assert int(ds.x_test.sum()) == 262 and ds.y_test.tolist() == [9]


def test_cifar100_pickles_round_trip(tmp_path: Path) -> None:
    x_train, x_test = _images(6, seed=3), _images(3, seed=4)
    y_train, y_test = np.array([0, 99, 50, 7, 7, 1]), np.array([98, 0, 42])
    folder = tmp_path / "cifar-100-python"
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        _dump(
            {b"fine_labels": y.tolist(), b"coarse_labels": (y // 5).tolist(), b"data": _planes(x)},
            folder / split,
        )
    _dump({b"fine_label_names": [c.encode() for c in CIFAR100_CLASSES]}, folder / "meta")

    ds = load_dataset("cifar100", tmp_path)

    np.testing.assert_array_equal(ds.x_train, x_train)
    np.testing.assert_array_equal(ds.x_test, x_test)
    assert ds.y_train.tolist() == y_train.tolist() and ds.y_test.tolist() == y_test.tolist()
    assert ds.num_classes == 100 and ds.classes[99] == "worm"


def test_cifar100_class_list_is_the_alphabetical_fine_labels() -> None:
    assert len(set(CIFAR100_CLASSES)) == 100
    assert list(CIFAR100_CLASSES) == sorted(CIFAR100_CLASSES)


# ----------------------------------------------------------------------------------------------
# Image folders and tarballs
# ----------------------------------------------------------------------------------------------


def _tree(n_per_class: dict[str, int], *, seed: int = 0) -> dict[str, np.ndarray]:
    """``{"train/<class>/<i>.png": image}`` with file names 0.png, 1.png, …, 10.png."""
    out, k = {}, 0
    for split in ("train", "test"):
        for cls, n in n_per_class.items():
            for i in range(n):
                out[f"{split}/{cls}/{i}.png"] = _images(1, seed=seed + k)[0]
                k += 1
    return out


def _write_tree(root: Path, tree: dict[str, np.ndarray]) -> None:
    for name, img in tree.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(_png(img))


def _write_tar(path: Path, tree: dict[str, np.ndarray], *, prefix: str = "./") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tf:
        for name, payload in [
            ("SOURCE.txt", b"test data"),
            *((n, _png(i)) for n, i in tree.items()),
        ]:
            info = tarfile.TarInfo(prefix + name)
            info.size = len(payload)
            tf.addfile(info, io.BytesIO(payload))


def test_image_folder_labels_follow_cifar10_order_and_files_sort_naturally(tmp_path: Path) -> None:
    tree = _tree({"truck": 11, "airplane": 2})
    _write_tree(tmp_path, tree)
    (tmp_path / "train" / "truck" / "notes.txt").write_text("not an image")

    ds = load_dataset("cifar10", tmp_path)

    # airplane (label 0) before truck (label 9); inside a class 0.png, 1.png, 2.png, …, 10.png
    expected = [tree[f"train/airplane/{i}.png"] for i in range(2)]
    expected += [tree[f"train/truck/{i}.png"] for i in range(11)]
    np.testing.assert_array_equal(ds.x_train, np.stack(expected))
    assert ds.y_train.tolist() == [0] * 2 + [9] * 11
    assert ds.y_test.tolist() == [0] * 2 + [9] * 11
    assert ds.classes == CIFAR10_CLASSES


def test_image_tar_matches_image_folder(tmp_path: Path) -> None:
    tree = _tree({"cat": 3, "dog": 2, "frog": 1}, seed=10)
    _write_tree(tmp_path / "folder", tree)
    _write_tar(tmp_path / "tar" / "cifar10-mine.tar.gz", tree)

    from_folder = load_dataset("cifar10", tmp_path / "folder")
    from_tar = load_dataset("cifar10", tmp_path / "tar")

    np.testing.assert_array_equal(from_tar.x_train, from_folder.x_train)
    np.testing.assert_array_equal(from_tar.x_test, from_folder.x_test)
    np.testing.assert_array_equal(from_tar.y_train, [3, 3, 3, 5, 5, 6])


def test_tar_under_a_top_folder_and_passed_as_a_file(tmp_path: Path) -> None:
    tree = _tree({"ship": 2}, seed=20)
    path = tmp_path / "anything.tar.gz"
    _write_tar(path, tree, prefix="cifar10/")

    ds = load_dataset("cifar10", path)

    np.testing.assert_array_equal(
        ds.x_test, np.stack([tree["test/ship/0.png"], tree["test/ship/1.png"]])
    )
    assert ds.y_test.tolist() == [8, 8]


def test_cifar10_tar_pattern_ignores_cifar100_archives(tmp_path: Path) -> None:
    _write_tar(tmp_path / "cifar100-images.tar.gz", _tree({"apple": 1}))
    _write_tar(tmp_path / "cifar10-images.tar.gz", _tree({"bird": 1}, seed=5))

    assert load_dataset("cifar10", tmp_path).y_test.tolist() == [2]
    assert load_dataset("cifar100", tmp_path).y_test.tolist() == [0]


def test_digit_folders_map_to_canonical_class_names(tmp_path: Path) -> None:
    _write_tree(tmp_path, _tree({"3": 1, "9": 1}))
    ds = load_dataset("cifar10", tmp_path)
    assert ds.y_train.tolist() == [3, 9] and ds.classes[3] == "cat"


# ----------------------------------------------------------------------------------------------
# npz, ImageNet16, SVHN, Fashion-MNIST
# ----------------------------------------------------------------------------------------------


def test_npz_round_trip(tmp_path: Path) -> None:
    arrays = {
        "x_train": _images(5, seed=7),
        "y_train": np.array([0, 1, 2, 3, 4], dtype=np.uint8),
        "x_test": _images(2, seed=8),
        "y_test": np.array([9, 8]),
    }
    np.savez(tmp_path / "cifar10.npz", **arrays)

    ds = load_dataset("cifar10", tmp_path)

    for key, value in arrays.items():
        np.testing.assert_array_equal(getattr(ds, key), value)
    assert ds.y_train.dtype == np.int64


def test_imagenet16_keeps_labels_up_to_120_and_makes_them_zero_based(tmp_path: Path) -> None:
    folder = tmp_path / "ImageNet16"
    x_train, x_test = _images(20, 16, seed=11), _images(4, 16, seed=12)
    y_train = np.array([1, 120, 121, 1000, 5] * 4)
    for i, chunk in enumerate(np.array_split(np.arange(20), 10), start=1):
        mean = np.zeros(768)
        _dump(
            {"data": _planes(x_train[chunk]), "labels": y_train[chunk].tolist(), "mean": mean},
            folder / f"train_data_batch_{i}",
        )
    _dump({"data": _planes(x_test), "labels": [2, 500, 120, 1]}, folder / "val_data")

    ds = load_dataset("imagenet16-120", tmp_path)

    keep = y_train <= 120
    np.testing.assert_array_equal(ds.x_train, x_train[keep])
    np.testing.assert_array_equal(ds.y_train, y_train[keep] - 1)
    np.testing.assert_array_equal(ds.x_test, x_test[[0, 2, 3]])
    assert ds.y_test.tolist() == [1, 119, 0]
    assert ds.image_size == 16 and ds.num_classes == 120


def test_svhn_mat_test_split_only(tmp_path: Path) -> None:
    x = _images(6, seed=13)
    y = np.array([[10], [1], [2], [10], [9], [5]], dtype=np.uint8)
    scipy.io.savemat(tmp_path / "test_32x32.mat", {"X": x.transpose(1, 2, 3, 0), "y": y})

    ds = load_dataset("svhn", tmp_path)

    np.testing.assert_array_equal(ds.x_test, x)
    assert ds.y_test.tolist() == [0, 1, 2, 0, 9, 5]
    assert ds.x_train.shape == (0, 32, 32, 3) and ds.y_train.shape == (0,)
    # no published constants for SVHN: computed from the (test) images
    assert ds.mean == pytest.approx(tuple(x.reshape(-1, 3).mean(axis=0) / 255))
    assert ds.std == pytest.approx(tuple(x.reshape(-1, 3).std(axis=0) / 255))


def _write_idx(path: Path, array: np.ndarray, *, compress: bool = False) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">i4").tobytes()
    payload = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        path = path.with_name(path.name + ".gz")
        payload = gzip.compress(payload)
    path.write_bytes(payload)


def test_fashion_mnist_idx_is_padded_and_replicated(tmp_path: Path) -> None:
    raw = tmp_path / "FashionMNIST" / "raw"
    x_train, x_test = _images(4, 28, seed=14, channels=1), _images(3, 28, seed=15, channels=1)
    _write_idx(raw / "train-images-idx3-ubyte", x_train, compress=True)
    _write_idx(raw / "train-labels-idx1-ubyte", np.array([0, 9, 4, 4]))
    _write_idx(raw / "t10k-images-idx3-ubyte", x_test)
    _write_idx(raw / "t10k-labels-idx1-ubyte", np.array([1, 2, 3]))

    ds = load_dataset("fashion-mnist", tmp_path)

    assert ds.x_train.shape == (4, 32, 32, 3) and ds.x_test.shape == (3, 32, 32, 3)
    for c in range(3):
        np.testing.assert_array_equal(ds.x_train[:, 2:30, 2:30, c], x_train)
        np.testing.assert_array_equal(ds.x_test[:, 2:30, 2:30, c], x_test)
    border = np.ones((32, 32), bool)
    border[2:30, 2:30] = False
    assert not ds.x_train[:, border].any()
    assert ds.y_train.tolist() == [0, 9, 4, 4] and ds.classes == FASHION_MNIST_CLASSES


def test_fashion_mnist_greyscale_npz(tmp_path: Path) -> None:
    x = _images(2, 28, seed=16, channels=1)
    np.savez(tmp_path / "fashion-mnist.npz", x_train=x, y_train=[1, 2], x_test=x[:1], y_test=[3])
    ds = load_dataset("fashion-mnist", tmp_path)
    np.testing.assert_array_equal(ds.x_test[0, 2:30, 2:30, 1], x[0])


# ----------------------------------------------------------------------------------------------
# The shipped sample
# ----------------------------------------------------------------------------------------------


def test_shipped_cifar10_sample() -> None:
    ds = load_dataset("cifar10", sample_data_dir())

    assert ds.x_train.shape == (4000, 32, 32, 3) and ds.x_test.shape == (1000, 32, 32, 3)
    assert ds.classes == CIFAR10_CLASSES
    assert np.bincount(ds.y_train).tolist() == [400] * 10
    assert np.bincount(ds.y_test).tolist() == [100] * 10
    # the first test image is the first airplane JPEG of the archive, decoded unchanged
    with tarfile.open(sample_data_dir() / "cifar10-sample.tar.gz") as tf:
        names = sorted(
            (m.name for m in tf.getmembers() if m.name.startswith("test/airplane/")),
            key=lambda n: int(Path(n).stem),
        )
        first = np.asarray(Image.open(io.BytesIO(tf.extractfile(names[0]).read())).convert("RGB"))
    np.testing.assert_array_equal(ds.x_test[0], first)


def test_shipped_fashion_mnist_sample() -> None:
    ds = load_dataset("fashion-mnist", sample_data_dir())

    assert ds.x_train.shape == (2000, 32, 32, 3) and ds.x_test.shape == (1000, 32, 32, 3)
    assert ds.classes == FASHION_MNIST_CLASSES
    assert np.bincount(ds.y_train).tolist() == [200] * 10
    assert np.bincount(ds.y_test).tolist() == [100] * 10
    assert not ds.x_test[:, :2].any() and not ds.x_test[:, :, 30:].any()  # zero padding
    np.testing.assert_array_equal(ds.x_test[..., 0], ds.x_test[..., 2])  # grey replicated
    # close to Fashion-MNIST's published pixel mean 0.2860, scaled by the padding (28/32)^2
    assert ds.mean[0] == pytest.approx(0.2860 * (28 / 32) ** 2, abs=0.01)


# ----------------------------------------------------------------------------------------------
# Cache
# ----------------------------------------------------------------------------------------------


def test_second_load_comes_from_cache_without_opening_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_tar(tmp_path / "cifar10.tar.gz", _tree({"deer": 2}, seed=30))
    first = load_dataset("cifar10", tmp_path)
    assert len(_cache_files(tmp_path)) == 1

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the source was opened despite a valid cache")

    monkeypatch.setattr(tarfile, "open", forbidden)
    second = load_dataset("cifar10", tmp_path)

    for key in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(second, key), getattr(first, key))
    assert (second.classes, second.mean, second.std) == (first.classes, first.mean, first.std)


def test_cache_is_invalidated_when_the_source_changes(tmp_path: Path) -> None:
    path = tmp_path / "cifar10.npz"
    np.savez(path, x_train=_images(1), y_train=[0], x_test=_images(1), y_test=[1])
    assert load_dataset("cifar10", tmp_path).y_test.tolist() == [1]

    size = path.stat().st_size
    np.savez(path, x_train=_images(1), y_train=[0], x_test=_images(1), y_test=[2])
    os.utime(path, ns=(1, 1))  # a different mtime, whatever the clock resolution
    assert path.stat().st_size == size  # so only the mtime tells the versions apart

    assert load_dataset("cifar10", tmp_path).y_test.tolist() == [2]
    assert len(_cache_files(tmp_path)) == 2


def test_cache_false_neither_reads_nor_writes(tmp_path: Path) -> None:
    np.savez(
        tmp_path / "cifar10.npz", x_train=_images(1), y_train=[0], x_test=_images(1), y_test=[1]
    )
    load_dataset("cifar10", tmp_path, cache=False)
    assert _cache_files(tmp_path) == []


def test_corrupt_cache_file_is_ignored_and_rewritten(tmp_path: Path) -> None:
    np.savez(
        tmp_path / "cifar10.npz", x_train=_images(1), y_train=[0], x_test=_images(1), y_test=[4]
    )
    load_dataset("cifar10", tmp_path)
    (cached,) = _cache_files(tmp_path)
    cached.write_bytes(b"garbage")

    with pytest.warns(UserWarning, match="Ignoring unreadable cache file"):
        ds = load_dataset("cifar10", tmp_path)

    assert ds.y_test.tolist() == [4]
    assert np.load(cached)["y_test"].tolist() == [4]


# ----------------------------------------------------------------------------------------------
# Data directory resolution and download
# ----------------------------------------------------------------------------------------------


def test_data_dir_falls_back_to_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scipy.io.savemat(
        tmp_path / "test_32x32.mat", {"X": _images(1).transpose(1, 2, 3, 0), "y": [[3]]}
    )
    monkeypatch.setenv("CALSTUDY_DATA", str(tmp_path))
    assert load_dataset("SVHN").y_test.tolist() == [3]


def test_download_runs_only_when_data_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []

    def fake_download(root: Path) -> None:
        calls.append(root)
        np.savez(
            root / "cifar10.npz", x_train=_images(1), y_train=[0], x_test=_images(1), y_test=[5]
        )

    patched = dataclasses.replace(DATASETS["cifar10"], download=fake_download)
    monkeypatch.setitem(DATASETS, "cifar10", patched)

    with pytest.raises(FileNotFoundError, match="or use download=True"):
        load_dataset("cifar10", tmp_path)
    assert load_dataset("cifar10", tmp_path, download=True).y_test.tolist() == [5]
    assert load_dataset("cifar10", tmp_path, download=True).y_test.tolist() == [5]
    assert calls == [tmp_path]


# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------


def test_unknown_dataset_name_lists_the_known_ones() -> None:
    with pytest.raises(
        ValueError, match=r"one of \['cifar10', 'cifar100', 'fashion-mnist'.*got 'mnist'"
    ):
        load_dataset("mnist", ".")


def test_missing_data_dir(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="to exist, but it does not"):
        load_dataset("cifar10", tmp_path / "nope")


def test_empty_data_dir_names_every_accepted_layout(tmp_path: Path) -> None:
    with pytest.raises(
        FileNotFoundError,
        match=r"No CIFAR-10 data found in .*cifar-10-batches-py/.*cifar10\.npz.*CALSTUDY_DATA",
    ):
        load_dataset("cifar10", tmp_path)


def test_no_data_dir_and_no_env() -> None:
    with pytest.raises(ValueError, match="Expected `data_dir` or the CALSTUDY_DATA"):
        load_dataset("cifar10")


def test_imagenet16_cannot_be_downloaded(tmp_path: Path) -> None:
    with pytest.raises(
        FileNotFoundError, match=r"No ImageNet16-120 data found.*val_data.*CALSTUDY_DATA\.$"
    ):
        load_dataset("imagenet16-120", tmp_path, download=True)


def test_malformed_pickle(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(b"\x80\x02}q\x00(")  # a pickle cut short
    with pytest.raises(ValueError, match="Could not unpickle .*data_batch_1"):
        load_dataset("cifar10", tmp_path)


def test_pickle_without_data_key(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-100-python"
    _dump({b"coarse_labels": [0]}, folder / "train")
    _dump({b"coarse_labels": [0]}, folder / "test")
    with pytest.raises(ValueError, match=r"to hold keys \['data', 'fine_labels'\]"):
        load_dataset("cifar100", tmp_path)


def test_truncated_tar(tmp_path: Path) -> None:
    _write_tar(tmp_path / "full.tar.gz", _tree({"cat": 20}))
    blob = (tmp_path / "full.tar.gz").read_bytes()
    (tmp_path / "cifar10-cut.tar.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_dataset("cifar10", tmp_path / "cifar10-cut.tar.gz")


def test_tar_without_images(tmp_path: Path) -> None:
    _write_tar(tmp_path / "cifar10.tar.gz", {})
    with pytest.raises(ValueError, match=r"Expected images under 'test/<class>/'"):
        load_dataset("cifar10", tmp_path)


def test_npz_with_wrong_keys(tmp_path: Path) -> None:
    np.savez(tmp_path / "cifar10.npz", images=_images(1), labels=[0])
    with pytest.raises(
        ValueError,
        match=r"to hold arrays \['x_train', 'y_train', 'x_test', 'y_test'\], "
        r"got keys \['images', 'labels'\]",
    ):
        load_dataset("cifar10", tmp_path)


def test_npz_with_float_images(tmp_path: Path) -> None:
    x = np.zeros((1, 32, 32, 3), np.float32)
    np.savez(tmp_path / "cifar10.npz", x_train=x, y_train=[0], x_test=x, y_test=[0])
    with pytest.raises(ValueError, match="Expected `x_train` .* to be uint8"):
        load_dataset("cifar10", tmp_path)


def test_npz_with_other_class_names(tmp_path: Path) -> None:
    x = _images(1)
    np.savez(tmp_path / "cifar10.npz", x_train=x, y_train=[0], x_test=x, y_test=[0], classes=["a"])
    with pytest.raises(ValueError, match=r"Expected CIFAR-10's classes \(airplane, .*got \(a, …\)"):
        load_dataset("cifar10", tmp_path)


def test_two_archives_are_ambiguous(tmp_path: Path) -> None:
    for name in ("cifar10-a.tar.gz", "cifar10-b.tar.gz"):
        _write_tar(tmp_path / name, _tree({"cat": 1}))
    with pytest.raises(
        ValueError, match=r"one CIFAR-10 archive .*\['cifar10-a.tar.gz', 'cifar10-b.tar.gz'\]"
    ):
        load_dataset("cifar10", tmp_path)


def test_foreign_class_folders_are_rejected(tmp_path: Path) -> None:
    _write_tree(tmp_path, _tree({"cat": 1, "zebra": 1}))
    with pytest.raises(
        ValueError, match=r"class folders .* named like CIFAR-10's classes .*got \['cat', 'zebra'\]"
    ):
        load_dataset("cifar10", tmp_path)


def test_wrong_image_size(tmp_path: Path) -> None:
    (tmp_path / "train" / "cat").mkdir(parents=True)
    (tmp_path / "test" / "cat").mkdir(parents=True)
    (tmp_path / "test" / "cat" / "0.png").write_bytes(_png(np.zeros((64, 64, 3), np.uint8)))
    with pytest.raises(
        ValueError, match=r"CIFAR-10 test images of shape \(32, 32, 3\).*got \(64, 64, 3\)"
    ):
        load_dataset("cifar10", tmp_path)


def test_mixed_image_sizes(tmp_path: Path) -> None:
    _write_tree(tmp_path, _tree({"cat": 1}))
    (tmp_path / "test" / "cat" / "1.png").write_bytes(_png(np.zeros((8, 8, 3), np.uint8)))
    with pytest.raises(ValueError, match="to be 32x32, got 8x8 in 'test/cat/1.png'"):
        load_dataset("cifar10", tmp_path)


def test_undecodable_image(tmp_path: Path) -> None:
    _write_tree(tmp_path, _tree({"cat": 1}))
    (tmp_path / "test" / "cat" / "1.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"Could not decode image .*test/cat/1\.png"):
        load_dataset("cifar10", tmp_path)


def test_bad_idx_magic(tmp_path: Path) -> None:
    for stem in data._IDX_FILES.values():
        _write_idx(tmp_path / stem, np.zeros((1, 28, 28)) if "images" in stem else np.zeros(1))
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x0d\x03" + bytes(16))
    with pytest.raises(ValueError, match="IDX magic 00 00 08"):
        load_dataset("fashion-mnist", tmp_path)


# ----------------------------------------------------------------------------------------------
# ImageDataset and subset
# ----------------------------------------------------------------------------------------------


def _dataset(y_train: np.ndarray, y_test: np.ndarray | None = None) -> ImageDataset:
    y_test = y_train if y_test is None else y_test
    return ImageDataset(
        name="toy",
        x_train=_images(len(y_train), 4, seed=40),
        y_train=np.asarray(y_train, np.int64),
        x_test=_images(len(y_test), 4, seed=41),
        y_test=np.asarray(y_test, np.int64),
        classes=("a", "b", "c"),
        mean=(0.5, 0.5, 0.5),
        std=(0.25, 0.25, 0.25),
    )


def test_subset_is_deterministic_stratified_and_keeps_order() -> None:
    ds = _dataset(np.repeat([0, 1, 2], [60, 30, 10]))

    a, b, c = ds.subset(10, 5, seed=1), ds.subset(10, 5, seed=1), ds.subset(10, 5, seed=2)

    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)
    assert np.bincount(a.y_train, minlength=3).tolist() == [6, 3, 1]
    # quotas 3, 1.5, 0.5: the one remaining image goes to the lower label of the tie
    assert np.bincount(a.y_test, minlength=3).tolist() == [3, 2, 0]
    rows = [int(np.flatnonzero((ds.x_train == img).all(axis=(1, 2, 3)))[0]) for img in a.x_train]
    assert rows == sorted(rows)
    assert (a.mean, a.std, a.classes) == (ds.mean, ds.std, ds.classes)


def test_subset_none_keeps_everything_and_rejects_too_many() -> None:
    ds = _dataset(np.array([0, 1, 2, 2]))
    np.testing.assert_array_equal(ds.subset().x_train, ds.x_train)
    with pytest.raises(ValueError, match=r"Expected `n_test` to be an int in \[0, 4\], got 5"):
        ds.subset(n_test=5)


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(0, 30), min_size=1, max_size=3),
    frac=st.floats(0, 1),
    seed=st.integers(0, 99),
)
def test_subset_counts_are_within_one_of_proportional(
    counts: list[int], frac: float, seed: int
) -> None:
    labels = np.repeat(np.arange(len(counts)), counts)
    n = round(frac * len(labels))
    got = np.bincount(_dataset(labels).subset(n, seed=seed).y_train, minlength=len(counts))
    assert got.sum() == n
    assert np.all(np.abs(got - n * np.array(counts) / max(len(labels), 1)) < 1)
    assert np.all(got <= counts)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"x_train": np.zeros((2, 4, 4, 3), np.float32)}, "Expected `x_train` to be a uint8 array"),
        (
            {"x_test": np.zeros((1, 4, 5, 3), np.uint8), "y_test": np.zeros(1, np.int64)},
            "square images",
        ),
        (
            {"y_train": np.array([0, 1], np.int32)},
            r"Expected `y_train` to be an int64 array of shape \(2,\)",
        ),
        ({"y_test": np.array([0, 3])}, r"Expected `y_test` in \[0, 3\), got values in \[0, 3\]"),
        ({"x_test": np.zeros((2, 8, 8, 3), np.uint8)}, "train and test images of one size"),
        ({"std": (0.0, 0.1, 0.1)}, "Expected `std` > 0"),
        ({"mean": (0.5, 0.5)}, "Expected `mean` to be 3 floats"),
        ({"classes": ()}, "non-empty tuple of str"),
    ],
)
def test_image_dataset_validates(change: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(_dataset(np.array([0, 1])), **change)


def test_repr_is_short() -> None:
    assert (
        repr(_dataset(np.array([0, 1, 2])))
        == "ImageDataset(name='toy', train=3, test=3, images=4x4x3, classes=3)"
    )


def test_registry_names_and_citations() -> None:
    assert sorted(DATASETS) == ["cifar10", "cifar100", "fashion-mnist", "imagenet16-120", "svhn"]
    for name, info in DATASETS.items():
        assert info.name == name and info.citation and info.description
        assert len(info.classes) == {"cifar100": 100, "imagenet16-120": 120}.get(name, 10)


# ----------------------------------------------------------------------------------------------
# NATS-Bench splits
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "n_test"), [("cifar100", 10_000), ("imagenet16-120", 6_000), ("cifar100", 7)]
)
def test_random_halves_are_disjoint_and_cover(name: str, n_test: int) -> None:
    s = nats_splits(name, n_test, seed=3)
    assert set(s) == {"x-valid", "x-test"}
    assert len(s["x-valid"]) == n_test // 2 and len(s["x-test"]) == n_test - n_test // 2
    assert np.intersect1d(s["x-valid"], s["x-test"]).size == 0
    np.testing.assert_array_equal(np.union1d(s["x-valid"], s["x-test"]), np.arange(n_test))
    np.testing.assert_array_equal(nats_splits(name, n_test, seed=3)["x-valid"], s["x-valid"])
    assert not np.array_equal(nats_splits(name, n_test, seed=4)["x-valid"], s["x-valid"])


def test_cifar10_split_is_the_whole_test_set() -> None:
    assert nats_splits("cifar10", 5)["test"].tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="Expected no `split_file` for cifar10"):
        nats_splits("cifar10", 5, split_file="cifar10-test-split.txt")


def test_split_file_in_nats_bench_format(tmp_path: Path) -> None:
    path = tmp_path / "cifar100-test-split.txt"
    path.write_text(
        '{\n  "xvalid"   : ["int"   , ["1", "3", "4"]],\n'
        '  "xtest"    : ["int"   , ["0", "2", "5"]]\n}'
    )
    s = nats_splits("cifar100", 6, split_file=path)
    assert s["x-valid"].tolist() == [1, 3, 4] and s["x-test"].tolist() == [0, 2, 5]


def test_split_file_must_partition_the_test_set(tmp_path: Path) -> None:
    path = tmp_path / "split.txt"
    path.write_text(json.dumps({"xvalid": ["int", ["0", "1"]], "xtest": ["int", ["1", "2"]]}))
    with pytest.raises(ValueError, match=r"to partition range\(3\)"):
        nats_splits("imagenet16-120", 3, split_file=path)
    path.write_text(json.dumps({"valid": [0]}))
    with pytest.raises(ValueError, match="to map 'xvalid' to a list of indices"):
        nats_splits("cifar100", 3, split_file=path)


def test_splits_only_for_nats_bench_datasets() -> None:
    with pytest.raises(ValueError, match="NATS-Bench's datasets.*got 'svhn'"):
        nats_splits("svhn", 10)
    with pytest.raises(ValueError, match="Expected `n_test` to be a positive int, got 0"):
        nats_splits("cifar100", 0)
