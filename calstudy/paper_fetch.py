"""Download the paper's six released CSVs, verified by SHA-256.

The reference study (Tao et al., ICLR 2024) published its measurements as six CSVs at the
root of its repository, ``Linwei94/calibration-study``. :func:`fetch_paper` downloads them
from the commit :data:`PAPER_COMMIT` (2024-03-05), or from a mirror (another URL or a local
directory), into a directory and records their SHA-256 sums in its ``SHA256SUMS``
(:data:`calstudy.paper.CHECKSUM_FILE`, ``sha256sum``'s format). Every file is written to a
temporary file and renamed into place only when it is complete and its sum is right, so an
interrupted or failed fetch leaves no partial CSV. A later fetch, and ``calstudy dataset
import-paper``, check the files against ``SHA256SUMS``::

    calstudy dataset fetch-paper --out data/paper-csv
    calstudy dataset import-paper data/paper-csv --out data/paper

References
----------
.. [1] L. Tao, Y. Zhu, H. Guo, M. Dong, C. Xu, "A Benchmark Study on Calibration", ICLR 2024;
   data: https://github.com/Linwei94/calibration-study.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from calstudy.files import atomic_write
from calstudy.paper import (
    CHECKSUM_FILE,
    PAPER_FILES,
    parse_checksums,
    read_checksums,
    sha256_file,
    write_checksums,
)

__all__ = [
    "PAPER_COMMIT",
    "PAPER_REPOSITORY",
    "FetchedFile",
    "fetch_paper",
    "paper_source",
]

PAPER_REPOSITORY = "Linwei94/calibration-study"
"""The reference study's GitHub repository."""
PAPER_COMMIT = "768ba9b91f913bc32aee1a65e132f13efde0262c"
"""The commit whose CSVs :func:`fetch_paper` downloads by default (2024-03-05)."""
_RAW_URL = "https://raw.githubusercontent.com/{repository}/{commit}"
_CHUNK = 1 << 20
_COMMIT = re.compile(r"^[0-9a-fA-F]{7,40}$")


@dataclass(frozen=True)
class FetchedFile:
    """One file of a :func:`fetch_paper` run.

    Attributes
    ----------
    path : pathlib.Path
        Where it lies.
    sha256 : str
        Its SHA-256, as recorded in ``SHA256SUMS``.
    downloaded : bool
        ``False`` when an earlier fetch had left it, verified, in place.
    """

    path: Path
    sha256: str
    downloaded: bool


def paper_source(
    base_url: str | os.PathLike[str] | None = None, *, commit: str = PAPER_COMMIT
) -> str:
    """Where :func:`fetch_paper` reads the files: a URL prefix or a local directory.

    Parameters
    ----------
    base_url : str or path-like, optional
        ``None``: the raw files of :data:`PAPER_REPOSITORY` at `commit`
        (``https://raw.githubusercontent.com/Linwei94/calibration-study/<commit>``). A URL
        (``http(s)://`` or ``file://``; ``{commit}`` in it is replaced by `commit`), or the
        path of a local directory holding the files.
    commit : str, keyword-only
        A commit of :data:`PAPER_REPOSITORY` (7 to 40 hexadecimal digits).

    Returns
    -------
    str
        A URL prefix without a trailing slash, or a directory path.

    Raises
    ------
    ValueError
        If `commit` is not hexadecimal or `base_url` is neither a URL nor a directory.
    """
    if not isinstance(commit, str) or not _COMMIT.match(commit):
        raise ValueError(f"Expected `commit` to be 7 to 40 hexadecimal digits, got {commit!r}.")
    if base_url is None:
        return _RAW_URL.format(repository=PAPER_REPOSITORY, commit=commit)
    text = os.fspath(base_url)
    scheme = urllib.parse.urlsplit(text).scheme.lower()
    if scheme in ("http", "https", "file"):
        return text.replace("{commit}", commit).rstrip("/")
    if Path(text).is_dir():
        return str(Path(text))
    raise ValueError(
        f"Expected `base_url` to be an http(s):// or file:// URL or an existing directory, "
        f"got {text!r}."
    )


def _is_url(source: str) -> bool:
    return urllib.parse.urlsplit(source).scheme.lower() in ("http", "https", "file")


def _location(source: str, name: str) -> str:
    return f"{source}/{urllib.parse.quote(name)}" if _is_url(source) else str(Path(source) / name)


@contextmanager
def _open(source: str, name: str, *, timeout: float) -> Iterator[tuple[IO[bytes], int | None]]:
    """Open `name` of `source` for reading: ``(stream, size in bytes or None)``.

    Raises FileNotFoundError when the source does not have it (HTTP 404, no such file) and
    ValueError when it cannot be read (another HTTP status, no connection).
    """
    where = _location(source, name)
    if not _is_url(source):
        path = Path(where)
        if not path.is_file():
            raise FileNotFoundError(f"Expected {name!r} in '{source}', got no such file.")
        with open(path, "rb") as stream:
            yield stream, path.stat().st_size
        return
    try:
        response = urllib.request.urlopen(where, timeout=timeout)
    except urllib.error.HTTPError as err:
        err.close()
        if err.code == 404:
            raise FileNotFoundError(
                f"Expected {name!r} at {where}, got HTTP 404 Not Found (check --base-url and "
                "--commit)."
            ) from None
        raise ValueError(
            f"Expected {name!r} from {where}, got HTTP {err.code} {err.reason}."
        ) from None
    except urllib.error.URLError as err:
        if isinstance(err.reason, FileNotFoundError):  # file:// URL of a missing file
            raise FileNotFoundError(f"Expected {name!r} at {where}, got no such file.") from None
        raise ValueError(f"Could not reach {where}: {err.reason}.") from None
    except (OSError, http.client.HTTPException) as err:
        raise ValueError(f"Could not reach {where}: {err}.") from None
    with response:
        length = response.headers.get("Content-Length")
        yield response, int(length) if length and length.isdigit() else None


def _source_checksums(source: str, *, timeout: float) -> dict[str, str]:
    """The ``SHA256SUMS`` a mirror offers beside the files (a directory fetch_paper filled)."""
    try:
        with _open(source, CHECKSUM_FILE, timeout=timeout) as (stream, _):
            text = stream.read()
    except FileNotFoundError:
        return {}
    return parse_checksums(
        text.decode("utf-8", errors="replace"), where=_location(source, CHECKSUM_FILE)
    )


def _download(
    source: str,
    name: str,
    dest: Path,
    *,
    expected: str | None,
    recorded_in: str,
    timeout: float,
    progress: bool,
) -> str:
    """Copy `name` of `source` to `dest` atomically; return its SHA-256.

    The length and the SHA-256 are checked before the rename (:func:`calstudy.files.atomic_write`),
    so a download cut short or differing from the recorded one leaves nothing at `dest`.
    """
    from tqdm.auto import tqdm

    where = _location(source, name)
    digest = hashlib.sha256()
    with _open(source, name, timeout=timeout) as (stream, size):

        def copy(out: IO[bytes]) -> None:
            received = 0
            with tqdm(
                total=size,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=name,
                disable=not progress,
                leave=True,
            ) as bar:
                while True:
                    try:
                        chunk = stream.read(_CHUNK)
                    except http.client.IncompleteRead as err:
                        raise ValueError(
                            f"Reading {where} was cut short after "
                            f"{received + len(err.partial):,} bytes; nothing was written. Run the "
                            "fetch again."
                        ) from None
                    except (OSError, http.client.HTTPException) as err:
                        raise ValueError(
                            f"Reading {where} failed after {received:,} bytes: {err}; nothing "
                            "was written. Run the fetch again."
                        ) from None
                    if not chunk:
                        break
                    digest.update(chunk)
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            if size is not None and received != size:
                raise ValueError(
                    f"Expected {size:,} bytes of {name!r} from {where} (its Content-Length), "
                    f"got {received:,}: the download was cut short; nothing was written. Run "
                    "the fetch again."
                )
            if expected is not None and digest.hexdigest() != expected:
                raise ValueError(
                    f"Expected {name!r} from {where} to have the SHA-256 recorded in "
                    f"{recorded_in} ({expected}), got {digest.hexdigest()}: the download "
                    "differs from the recorded file; nothing was written."
                )

        atomic_write(dest, copy)
    return digest.hexdigest()


def fetch_paper(
    out_dir: str | os.PathLike[str],
    *,
    base_url: str | os.PathLike[str] | None = None,
    commit: str = PAPER_COMMIT,
    names: Iterable[str] = PAPER_FILES,
    progress: bool = True,
    timeout: float = 60.0,
) -> list[FetchedFile]:
    """Download the paper's CSVs into `out_dir` and record their SHA-256 sums.

    For each file: if `out_dir` already holds it and its ``SHA256SUMS`` lists it, the file is
    verified and kept (a rerun resumes a fetch that stopped half-way); a file whose bytes no
    longer match is refused. Otherwise it is downloaded to a temporary file, checked (its
    ``Content-Length``; its sum against ``out_dir/SHA256SUMS`` or, for a mirror that has
    one, the source's ``SHA256SUMS``), renamed into place, and its sum added to
    ``SHA256SUMS`` (rewritten atomically after each file).

    Parameters
    ----------
    out_dir : str or path-like
        Directory to fill (created).
    base_url : str or path-like, keyword-only, optional
        Where to read; see :func:`paper_source`. Default: the raw files of
        :data:`PAPER_REPOSITORY` at `commit`.
    commit : str, keyword-only
        Commit of the paper's repository; default :data:`PAPER_COMMIT`.
    names : iterable of str, keyword-only
        Files to fetch; default the six of :data:`calstudy.paper.PAPER_FILES`.
    progress : bool, keyword-only
        Show a progress bar per file (tqdm, on stderr).
    timeout : float, keyword-only
        Seconds to wait for the server to answer or send more bytes.

    Returns
    -------
    list of FetchedFile
        One per name, in order.

    Raises
    ------
    FileNotFoundError
        If the source does not have a file (HTTP 404); the files fetched before it stay,
        recorded.
    ValueError
        Naming the file: a local file or a download whose SHA-256 differs from the recorded
        one, a download cut short, an HTTP error, no connection.

    References
    ----------
    .. [1] L. Tao, Y. Zhu, H. Guo, M. Dong, C. Xu, "A Benchmark Study on Calibration",
       ICLR 2024.
    """
    source = paper_source(base_url, commit=commit)
    names = list(names)
    bad = [n for n in names if not n or "/" in n or "\\" in n or n in (".", "..")]
    if bad or not names:
        raise ValueError(f"Expected `names` to be plain file names, got {names!r}.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sums_path = out / CHECKSUM_FILE
    sums = read_checksums(sums_path) if sums_path.is_file() else {}
    remote: dict[str, str] | None = None
    fetched = []
    for name in names:
        dest = out / name
        if dest.is_file() and name in sums:
            actual = sha256_file(dest)
            if actual != sums[name]:
                raise ValueError(
                    f"Expected '{dest}' to have the SHA-256 recorded in '{sums_path}' "
                    f"({sums[name]}), got {actual}: the file changed after it was fetched. "
                    "Delete it to fetch it again."
                )
            fetched.append(FetchedFile(dest, actual, downloaded=False))
            continue
        if remote is None:
            remote = _source_checksums(source, timeout=timeout)
        expected, recorded_in = sums.get(name), f"'{sums_path}'"
        if name in remote:
            if expected is not None and remote[name] != expected:
                raise ValueError(
                    f"Expected the source's {CHECKSUM_FILE} to list {name!r} with the SHA-256 "
                    f"recorded in '{sums_path}' ({expected}), got {remote[name]}."
                )
            expected, recorded_in = remote[name], _location(source, CHECKSUM_FILE)
        digest = _download(
            source,
            name,
            dest,
            expected=expected,
            recorded_in=recorded_in,
            timeout=timeout,
            progress=progress,
        )
        sums[name] = digest
        write_checksums(sums_path, sums)
        fetched.append(FetchedFile(dest, digest, downloaded=True))
    return fetched
