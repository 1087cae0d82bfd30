"""Tests for calstudy.corruptions: CIFAR-10-C corruptions on batches of 32 x 32 images."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage
from skimage import color

from calstudy import corruptions
from calstudy.corruptions import (
    CORRUPTIONS,
    FROST_FILES,
    SEVERITIES,
    corrupt,
    corrupt_all,
)

NOT_FROST = tuple(name for name in CORRUPTIONS if name != "frost")
RANDOM = (
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "glass_blur",
    "motion_blur",
    "snow",
    "frost",
    "fog",
    "elastic_transform",
)
# Mean absolute change rises strictly with severity for these. The exceptions follow from the
# published parameters: motion blur severities 3 and 4 differ only in kernel taps of weight
# < 1e-9; glass blur severity 4 has a smaller sigma than 3 (with two passes) and 5 repeats 3's
# sigma; elastic transform's severity 1 has the largest affine jitter.
MONOTONE = (
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "zoom_blur",
    "snow",
    "fog",
    "brightness",
    "contrast",
    "pixelate",
    "jpeg_compression",
)


def smooth_images(n: int, *, seed: int = 0) -> np.ndarray:
    """Natural-looking test images: smoothed colour noise with a brighter disk (an edge)."""
    rng = np.random.default_rng(seed)
    noise = ndimage.gaussian_filter(rng.random((n, 32, 32, 3)), sigma=(0, 3, 3, 0))
    low = noise.min(axis=(1, 2, 3), keepdims=True)
    high = noise.max(axis=(1, 2, 3), keepdims=True)
    x = 40 + 160 * (noise - low) / (high - low)
    rows, cols = np.mgrid[:32, :32]
    disk = (rows - 16) ** 2 + (cols - 14) ** 2 < 64
    x[:, disk] = 0.5 * x[:, disk] + 100
    return x.astype(np.uint8)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return smooth_images(6)


@pytest.fixture(scope="module")
def frost_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five synthetic frost photographs, 240 x 260, in the formats of the real ones."""
    folder = tmp_path_factory.mktemp("frost")
    rng = np.random.default_rng(0)
    for name in FROST_FILES:
        photo = rng.integers(0, 256, size=(240, 260, 3), dtype=np.uint8)
        Image.fromarray(photo).save(folder / name, quality=95)
    return folder


@pytest.fixture(scope="module")
def flat_frost_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five uniform frost photographs of grey 100 (PNG, so exactly 100)."""
    folder = tmp_path_factory.mktemp("flat_frost")
    for name in FROST_FILES:
        Image.fromarray(np.full((200, 200, 3), 100, dtype=np.uint8)).save(
            folder / name, format="PNG"
        )
    return folder


def mean_change(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int64) - b.astype(np.int64)).mean())


# ── every corruption and severity ───────────────────────────────────────────────────────────


@pytest.mark.parametrize("severity", SEVERITIES)
@pytest.mark.parametrize("name", CORRUPTIONS)
def test_keeps_shape_and_dtype_changes_image_and_not_input(name, severity, images, frost_dir):
    before = images.copy()
    out = corrupt(images, name, severity, seed=1, frost_dir=frost_dir)
    assert out.shape == images.shape
    assert out.dtype == np.uint8
    assert mean_change(out, images) > 0.3
    np.testing.assert_array_equal(images, before)


def test_corruptions_are_the_papers_fifteen_columns():
    from calstudy import schema

    assert len(CORRUPTIONS) == 15
    assert sorted(CORRUPTIONS) == sorted(schema.CORRUPTIONS)
    assert set(corruptions._PARAMS) == set(CORRUPTIONS)
    assert all(len(values) == 5 for values in corruptions._PARAMS.values())


@pytest.mark.parametrize("name", MONOTONE)
def test_severity_increases_the_change(name, images):
    changes = [mean_change(corrupt(images, name, s), images) for s in SEVERITIES]
    assert all(np.diff(changes) > 0), changes


@pytest.mark.parametrize("name", ["motion_blur", "glass_blur"])
def test_severity_trend_with_published_plateaus(name, images):
    changes = [mean_change(corrupt(images, name, s), images) for s in SEVERITIES]
    assert changes[4] > changes[2] > changes[0]
    assert all(np.diff(changes) > -0.5), changes


@pytest.mark.parametrize("name", RANDOM)
def test_deterministic_for_a_seed_and_seed_matters(name, images, frost_dir):
    first = corrupt(images, name, 3, seed=7, frost_dir=frost_dir)
    again = corrupt(images, name, 3, seed=7, frost_dir=frost_dir)
    other = corrupt(images, name, 3, seed=8, frost_dir=frost_dir)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize(
    "name",
    [
        "defocus_blur",
        "glass_blur",
        "motion_blur",
        "zoom_blur",
        "contrast",
        "elastic_transform",
        "pixelate",
    ],
)
def test_constant_image_is_a_fixed_point(name):
    # Normalised kernels, resampling and mean-centred scaling leave a flat image unchanged.
    flat = np.full((2, 32, 32, 3), 77, dtype=np.uint8)
    for severity in SEVERITIES:
        np.testing.assert_array_equal(corrupt(flat, name, severity), flat)


# ── known values ────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("severity", SEVERITIES)
def test_gaussian_noise_has_the_published_std(severity):
    std = corruptions._PARAMS["gaussian_noise"][severity - 1]
    grey = np.full((64, 32, 32, 3), 128, dtype=np.uint8)  # 0.5 +- 5 std stays in [0, 1]
    diff = corrupt(grey, "gaussian_noise", severity).astype(np.float64) - 128
    # Truncation to uint8 adds U(-1, 0) grey levels: mean -1/2, variance 1/12.
    assert diff.mean() == pytest.approx(-0.5, abs=0.1)
    assert diff.var() == pytest.approx((255 * std) ** 2 + 1 / 12, rel=0.03)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_shot_noise_is_poisson(severity):
    photons = corruptions._PARAMS["shot_noise"][severity - 1]
    grey = np.full((64, 32, 32, 3), 102, dtype=np.uint8)  # intensity 0.4
    out = corrupt(grey, "shot_noise", severity).astype(np.float64)
    # Poisson(0.4 c) / c has mean 0.4 and variance 0.4 / c; truncation shifts the mean by -1/2.
    assert out.mean() == pytest.approx(102 - 0.5, abs=0.15)
    assert out.var() == pytest.approx(255**2 * 0.4 / photons + 1 / 12, rel=0.05)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_impulse_noise_salts_and_peppers_the_published_fraction(severity):
    amount = corruptions._PARAMS["impulse_noise"][severity - 1]
    grey = np.full((32, 32, 32, 3), 128, dtype=np.uint8)
    out = corrupt(grey, "impulse_noise", severity)
    assert set(np.unique(out)) <= {0, 128, 255}
    assert np.mean(out == 0) == pytest.approx(amount / 2, rel=0.1)
    assert np.mean(out == 255) == pytest.approx(amount / 2, rel=0.1)


def test_brightness_adds_to_the_value_of_a_grey():
    grey = np.full((1, 32, 32, 3), 100, dtype=np.uint8)
    for severity, shift in zip(SEVERITIES, corruptions._PARAMS["brightness"], strict=True):
        expected = min(int(100 + 255 * shift + 1e-9), 255)
        assert np.all(corrupt(grey, "brightness", severity) == expected)
    black = np.zeros((1, 32, 32, 3), dtype=np.uint8)
    assert np.all(corrupt(black, "brightness", 5) == int(0.3 * 255))


@pytest.mark.parametrize("severity", SEVERITIES)
def test_brightness_matches_skimage_hsv_round_trip(severity, images):
    shift = corruptions._PARAMS["brightness"][severity - 1]
    x = np.concatenate([images, np.zeros_like(images[:1]), np.full_like(images[:1], 255)])
    hsv = color.rgb2hsv(x / 255.0)
    hsv[..., 2] = np.clip(hsv[..., 2] + shift, 0, 1)
    reference = np.clip(color.hsv2rgb(hsv), 0, 1) * 255
    out = corrupt(x, "brightness", severity).astype(np.float64)
    # Equal up to where skimage's round-off lands a hair below an integer before truncation.
    assert np.all(np.abs(out - reference) < 1)


@pytest.mark.parametrize("severity", SEVERITIES)
def test_contrast_keeps_channel_means_and_scales_deviations(severity, images):
    factor = corruptions._PARAMS["contrast"][severity - 1]
    out = corrupt(images, "contrast", severity).astype(np.float64)
    x = images.astype(np.float64)
    means = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out.mean(axis=(1, 2), keepdims=True), means, atol=1.0)
    expected = (x - means) * factor + means
    assert np.all((expected - out >= -1e-6) & (expected - out < 1))  # truncation only


@pytest.mark.parametrize("severity", SEVERITIES)
def test_pixelate_has_the_published_block_count(severity):
    side = int(32 * corruptions._PARAMS["pixelate"][severity - 1])
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    for image in corrupt(x, "pixelate", severity):
        assert len(np.unique(image.reshape(32, -1), axis=0)) == side  # distinct rows
        assert len(np.unique(image.transpose(1, 0, 2).reshape(32, -1), axis=0)) == side


def test_jpeg_matches_pillow_at_the_published_quality(images, tmp_path):
    out = corrupt(images[:1], "jpeg_compression", 5)
    path = tmp_path / "x.jpg"
    Image.fromarray(images[0]).save(path, quality=40)
    np.testing.assert_array_equal(out[0], np.asarray(Image.open(path).convert("RGB")))


def test_frost_blends_the_published_weights(flat_frost_dir):
    grey = np.full((4, 32, 32, 3), 50, dtype=np.uint8)
    for severity, (w_image, w_frost) in zip(SEVERITIES, corruptions._PARAMS["frost"], strict=True):
        out = corrupt(grey, "frost", severity, frost_dir=flat_frost_dir)
        assert np.all(out == int(w_image * 50 + w_frost * 100 + 1e-9))


def test_frost_crops_come_from_the_subsampled_photographs(frost_dir):
    black = np.zeros((8, 32, 32, 3), dtype=np.uint8)
    out = corrupt(black, "frost", 1, frost_dir=frost_dir).astype(np.int64)
    layers = [np.asarray(Image.open(frost_dir / n).convert("RGB"))[2::5, 2::5] for n in FROST_FILES]
    for image in out:  # out = floor(0.2 * crop): find the crop in one of the photographs
        found = any(
            np.array_equal(image, (0.2 * layer[r : r + 32, c : c + 32] + 1e-9).astype(np.int64))
            for layer in layers
            for r in range(layer.shape[0] - 32)
            for c in range(layer.shape[1] - 32)
        )
        assert found


def test_motion_blur_kernel_is_imagemagicks_half_gaussian():
    impulse = np.zeros((1, 32, 32, 1))
    impulse[0, 16, 10, 0] = 1.0
    radius, sigma = 6, 2.0
    out = corruptions._motion_blur_batch(impulse, radius, sigma, np.array([0.0]))[0, :, :, 0]
    # Angle 0: out[p] = sum_i k_i x[p + (0, i)], so the impulse spreads to the left.
    taps = np.exp(-(np.arange(13) ** 2) / (2 * sigma**2))
    taps /= taps.sum()
    expected = np.zeros((32, 32))
    expected[16, 10 - np.arange(13)[:11]] = taps[:11]  # columns 10 .. 0
    np.testing.assert_allclose(out, expected, atol=1e-12)
    # Angle 90: offsets (i, 0), so the impulse spreads upwards, rows 16 .. 4.
    down = corruptions._motion_blur_batch(impulse, radius, sigma, np.array([90.0]))[0, :, :, 0]
    expected = np.zeros((32, 32))
    expected[16 - np.arange(13), 10] = taps
    np.testing.assert_allclose(down, expected, atol=1e-12)


def test_defocus_kernel_is_a_normalised_symmetric_disk():
    for radius, alias in corruptions._PARAMS["defocus_blur"]:
        kernel = corruptions._disk_kernel(radius, alias)
        assert kernel.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(kernel, kernel[::-1, ::-1])
        np.testing.assert_allclose(kernel, kernel.T)
        centre = kernel.shape[0] // 2
        assert kernel[centre, centre] == pytest.approx(kernel.max())


@pytest.mark.parametrize("factor", [1.0, 1.03, 1.11, 1.25, 1.75, 2.25])
def test_clipped_zoom_equals_the_scripts_scipy_zoom(factor):
    x = np.random.default_rng(0).random((2, 32, 32, 3))
    crop = int(np.ceil(32 / factor))
    top = (32 - crop) // 2
    zoomed = ndimage.zoom(x[:, top : top + crop, top : top + crop], (1, factor, factor, 1), order=1)
    trim = (zoomed.shape[1] - 32) // 2
    reference = zoomed[:, trim : trim + 32, trim : trim + 32]
    np.testing.assert_allclose(corruptions._clipped_zoom(x, factor), reference, atol=1e-12)


def test_plasma_fractal_maps_are_normalised_and_smoother_with_decay():
    rng = np.random.default_rng(0)
    rough = corruptions._plasma_fractal(16, rng, wibble_decay=1.75)
    smooth = corruptions._plasma_fractal(16, rng, wibble_decay=3.0)
    for maps in (rough, smooth):
        assert maps.shape == (16, 32, 32)
        np.testing.assert_allclose(maps.min(axis=(1, 2)), 0)
        np.testing.assert_allclose(maps.max(axis=(1, 2)), 1)
    roughness = [np.abs(np.diff(m, axis=2)).mean() for m in (rough, smooth)]
    assert roughness[0] > roughness[1]


# ── corrupt_all ─────────────────────────────────────────────────────────────────────────────


def test_corrupt_all_walks_the_grid_in_order(images):
    names = ("contrast", "gaussian_noise")
    results = list(corrupt_all(images, names=names, severities=(2, 5), seed=3, progress=True))
    assert [(n, s) for n, s, _ in results] == [
        ("contrast", 2),
        ("contrast", 5),
        ("gaussian_noise", 2),
        ("gaussian_noise", 5),
    ]
    for name, severity, out in results:
        np.testing.assert_array_equal(out, corrupt(images, name, severity, seed=3))


def test_corrupt_all_validates_before_corrupting(images):
    with pytest.raises(ValueError, match="Expected `name` to be one of"):
        corrupt_all(images, names=("contrast", "blur"))  # raises before the first set
    with pytest.raises(ValueError, match="Expected `severity` to be an integer in 1..5, got 6"):
        corrupt_all(images, severities=(1, 6))
    with pytest.raises(ValueError, match="Expected `images` to have dtype uint8"):
        corrupt_all(images.astype(np.int16))


# ── errors ──────────────────────────────────────────────────────────────────────────────────


def test_bad_name(images):
    with pytest.raises(ValueError, match=r"Expected `name` to be one of \('gaussian_noise'"):
        corrupt(images, "speckle_noise", 1)


@pytest.mark.parametrize("severity", [0, 6, 2.0, True, "3"])
def test_bad_severity(images, severity):
    with pytest.raises(ValueError, match="Expected `severity` to be an integer in 1..5, got"):
        corrupt(images, "contrast", severity)


def test_numpy_integer_severity_is_accepted(images):
    np.testing.assert_array_equal(
        corrupt(images, "contrast", np.int64(2)), corrupt(images, "contrast", 2)
    )


def test_bad_dtype(images):
    with pytest.raises(ValueError, match="Expected `images` to have dtype uint8, got float64"):
        corrupt(images / 255.0, "contrast", 1)


@pytest.mark.parametrize("shape", [(2, 28, 28, 3), (2, 32, 32), (2, 3, 32, 32), (0, 32, 32, 3)])
def test_bad_shape(shape):
    with pytest.raises(ValueError, match=r"Expected `images` to have shape \(N, 32, 32, 3\)"):
        corrupt(np.zeros(shape, dtype=np.uint8), "contrast", 1)


def test_not_an_array():
    with pytest.raises(ValueError, match="Expected `images` to be a numpy array, got list"):
        corrupt([[0]], "contrast", 1)


def test_bad_seed(images):
    with pytest.raises(ValueError, match="Expected `seed` to be an integer, got 1.5"):
        corrupt(images, "gaussian_noise", 1, seed=1.5)


def test_frost_without_photographs_says_how_to_get_them(images, monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps imagecorruptions"):
        corrupt(images, "frost", 1)


def test_frost_dir_missing_files(images, tmp_path):
    Image.fromarray(np.zeros((200, 200, 3), dtype=np.uint8)).save(tmp_path / "frost1.png")
    with pytest.raises(FileNotFoundError, match="frost2.png, frost3.png, frost4.jpg, frost5.jpg"):
        corrupt(images, "frost", 1, frost_dir=tmp_path)


def test_frost_photograph_too_small(images, tmp_path):
    for name in FROST_FILES:
        Image.fromarray(np.zeros((100, 200, 3), dtype=np.uint8)).save(tmp_path / name)
    with pytest.raises(ValueError, match="Expected frost photograph 'frost1.png' to exceed"):
        corrupt(images, "frost", 1, frost_dir=tmp_path)


@pytest.mark.skipif(
    importlib.util.find_spec("imagecorruptions") is None, reason="imagecorruptions not installed"
)
def test_frost_with_the_published_photographs(images):
    out = corrupt(images, "frost", 3)
    assert out.shape == images.shape and mean_change(out, images) > 5
