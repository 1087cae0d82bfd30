"""Tests of calstudy.paper_fetch and `calstudy dataset fetch-paper`, against a local server.

A ThreadingHTTPServer on 127.0.0.1 serves generated files in the released format
(:func:`calstudy.paper.write_release_sample`); per-file behaviours fake a corrupted
download, a missing file (404) and a response cut short. Nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from calstudy.cli import main
from calstudy.paper import (
    CHECKSUM_FILE,
    PAPER_FILES,
    import_paper_dir,
    read_checksums,
    write_release_sample,
)
from calstudy.paper_fetch import PAPER_COMMIT, fetch_paper, paper_source
from calstudy.store import Store


@dataclass
class Mirror:
    """What the fake server serves, and what it was asked for."""

    root: Path
    url: str = ""
    corrupt: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    truncate: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)

    def csv_requests(self) -> list[str]:
        return [r for r in self.requests if r.endswith(".csv")]


def _handler(mirror: Mirror) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
            mirror.requests.append(path)
            name = path.rsplit("/", 1)[-1]
            file = mirror.root / path
            if name in mirror.missing or not file.is_file():
                self.send_error(404, "Not Found")
                return
            data = file.read_bytes()
            if name in mirror.corrupt:
                data = data.replace(b"0.", b"9.", 1)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if name in mirror.truncate:
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

    return Handler


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("release")
    write_release_sample(directory, n_tss=30, n_sss=20, seed=2)
    return directory


@pytest.fixture
def mirror(release: Path, tmp_path: Path) -> Iterator[Mirror]:
    root = tmp_path / "served"
    shutil.copytree(release, root)
    state = Mirror(root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(directory: Path) -> list[str]:
    """Temporary files a fetch left behind (there should be none)."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_fetch_downloads_verifies_and_records(mirror: Mirror, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    fetched = fetch_paper(out, base_url=mirror.url, progress=False)
    assert [f.path.name for f in fetched] == list(PAPER_FILES)
    assert all(f.downloaded for f in fetched)
    for f in fetched:
        assert f.path.read_bytes() == (mirror.root / f.path.name).read_bytes()
        assert f.sha256 == sha256(f.path)
    assert read_checksums(out / CHECKSUM_FILE) == {f.path.name: f.sha256 for f in fetched}
    assert sorted(mirror.csv_requests()) == sorted(PAPER_FILES)
    assert mirror.requests[0] == CHECKSUM_FILE  # a mirror's own sums are asked for (404 here)
    assert leftovers(out) == []
    assert len(import_paper_dir(out)) == 3 * (30 + 20)


def test_second_fetch_skips_verified_files_and_resumes(mirror: Mirror, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    fetch_paper(out, base_url=mirror.url, progress=False)
    mirror.requests.clear()
    again = fetch_paper(out, base_url=mirror.url, progress=False)
    assert not any(f.downloaded for f in again) and mirror.requests == []
    # A fetch that stopped half-way: the missing file alone is downloaded.
    (out / "cifar100_sss.csv").unlink()
    resumed = fetch_paper(out, base_url=mirror.url, progress=False)
    assert [f.path.name for f in resumed if f.downloaded] == ["cifar100_sss.csv"]
    assert mirror.csv_requests() == ["cifar100_sss.csv"]


def test_changed_local_file_is_refused(mirror: Mirror, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    fetch_paper(out, base_url=mirror.url, progress=False)
    path = out / "cifar10_sss.csv"
    path.write_bytes(path.read_bytes() + b"\n")
    message = r"Expected '.*cifar10_sss.csv' to have the SHA-256 recorded in '.*SHA256SUMS'"
    with pytest.raises(ValueError, match=message):
        fetch_paper(out, base_url=mirror.url, progress=False)
    with pytest.raises(ValueError, match=r"cifar10_sss.csv' to have the SHA-256 listed"):
        import_paper_dir(out)


def test_corrupted_download_is_refused(mirror: Mirror, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    fetch_paper(out, base_url=mirror.url, progress=False)
    recorded = (out / CHECKSUM_FILE).read_text()
    good = (out / "cifar10_tss.csv").read_bytes()
    (out / "cifar10_tss.csv").unlink()
    mirror.corrupt.add("cifar10_tss.csv")
    with pytest.raises(
        ValueError,
        match=r"Expected 'cifar10_tss.csv' from http://127.0.0.1:\d+/cifar10_tss.csv to have the "
        r"SHA-256 recorded in '.*SHA256SUMS' \([0-9a-f]{64}\), got [0-9a-f]{64}: the download "
        r"differs from the recorded file; nothing was written",
    ):
        fetch_paper(out, base_url=mirror.url, progress=False)
    assert not (out / "cifar10_tss.csv").exists() and leftovers(out) == []
    assert (out / CHECKSUM_FILE).read_text() == recorded
    mirror.corrupt.clear()
    fetch_paper(out, base_url=mirror.url, progress=False)
    assert (out / "cifar10_tss.csv").read_bytes() == good


def test_mirror_checksums_catch_a_corrupted_first_download(mirror: Mirror, tmp_path: Path) -> None:
    # A mirror that fetch-paper filled has a SHA256SUMS: a first download is checked against it.
    write_release_sample(mirror.root, n_tss=30, n_sss=20, seed=2, checksums=True)
    mirror.corrupt.add("ImageNet_tss.csv")
    out = tmp_path / "csv"
    with pytest.raises(ValueError, match=r"'ImageNet_tss.csv' from .* to have the SHA-256"):
        fetch_paper(out, base_url=mirror.url, progress=False)
    assert not (out / "ImageNet_tss.csv").exists() and leftovers(out) == []
    # The files before it were kept and recorded: a rerun resumes there.
    assert sorted(read_checksums(out / CHECKSUM_FILE)) == sorted(PAPER_FILES[:4])


def test_missing_file_is_a_404(mirror: Mirror, tmp_path: Path) -> None:
    mirror.missing.add("ImageNet_sss.csv")
    out = tmp_path / "csv"
    with pytest.raises(
        FileNotFoundError,
        match=r"Expected 'ImageNet_sss.csv' at http://127.0.0.1:\d+/ImageNet_sss.csv, got HTTP "
        r"404 Not Found",
    ):
        fetch_paper(out, base_url=mirror.url, progress=False)
    assert sorted(read_checksums(out / CHECKSUM_FILE)) == sorted(PAPER_FILES[:5])
    assert not (out / "ImageNet_sss.csv").exists() and leftovers(out) == []


def test_truncated_response_is_refused(mirror: Mirror, tmp_path: Path) -> None:
    mirror.truncate.add("cifar100_tss.csv")
    out = tmp_path / "csv"
    size = (mirror.root / "cifar100_tss.csv").stat().st_size
    with pytest.raises(
        ValueError,
        match=rf"Expected {size:,} bytes of 'cifar100_tss.csv' from .* \(its Content-Length\), "
        rf"got {size // 2:,}: the download was cut short; nothing was written",
    ):
        fetch_paper(out, base_url=mirror.url, progress=False)
    assert not (out / "cifar100_tss.csv").exists() and leftovers(out) == []
    mirror.truncate.clear()
    fetched = fetch_paper(out, base_url=mirror.url, progress=False)
    assert [f.path.name for f in fetched if f.downloaded] == list(PAPER_FILES[2:])


def test_local_directory_and_file_url(release: Path, tmp_path: Path) -> None:
    for base in (release, release.as_uri()):
        out = tmp_path / f"csv-{len(str(base))}"
        fetched = fetch_paper(out, base_url=base, progress=False)
        assert [f.path.read_bytes() for f in fetched] == [
            (release / name).read_bytes() for name in PAPER_FILES
        ]
    with pytest.raises(FileNotFoundError, match=r"Expected 'x.csv' in '.*', got no such file"):
        fetch_paper(tmp_path / "csv-x", base_url=release, names=["x.csv"], progress=False)
    with pytest.raises(FileNotFoundError, match=r"Expected 'x.csv' at file://.*, got no such"):
        fetch_paper(tmp_path / "csv-y", base_url=release.as_uri(), names=["x.csv"], progress=False)


def test_commit_and_sources(mirror: Mirror, tmp_path: Path) -> None:
    assert paper_source() == (
        "https://raw.githubusercontent.com/Linwei94/calibration-study/"
        "768ba9b91f913bc32aee1a65e132f13efde0262c"
    )
    assert PAPER_COMMIT == "768ba9b91f913bc32aee1a65e132f13efde0262c"
    assert paper_source(commit="abc1234") == (
        "https://raw.githubusercontent.com/Linwei94/calibration-study/abc1234"
    )
    # {commit} in a mirror's URL is replaced, as on raw.githubusercontent.com.
    commit_dir = mirror.root / PAPER_COMMIT
    commit_dir.mkdir()
    for name in PAPER_FILES:
        shutil.move(mirror.root / name, commit_dir / name)
    fetch_paper(tmp_path / "csv", base_url=f"{mirror.url}/{{commit}}/", progress=False)
    assert mirror.csv_requests()[0] == f"{PAPER_COMMIT}/cifar10_tss.csv"
    with pytest.raises(ValueError, match=r"Expected `commit` to be 7 to 40 hexadecimal digits"):
        fetch_paper(tmp_path / "x", base_url=mirror.url, commit="main")
    with pytest.raises(ValueError, match=r"Expected `base_url` to be an http\(s\):// or file://"):
        fetch_paper(tmp_path / "x", base_url=tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"Expected `names` to be plain file names"):
        fetch_paper(tmp_path / "x", base_url=mirror.url, names=["../evil.csv"])


def test_unreachable_server(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()  # nothing listens there now
    with pytest.raises(ValueError, match=rf"Could not reach http://127.0.0.1:{port}/"):
        fetch_paper(tmp_path / "csv", base_url=f"http://127.0.0.1:{port}", progress=False)
    assert not list((tmp_path / "csv").glob("*.csv"))


def test_cli_fetch_then_import(
    mirror: Mirror, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, store = tmp_path / "csv", tmp_path / "store"
    argv = ["dataset", "fetch-paper", "--out", str(out), "--base-url", mirror.url]
    assert main(argv) == 0  # with progress bars (stderr)
    printed, bars = capsys.readouterr()
    assert "Fetched 6 file(s)" in printed and "(6 downloaded, 0 already there" in printed
    assert "cifar10_tss.csv" in bars
    assert main([*argv, "--no-progress"]) == 0
    assert "(0 downloaded, 6 already there and verified)" in capsys.readouterr().out
    assert main(["dataset", "import-paper", str(out), "--out", str(store)]) == 0
    assert len(Store(store).read(["arch"])) == 3 * (30 + 20)
    # Errors: exit status 1 and one line naming the file.
    (out / "ImageNet_sss.csv").unlink()
    mirror.missing.add("ImageNet_sss.csv")
    assert main([*argv, "--no-progress"]) == 1
    assert "'ImageNet_sss.csv'" in capsys.readouterr().err
    assert main([*argv, "--commit", "nope"]) == 1
    assert "Expected `commit`" in capsys.readouterr().err
