"""CIFAR-10-C common corruptions, re-implemented for batches of 32 x 32 images.

Hendrycks & Dietterich [1]_ built CIFAR-10-C by applying 15 corruptions at 5 severities to the
CIFAR-10 test set; Tao et al. [2]_ (after Jung et al. [3]_) report accuracy under each one as a
robustness column named after the corruption. :func:`corrupt` applies one corruption at one
severity to a whole batch; :func:`corrupt_all` walks the grid.

Fidelity to the published data set
----------------------------------
Every per-severity parameter is the one of the CIFAR-10 script ``make_cifar_c.py`` of
``hendrycks/robustness`` (``ImageNet-C/create_c/``), quoted in :data:`_PARAMS`. The operations
follow that script step by step, vectorised over the batch with NumPy, SciPy, scikit-image and
Pillow, and the result is cast to ``uint8`` by truncation (the script's ``np.uint8(...)``).
Where the script relies on OpenCV or ImageMagick we re-implement the operation:

* ``motion_blur`` (and the streaks of ``snow``) -- ImageMagick's ``MotionBlurImage``: a
  one-sided Gaussian line kernel of width :math:`2\\lceil r\\rceil + 1` and standard deviation
  :math:`\\sigma`, sampled at integer offsets :math:`\\mathrm{round}(i\\cos\\theta,
  i\\sin\\theta)` along the angle :math:`\\theta`, edge pixels repeated beyond the border. This
  is the same kernel ImageMagick builds; results can differ by one grey level where its quantum
  arithmetic rounds differently.
* ``defocus_blur`` -- the anti-aliased disk kernel (``cv2.GaussianBlur`` with a 3-tap kernel)
  and ``cv2.filter2D`` with reflect-101 borders, written with :mod:`scipy.ndimage`.
* ``elastic_transform`` -- ``cv2.warpAffine`` (bilinear, reflect-101) as a bilinear
  :func:`scipy.ndimage.map_coordinates`; OpenCV quantises sub-pixel positions to 1/32 pixel,
  SciPy does not.
* ``frost`` -- the frost photographs are resized by ``cv2.resize(fx=0.2)`` with bilinear
  interpolation, which at scale 1/5 samples every fifth pixel from the third: ``[2::5, 2::5]``.
* ``glass_blur`` -- the script's "swap" ``x[h, w], x[h', w'] = x[h', w'], x[h, w]`` acts on
  NumPy views, so it copies ``x[h', w']`` into ``x[h, w]`` and leaves ``x[h', w']`` as it was.
  That copy is what generated CIFAR-10-C, and it is what we do.

Random draws come from one :class:`numpy.random.Generator` seeded with ``seed``, so a call is
deterministic, but the draws differ from the script's global NumPy stream: the corrupted images
follow the same distribution as CIFAR-10-C, not the same pixels.

Frost photographs
-----------------
``frost`` blends in crops of five frost photographs (``frost1.png`` ... ``frost5.jpg``; the
script lists a sixth it never draws). They are not ours to ship: they come with the
``imagecorruptions`` package, which is found without being imported (it does not import under
current setuptools). Install the files with ``pip install --no-deps imagecorruptions`` or pass
``frost_dir=`` a folder holding them. We deliberately offer no procedural stand-in: a column
named ``frost`` must mean the published corruption, so without the photographs ``frost`` raises.

References
----------
.. [1] D. Hendrycks, T. Dietterich, "Benchmarking Neural Network Robustness to Common
   Corruptions and Perturbations", ICLR 2019.
.. [2] L. Tao, Y. Zhu, H. Guo, M. Dong, C. Xu, "A Benchmark Study on Calibration", ICLR 2024.
.. [3] S. Jung, J. Lukasik, M. Keuper, "Neural Architecture Design and Robustness: A Dataset",
   ICLR 2023.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

__all__ = ["CORRUPTIONS", "SEVERITIES", "FROST_FILES", "corrupt", "corrupt_all"]

CORRUPTIONS: tuple[str, ...] = (
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "glass_blur",
    "motion_blur",
    "zoom_blur",
    "snow",
    "frost",
    "fog",
    "brightness",
    "contrast",
    "elastic_transform",
    "pixelate",
    "jpeg_compression",
)
"""The 15 CIFAR-10-C corruptions, in the order of [1]_, named as the paper's accuracy columns."""

SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)
"""The severity levels of CIFAR-10-C."""

FROST_FILES: tuple[str, ...] = (
    "frost1.png",
    "frost2.png",
    "frost3.png",
    "frost4.jpg",
    "frost5.jpg",
)
"""The frost photographs ``frost`` draws from (``make_cifar_c.py`` draws ``randint(5)``)."""

_SIZE = 32  # CIFAR image side; every parameter below is for 32 x 32 images
_ROUNDOFF = 1e-6  # grey levels added before truncating to uint8

# Per-severity parameters (severity 1..5), copied from make_cifar_c.py of hendrycks/robustness.
_PARAMS: dict[str, tuple[Any, ...]] = {
    "gaussian_noise": (0.04, 0.06, 0.08, 0.09, 0.10),  # noise std, in [0, 1] pixel units
    "shot_noise": (500, 250, 100, 75, 50),  # Poisson photon count at full intensity
    "impulse_noise": (0.01, 0.02, 0.03, 0.05, 0.07),  # fraction of salt-and-pepper values
    # (disk radius, anti-alias Gaussian sigma), in pixels
    "defocus_blur": ((0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)),
    # (Gaussian sigma, max pixel displacement, shuffling passes)
    "glass_blur": ((0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)),
    "motion_blur": ((6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)),  # (radius, sigma), pixels
    # stop of np.arange(1, stop, 0.01): the zoom factors averaged (float arange, stop included
    # for 1.06 and 1.11, exactly as in the script)
    "zoom_blur": (1.06, 1.11, 1.16, 1.21, 1.26),
    # (mean, std, zoom, threshold, blur radius, blur sigma, blend) of the snow layer
    "snow": (
        (0.1, 0.2, 1, 0.6, 8, 3, 0.95),
        (0.1, 0.2, 1, 0.5, 10, 4, 0.9),
        (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
        (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85),
        (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8),
    ),
    "frost": ((1, 0.2), (1, 0.3), (0.9, 0.4), (0.85, 0.4), (0.75, 0.45)),  # (image, frost) weights
    "fog": ((0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)),  # (strength, wibble decay)
    "brightness": (0.05, 0.1, 0.15, 0.2, 0.3),  # added to HSV value
    "contrast": (0.75, 0.5, 0.4, 0.3, 0.15),  # factor on the deviation from the channel mean
    # (alpha, sigma, affine jitter) as multiples of the image side 32
    "elastic_transform": (
        (_SIZE * 0, _SIZE * 0, _SIZE * 0.08),
        (_SIZE * 0.05, _SIZE * 0.2, _SIZE * 0.07),
        (_SIZE * 0.08, _SIZE * 0.06, _SIZE * 0.06),
        (_SIZE * 0.1, _SIZE * 0.04, _SIZE * 0.05),
        (_SIZE * 0.1, _SIZE * 0.03, _SIZE * 0.03),
    ),
    "pixelate": (0.95, 0.9, 0.85, 0.75, 0.65),  # side of the downsampled image / 32
    "jpeg_compression": (80, 65, 58, 50, 40),  # Pillow JPEG quality
}


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def corrupt(
    images: np.ndarray,
    name: str,
    severity: int,
    *,
    seed: int = 0,
    frost_dir: str | Path | None = None,
) -> np.ndarray:
    """Apply one CIFAR-10-C corruption at one severity to a batch of images.

    Parameters
    ----------
    images : ndarray of uint8, shape (N, 32, 32, 3)
        RGB images, NHWC.
    name : str
        One of :data:`CORRUPTIONS`.
    severity : int
        Severity level in 1..5.
    seed : int, default 0
        Seed of the random draws; the output is a function of ``(images, name, severity,
        seed)``.
    frost_dir : str or Path, optional
        Folder holding :data:`FROST_FILES`, used by ``frost`` only. By default the frost
        photographs of an installed ``imagecorruptions`` package.

    Returns
    -------
    ndarray of uint8, shape (N, 32, 32, 3)
        The corrupted images.

    Raises
    ------
    ValueError
        If ``images``, ``name`` or ``severity`` is invalid.
    FileNotFoundError
        If ``name`` is ``"frost"`` and the frost photographs cannot be found.

    References
    ----------
    D. Hendrycks, T. Dietterich, "Benchmarking Neural Network Robustness to Common Corruptions
    and Perturbations", ICLR 2019.

    Examples
    --------
    Brightness adds :math:`c_1 = 0.05` to the HSV value, so a grey of 100 becomes
    :math:`\\lfloor 100 + 0.05 \\cdot 255 \\rfloor = 112`:

    >>> grey = np.full((1, 32, 32, 3), 100, dtype=np.uint8)
    >>> corrupt(grey, "brightness", 1)[0, 0, 0]
    array([112, 112, 112], dtype=uint8)
    """
    _check_images(images)
    _check_name(name)
    _check_severity(severity)
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise ValueError(f"Expected `seed` to be an integer, got {seed!r}.")
    params = _PARAMS[name][int(severity) - 1]
    rng = np.random.default_rng(int(seed))
    if name == "frost":
        out = _frost(images, params, rng, frost_dir=frost_dir)
    else:
        out = _CORRUPTION_FUNCTIONS[name](images, params, rng)
    return out if out.dtype == np.uint8 else _to_uint8(out)


def corrupt_all(
    images: np.ndarray,
    *,
    severities: Sequence[int] = SEVERITIES,
    names: Iterable[str] = CORRUPTIONS,
    seed: int = 0,
    frost_dir: str | Path | None = None,
    progress: bool = False,
) -> Iterator[tuple[str, int, np.ndarray]]:
    """Yield every corruption of a batch over a grid of names and severities.

    Parameters
    ----------
    images : ndarray of uint8, shape (N, 32, 32, 3)
        RGB images, NHWC.
    severities : sequence of int, default (1, 2, 3, 4, 5)
        Severity levels to apply.
    names : iterable of str, default :data:`CORRUPTIONS`
        Corruptions to apply, in this order.
    seed : int, default 0
        Seed passed to every :func:`corrupt` call.
    frost_dir : str or Path, optional
        See :func:`corrupt`.
    progress : bool, default False
        Show a :mod:`tqdm` progress bar over the ``(name, severity)`` pairs.

    Yields
    ------
    name : str
    severity : int
    corrupted : ndarray of uint8, shape (N, 32, 32, 3)
        ``corrupt(images, name, severity, seed=seed, frost_dir=frost_dir)``.
    """
    _check_images(images)
    names = tuple(names)
    severities = tuple(severities)
    for name in names:
        _check_name(name)
    for severity in severities:
        _check_severity(severity)
    grid = [(name, int(severity)) for name in names for severity in severities]
    # Validated above, eagerly; the corrupting happens lazily, one set per iteration.
    return _corrupt_grid(images, grid, seed=seed, frost_dir=frost_dir, progress=progress)


def _corrupt_grid(
    images: np.ndarray,
    grid: list[tuple[str, int]],
    *,
    seed: int,
    frost_dir: str | Path | None,
    progress: bool,
) -> Iterator[tuple[str, int, np.ndarray]]:
    if progress:
        from tqdm.auto import tqdm

        grid = tqdm(grid, desc="corruptions", unit="set")
    for name, severity in grid:
        yield name, severity, corrupt(images, name, severity, seed=seed, frost_dir=frost_dir)


# ---------------------------------------------------------------------------------------------
# Validation and conversion
# ---------------------------------------------------------------------------------------------


def _check_images(images: Any) -> None:
    if not isinstance(images, np.ndarray):
        raise ValueError(f"Expected `images` to be a numpy array, got {type(images).__name__}.")
    if images.dtype != np.uint8:
        raise ValueError(f"Expected `images` to have dtype uint8, got {images.dtype}.")
    if images.ndim != 4 or images.shape[1:] != (_SIZE, _SIZE, 3) or images.shape[0] == 0:
        raise ValueError(
            f"Expected `images` to have shape (N, {_SIZE}, {_SIZE}, 3) with N >= 1, "
            f"got {images.shape}."
        )


def _check_name(name: Any) -> None:
    if name not in _PARAMS:
        raise ValueError(f"Expected `name` to be one of {CORRUPTIONS}, got {name!r}.")


def _check_severity(severity: Any) -> None:
    if (
        not isinstance(severity, numbers.Integral)
        or isinstance(severity, bool)
        or not 1 <= severity <= 5
    ):
        raise ValueError(f"Expected `severity` to be an integer in 1..5, got {severity!r}.")


def _to_float(images: np.ndarray) -> np.ndarray:
    """uint8 in 0..255 -> float64 in [0, 1]."""
    return images / 255.0


def _to_uint8(x: np.ndarray) -> np.ndarray:
    """Float in [0, 1] -> uint8, clipping and truncating as the script's ``np.uint8`` does.

    A guard of 1e-6 grey levels keeps values that are integers up to floating-point round-off
    (``k / 255 * 255``) from being truncated one level down.
    """
    return (np.clip(x, 0.0, 1.0) * 255 + _ROUNDOFF).astype(np.uint8)


def _gaussian(x: np.ndarray, sigma: float, *, mode: str = "nearest", truncate: float = 4.0):
    """``skimage.filters.gaussian`` on the two spatial axes of a (N, H, W[, C]) batch."""
    sigmas = (0.0, sigma, sigma) + (0.0,) * (x.ndim - 3)
    return ndimage.gaussian_filter(x, sigma=sigmas, mode=mode, truncate=truncate)


# ---------------------------------------------------------------------------------------------
# Noise
# ---------------------------------------------------------------------------------------------


def _gaussian_noise(images: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    x = _to_float(images)
    return x + rng.normal(scale=std, size=x.shape)


def _shot_noise(images: np.ndarray, photons: float, rng: np.random.Generator) -> np.ndarray:
    return rng.poisson(_to_float(images) * photons) / photons


def _impulse_noise(images: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    # skimage.util.random_noise(mode="s&p"): each value (channels separately) is replaced with
    # probability `amount`, by salt (1) or pepper (0) with equal chance.
    x = _to_float(images)
    flipped = rng.random(x.shape) < amount
    salt = rng.random(x.shape) < 0.5
    return np.where(flipped, salt.astype(x.dtype), x)


# ---------------------------------------------------------------------------------------------
# Blur
# ---------------------------------------------------------------------------------------------


def _disk_kernel(radius: float, alias_blur: float) -> np.ndarray:
    """Anti-aliased disk: a normalised 17 x 17 disk smoothed by a 3-tap Gaussian.

    Rows and columns that are exactly zero are trimmed; that changes no output.
    """
    span = np.arange(-8, 9)
    xx, yy = np.meshgrid(span, span)
    disk = (xx**2 + yy**2 <= radius**2).astype(np.float64)
    disk /= disk.sum()
    taps = np.exp(-np.array([1.0, 0.0, 1.0]) / (2 * alias_blur**2))  # cv2.getGaussianKernel(3)
    taps /= taps.sum()
    kernel = ndimage.correlate1d(disk, taps, axis=0, mode="mirror")
    kernel = ndimage.correlate1d(kernel, taps, axis=1, mode="mirror")
    rows = np.flatnonzero(kernel.any(axis=1))
    cols = np.flatnonzero(kernel.any(axis=0))
    return kernel[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _defocus_blur(images: np.ndarray, params: tuple[float, float], rng) -> np.ndarray:
    kernel = _disk_kernel(*params)
    return ndimage.correlate(_to_float(images), kernel[None, :, :, None], mode="mirror")


def _glass_blur(images: np.ndarray, params: tuple[float, int, int], rng) -> np.ndarray:
    sigma, delta, passes = params
    x = (_gaussian(_to_float(images), sigma) * 255).astype(np.uint8)
    n = len(x)
    batch = np.arange(n)
    positions = range(_SIZE - delta, delta, -1)  # the script's order, bottom-right first
    for _ in range(passes):
        for h in positions:
            # np.random.randint(-delta, delta): integers in [-delta, delta), per image
            shifts = rng.integers(-delta, delta, size=(len(positions), 2, n))
            for w, (dy, dx) in zip(positions, shifts, strict=True):
                x[batch, h, w] = x[batch, h + dy, w + dx]  # the script's "swap" (see module doc)
    return _gaussian(_to_float(x), sigma)


def _motion_blur_batch(
    x: np.ndarray, radius: float, sigma: float, angles: np.ndarray
) -> np.ndarray:
    """ImageMagick ``MotionBlurImage`` on each image of a (N, H, W, C) batch.

    Output pixel :math:`p` is :math:`\\sum_{i=0}^{w-1} k_i\\, x(p + o_i)` with width
    :math:`w = 2\\lceil r\\rceil + 1`, weights :math:`k_i \\propto e^{-i^2 / 2\\sigma^2}`
    summing to one, and offsets :math:`o_i = (\\mathrm{round}(i\\sin\\theta),
    \\mathrm{round}(i\\cos\\theta))` (row, column) for the image's angle :math:`\\theta` in
    degrees; pixels outside the image repeat the nearest edge pixel.
    """
    width = 2 * math.ceil(radius) + 1
    steps = np.arange(width)
    weights = np.exp(-(steps**2) / (2.0 * sigma**2))
    weights /= weights.sum()
    theta = np.deg2rad(np.asarray(angles, dtype=np.float64))[:, None]
    # ImageMagick rounds with ceil(v - 0.5)
    d_col = np.ceil(steps * np.cos(theta) - 0.5).astype(np.intp)  # (N, width)
    d_row = np.ceil(steps * np.sin(theta) - 0.5).astype(np.intp)
    n, h, w = x.shape[:3]
    batch = np.arange(n)[:, None, None]
    out = np.zeros(x.shape, dtype=np.float64)
    for i in range(width):
        rows = np.clip(np.arange(h)[None, :] + d_row[:, i, None], 0, h - 1)  # (N, H)
        cols = np.clip(np.arange(w)[None, :] + d_col[:, i, None], 0, w - 1)  # (N, W)
        out += weights[i] * x[batch, rows[:, :, None], cols[:, None, :]]
    return out


def _motion_blur(images: np.ndarray, params: tuple[float, float], rng) -> np.ndarray:
    radius, sigma = params
    angles = rng.uniform(-45, 45, size=len(images))
    blurred = _motion_blur_batch(images.astype(np.float64), radius, sigma, angles)
    return np.clip(np.rint(blurred), 0, 255).astype(np.uint8)  # written as an 8-bit PNG


def _zoom_matrix(size: int, factor: float) -> np.ndarray:
    """The script's ``clipped_zoom`` along one axis, as a (size, size) linear map.

    ``clipped_zoom`` crops the central ``ceil(size / factor)`` pixels, zooms them with
    ``scipy.ndimage.zoom(order=1)`` -- linear interpolation from output pixel :math:`j` to input
    coordinate :math:`j (m - 1) / (M - 1)`, for crop size :math:`m` and zoomed size
    :math:`M = \\mathrm{round}(m \\cdot \\mathrm{factor})` -- and keeps the central ``size``
    pixels. Linear interpolation is separable, so the 2-D zoom is :math:`Z X Z^\\top`.
    """
    crop = math.ceil(size / factor)
    top = (size - crop) // 2
    zoomed = round(crop * factor)
    trim = (zoomed - size) // 2
    coords = np.minimum(np.arange(trim, trim + size) * ((crop - 1) / (zoomed - 1)), crop - 1)
    low = np.floor(coords).astype(np.intp)
    high = np.minimum(low + 1, crop - 1)
    frac = coords - low
    matrix = np.zeros((size, size))
    rows = np.arange(size)
    np.add.at(matrix, (rows, top + low), 1 - frac)
    np.add.at(matrix, (rows, top + high), frac)
    return matrix


def _clipped_zoom(x: np.ndarray, factor: float) -> np.ndarray:
    """Zoom the centre of each (H, W, C) image of a batch by ``factor`` and crop back to H x W."""
    zoom = _zoom_matrix(x.shape[1], factor).astype(x.dtype)
    rows_zoomed = np.tensordot(zoom, x, axes=(1, 1))  # (H, N, W, C), one matrix product
    both_zoomed = np.tensordot(zoom, rows_zoomed, axes=(1, 2))  # (W, H, N, C)
    return both_zoomed.transpose(2, 1, 0, 3)


def _zoom_blur(images: np.ndarray, stop: float, rng) -> np.ndarray:
    x = _to_float(images)
    factors = np.arange(1, stop, 0.01)
    out = np.zeros_like(x)
    for factor in factors:
        out += _clipped_zoom(x, factor)
    return (x + out) / (len(factors) + 1)


# ---------------------------------------------------------------------------------------------
# Weather
# ---------------------------------------------------------------------------------------------


def _snow(images: np.ndarray, params: tuple[float, ...], rng: np.random.Generator) -> np.ndarray:
    mean, std, zoom, threshold, radius, sigma, blend = params
    n = len(images)
    x = _to_float(images)
    layer = rng.normal(loc=mean, scale=std, size=(n, _SIZE, _SIZE, 1))
    layer = _clipped_zoom(layer, zoom)
    layer[layer < threshold] = 0
    layer = _to_uint8(layer).astype(np.float64)  # the script saves the layer as an 8-bit PNG
    angles = rng.uniform(-135, -45, size=n)
    layer = np.clip(np.rint(_motion_blur_batch(layer, radius, sigma, angles)), 0, 255) / 255
    grey = x @ np.array([0.299, 0.587, 0.114])  # cv2 RGB2GRAY
    x = blend * x + (1 - blend) * np.maximum(x, grey[..., None] * 1.5 + 0.5)
    return x + layer + np.rot90(layer, k=2, axes=(1, 2))


def _frost_folder(frost_dir: str | Path | None) -> Path:
    """Folder of the frost photographs: ``frost_dir`` or the ``imagecorruptions`` package's."""
    hint = (
        "Install them with `pip install --no-deps imagecorruptions` or pass `frost_dir=` a "
        f"folder holding {', '.join(FROST_FILES)}."
    )
    if frost_dir is None:
        spec = importlib.util.find_spec("imagecorruptions")  # locates without importing
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(
                "The `frost` corruption needs the frost photographs of Hendrycks & Dietterich "
                f"(2019), and no `imagecorruptions` package was found. {hint}"
            )
        folder = Path(next(iter(spec.submodule_search_locations))) / "frost"
    else:
        folder = Path(frost_dir)
    missing = [name for name in FROST_FILES if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Expected the frost photographs in {str(folder)!r}, but {', '.join(missing)} "
            f"missing. {hint}"
        )
    return folder


@functools.lru_cache(maxsize=4)
def _frost_layers(folder: str) -> tuple[np.ndarray, ...]:
    """The frost photographs as RGB uint8, shrunk as ``cv2.resize(fx=0.2, fy=0.2)`` does."""
    layers = []
    for name in FROST_FILES:
        with Image.open(Path(folder) / name) as photo:
            rgb = np.asarray(photo.convert("RGB"))
        # Bilinear resizing by 1/5 samples source pixel 5 d + 2 exactly (OpenCV's half-pixel
        # centres), i.e. it keeps every fifth pixel from the third.
        layer = rgb[2::5, 2::5]
        if min(layer.shape[:2]) <= _SIZE:
            raise ValueError(
                f"Expected frost photograph {name!r} to exceed {5 * (_SIZE + 1)} pixels a side, "
                f"got {rgb.shape[:2]}."
            )
        layers.append(layer)
    return tuple(layers)


def _frost(
    images: np.ndarray,
    params: tuple[float, float],
    rng: np.random.Generator,
    *,
    frost_dir: str | Path | None,
) -> np.ndarray:
    weight_image, weight_frost = params
    layers = _frost_layers(str(_frost_folder(frost_dir).resolve()))
    n = len(images)
    which = rng.integers(len(layers), size=n)
    crop = np.empty(images.shape, dtype=np.float64)
    span = np.arange(_SIZE)
    for k, layer in enumerate(layers):
        (members,) = np.nonzero(which == k)
        # np.random.randint(0, side - 32): top-left corner of the crop
        top = rng.integers(0, layer.shape[0] - _SIZE, size=len(members))
        left = rng.integers(0, layer.shape[1] - _SIZE, size=len(members))
        rows = top[:, None, None] + span[None, :, None]
        cols = left[:, None, None] + span[None, None, :]
        crop[members] = layer[rows, cols]
    return (weight_image * images + weight_frost * crop) / 255


def _plasma_fractal(
    n: int, rng: np.random.Generator, *, wibble_decay: float, size: int = _SIZE
) -> np.ndarray:
    """Diamond-square height maps, shape (n, size, size), each rescaled to [0, 1].

    The script's ``plasma_fractal`` (after FLHerne/mapgen), one map per image: each level sets
    square centres and then diamond centres to the mean of their four neighbours (wrapping at
    the border) plus uniform noise of half-width ``wibble**2``; ``wibble`` starts at 100 and is
    divided by ``wibble_decay`` per level, so a larger decay gives a smoother fog.
    """
    maps = np.zeros((n, size, size))
    step = size
    wibble = 100.0

    def wibbled_mean(total: np.ndarray) -> np.ndarray:
        return total / 4 + wibble * rng.uniform(-wibble, wibble, total.shape)

    while step >= 2:
        half = step // 2
        corners = maps[:, 0:size:step, 0:size:step]
        square = corners + np.roll(corners, -1, axis=1)
        square = square + np.roll(square, -1, axis=2)
        maps[:, half:size:step, half:size:step] = wibbled_mean(square)

        centres = maps[:, half:size:step, half:size:step]
        corners = maps[:, 0:size:step, 0:size:step]
        left = centres + np.roll(centres, 1, axis=1) + corners + np.roll(corners, -1, axis=2)
        maps[:, 0:size:step, half:size:step] = wibbled_mean(left)
        top = centres + np.roll(centres, 1, axis=2) + corners + np.roll(corners, -1, axis=1)
        maps[:, half:size:step, 0:size:step] = wibbled_mean(top)
        step = half
        wibble /= wibble_decay
    maps -= maps.min(axis=(1, 2), keepdims=True)
    return maps / maps.max(axis=(1, 2), keepdims=True)


def _fog(images: np.ndarray, params: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    strength, decay = params
    x = _to_float(images)
    max_val = x.max(axis=(1, 2, 3), keepdims=True)
    x = x + strength * _plasma_fractal(len(x), rng, wibble_decay=decay)[..., None]
    return x * max_val / (max_val + strength)


# ---------------------------------------------------------------------------------------------
# Digital
# ---------------------------------------------------------------------------------------------


def _brightness(images: np.ndarray, shift: float, rng) -> np.ndarray:
    r"""Add ``shift`` to the HSV value, keeping hue and saturation.

    The script converts with ``skimage.color.rgb2hsv``, sets :math:`V' = \min(V + c, 1)` and
    converts back. For fixed hue and saturation RGB is proportional to :math:`V = \max(R, G, B)`,
    so the round trip is :math:`x' = x \, V' / V`, and a black pixel (saturation 0) becomes the
    grey :math:`V'`.
    """
    x = _to_float(images)
    value = x.max(axis=-1, keepdims=True)
    new_value = np.minimum(value + shift, 1.0)
    scale = np.divide(new_value, value, out=np.zeros_like(value), where=value > 0)
    return np.where(value > 0, x * scale, new_value)


def _contrast(images: np.ndarray, factor: float, rng) -> np.ndarray:
    x = _to_float(images)
    means = x.mean(axis=(1, 2), keepdims=True)  # per image and channel
    return (x - means) * factor + means


def _elastic_transform(
    images: np.ndarray, params: tuple[float, float, float], rng: np.random.Generator
) -> np.ndarray:
    alpha, sigma, jitter = params
    n = len(images)
    x = _to_float(images)

    # Random affine: three anchor points (x, y) move by up to `jitter` pixels. warpAffine maps
    # each output pixel p to the input M^-1 p, the affine map sending the moved points back.
    centre, half = _SIZE // 2, _SIZE // 3
    anchors = np.array(
        [[centre + half, centre + half], [centre + half, centre - half], [centre - half] * 2],
        dtype=np.float64,
    )
    moved = anchors + rng.uniform(-jitter, jitter, size=(n, 3, 2))
    inverse = np.linalg.solve(np.concatenate([moved, np.ones((n, 3, 1))], axis=2), anchors)
    cols, rows = np.meshgrid(np.arange(_SIZE), np.arange(_SIZE))  # (H, W) each
    grid = np.stack([cols, rows, np.ones_like(cols)], axis=-1).astype(np.float64)
    source = grid @ inverse[:, None]  # (N, H, W, 2) as (x, y)
    x = _resample(x, source[..., 1], source[..., 0], mode="mirror")  # mirror = reflect-101

    # Elastic displacement: smoothed uniform noise scaled by alpha.
    dx = alpha * _gaussian(
        rng.uniform(-1, 1, size=(n, _SIZE, _SIZE)), sigma, mode="reflect", truncate=3
    )
    dy = alpha * _gaussian(
        rng.uniform(-1, 1, size=(n, _SIZE, _SIZE)), sigma, mode="reflect", truncate=3
    )
    return _resample(x, rows + dy, cols + dx, mode="reflect")


def _resample(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, *, mode: str) -> np.ndarray:
    """Bilinear sample of each (H, W, C) image at per-image (N, H, W) row/column coordinates."""
    n, h, w, c = x.shape
    out = np.empty_like(x)
    for k in range(c):
        coords = np.stack([np.broadcast_to(np.arange(n)[:, None, None], rows.shape), rows, cols])
        out[..., k] = ndimage.map_coordinates(x[..., k], coords, order=1, mode=mode)
    return out


def _pixelate(images: np.ndarray, scale: float, rng) -> np.ndarray:
    small = int(_SIZE * scale)
    out = np.empty_like(images)
    for i, image in enumerate(images):
        pil = Image.fromarray(image).resize((small, small), Image.Resampling.BOX)
        out[i] = np.asarray(pil.resize((_SIZE, _SIZE), Image.Resampling.BOX))
    return out


def _jpeg_compression(images: np.ndarray, quality: int, rng) -> np.ndarray:
    out = np.empty_like(images)
    for i, image in enumerate(images):
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            out[i] = np.asarray(decoded.convert("RGB"))
    return out


_CORRUPTION_FUNCTIONS: dict[str, Callable[[np.ndarray, Any, np.random.Generator], np.ndarray]] = {
    "gaussian_noise": _gaussian_noise,
    "shot_noise": _shot_noise,
    "impulse_noise": _impulse_noise,
    "defocus_blur": _defocus_blur,
    "glass_blur": _glass_blur,
    "motion_blur": _motion_blur,
    "zoom_blur": _zoom_blur,
    "snow": _snow,
    "fog": _fog,
    "brightness": _brightness,
    "contrast": _contrast,
    "elastic_transform": _elastic_transform,
    "pixelate": _pixelate,
    "jpeg_compression": _jpeg_compression,
}  # frost takes `frost_dir` and is dispatched in `corrupt`
