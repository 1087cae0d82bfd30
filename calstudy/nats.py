"""Read NATS-Bench benchmark files: index ↔ arch, network configs and pretrained weights.

This is calstudy's "pretrained" path: instead of training an architecture, take the weights
NATS-Bench trained (Dong et al., 2021) and evaluate them. It needs the optional ``nats_bench``
package (imported lazily, only here) and a benchmark archive in NATS-Bench's *fast mode*
layout, a directory such as ``NATS-tss-v1_0-3ffb9-full/`` holding

* ``meta.pickle.pbz2``: a bz2-compressed pickle of ``{"meta_archs": [arch_str, ...]}`` whose
  list order **defines** the integer index (it is not :func:`calstudy.space.all_tss` order);
* ``{index:06d}.pickle.pbz2`` per architecture: ``{hp: ArchResults state}``, with ``hp`` the
  number of training epochs as a string ('12' or '200' for TSS; '01', '12' or '90' for SSS).
  Each ``ArchResults`` state keeps, per ``(dataset, seed)``, a ``ResultsCount`` state whose
  ``arch_config`` yields :func:`net_config` and whose ``net_state_dict`` holds the weights.
  Only the ``-full`` archives (hundreds of GB) keep the weights; the ``-simple`` ones do not.

The files are pickles, which can run code when loaded with :func:`pickle.load`, as
``nats_bench`` does. calstudy reads them itself instead, with
:func:`calstudy.safe_pickle.load_plain`: ``meta.pickle.pbz2`` as plain data, the
per-architecture files as plain data and torch tensors (their storages through
``torch.load(weights_only=True)``), handing nats_bench the resulting dicts. A file naming
any other global (``os.system``, ...) raises a ValueError naming the file and the global,
before anything of it runs. The API :func:`open_benchmark` returns loads its
per-architecture files the same way when nats_bench's own methods query them.

Datasets are named as in NATS-Bench: ``cifar10-valid`` (trained on half of the CIFAR-10
training set), ``cifar10`` (trained on all of it), ``cifar100`` and ``ImageNet16-120``.

References
----------
.. [1] X. Dong, L. Liu, K. Musial, B. Gabrys, "NATS-Bench: Benchmarking NAS Algorithms for
   Architecture Topology and Size", IEEE TPAMI, 2021. https://github.com/D-X-Y/NATS-Bench
"""

from __future__ import annotations

import collections
import numbers
import os
from typing import Any, Literal

from torch import nn

from calstudy import safe_pickle
from calstudy.models import from_nats_config
from calstudy.space import parse_sss, parse_tss

__all__ = [
    "NATS_DATASETS",
    "open_benchmark",
    "arch_to_index",
    "index_to_arch",
    "net_config",
    "pretrained_network",
]

#: Dataset names NATS-Bench results are keyed by.
NATS_DATASETS: tuple[str, ...] = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")

_META_FILE = "meta.pickle.pbz2"
_SPACE_NAMES = {"tss": "topology", "sss": "size"}


def _import_nats_bench() -> Any:
    try:
        import nats_bench
    except ImportError as err:
        raise ImportError(
            "Reading NATS-Bench benchmark files needs the `nats_bench` package "
            "(`pip install nats_bench`), which is not installed."
        ) from err
    return nats_bench


def open_benchmark(path: str | os.PathLike[str], space: Literal["tss", "sss"]) -> Any:
    """Open a NATS-Bench benchmark directory in fast mode (files are read on first query).

    Parameters
    ----------
    path : str or path-like
        The archive directory, e.g. ``$TORCH_HOME/NATS-tss-v1_0-3ffb9-full``.
    space : {"tss", "sss"}
        The search space the archive belongs to.

    Returns
    -------
    nats_bench API object
        A ``nats_bench`` ``NATStopology`` / ``NATSsize`` in fast mode, as
        ``nats_bench.create(path, space, fast_mode=True, verbose=False)`` returns, except that
        calstudy reads its files with :func:`calstudy.safe_pickle.load_plain` (plain data, and
        tensors in the per-architecture files) where nats_bench would use :func:`pickle.load`.

    Raises
    ------
    ImportError
        If ``nats_bench`` is not installed.
    FileNotFoundError
        If `path` or its ``meta.pickle.pbz2`` does not exist.
    ValueError
        If `space` is unknown, `path` is not a directory, or ``meta.pickle.pbz2`` names a
        global outside safe_pickle's allow-list (the message names the file and the global;
        nothing of the file runs) or holds no list ``meta_archs``.
    """
    if space not in _SPACE_NAMES:
        raise ValueError(f"Expected `space` to be 'tss' or 'sss', got {space!r}.")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"Expected `path` to be a NATS-Bench archive directory, got {path!r}, which does not exist."
        )
    if not os.path.isdir(path):
        raise ValueError(
            f"Expected `path` to be a NATS-Bench archive directory (fast mode, e.g. "
            f"'NATS-tss-v1_0-3ffb9-full'), got the file {path!r}."
        )
    meta = os.path.join(path, _META_FILE)
    if not os.path.isfile(meta):
        raise FileNotFoundError(
            f"Expected `path` to be a NATS-Bench archive directory holding {_META_FILE!r}, "
            f"got {path!r}, which has no {meta!r}."
        )
    nats_bench = _import_nats_bench()
    meta_archs = _read_meta(meta)
    api_class = _safe_api_class(nats_bench.NATStopology if space == "tss" else nats_bench.NATSsize)
    # From a dict, nats_bench reads no file; its fast mode then loads each architecture's file
    # on first query through the class's reload, that is _load_arch_files.
    api = api_class(
        {"meta_archs": meta_archs, "arch2infos": {}, "evaluated_indexes": set()},
        fast_mode=True,
        verbose=False,
    )
    api.reset_archive_dir(path)
    api.filename = os.path.basename(os.path.normpath(path))
    return api


def _read_meta(meta: str) -> list[str]:
    """The ``meta_archs`` of a ``meta.pickle.pbz2``, read as plain data."""
    content = safe_pickle.load_plain(meta, compression="bz2")
    archs = content.get("meta_archs") if isinstance(content, dict) else None
    if isinstance(archs, list | tuple) and all(isinstance(a, str) for a in archs):
        return list(archs)
    if isinstance(content, dict) and "meta_archs" in content:
        got = f"'meta_archs' of type {type(archs).__name__} (or not all str)"
    elif isinstance(content, dict):
        got = f"a dict with keys {sorted(map(str, content))}"
    else:
        got = type(content).__name__
    raise ValueError(f"Expected '{meta}' to hold {{'meta_archs': [arch_str, ...]}}, got {got}.")


_API_CLASSES: dict[type, type] = {}


def _safe_api_class(base: type) -> type:
    """``base`` (NATStopology or NATSsize) whose ``reload`` reads files with safe_pickle."""
    if base not in _API_CLASSES:

        def reload(self: Any, archive_root: Any = None, index: int | None = None) -> None:
            _load_arch_files(self, archive_root, index)

        reload.__doc__ = (
            f"{base.__name__}.reload, reading each file with calstudy.safe_pickle.load_plain "
            "(plain data and torch tensors only); `archive_root` defaults to the archive the "
            "API was opened from."
        )
        _API_CLASSES[base] = type(
            base.__name__, (base,), {"reload": reload, "__module__": __name__}
        )
    return _API_CLASSES[base]


def _arch_file(archive_dir: str, index: int) -> str | None:
    """The per-architecture results file of ``index`` in ``archive_dir``, if any."""
    for name in (f"{index:06d}.pickle.pbz2", f"{index}.pickle.pbz2"):
        candidate = os.path.join(archive_dir, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def _load_arch_files(api: Any, archive_root: Any = None, index: int | None = None) -> None:
    """Load architecture ``index``'s results (every architecture's if None) into ``api``.

    What ``nats_bench``'s ``reload`` does, with :func:`calstudy.safe_pickle.load_plain` in place of
    :func:`pickle.load`: each ``{index:06d}.pickle.pbz2`` must be a dict ``{hp: ArchResults
    state dict}`` of plain data and tensors.
    """
    nats_bench = _import_nats_bench()
    root = api.archive_dir if archive_root is None else os.fspath(archive_root)
    if root is None or not os.path.isdir(root):
        raise ValueError(
            f"Expected `archive_root` to be a NATS-Bench archive directory, got {root!r}."
        )
    for idx in range(len(api)) if index is None else [_index_in_range(api, index)]:
        file = _arch_file(root, idx)
        if file is None:
            raise FileNotFoundError(
                f"Expected the benchmark to hold the results of architecture {idx}, got no "
                f"file {os.path.join(root, f'{idx:06d}.pickle.pbz2')!r}."
            )
        content = safe_pickle.load_plain(file, compression="bz2", tensors=True)
        if not isinstance(content, dict) or not all(isinstance(v, dict) for v in content.values()):
            kinds = (
                sorted({type(v).__name__ for v in content.values()})
                if isinstance(content, dict)
                else type(content).__name__
            )
            raise ValueError(
                f"Expected '{file}' to hold a dict of hp to ArchResults state dicts, got {kinds}."
            )
        try:
            hp2results = collections.OrderedDict(
                (hp, nats_bench.ArchResults.create_from_state_dict(state))
                for hp, state in content.items()
            )
        except (TypeError, ValueError, AttributeError) as err:
            raise ValueError(
                f"Expected '{file}' to hold NATS-Bench ArchResults state dicts, got one that "
                f"nats_bench cannot read: {type(err).__name__}: {err}"
            ) from err
        api.evaluated_indexes.add(idx)
        api._avaliable_hps.update(hp2results)  # nats_bench's spelling
        api.arch2infos_dict[idx] = hp2results


def _space_of(api: Any) -> Literal["tss", "sss"]:
    name = getattr(api, "search_space_name", None)
    for space, nats_name in _SPACE_NAMES.items():
        if name == nats_name:
            return space  # type: ignore[return-value]
    raise ValueError(
        f"Expected `api` to be a NATS-Bench API from open_benchmark, got {type(api).__name__}."
    )


def _index_in_range(api: Any, index: int) -> int:
    if (
        isinstance(index, bool)
        or not isinstance(index, numbers.Integral)
        or not 0 <= index < len(api)
    ):
        raise ValueError(
            f"Expected `index` to be an architecture index in [0, {len(api)}), got {index!r}."
        )
    return int(index)


def _check_index(api: Any, index: int) -> int:
    """An index in range whose results are loaded, from its file if need be (safe_pickle)."""
    index = _index_in_range(api, index)
    archive_dir = api.archive_dir
    if api.fast_mode and archive_dir is not None and index not in api.arch2infos_dict:
        _load_arch_files(api, archive_dir, index)
    return index


def arch_to_index(api: Any, arch: str) -> int:
    """Return NATS-Bench's index of an architecture string.

    Parameters
    ----------
    api : nats_bench API
        From :func:`open_benchmark`.
    arch : str
        A TSS cell string or an SSS width string, matching the API's space.

    Returns
    -------
    int
        The position of `arch` in the benchmark's ``meta_archs``.

    Raises
    ------
    ValueError
        If `arch` is malformed for the space or absent from the benchmark.
    """
    space = _space_of(api)
    (parse_tss if space == "tss" else parse_sss)(arch)
    index = api.query_index_by_arch(arch)
    if index < 0:
        raise ValueError(
            f"Expected `arch` to be an architecture of this benchmark ({len(api)} listed), "
            f"got {arch!r}, which it does not list."
        )
    return int(index)


def index_to_arch(api: Any, index: int) -> str:
    """Return the architecture string at NATS-Bench index `index` (inverse of :func:`arch_to_index`)."""
    return str(api[_index_in_range(api, index)])


def _nats_dataset(dataset: str) -> str:
    """NATS-Bench's spelling of a dataset name, matched case-insensitively."""
    for name in NATS_DATASETS:
        if isinstance(dataset, str) and dataset.lower() == name.lower():
            return name
    raise ValueError(f"Expected `dataset` to be one of {NATS_DATASETS}, got {dataset!r}.")


def net_config(api: Any, index: int, dataset: str) -> dict[str, Any]:
    """Return the network config of architecture `index` trained on `dataset`.

    Parameters
    ----------
    api : nats_bench API
    index : int
    dataset : str
        One of :data:`NATS_DATASETS`, case-insensitively (``"imagenet16-120"`` works).

    Returns
    -------
    dict
        ``{"name": "infer.tiny", "C", "N", "arch_str", "num_classes"}`` (TSS) or
        ``{"name": "infer.shape.tiny", "channels", "genotype", "num_classes"}`` (SSS), as
        ``api.get_net_config`` returns and :func:`calstudy.models.from_nats_config` accepts.
    """
    _space_of(api)
    dataset = _nats_dataset(dataset)
    index = _check_index(api, index)
    return dict(api.get_net_config(index, dataset))


def pretrained_network(
    api: Any, index: int, dataset: str, *, seed: int | None = None, hp: str | None = None
) -> nn.Module:
    """Build architecture `index` and load the weights NATS-Bench trained on `dataset`.

    Parameters
    ----------
    api : nats_bench API
        From :func:`open_benchmark` on a ``-full`` archive (the only ones with weights).
    index : int
        NATS-Bench architecture index (see :func:`arch_to_index`).
    dataset : str
        One of :data:`NATS_DATASETS`, case-insensitively.
    seed : int, optional
        The training trial; default the smallest seed the benchmark holds for `dataset`.
    hp : str, optional
        Training epochs as NATS-Bench writes them; default the full schedule, '200' for TSS
        and '90' for SSS.

    Returns
    -------
    torch.nn.Module
        A :class:`calstudy.models.TinyNetwork` or :class:`calstudy.models.SSSNetwork` in eval
        mode, loaded with ``strict=True``; its forward returns logits.

    Raises
    ------
    FileNotFoundError
        If the archive has no file for architecture `index`.
    ValueError
        If an argument is not one the benchmark holds, or the architecture's
        ``{index:06d}.pickle.pbz2`` holds anything but plain data and tensors (read with
        :func:`calstudy.safe_pickle.load_plain`; the message names the file and the refused
        global, and nothing of the file runs).
    """
    space = _space_of(api)
    dataset = _nats_dataset(dataset)
    index = _check_index(api, index)
    hp = str(api.full_train_epochs if hp is None else hp)
    try:
        info = api.query_meta_info_by_index(index, hp)
    except ValueError as err:
        raise ValueError(
            f"Expected `hp` to be a training schedule the benchmark holds for architecture "
            f"{index}, got {hp!r}."
        ) from err
    if dataset not in info.get_dataset_names():
        raise ValueError(
            f"Expected `dataset` to be one the benchmark holds for architecture {index} with "
            f"hp={hp!r} ({info.get_dataset_names()}), got {dataset!r}."
        )
    seeds = info.get_dataset_seeds(dataset)
    if seed is None:
        seed = min(seeds)
    elif seed not in seeds:
        raise ValueError(
            f"Expected `seed` to be one of the trials {seeds} of architecture {index} on "
            f"{dataset!r}, got {seed!r}."
        )
    state_dict = info.get_net_param(dataset, seed)
    if state_dict is None:
        raise ValueError(
            f"Expected the benchmark to hold weights for architecture {index} on {dataset!r} "
            f"(seed {seed}, hp={hp!r}); it holds none, as in the '-simple' {space.upper()} "
            f"archives. Use a '-full' archive."
        )
    net = from_nats_config(net_config(api, index, dataset))
    net.load_state_dict(state_dict, strict=True)
    return net.eval()
