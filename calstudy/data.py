"""Image datasets of the study, decoded once into uint8 arrays.

Every dataset becomes an :class:`ImageDataset`: ``x_train`` / ``x_test`` uint8 ``(N, S, S, 3)``
(NHWC, RGB) and ``y_train`` / ``y_test`` int64 ``(N,)``. CIFAR-10, CIFAR-100, Fashion-MNIST
(padded 28 → 32) and SVHN have ``S = 32``; ImageNet16-120 keeps NATS-Bench's native ``S = 16``
(its networks end in global pooling and were trained at that resolution).

:func:`load_dataset` finds the data in ``data_dir`` (or ``$CALSTUDY_DATA``), in whichever of the
formats below is present, decodes it and caches the arrays as an uncompressed ``.npz`` under
``$CALSTUDY_CACHE`` (default ``~/.cache/calstudy``), so that a second load only maps a file.

================  ===================================================================
dataset           accepted inputs, in order of precedence
================  ===================================================================
cifar10           ``cifar-10-batches-py/`` (torchvision's download), ``cifar10.npz``,
                  ``train/<class>/*`` + ``test/<class>/*`` image folders,
                  ``cifar10*.tar.gz`` holding such folders
cifar100          the same with ``cifar-100-python/``, ``cifar100.npz``, ``cifar100*.tar.gz``
imagenet16-120    NATS-Bench's ``train_data_batch_{1..10}`` + ``val_data`` pickles,
                  ``imagenet16-120.npz``
fashion-mnist     torchvision's idx files (``FashionMNIST/raw/``), ``fashion-mnist.npz``,
                  image folders named ``0``–``9``, ``fashion-mnist*.tar.gz``
svhn              ``test_32x32.mat`` (+ optional ``train_32x32.mat``), ``svhn.npz``
================  ===================================================================

Each is looked up in ``data_dir`` itself and in a sub-folder named after the dataset
(``data_dir/cifar10/``, ``data_dir/ImageNet16/``, …); ``data_dir`` may also be the file itself.
The CIFAR and ImageNet16 pickles are read with :func:`calstudy.safe_pickle.load_plain`, which
loads only numpy arrays and built-in data and refuses a pickle that names any other global
(``os.system``, ...) with a :class:`ValueError`, so a crafted data file cannot run code.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from calstudy import safe_pickle

__all__ = [
    "CIFAR100_CLASSES",
    "CIFAR10_CLASSES",
    "DATASETS",
    "DatasetInfo",
    "FASHION_MNIST_CLASSES",
    "ImageDataset",
    "cache_dir",
    "load_dataset",
    "nats_splits",
    "sample_data_dir",
    "stratified_indices",
]

# ----------------------------------------------------------------------------------------------
# Class names
# ----------------------------------------------------------------------------------------------

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
"""CIFAR-10's label names in label order (``batches.meta``)."""

CIFAR100_CLASSES: tuple[str, ...] = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle",
    "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle",
    "caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch",
    "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox",
    "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion",
    "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse", "mushroom",
    "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
    "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road",
    "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake",
    "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone",
    "television", "tiger", "tractor", "train", "trout", "tulip", "turtle", "wardrobe", "whale",
    "willow_tree", "wolf", "woman", "worm",
)  # fmt: skip
"""CIFAR-100's 100 fine label names in label order (alphabetical, ``meta['fine_label_names']``)."""

FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
"""Fashion-MNIST's label names in label order (Xiao et al., 2017)."""

_SVHN_CLASSES = tuple(str(d) for d in range(10))
# ImageNet16-120 ships no names: class i is label i + 1 of the downsampled-ImageNet pickles.
_IMAGENET16_120_CLASSES = tuple(str(k) for k in range(120))


# ----------------------------------------------------------------------------------------------
# The dataset container
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """A labelled image dataset held in memory as uint8 arrays.

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"cifar10"``.
    x_train, x_test : ndarray of uint8, shape (N, S, S, 3)
        Images, NHWC, RGB; the same ``S`` for both splits. ``x_train`` may hold zero images
        (SVHN is used as an out-of-distribution test set only).
    y_train, y_test : ndarray of int64, shape (N,)
        Labels in ``[0, num_classes)``.
    classes : tuple of str
        Class names; label ``k`` is ``classes[k]``.
    mean, std : tuple of 3 floats
        Per-channel normalisation constants in pixel units / 255. For cifar10, cifar100 and
        imagenet16-120 they are NATS-Bench's published constants (``xautodl`` ``get_datasets``),
        so networks see exactly NATS-Bench's inputs; for the other datasets they are computed
        from ``x_train`` (from ``x_test`` when there are no training images). A
        :meth:`subset` keeps its parent's constants.

    Raises
    ------
    ValueError
        If a shape, dtype or label is inconsistent.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "mean", tuple(float(m) for m in self.mean))
        object.__setattr__(self, "std", tuple(float(s) for s in self.std))
        if not self.classes or not all(isinstance(c, str) for c in self.classes):
            raise ValueError(
                f"Expected `classes` to be a non-empty tuple of str, got {self.classes!r}."
            )
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if (
                not isinstance(x, np.ndarray)
                or x.dtype != np.uint8
                or x.ndim != 4
                or x.shape[3] != 3
            ):
                raise ValueError(
                    f"Expected `x_{split}` to be a uint8 array of shape (N, S, S, 3), got "
                    f"{_describe_array(x)}."
                )
            if x.shape[1] != x.shape[2]:
                raise ValueError(f"Expected square images in `x_{split}`, got shape {x.shape}.")
            if not isinstance(y, np.ndarray) or y.dtype != np.int64 or y.shape != (len(x),):
                raise ValueError(
                    f"Expected `y_{split}` to be an int64 array of shape ({len(x)},), got "
                    f"{_describe_array(y)}."
                )
            if y.size and (y.min() < 0 or y.max() >= len(self.classes)):
                raise ValueError(
                    f"Expected `y_{split}` in [0, {len(self.classes)}), got values in "
                    f"[{y.min()}, {y.max()}]."
                )
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(
                f"Expected train and test images of one size, got {self.x_train.shape[1:]} and "
                f"{self.x_test.shape[1:]}."
            )
        for stat in ("mean", "std"):
            values = getattr(self, stat)
            if len(values) != 3 or not all(0.0 <= v <= 1.0 for v in values):
                raise ValueError(f"Expected `{stat}` to be 3 floats in [0, 1], got {values!r}.")
        if min(self.std) <= 0.0:
            raise ValueError(f"Expected `std` > 0 per channel, got {self.std!r}.")

    @property
    def num_classes(self) -> int:
        """Number of classes, ``len(classes)``."""
        return len(self.classes)

    @property
    def image_size(self) -> int:
        """Side ``S`` of the square images."""
        return int(self.x_test.shape[1])

    def subset(
        self, n_train: int | None = None, n_test: int | None = None, *, seed: int = 0
    ) -> ImageDataset:
        """Deterministic class-stratified subset, e.g. for tiny runs or data fractions.

        Each class contributes in proportion to its share of the split (largest-remainder
        rounding, ties to the lower label), chosen uniformly at random within the class; the
        kept images stay in their original order.

        Parameters
        ----------
        n_train, n_test : int, optional
            Number of images to keep per split; ``None`` keeps the whole split.
        seed : int, default 0
            Seed of the random choice; the same seed gives the same subset.

        Returns
        -------
        ImageDataset
            Same name, classes, ``mean`` and ``std``.

        Examples
        --------
        >>> ds = load_dataset("cifar10", sample_data_dir()).subset(100, 50)
        >>> len(ds.x_train), np.bincount(ds.y_test).tolist()
        (100, [5, 5, 5, 5, 5, 5, 5, 5, 5, 5])
        """
        train, test = self.subset_indices(n_train, n_test, seed=seed)
        return dataclasses.replace(
            self,
            x_train=self.x_train[train],
            y_train=self.y_train[train],
            x_test=self.x_test[test],
            y_test=self.y_test[test],
        )

    def subset_indices(
        self, n_train: int | None = None, n_test: int | None = None, *, seed: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sorted train and test indices of :meth:`subset` with the same arguments.

        What a subset leaves out is held-out data of the same distribution: e.g. the training
        images a sweep with ``n_train`` does not train on
        (:func:`calstudy.early.validation_split`).

        Examples
        --------
        >>> ds = load_dataset("cifar10", sample_data_dir())
        >>> train, test = ds.subset_indices(100, None)
        >>> len(train), len(test) == len(ds.y_test)
        (100, True)
        """
        rng_train, rng_test = (
            np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2)
        )
        train = stratified_indices(self.y_train, n_train, rng_train, "n_train")
        test = stratified_indices(self.y_test, n_test, rng_test, "n_test")
        return train, test

    def __repr__(self) -> str:
        s = self.image_size
        return (
            f"ImageDataset(name={self.name!r}, train={len(self.y_train)}, test={len(self.y_test)}, "
            f"images={s}x{s}x3, classes={self.num_classes})"
        )


def _describe_array(a: object) -> str:
    if isinstance(a, np.ndarray):
        return f"{a.dtype} array of shape {a.shape}"
    return type(a).__name__


def stratified_indices(
    labels: np.ndarray, n: int | None, rng: np.random.Generator, arg: str
) -> np.ndarray:
    """Sorted indices of a class-stratified random sample of ``n`` of ``labels``."""
    if n is None:
        return np.arange(len(labels))
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 0 <= n <= len(labels):
        raise ValueError(f"Expected `{arg}` to be an int in [0, {len(labels)}], got {n!r}.")
    counts = np.bincount(labels) if len(labels) else np.zeros(0, dtype=np.int64)
    quota = n * counts / max(len(labels), 1)
    take = np.floor(quota).astype(np.int64)
    remainder_order = np.lexsort((np.arange(len(counts)), -(quota - take)))
    take[remainder_order[: n - int(take.sum())]] += 1
    chosen = [rng.permutation(np.flatnonzero(labels == k))[:t] for k, t in enumerate(take) if t > 0]
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


# ----------------------------------------------------------------------------------------------
# Readers: one per file format, each returning undecorated arrays
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Raw:
    """Arrays as read from a source, before dataset-specific finishing."""

    x_train: np.ndarray  # uint8 (N, H, W, 3)
    y_train: np.ndarray  # int64 (N,)
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...] | None = None  # names found in the source, if any


_IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm"}
)
_SPLITS = ("train", "test")


def _natural_key(name: str) -> tuple[Any, ...]:
    """Sort key ordering ``2.png`` before ``10.png``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


def _unpickle(path: Path) -> dict[str, Any]:
    """Load a pickled dict, with str keys whether it was written with bytes or str keys.

    Only plain data loads (:func:`calstudy.safe_pickle.load_plain`): a pickle naming any other
    global raises a ValueError naming `path` and the global, without running it.
    """
    obj = safe_pickle.load_plain(path, encoding="latin1")
    if not isinstance(obj, dict):
        raise ValueError(f"Expected '{path}' to hold a pickled dict, got {type(obj).__name__}.")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _require_keys(entry: dict[str, Any], keys: Iterable[str], path: Path) -> None:
    missing = [k for k in keys if k not in entry]
    if missing:
        raise ValueError(f"Expected '{path}' to hold keys {missing}, got keys {sorted(entry)}.")


def _planes_to_nhwc(data: Any, size: int, path: Path) -> np.ndarray:
    """``(N, 3 * size * size)`` channel-planar rows (CIFAR / ImageNet16 layout) to NHWC."""
    data = np.asarray(data)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * size * size:
        raise ValueError(
            f"Expected 'data' in '{path}' to be uint8 of shape (N, {3 * size * size}), got "
            f"{_describe_array(data)}."
        )
    return data.reshape(-1, 3, size, size).transpose(0, 2, 3, 1).copy()


def _as_str(s: str | bytes) -> str:
    return s.decode("latin1") if isinstance(s, bytes) else str(s)


def _read_cifar_pickles(path: Path, info: DatasetInfo) -> _Raw:
    """CIFAR python pickles (``cifar-10-batches-py/`` or ``cifar-100-python/``)."""
    if info.name == "cifar10":
        train_files = [f"data_batch_{i}" for i in range(1, 6)]
        test_files, meta_file, label_key, names_key = (
            ["test_batch"],
            "batches.meta",
            "labels",
            "label_names",
        )
    else:
        train_files, test_files = ["train"], ["test"]
        meta_file, label_key, names_key = "meta", "fine_labels", "fine_label_names"
    arrays: list[np.ndarray] = []
    for files in (train_files, test_files):
        xs, ys = [], []
        for fname in files:
            entry = _unpickle(path / fname)
            _require_keys(entry, ["data", label_key], path / fname)
            xs.append(_planes_to_nhwc(entry["data"], 32, path / fname))
            ys.append(np.asarray(entry[label_key], dtype=np.int64))
            if len(ys[-1]) != len(xs[-1]):
                raise ValueError(
                    f"Expected as many labels as images in '{path / fname}', got {len(ys[-1])} "
                    f"labels and {len(xs[-1])} images."
                )
        arrays += [np.concatenate(xs), np.concatenate(ys)]
    classes = None
    if (path / meta_file).is_file():
        meta = _unpickle(path / meta_file)
        if names_key in meta:
            classes = tuple(_as_str(s) for s in meta[names_key])
    return _Raw(*arrays, classes=classes)


def _read_imagenet16(path: Path, info: DatasetInfo) -> _Raw:
    """NATS-Bench's ImageNet16 pickles, keeping the first 120 classes.

    Each file holds a dict with ``'data'`` uint8 ``(N, 768)`` (3 planes of 16 × 16) and
    ``'labels'``, 1-based downsampled-ImageNet class ids (Chrabaszcz et al., 2017). As in
    ``xautodl.datasets.ImageNet16(..., use_num_of_class_only=120)``, images with label
    ``1 <= l <= 120`` are kept and relabelled ``l - 1``: 151,700 train and 6,000 test images.
    """
    names = {"train": [f"train_data_batch_{i}" for i in range(1, 11)], "test": ["val_data"]}
    missing = [n for files in names.values() for n in files if not (path / n).is_file()]
    if missing:
        raise FileNotFoundError(f"Expected ImageNet16 pickles in '{path}', missing {missing}.")
    arrays: list[np.ndarray] = []
    for split in _SPLITS:
        xs, ys = [], []
        for fname in names[split]:
            entry = _unpickle(path / fname)
            _require_keys(entry, ["data", "labels"], path / fname)
            x = _planes_to_nhwc(entry["data"], 16, path / fname)
            y = np.asarray(entry["labels"], dtype=np.int64)
            if len(y) != len(x):
                raise ValueError(
                    f"Expected as many labels as images in '{path / fname}', got {len(y)} labels "
                    f"and {len(x)} images."
                )
            keep = (y >= 1) & (y <= len(info.classes))
            xs.append(x[keep])
            ys.append(y[keep] - 1)
        arrays += [np.concatenate(xs), np.concatenate(ys)]
    return _Raw(*arrays)


def _decode_image(data: bytes, where: str) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise ValueError(f"Could not decode image '{where}': {e}") from e


def _folder_labels(names: Iterable[str], info: DatasetInfo, where: str) -> dict[str, int]:
    """Map class-folder names to labels: canonical class names, or ``0 … K-1`` digits."""
    names = sorted(set(names))
    canonical = info.classes
    if all(n in canonical for n in names):
        return {n: canonical.index(n) for n in names}
    if all(n.isdigit() and int(n) < len(canonical) for n in names):
        return {n: int(n) for n in names}
    raise ValueError(
        f"Expected class folders in '{where}' named like {info.title}'s classes "
        f"({', '.join(canonical[:3])}, …) or 0–{len(canonical) - 1}, got {names}."
    )


def _decode_tree(
    files: dict[tuple[str, str, str], Callable[[], bytes]], info: DatasetInfo, where: str
) -> _Raw:
    """Decode ``{(split, class, filename): read_bytes}`` into sorted arrays."""
    if not any(split == "test" for split, _, _ in files):
        raise ValueError(f"Expected images under 'test/<class>/' in '{where}', found none.")
    labels = _folder_labels({c for _, c, _ in files}, info, where)
    arrays: list[np.ndarray] = []
    shape: tuple[int, ...] | None = None
    for split in _SPLITS:
        keys = sorted(
            (k for k in files if k[0] == split), key=lambda k: (labels[k[1]], _natural_key(k[2]))
        )
        images = []
        for key in keys:
            img = _decode_image(files[key](), f"{where}:{'/'.join(key)}")
            if shape is None:
                shape = img.shape
            elif img.shape != shape:
                raise ValueError(
                    f"Expected all images in '{where}' to be {shape[1]}x{shape[0]}, got "
                    f"{img.shape[1]}x{img.shape[0]} in '{'/'.join(key)}'."
                )
            images.append(img)
        h, w = shape[:2] if shape else (0, 0)
        arrays.append(np.stack(images) if images else np.zeros((0, h, w, 3), np.uint8))
        arrays.append(np.array([labels[k[1]] for k in keys], dtype=np.int64))
    return _Raw(*arrays)


def _read_image_folder(path: Path, info: DatasetInfo) -> _Raw:
    """``train/<class>/*`` + ``test/<class>/*`` image-folder tree under ``path``."""
    files: dict[tuple[str, str, str], Callable[[], bytes]] = {}
    for split in _SPLITS:
        for f in _tree_files(path / split):
            if f.suffix.lower() in _IMAGE_SUFFIXES and f.parent.parent == path / split:
                files[(split, f.parent.name, f.name)] = f.read_bytes
    return _decode_tree(files, info, str(path))


def _tree_files(root: Path) -> Iterator[Path]:
    """Non-hidden files under ``root``, recursively."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith("."):
                yield Path(dirpath, name)


def _read_image_tar(path: Path, info: DatasetInfo) -> _Raw:
    """Gzipped tar of an image-folder tree, read member by member without extracting.

    Members ``[prefix/]train|test/<class>/<file>`` with an image suffix are used; others
    (``SOURCE.txt``, licences, directories) are ignored.
    """
    blobs: dict[tuple[str, str, str], bytes] = {}
    prefixes: set[tuple[str, ...]] = set()
    try:
        with tarfile.open(path, "r:*") as tf:
            for member in tf:
                parts = tuple(p for p in PurePosixPath(member.name).parts if p != ".")
                if (
                    not member.isfile()
                    or len(parts) < 3
                    or parts[-3] not in _SPLITS
                    or parts[-1].startswith(".")
                    or PurePosixPath(parts[-1]).suffix.lower() not in _IMAGE_SUFFIXES
                ):
                    continue
                prefixes.add(parts[:-3])
                fobj = tf.extractfile(member)
                assert fobj is not None  # a regular file always has a payload
                blobs[(parts[-3], parts[-2], parts[-1])] = fobj.read()
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise ValueError(
            f"Could not read '{path}' as a gzipped tar (truncated or corrupt?): "
            f"{type(e).__name__}: {e}"
        ) from e
    if len(prefixes) > 1:
        raise ValueError(
            f"Expected one image tree in '{path}', got {len(prefixes)} under "
            f"{sorted('/'.join(p) or '.' for p in prefixes)}."
        )
    return _decode_tree({k: (lambda b=b: b) for k, b in blobs.items()}, info, str(path))


def _read_npz(path: Path, info: DatasetInfo) -> _Raw:
    """``.npz`` with ``x_train, y_train, x_test, y_test`` (optional ``classes``).

    Images may be ``(N, H, W, 3)`` RGB, or greyscale ``(N, H, W)`` / ``(N, H, W, 1)``.
    """
    required = ("x_train", "y_train", "x_test", "y_test")
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = set(npz.files)
            if not set(required) <= keys:
                raise ValueError(
                    f"Expected '{path}' to hold arrays {list(required)}, got keys {sorted(keys)}."
                )
            arrays = {k: npz[k] for k in (*required, "classes") if k in keys}
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"Could not read '{path}' as an .npz file: {e}") from e
    out = []
    for split in _SPLITS:
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if (
            x.dtype != np.uint8
            or x.ndim not in (3, 4)
            or (x.ndim == 4 and x.shape[3] not in (1, 3))
        ):
            raise ValueError(
                f"Expected `x_{split}` in '{path}' to be uint8 (N, H, W[, 1 or 3]), got "
                f"{_describe_array(x)}."
            )
        if not np.issubdtype(y.dtype, np.integer) or y.shape != (len(x),):
            raise ValueError(
                f"Expected `y_{split}` in '{path}' to be integers of shape ({len(x)},), got "
                f"{_describe_array(y)}."
            )
        out += [_to_rgb(x), y.astype(np.int64)]
    classes = tuple(str(c) for c in arrays["classes"]) if "classes" in arrays else None
    return _Raw(*out, classes=classes)


def _to_rgb(x: np.ndarray) -> np.ndarray:
    """Greyscale ``(N, H, W)`` or ``(N, H, W, 1)`` to RGB by replication; RGB unchanged."""
    if x.ndim == 3:
        x = x[..., None]
    return np.ascontiguousarray(np.broadcast_to(x, (*x.shape[:3], 3))) if x.shape[3] == 1 else x


_IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def _idx_path(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_idx_file(path: Path) -> np.ndarray:
    """One IDX file (LeCun's MNIST format, also Fashion-MNIST's) of unsigned bytes.

    Layout: two zero bytes, type code ``0x08`` (uint8), the number of dimensions ``d``, ``d``
    big-endian int32 sizes, then the data in C order. ``.gz`` files are decompressed.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise ValueError(f"Could not read IDX file '{path}': {e}") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(
            f"Expected '{path}' to start with IDX magic 00 00 08 <ndim>, got {raw[:4].hex(' ')}."
        )
    ndim = raw[3]
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(
            f"Expected {int(np.prod(dims))} values in '{path}' for shape {dims}, got {data.size}."
        )
    return data.reshape(dims).copy()


def _read_idx(path: Path, info: DatasetInfo) -> _Raw:
    """torchvision's raw Fashion-MNIST download: four IDX files in ``path``."""
    arrays = {}
    for key, stem in _IDX_FILES.items():
        file = _idx_path(path, stem)
        if file is None:
            raise FileNotFoundError(f"Expected IDX file '{stem}' (or '{stem}.gz') in '{path}'.")
        arrays[key] = _read_idx_file(file)
    return _Raw(
        _to_rgb(arrays["x_train"]),
        arrays["y_train"].astype(np.int64),
        _to_rgb(arrays["x_test"]),
        arrays["y_test"].astype(np.int64),
    )


def _read_svhn_mat(path: Path, info: DatasetInfo) -> _Raw:
    """SVHN's cropped-digit ``.mat`` files: ``X`` uint8 (32, 32, 3, N), ``y`` (N, 1), 10 → 0.

    ``path`` is ``test_32x32.mat``; ``train_32x32.mat`` beside it is read when present,
    otherwise the training split is empty.
    """
    import scipy.io

    out: list[np.ndarray] = []
    for file in (path.with_name("train_32x32.mat"), path):
        if not file.is_file():
            out += [np.zeros((0, 32, 32, 3), np.uint8), np.zeros(0, np.int64)]
            continue
        try:
            mat = scipy.io.loadmat(file)
        except (ValueError, OSError, TypeError, zlib.error) as e:
            raise ValueError(f"Could not read '{file}' as a MATLAB file: {e}") from e
        if "X" not in mat or "y" not in mat:
            keys = sorted(k for k in mat if not k.startswith("__"))
            raise ValueError(f"Expected '{file}' to hold 'X' and 'y', got {keys}.")
        x, y = np.asarray(mat["X"]), np.asarray(mat["y"]).reshape(-1).astype(np.int64)
        if x.dtype != np.uint8 or x.ndim != 4 or x.shape[2] != 3 or x.shape[3] != len(y):
            raise ValueError(
                f"Expected 'X' in '{file}' to be uint8 of shape (32, 32, 3, {len(y)}), got "
                f"{_describe_array(x)}."
            )
        out += [np.ascontiguousarray(x.transpose(3, 0, 1, 2)), np.where(y == 10, 0, y)]
    return _Raw(*out)


_READERS: dict[str, Callable[[Path, DatasetInfo], _Raw]] = {
    "cifar-pickle": _read_cifar_pickles,
    "imagenet16-pickle": _read_imagenet16,
    "npz": _read_npz,
    "image-folder": _read_image_folder,
    "image-tar": _read_image_tar,
    "idx": _read_idx,
    "svhn-mat": _read_svhn_mat,
}


# ----------------------------------------------------------------------------------------------
# The registry
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetInfo:
    """What the study knows about one dataset: provenance, classes and where to find it.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"cifar10"``.
    title : str
        Display name, e.g. ``"CIFAR-10"``.
    description, citation : str
        One-line summary and the reference to cite.
    classes : tuple of str
        Class names in label order.
    image_size : int
        Side of the square images after loading.
    formats : tuple of str
        Accepted source formats, in order of precedence.
    layouts : tuple of str
        Human-readable description of each accepted layout (used in error messages).
    subdirs : tuple of str
        Sub-folders of ``data_dir`` that are searched too.
    mean, std : tuple of 3 floats or None
        Published normalisation constants; ``None`` means computed from the data.
    pickle_dir : str or None
        Folder of torchvision's pickled download (CIFAR).
    tar_pattern : str or None
        Regular expression for image-folder tarballs in ``data_dir``.
    """

    name: str
    title: str
    description: str
    citation: str
    classes: tuple[str, ...]
    image_size: int
    formats: tuple[str, ...]
    layouts: tuple[str, ...]
    subdirs: tuple[str, ...] = ()
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    pickle_dir: str | None = None
    tar_pattern: str | None = None
    download: Callable[[Path], None] | None = field(default=None, repr=False)

    def load(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        download: bool = False,
        cache: bool = True,
    ) -> ImageDataset:
        """Same as ``load_dataset(self.name, data_dir, download=..., cache=...)``."""
        return load_dataset(self.name, data_dir, download=download, cache=cache)


def _download_torchvision(name: str) -> Callable[[Path], None]:
    def download(root: Path) -> None:
        import torchvision.datasets as tvd  # heavy import: only when downloading

        root.mkdir(parents=True, exist_ok=True)
        if name == "cifar10":
            tvd.CIFAR10(str(root), train=True, download=True)
        elif name == "cifar100":
            tvd.CIFAR100(str(root), train=True, download=True)
        elif name == "fashion-mnist":
            tvd.FashionMNIST(str(root), train=True, download=True)
            tvd.FashionMNIST(str(root), train=False, download=True)
        elif name == "svhn":
            tvd.SVHN(str(root), split="test", download=True)
        else:  # pragma: no cover - the registry only wires the names above
            raise ValueError(f"Expected a torchvision-downloadable dataset, got {name!r}.")

    return download


def _rgb255(*values: float) -> tuple[float, float, float]:
    r, g, b = (v / 255 for v in values)
    return (r, g, b)


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            name="cifar10",
            title="CIFAR-10",
            description="60,000 32x32 colour images in 10 classes: 50,000 train, 10,000 test.",
            citation="A. Krizhevsky, 'Learning Multiple Layers of Features from Tiny Images', "
            "tech. report, University of Toronto, 2009.",
            classes=CIFAR10_CLASSES,
            image_size=32,
            formats=("cifar-pickle", "npz", "image-folder", "image-tar"),
            layouts=(
                "'cifar-10-batches-py/' (torchvision)",
                "'train/<class>/*' + 'test/<class>/*' image folders",
                "'cifar10-jpeg.tar.gz' (any 'cifar10*.tar.gz')",
                "'cifar10.npz'",
            ),
            subdirs=("cifar10", "cifar-10"),
            mean=_rgb255(125.3, 123.0, 113.9),
            std=_rgb255(63.0, 62.1, 66.7),
            pickle_dir="cifar-10-batches-py",
            tar_pattern=r"cifar-?10(?!0)(?!-python\.)[\w.-]*\.(tar\.gz|tgz)",
            download=_download_torchvision("cifar10"),
        ),
        DatasetInfo(
            name="cifar100",
            title="CIFAR-100",
            description="60,000 32x32 colour images in 100 fine classes: 50,000 train, "
            "10,000 test (NATS-Bench halves the test set into x-valid / x-test).",
            citation="A. Krizhevsky, 'Learning Multiple Layers of Features from Tiny Images', "
            "tech. report, University of Toronto, 2009.",
            classes=CIFAR100_CLASSES,
            image_size=32,
            formats=("cifar-pickle", "npz", "image-folder", "image-tar"),
            layouts=(
                "'cifar-100-python/' (torchvision)",
                "'train/<class>/*' + 'test/<class>/*' image folders",
                "any 'cifar100*.tar.gz' of such folders",
                "'cifar100.npz'",
            ),
            subdirs=("cifar100", "cifar-100"),
            mean=_rgb255(129.3, 124.1, 112.4),
            std=_rgb255(68.2, 65.4, 70.4),
            pickle_dir="cifar-100-python",
            tar_pattern=r"cifar-?100(?!-python\.)[\w.-]*\.(tar\.gz|tgz)",
            download=_download_torchvision("cifar100"),
        ),
        DatasetInfo(
            name="imagenet16-120",
            title="ImageNet16-120",
            description="ImageNet down-sampled to 16x16, first 120 classes: 151,700 train, "
            "6,000 test images (NATS-Bench's third dataset).",
            citation="P. Chrabaszcz, I. Loshchilov, F. Hutter, 'A Downsampled Variant of ImageNet "
            "as an Alternative to the CIFAR datasets', arXiv:1707.08819, 2017; X. Dong et al., "
            "'NATS-Bench', IEEE TPAMI, 2021.",
            classes=_IMAGENET16_120_CLASSES,
            image_size=16,
            formats=("imagenet16-pickle", "npz"),
            layouts=(
                "'train_data_batch_1' … 'train_data_batch_10' + 'val_data' (NATS-Bench's "
                "ImageNet16 pickles)",
                "'imagenet16-120.npz'",
            ),
            subdirs=("ImageNet16", "imagenet16-120", "imagenet16"),
            mean=_rgb255(122.68, 116.66, 104.01),
            std=_rgb255(63.22, 61.26, 65.09),
        ),
        DatasetInfo(
            name="fashion-mnist",
            title="Fashion-MNIST",
            description="70,000 28x28 greyscale images of clothing in 10 classes, padded to "
            "32x32 and replicated to RGB: 60,000 train, 10,000 test.",
            citation="H. Xiao, K. Rasul, R. Vollgraf, 'Fashion-MNIST: a Novel Image Dataset for "
            "Benchmarking Machine Learning Algorithms', arXiv:1708.07747, 2017.",
            classes=FASHION_MNIST_CLASSES,
            image_size=32,
            formats=("idx", "npz", "image-folder", "image-tar"),
            layouts=(
                "'FashionMNIST/raw/*-ubyte[.gz]' (torchvision)",
                "'train/<0-9>/*' + 'test/<0-9>/*' image folders",
                "any 'fashion-mnist*.tar.gz' of such folders",
                "'fashion-mnist.npz'",
            ),
            subdirs=("fashion-mnist", "FashionMNIST", "FashionMNIST/raw"),
            tar_pattern=r"fashion[-_]?mnist[\w.-]*\.(tar\.gz|tgz)",
            download=_download_torchvision("fashion-mnist"),
        ),
        DatasetInfo(
            name="svhn",
            title="SVHN",
            description="Street View House Numbers, cropped 32x32 digits; the 26,032 test images "
            "serve as the out-of-distribution set.",
            citation="Y. Netzer et al., 'Reading Digits in Natural Images with Unsupervised "
            "Feature Learning', NIPS Workshop on Deep Learning, 2011.",
            classes=_SVHN_CLASSES,
            image_size=32,
            formats=("svhn-mat", "npz"),
            layouts=("'test_32x32.mat' (+ optional 'train_32x32.mat')", "'svhn.npz'"),
            subdirs=("svhn", "SVHN"),
            download=_download_torchvision("svhn"),
        ),
    )
}
"""Registry of the study's datasets, by name."""


# ----------------------------------------------------------------------------------------------
# Locating a source
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    fmt: str  # a key of _READERS
    path: Path  # the folder or file handed to the reader
    files: tuple[Path, ...]  # every file read: their sizes and mtimes key the cache


def _files_of(fmt: str, path: Path) -> tuple[Path, ...]:
    """Every file the reader of ``fmt`` reads from ``path``."""
    if fmt == "svhn-mat":
        train = path.with_name("train_32x32.mat")
        return (path, train) if train.is_file() else (path,)
    if fmt == "image-folder":
        return tuple(sorted(f for split in _SPLITS for f in _tree_files(path / split)))
    if fmt == "idx":
        return tuple(sorted(p for s in _IDX_FILES.values() if (p := _idx_path(path, s))))
    if fmt == "imagenet16-pickle":
        names = ["val_data", *(f"train_data_batch_{i}" for i in range(1, 11))]
        return tuple(path / n for n in names if (path / n).is_file())
    if path.is_dir():  # cifar-pickle
        return tuple(sorted(_tree_files(path)))
    return (path,)


def _find_in(folder: Path, fmt: str, info: DatasetInfo) -> Path | None:
    """The source of format ``fmt`` directly inside ``folder``, if any."""
    if fmt == "cifar-pickle":
        candidate = folder / str(info.pickle_dir)
        return candidate if candidate.is_dir() else None
    if fmt == "imagenet16-pickle":
        return folder if (folder / "val_data").is_file() else None
    if fmt == "npz":
        candidate = folder / f"{info.name}.npz"
        return candidate if candidate.is_file() else None
    if fmt == "image-folder":
        return folder if (folder / "train").is_dir() and (folder / "test").is_dir() else None
    if fmt == "image-tar":
        pattern = re.compile(str(info.tar_pattern), re.IGNORECASE)
        matches = sorted(p for p in folder.iterdir() if p.is_file() and pattern.fullmatch(p.name))
        if len(matches) > 1:
            raise ValueError(
                f"Expected one {info.title} archive in '{folder}', got "
                f"{[p.name for p in matches]}. Pass the archive itself as data_dir."
            )
        return matches[0] if matches else None
    if fmt == "idx":
        return folder if all(_idx_path(folder, s) for s in _IDX_FILES.values()) else None
    if fmt == "svhn-mat":
        candidate = folder / "test_32x32.mat"
        return candidate if candidate.is_file() else None
    raise AssertionError(f"unknown format {fmt!r}")  # pragma: no cover


def _file_format(path: Path, info: DatasetInfo) -> str:
    """The format of a source named directly as a file."""
    name = path.name.lower()
    by_suffix = {".npz": "npz", ".tar.gz": "image-tar", ".tgz": "image-tar", ".mat": "svhn-mat"}
    for suffix, fmt in by_suffix.items():
        if name.endswith(suffix) and fmt in info.formats:
            return fmt
    raise ValueError(
        f"Expected a {info.title} file in one of the formats {list(info.formats)}, got '{path}'."
    )


def _locate(info: DatasetInfo, data_dir: Path) -> _Source:
    if not data_dir.exists():
        raise FileNotFoundError(f"Expected `data_dir` '{data_dir}' to exist, but it does not.")
    if data_dir.is_file():
        fmt = _file_format(data_dir, info)
        return _Source(fmt, data_dir, _files_of(fmt, data_dir))
    folders = [data_dir] + [data_dir / s for s in info.subdirs if (data_dir / s).is_dir()]
    for fmt in info.formats:
        for folder in folders:
            found = _find_in(folder, fmt, info)
            if found is not None:
                return _Source(fmt, found, _files_of(fmt, found))
    where = ", ".join(f"'{f}'" for f in folders)
    expected = ", ".join(info.layouts[:-1]) + f", or {info.layouts[-1]}"
    if info.download:
        hint = (
            "Pass --data-dir DIR to the calstudy command or set CALSTUDY_DATA; from Python, pass "
            "data_dir=... or use download=True."
        )
    else:
        hint = (
            "Pass --data-dir DIR to the calstudy command (data_dir=... from Python) or set "
            "CALSTUDY_DATA."
        )
    raise FileNotFoundError(
        f"No {info.title} data found in {where}. Expected one of: {expected}. {hint}"
    )


# ----------------------------------------------------------------------------------------------
# Cache
# ----------------------------------------------------------------------------------------------

_CACHE_VERSION = 1


def cache_dir() -> Path:
    """Where decoded datasets are cached: ``$CALSTUDY_CACHE/datasets`` (default
    ``~/.cache/calstudy/datasets``)."""
    root = os.environ.get("CALSTUDY_CACHE") or Path.home() / ".cache" / "calstudy"
    return Path(root) / "datasets"


def _cache_path(info: DatasetInfo, source: _Source) -> Path:
    """``<cache>/datasets/<name>-<key>.npz``, ``key`` hashing the source's paths, sizes, mtimes."""
    h = hashlib.sha256(
        f"{_CACHE_VERSION}|{info.name}|{source.fmt}|{source.path.resolve()}".encode()
    )
    for f in source.files:
        st = f.stat()
        h.update(f"|{f.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    return cache_dir() / f"{info.name}-{h.hexdigest()[:24]}.npz"


def _read_cache(path: Path, name: str) -> ImageDataset | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            return ImageDataset(
                name=name,
                x_train=npz["x_train"],
                y_train=npz["y_train"],
                x_test=npz["x_test"],
                y_test=npz["y_test"],
                classes=tuple(str(c) for c in npz["classes"]),
                mean=tuple(npz["mean"].tolist()),
                std=tuple(npz["std"].tolist()),
            )
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as e:
        warnings.warn(f"Ignoring unreadable cache file '{path}': {e}", stacklevel=3)
        return None


def _write_cache(path: Path, ds: ImageDataset) -> None:
    """Write ``ds`` to ``path`` atomically: a temporary file in the same folder, then rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
        try:
            os.chmod(tmp, 0o644)  # mkstemp creates 0600; the cache is as readable as the data
            with os.fdopen(fd, "wb") as f:
                np.savez(
                    f,
                    x_train=ds.x_train,
                    y_train=ds.y_train,
                    x_test=ds.x_test,
                    y_test=ds.y_test,
                    classes=np.array(ds.classes, dtype=np.str_),
                    mean=np.array(ds.mean),
                    std=np.array(ds.std),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        warnings.warn(f"Could not write dataset cache '{path}': {e}", stacklevel=3)


# ----------------------------------------------------------------------------------------------
# Public entry points
# ----------------------------------------------------------------------------------------------


def _channel_stats(x: np.ndarray) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Exact per-channel mean and std of uint8 images, in pixel units / 255, via histograms."""
    values = np.arange(256) / 255.0
    hist = np.stack([np.bincount(x[..., c].ravel(), minlength=256) for c in range(3)])
    p = hist / np.maximum(hist.sum(axis=1, keepdims=True), 1)
    mean = p @ values
    std = np.sqrt((p * (values - mean[:, None]) ** 2).sum(axis=1))
    return (mean[0], mean[1], mean[2]), (std[0], std[1], std[2])


def _finish(info: DatasetInfo, raw: _Raw, where: str) -> ImageDataset:
    """Pad Fashion-MNIST to 32x32, check sizes and labels, attach classes and mean/std."""
    x_train, x_test = raw.x_train, raw.x_test
    if info.name == "fashion-mnist" and x_test.shape[1:3] == (28, 28):
        pad = ((0, 0), (2, 2), (2, 2), (0, 0))
        x_train, x_test = np.pad(x_train, pad), np.pad(x_test, pad)
    s = info.image_size
    for split, x in (("train", x_train), ("test", x_test)):
        if len(x) and x.shape[1:] != (s, s, 3):
            raise ValueError(
                f"Expected {info.title} {split} images of shape ({s}, {s}, 3) in '{where}', got "
                f"{x.shape[1:]}."
            )
    if not len(x_train):  # SVHN without train_32x32.mat; an empty image folder
        x_train = np.zeros((0, s, s, 3), np.uint8)
    classes = info.classes
    if raw.classes is not None and raw.classes != classes:
        raise ValueError(
            f"Expected {info.title}'s classes ({', '.join(classes[:3])}, …) in '{where}', got "
            f"({', '.join(raw.classes[:3])}, …) ({len(raw.classes)} classes)."
        )
    if info.mean is not None and info.std is not None:
        mean, std = info.mean, info.std
    else:
        mean, std = _channel_stats(x_train if len(x_train) else x_test)
    return ImageDataset(
        name=info.name,
        x_train=x_train,
        y_train=raw.y_train,
        x_test=x_test,
        y_test=raw.y_test,
        classes=classes,
        mean=mean,
        std=std,
    )


def _info(name: str) -> DatasetInfo:
    key = name.lower() if isinstance(name, str) else name
    if key not in DATASETS:
        raise ValueError(f"Expected `name` to be one of {sorted(DATASETS)}, got {name!r}.")
    return DATASETS[key]


def _resolve_data_dir(data_dir: str | os.PathLike[str] | None, download: bool) -> Path:
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get("CALSTUDY_DATA")
    if env:
        return Path(env).expanduser()
    if download:
        return cache_dir().parent / "data"
    raise ValueError(
        "Expected `data_dir` or the CALSTUDY_DATA environment variable to name a data folder, "
        "got neither. Pass data_dir=..., set CALSTUDY_DATA, use download=True, or load the "
        "shipped sample with data_dir=sample_data_dir()."
    )


def load_dataset(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    cache: bool = True,
) -> ImageDataset:
    """Load one of the :data:`DATASETS` as uint8 arrays.

    Parameters
    ----------
    name : str
        ``"cifar10"``, ``"cifar100"``, ``"imagenet16-120"``, ``"fashion-mnist"`` or ``"svhn"``
        (case-insensitive).
    data_dir : path-like, optional
        Folder holding the data in one of the formats of the module docstring, or the data
        file itself. Defaults to ``$CALSTUDY_DATA``; with ``download=True`` and neither set,
        ``~/.cache/calstudy/data``.
    download : bool, default False
        If no data is found, download it with torchvision into ``data_dir`` first
        (not available for ImageNet16-120, which NATS-Bench distributes itself).
    cache : bool, default True
        Read and write the decoded arrays under ``$CALSTUDY_CACHE`` (default
        ``~/.cache/calstudy``), keyed by the source's path, size and modification time.

    Returns
    -------
    ImageDataset

    Raises
    ------
    ValueError
        Unknown ``name``, no ``data_dir`` given, or a source that cannot be read.
    FileNotFoundError
        ``data_dir`` does not exist or holds none of the accepted formats.

    Examples
    --------
    >>> ds = load_dataset("cifar10", sample_data_dir())
    >>> ds.x_train.shape, ds.x_test.shape, ds.classes[:2]
    ((4000, 32, 32, 3), (1000, 32, 32, 3), ('airplane', 'automobile'))
    """
    info = _info(name)
    root = _resolve_data_dir(data_dir, download)
    try:
        source = _locate(info, root)
    except FileNotFoundError:
        if not download or info.download is None or root.is_file():
            raise
        info.download(root)
        source = _locate(info, root)
    cache_file = _cache_path(info, source) if cache else None
    if cache_file is not None and (cached := _read_cache(cache_file, info.name)) is not None:
        return cached
    ds = _finish(info, _READERS[source.fmt](source.path, info), str(source.path))
    if cache_file is not None:
        _write_cache(cache_file, ds)
    return ds


def sample_data_dir() -> Path:
    """Folder of the small offline sample shipped with calstudy.

    It holds ``cifar10-sample.tar.gz`` (4,000 train + 1,000 test CIFAR-10 JPEGs, 400 / 100 per
    class) and ``fashion-mnist-sample.tar.gz`` (2,000 + 1,000 PNGs), so
    ``load_dataset("cifar10", sample_data_dir())`` works without a network.

    Returns
    -------
    pathlib.Path
    """
    return Path(str(resources.files("calstudy").joinpath("sample_data")))


# ----------------------------------------------------------------------------------------------
# NATS-Bench evaluation splits
# ----------------------------------------------------------------------------------------------

_HALVED = ("cifar100", "imagenet16-120")


def _parse_split_file(path: Path, n_test: int) -> dict[str, np.ndarray]:
    """Read NATS-Bench's ``*-test-split.txt``.

    The file is JSON, ``{"xvalid": ["int", ["1", "3", …]], "xtest": ["int", ["0", …]]}``.

    This is the ``xautodl.config_utils.load_config`` format: each value is a ``[type, values]``
    pair. Plain lists of integers are accepted too.
    """
    try:
        spec = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"Expected split file '{path}' to exist, but it does not."
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"Could not parse split file '{path}' as JSON: {e}") from e
    out = {}
    for key, split in (("xvalid", "x-valid"), ("xtest", "x-test")):
        value: Any = spec.get(key) if isinstance(spec, dict) else None
        if (
            isinstance(value, list)
            and len(value) == 2
            and isinstance(value[1], list)
            and value[0] == "int"
        ):
            value = value[1]
        try:
            indices = np.array([int(v) for v in value], dtype=np.int64)
        except (TypeError, ValueError):
            raise ValueError(
                f"Expected '{path}' to map '{key}' to a list of indices (or ['int', [...]]), got "
                f"{str(value)[:60]!r}."
            ) from None
        out[split] = np.sort(indices)
    both = np.concatenate(list(out.values()))
    if len(both) != n_test or not np.array_equal(np.sort(both), np.arange(n_test)):
        raise ValueError(
            f"Expected the splits in '{path}' to partition range({n_test}) (n_test={n_test}), got "
            f"{len(out['x-valid'])} + {len(out['x-test'])} indices in "
            f"[{both.min() if both.size else 0}, {both.max() if both.size else 0}]."
        )
    return out


def nats_splits(
    name: str, n_test: int, *, split_file: str | os.PathLike[str] | None = None, seed: int = 0
) -> dict[str, np.ndarray]:
    """NATS-Bench's evaluation splits of a test set, as sorted index arrays.

    CIFAR-10 models are evaluated on the whole test set (``"test"``). For CIFAR-100 and
    ImageNet16-120 NATS-Bench halves the test set into ``"x-valid"`` and ``"x-test"``
    (Dong et al., 2021, Sec. 3): with ``split_file`` (``cifar100-test-split.txt`` or
    ``imagenet-16-120-test-split.txt`` from ``configs/nas-benchmark/`` of NATS-Bench /
    AutoDL-Projects) these are its exact halves; without it, a seeded uniform random half
    split (same sizes, not the same images).

    Parameters
    ----------
    name : str
        ``"cifar10"``, ``"cifar100"`` or ``"imagenet16-120"``.
    n_test : int
        Size of the test set (10,000 for CIFAR, 6,000 for ImageNet16-120).
    split_file : path-like, optional
        NATS-Bench split file; must partition ``range(n_test)``.
    seed : int, default 0
        Seed of the random split when no ``split_file`` is given.

    Returns
    -------
    dict of str to ndarray of int64
        ``{"test": …}`` for cifar10; ``{"x-valid": …, "x-test": …}``, disjoint and covering
        ``range(n_test)``, otherwise.

    Examples
    --------
    >>> s = nats_splits("cifar100", 10)
    >>> len(s["x-valid"]), len(s["x-test"]), np.union1d(s["x-valid"], s["x-test"]).size
    (5, 5, 10)
    """
    info = _info(name)
    if isinstance(n_test, bool) or not isinstance(n_test, int | np.integer) or n_test < 1:
        raise ValueError(f"Expected `n_test` to be a positive int, got {n_test!r}.")
    if info.name == "cifar10":
        if split_file is not None:
            raise ValueError(
                "Expected no `split_file` for cifar10: NATS-Bench evaluates CIFAR-10 models on "
                f"the whole test set, got {str(split_file)!r}."
            )
        return {"test": np.arange(n_test, dtype=np.int64)}
    if info.name not in _HALVED:
        raise ValueError(
            f"Expected `name` to be one of ['cifar10', {', '.join(map(repr, _HALVED))}] "
            f"(NATS-Bench's datasets), got {name!r}."
        )
    if split_file is not None:
        return _parse_split_file(Path(split_file), int(n_test))
    perm = np.random.default_rng(seed).permutation(n_test)
    half = n_test // 2
    return {"x-valid": np.sort(perm[:half]), "x-test": np.sort(perm[half:])}
