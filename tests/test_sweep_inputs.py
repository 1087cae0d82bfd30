"""Every bad sweep input is refused with a clear error before any work (issue 13).

Config errors raise in ``SweepConfig`` (so a YAML file, a preset override or code all get them);
run options and paths raise in ``run_sweep``/``run_parallel`` before data is loaded; the command
line turns both into one ``calstudy: error: …`` line and exit code 2, creating no store. A full
disk stops a sweep with a one-line error naming the path (exit 1) and leaves the store intact.
Claims of dead, reused-pid or expired workers are taken over; a live worker's claim is respected.
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from calstudy import sweep
from calstudy.cli import main
from calstudy.store import Store

TSS_A = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"

# One job: a C=4, N=1 network on 128 images (the tests below replace its training with a stub).
ONE = sweep.SweepConfig(
    name="one",
    archs={"tss": [TSS_A]},
    datasets=("cifar10",),
    seeds=(0,),
    epochs=1,
    C=4,
    N=1,
    n_train=128,
    n_test=100,
)


def _sweep(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["sweep", *argv])
    return code, capsys.readouterr().err


def _refused(capsys, out: Path, *argv: str, match: str) -> None:
    """``calstudy sweep`` exits 2 with one error line matching ``match`` and writes nothing."""
    existed = out.exists()
    code, err = _sweep(capsys, *argv)
    assert code == 2, err
    assert err.startswith("calstudy: error: ") and err.count("\n") == 1, err
    assert "Expected " in err, err
    assert "Traceback" not in err
    assert re.search(match, err), err
    assert out.exists() == existed  # no store directory was created


# ── the configuration ───────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        (["CIFAR10"], ("cifar10",)),
        (["CIFAR-10", "Fashion-MNIST"], ("cifar10", "fashion-mnist")),
        (["fashion_mnist", "ImageNet16-120"], ("fashion-mnist", "imagenet16-120")),
        (["SVHN"], ("svhn",)),
    ],
)
def test_dataset_names_are_case_folded_to_the_canonical_ones(given, canonical):
    config = ONE.replace(datasets=given, ood={"CIFAR10": "Fashion-MNIST"})
    assert config.datasets == canonical
    assert config.ood == {"cifar10": "fashion-mnist"}
    assert {job.dataset for job in sweep.expand_jobs(config)} == set(canonical)
    assert config.config_hash() == ONE.replace(datasets=canonical, ood=config.ood).config_hash()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        # datasets
        ({"datasets": ["cifar11"]}, r"`datasets` to name datasets among \['cifar10'.*'cifar11'"),
        ({"datasets": "cifar10"}, r"`datasets` to be a list of dataset names, got 'cifar10'"),
        ({"datasets": ["cifar10", "CIFAR-10"]}, r"`datasets` to hold no duplicates"),
        ({"ood": {"cifar10": "svhm"}}, r"`ood` to name datasets .*'svhm' \(did you mean 'svhn'"),
        ({"ood": {"cifar10": "CIFAR10"}}, r"`ood` to map each dataset to a different dataset"),
        ({"ood": ["svhn"]}, r"`ood` to map datasets"),
        # seeds
        ({"seeds": [0, 0]}, r"`seeds` to hold no duplicates, got \[0, 0\] \(0 more than once\)"),
        ({"seeds": [-1]}, r"`seeds` to be integers in \[0, 2\*\*32\), got -1"),
        ({"seeds": [1.5]}, r"`seeds` to be integers"),
        ({"seeds": 3}, r"`seeds` to be a list of integers, got 3"),
        ({"seeds": []}, r"`seeds` to hold at least one seed"),
        ({"arch_seed": -1}, r"`arch_seed` to be a non-negative integer"),
        # architectures
        ({"archs": {"tss": [TSS_A, TSS_A]}}, r"`archs\['tss'\]` to hold no duplicates"),
        ({"archs": {"sss": ["8:8:8:8:8", "8:8:8:8:8 "]}}, r"`archs\['sss'\]` to hold no dupl"),
        ({"archs": {"tss": ["|bogus~0|"]}}, r"bogus"),
        ({"archs": {"sss": ["8:8:8:8"]}}, r"8:8:8:8"),
        ({"archs": {"tss": 0}}, r"number of tss architectures in `archs` to be ≥ 1, got 0"),
        ({"archs": {"tss": True}}, r"tss architectures in `archs` to be a count"),
        ({"archs": {"tss": []}}, r"tss architectures in `archs` to list at least one"),
        ({"archs": {"tss": [3]}}, r"tss architectures in `archs` to be strings, got 3"),
        ({"archs": {}}, r"`archs` to map search spaces"),
        ({"archs": {"TSS": 3}}, r"unknown space"),
        # corruptions, post-hoc methods, attacks
        ({"corruptions": ["gausian_noise"]}, r"`corruptions` .*'gausian_noise' \(did you mean"),
        ({"corruptions": "everything"}, r"`corruptions` to be 'all' or a list"),
        ({"corruptions": ["fog", "fog"]}, r"`corruptions` to hold no duplicates"),
        ({"posthoc": ["ts", "isotonic"]}, r"`posthoc` to be among \['ts', 'vs', 'hist', 'iso'\]"),
        ({"posthoc": "ts"}, r"`posthoc` to be a list"),
        ({"posthoc": ["ts", "ts"]}, r"`posthoc` to hold no duplicates"),
        ({"severities": [0, 3]}, r"`severities` to be integers in 1..5"),
        ({"severities": []}, r"`severities` to be integers in 1..5"),
        ({"severities": [3, 3]}, r"`severities` to hold no duplicates"),
        ({"attack_subset": -1}, r"`attack_subset` to be a non-negative integer"),
        ({"fgsm_eps": [1.0, -8.0]}, r"`fgsm_eps` to be positive finite budgets .*-8.0"),
        ({"pgd_eps": [float("nan")]}, r"`pgd_eps` to be positive finite"),
        ({"pgd_eps": [1.0, 1.0]}, r"`pgd_eps` to hold no duplicates"),
        ({"pgd_steps": 0}, r"`pgd_steps` to be a positive integer"),
        # fidelity and the rest
        ({"n_train": 0}, r"`n_train` to be a positive integer, got 0"),
        ({"n_test": -5}, r"`n_test` to be a positive integer, got -5"),
        ({"corruption_subset": 0}, r"`corruption_subset` to be a positive integer"),
        ({"C": 2.5}, r"`C` to be a positive integer"),
        ({"heldout_frac": True}, r"`heldout_frac` to be in \(0, 1\)"),
        ({"nats_hp": "100"}, r"`nats_hp` to be one of \['01', '12', '90', '200'\]"),
        ({"name": ""}, r"`name` to be a non-empty string"),
    ],
)
def test_bad_config_fields_are_refused_when_the_config_is_built(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ONE.replace(**kwargs)


def test_integer_nats_hp_from_yaml_is_read_as_the_schedule_string():
    assert ONE.replace(nats_hp=200).nats_hp == "200"


def test_unknown_option_and_preset_suggest_the_name_meant():
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['seed'\] \(did you mean 'seeds'"):
        ONE.replace(seed=3)
    with pytest.raises(ValueError, match=r"`preset` .*got 'tyni' \(did you mean 'tiny'"):
        sweep.SweepConfig.from_mapping({"preset": "tyni"})


def test_too_many_sampled_architectures_are_refused_before_the_jobs_expand():
    with pytest.raises(ValueError, match=r"tss architectures in `archs` to be at most 6466"):
        sweep.expand_jobs(ONE.replace(archs={"tss": 7000}))


def test_yaml_config_errors_name_the_file(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("preset: tiny\ndatasets: [CIFAR10]\nseeds: [0, 0]\n")
    with pytest.raises(ValueError, match=r"sweep.yaml: Expected `seeds` to hold no duplicates"):
        sweep.SweepConfig.from_yaml(path)
    path.write_text("preset: tiny\ndatasets: [CIFAR10]\n")
    assert sweep.SweepConfig.from_yaml(path).datasets == ("cifar10",)
    path.write_text("preset: tiny\n  seeds: [\n")
    with pytest.raises(ValueError, match=r"Expected `config` to be valid YAML, got '.*sweep.yaml'"):
        sweep.SweepConfig.from_yaml(path)
    path.write_text("- cifar10\n")
    with pytest.raises(ValueError, match=r"to be a YAML mapping, got list"):
        sweep.SweepConfig.from_yaml(path)
    with pytest.raises(FileNotFoundError, match=r"`config` to be a YAML file .*no such file"):
        sweep.SweepConfig.from_yaml(tmp_path / "missing.yaml")


def test_committed_configs_and_presets_are_valid():
    for path in sorted(Path(__file__).parents[1].joinpath("configs").glob("*.yaml")):
        config = sweep.SweepConfig.from_yaml(path)
        assert sweep.expand_jobs(config), path
    for name in sweep.PRESETS:
        assert sweep.preset_config(name).replace() == sweep.preset_config(name)


# ── run options and paths (library) ─────────────────────────────────────────────────────────
@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"max_jobs": -1}, ValueError, r"`max_jobs` to be a positive integer, got -1"),
        ({"max_jobs": 0}, ValueError, r"`max_jobs` to be a positive integer, got 0"),
        ({"time_limit_s": -5}, ValueError, r"`time_limit_s` to be a non-negative finite number, got -5"),
        ({"time_limit_s": float("inf")}, ValueError, r"`time_limit_s`"),
        ({"claim_max_age_s": 0}, ValueError, r"`claim_max_age_s` to be a positive finite number, got 0"),
        ({"gpus_per_job": -0.5}, ValueError, r"`gpus_per_job` to be a non-negative finite number"),
        ({"cpus_per_job": 0}, ValueError, r"`cpus_per_job` to be a positive finite number"),
        ({"backend": "slurm"}, ValueError, r"`backend` to be one of"),
        ({"address": "auto"}, ValueError, r"`address` only with the ray backend"),
        ({"device": "gpu"}, ValueError, r"`device` to be 'cpu', 'cuda', 'cuda:<index>' or 'mps'"),
        ({"device": "cuda:99"}, ValueError, r"`device` to be a CUDA device of this machine"),
        ({"data_dir": "/no/such/dir"}, FileNotFoundError, r"`data_dir` .*'/no/such/dir'"),
    ],
)
def test_bad_run_options_fail_before_any_work(tmp_path, options, error, message):
    out = tmp_path / "store"
    with pytest.raises(error, match=message):
        sweep.run_sweep(ONE, out, progress=False, **options)
    with pytest.raises(error, match=message):
        sweep.run_parallel(ONE, out, workers=2, progress=False, **options)
    assert not out.exists()


def test_workers_must_be_positive_and_local(tmp_path):
    for workers in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="`workers` to be a positive integer"):
            sweep.run_parallel(ONE, tmp_path / "s", workers=workers)
    with pytest.raises(ValueError, match="`workers` > 1 only with the local backend"):
        sweep.run_parallel(ONE, tmp_path / "s", workers=2, backend="ray")
    with pytest.raises(ValueError, match="`run_sweep`, but got an unexpected keyword .*'epochs'"):
        sweep.run_parallel(ONE, tmp_path / "s", workers=2, epochs=3)  # a config field, not an option
    assert not (tmp_path / "s").exists()


def test_pretrained_source_needs_an_existing_nats_path(tmp_path):
    pretrained = sweep.preset_config("full").replace(archs={"tss": [TSS_A]})
    with pytest.raises(ValueError, match=r"`nats_path` .* got None"):
        sweep.run_sweep(pretrained, tmp_path / "s", progress=False)
    with pytest.raises(FileNotFoundError, match=r"`nats_path` .*no such path"):
        sweep.run_sweep(pretrained, tmp_path / "s", nats_path=str(tmp_path / "x"), progress=False)
    assert not (tmp_path / "s").exists()


def test_out_must_be_a_directory_or_a_new_path(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a store")
    with pytest.raises(ValueError, match=r"`out` to be a store directory .*got the file"):
        sweep.run_sweep(ONE, afile, progress=False)
    with pytest.raises(ValueError, match=r"`out` to be a path that can be created.*under the file"):
        sweep.run_sweep(ONE, afile / "sub", progress=False)
    assert afile.read_text() == "not a store"


# ── the command line ────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-jobs", "-1"], r"`--max-jobs` to be a positive integer, got -1"),
        (["--max-jobs", "0"], r"`--max-jobs` to be a positive integer, got 0"),
        (["--time-limit", "-5"], r"`--time-limit` to be a finite number > 0, got -5"),
        (["--time-limit", "nan"], r"`--time-limit` to be a finite number > 0, got nan"),
        (["--workers", "0"], r"`--workers` to be a positive integer, got 0"),
        (["--workers", "-1"], r"`--workers` to be a positive integer, got -1"),
        (["--n-archs", "0"], r"`--n-archs` to be a positive integer, got 0"),
        (["--epochs", "0"], r"`--epochs` to be a positive integer, got 0"),
        (["--claim-max-age", "-1"], r"`--claim-max-age` to be a finite number > 0"),
        (["--gpus-per-job", "0.5"], r"`--gpus-per-job` only with --backend ray"),
        (["--address", "auto"], r"`--address` only with --backend ray"),
        (["--backend", "ray", "--cpus-per-job", "0"], r"`--cpus-per-job` to be a finite num"),
        (["--backend", "ray", "--gpus-per-job", "-1"], r"`--gpus-per-job` to be a finite num"),
        (["--backend", "ray", "--workers", "2"], r"`--workers` > 1 only with --backend local"),
        (["--seeds", "0", "0"], r"`seeds` to hold no duplicates"),
        (["--seeds", "-3"], r"`seeds` to be integers in \[0, 2\*\*32\)"),
        (["--datasets", "cifar11"], r"`datasets` to name datasets among .*got 'cifar11'"),
        (["--datasets", "cifar10", "CIFAR10"], r"`datasets` to hold no duplicates"),
        (["--space", "tss", "--space", "tss"], r"`--space` to hold no duplicates"),
        (["--device", "gpu"], r"`device` to be 'cpu', 'cuda'"),
        (["--data-dir", "/no/such/dir"], r"`data_dir` to be a dataset directory"),
        (["--config", "missing.yaml"], r"one of --preset and --config .*got both"),
    ],
)
def test_cli_refuses_bad_options_with_exit_code_2(tmp_path, capsys, argv, message):
    out = tmp_path / "store"
    _refused(capsys, out, "--preset", "tiny", "--out", str(out), "--quiet", *argv, match=message)
    if "--config" not in argv:  # also in a dry run, which reads no data
        _refused(capsys, out, "--preset", "tiny", "--out", str(out), "--dry-run", *argv,
                 match=message)  # fmt: skip


def test_cli_refuses_an_out_that_is_a_file(tmp_path, capsys):
    afile = tmp_path / "results.parquet"
    afile.write_text("x")
    _refused(capsys, afile, "--preset", "tiny", "--out", str(afile), match=r"got the file")
    _refused(capsys, afile, "--preset", "tiny", "--out", str(afile), "--dry-run", match="file")
    sub = afile / "store"
    _refused(capsys, sub, "--preset", "tiny", "--out", str(sub), match=r"under the file")


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("preset: tiny\nseeds: [0, 0]\n", r"sweep.yaml: Expected `seeds` to hold no duplicates"),
        ("preset: tiny\ndatasets: [CIFAR-11]\n", r"`datasets` to name datasets among"),
        ("preset: tiny\ncorruptions: [gausian_noise]\n", r"did you mean 'gaussian_noise'"),
        ("preset: tiny\nposthoc: [ts, platt]\n", r"`posthoc` to be among"),
        ("preset: tiny\nfgsm_eps: [0]\n", r"`fgsm_eps` to be positive"),
        ("preset: tiny\narchs: {tss: [nope]}\n", r"'nope'"),
        ("preset: tiny\nepoch: 3\n", r"did you mean 'epochs'"),
        ("preset: tiny\n  seeds: [\n", r"`config` to be valid YAML"),
        ("preset: tiny\nsource: nats-pretrained\n", r"`nats_path`"),
    ],
)
def test_cli_refuses_bad_yaml_configs_with_exit_code_2(tmp_path, capsys, yaml_text, message):
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml_text)
    out = tmp_path / "store"
    _refused(capsys, out, "--config", str(path), "--out", str(out), "--quiet", match=message)


def test_cli_refuses_missing_config_and_arch_files(tmp_path, capsys):
    out = tmp_path / "store"
    missing = str(tmp_path / "missing.yaml")
    _refused(capsys, out, "--config", missing, "--out", str(out), match=r"no such file")
    _refused(capsys, out, "--preset", "tiny", "--out", str(out), "--archs", missing,
             match=r"`--archs` to be a file")  # fmt: skip
    empty = tmp_path / "archs.txt"
    empty.write_text("# nothing\n")
    _refused(capsys, out, "--preset", "tiny", "--out", str(out), "--archs", str(empty),
             match=r"`--archs` to list at least one")  # fmt: skip
    empty.write_text(TSS_A + "\n")
    _refused(capsys, out, "--preset", "tiny", "--out", str(out), "--archs", str(empty),
             "--n-archs", "2", match=r"one of --n-archs and --archs")  # fmt: skip
    _refused(capsys, out, "--preset", "tiny", "--out", str(out), "--archs", str(empty),
             "--space", "sss", match=r"architectures of --space sss, got tss")  # fmt: skip


def test_cli_dry_run_lists_canonical_dataset_names(tmp_path, capsys):
    code = main(["sweep", "--preset", "tiny", "--out", str(tmp_path / "s"), "--dry-run",
                 "--datasets", "CIFAR10", "Fashion-MNIST"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    datasets = {line.split("\t")[2] for line in out.splitlines() if "\t" in line}
    assert datasets == {"cifar10", "fashion-mnist"}
    assert not (tmp_path / "s").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_cli_refuses_cuda_without_a_gpu(tmp_path, capsys):
    out = tmp_path / "store"
    _refused(capsys, out, "--preset", "tiny", "--out", str(out), "--device", "cuda",
             match=r"`device` to be a CUDA device of this machine, got 'cuda' \(0 CUDA")  # fmt: skip


# ── a full disk ─────────────────────────────────────────────────────────────────────────────
def _config_file(tmp_path: Path) -> Path:
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(ONE.to_dict()))
    return path


def _stub_job(job, **kwargs):
    raise RuntimeError("stub: no training in this test")


@pytest.mark.parametrize("code", [errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)])
def test_disk_full_while_writing_a_row_is_one_line_naming_the_path(
    tmp_path, capsys, monkeypatch, code
):
    monkeypatch.setattr(sweep, "run_one", _stub_job)
    out = tmp_path / "store"
    shard = out / "shard-0001.parquet"

    def full(self, records):
        raise OSError(code, os.strerror(code), str(shard))

    monkeypatch.setattr(Store, "append", full)
    exit_code, err = _sweep(capsys, "--config", str(_config_file(tmp_path)), "--out", str(out),
                            "--quiet", "--device", "cpu")  # fmt: skip
    assert exit_code == 1, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("calstudy: error: ")
    assert errno.errorcode[code] in err and f"'{shard}'" in err and "rerun" in err
    monkeypatch.undo()
    assert Store(out).validate() == []
    assert not list((out / "claims").glob("*.claim"))  # the claim was released


def test_disk_full_inside_a_store_write_leaves_the_store_intact(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sweep, "run_one", _stub_job)
    out = tmp_path / "store"
    real_fsync = os.fsync

    def fsync(fd):
        if os.path.isdir(f"/proc/self/fd/{fd}") or not Path("/proc/self/fd").exists():
            return real_fsync(fd)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)
    exit_code, err = _sweep(capsys, "--config", str(_config_file(tmp_path)), "--out", str(out),
                            "--quiet", "--device", "cpu")  # fmt: skip
    monkeypatch.undo()
    assert exit_code == 1, err
    assert "ENOSPC" in err and f"'{out}'" in err and err.count("\n") == 1
    assert Store(out).validate() == []
    assert Store(out).shards() == []
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_disk_full_in_a_job_stops_the_sweep_instead_of_failing_each_job(tmp_path, monkeypatch):
    calls = []

    def full(job, **kwargs):
        calls.append(job.key)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/tmp/corruption-cache")

    monkeypatch.setattr(sweep, "run_one", full)
    config = ONE.replace(seeds=(0, 1, 2))
    with pytest.raises(OSError, match="corruption-cache"):
        sweep.run_sweep(config, tmp_path / "s", progress=False)
    assert len(calls) == 1  # no further job was started
    assert Store(tmp_path / "s").shards() == []  # and no 'failed' row was written


# ── claims ──────────────────────────────────────────────────────────────────────────────────
linux_only = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="process start times are read from /proc"
)


def _start_time(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 1 :].split()[19])


@pytest.fixture
def live_process():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait()


def _claim(root: Path, **claim) -> None:
    (root / "claims").mkdir(parents=True, exist_ok=True)
    job = sweep.expand_jobs(ONE)[0]
    (root / "claims" / f"{job.key_hash}.claim").write_text(json.dumps(claim))


def _outcome(root: Path, monkeypatch) -> str:
    monkeypatch.setattr(sweep, "run_one", _stub_job)
    summary = sweep.run_sweep(ONE, root, progress=False)
    if summary.claimed_elsewhere:
        assert summary.failed == 0 and not Store(root).shards()
        return "respected"
    assert summary.failed == 1, summary  # the stub ran: the claim was taken over
    return "taken over"


@linux_only
def test_claim_whose_pid_now_belongs_to_another_process_is_taken_over(
    tmp_path, monkeypatch, live_process
):
    host = socket.gethostname()
    started = _start_time(live_process)
    _claim(tmp_path, host=host, pid=live_process, start_time=started - 1, time=time.time())
    assert _outcome(tmp_path, monkeypatch) == "taken over"


@linux_only
def test_claim_of_this_pid_from_an_earlier_process_is_taken_over(tmp_path, monkeypatch):
    started = _start_time(os.getpid())
    _claim(tmp_path, host=socket.gethostname(), pid=os.getpid(), start_time=started + 7,
           time=time.time())  # fmt: skip
    assert _outcome(tmp_path, monkeypatch) == "taken over"


@linux_only
def test_claim_of_a_live_worker_is_respected(tmp_path, monkeypatch, live_process):
    host = socket.gethostname()
    started = _start_time(live_process)
    _claim(tmp_path, host=host, pid=live_process, start_time=started, time=time.time())
    assert _outcome(tmp_path, monkeypatch) == "respected"


def test_claim_without_a_start_time_of_a_live_pid_is_respected(tmp_path, monkeypatch, live_process):
    _claim(tmp_path, host=socket.gethostname(), pid=live_process, time=time.time())
    assert _outcome(tmp_path, monkeypatch) == "respected"


def test_claim_of_a_dead_process_is_taken_over(tmp_path, monkeypatch):
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    _claim(tmp_path, host=socket.gethostname(), pid=process.pid, time=time.time())
    assert _outcome(tmp_path, monkeypatch) == "taken over"


@linux_only
def test_expired_claim_is_taken_over_even_if_its_worker_lives(tmp_path, monkeypatch, live_process):
    host = socket.gethostname()
    started = _start_time(live_process)
    old = time.time() - sweep.DEFAULT_CLAIM_MAX_AGE_S - 60
    _claim(tmp_path, host=host, pid=live_process, start_time=started, time=old)
    assert _outcome(tmp_path, monkeypatch) == "taken over"


def test_claim_from_another_host_is_trusted_until_it_expires(tmp_path, monkeypatch):
    _claim(tmp_path, host="elsewhere.invalid", pid=12345, start_time=1, time=time.time() - 3600)
    assert _outcome(tmp_path, monkeypatch) == "respected"
    monkeypatch.undo()
    monkeypatch.setattr(sweep, "run_one", _stub_job)
    summary = sweep.run_sweep(ONE, tmp_path, claim_max_age_s=1800, progress=False)
    assert summary.failed == 1 and summary.claimed_elsewhere == 0


def test_claim_made_before_a_reboot_is_taken_over(tmp_path, monkeypatch, live_process):
    if not Path("/proc/sys/kernel/random/boot_id").exists():
        pytest.skip("no boot id on this system")
    _claim(tmp_path, host=socket.gethostname(), boot_id="another-boot", pid=live_process,
           time=time.time())  # fmt: skip
    assert _outcome(tmp_path, monkeypatch) == "taken over"


def test_claims_record_host_pid_start_time_and_boot(tmp_path, monkeypatch):
    seen = {}

    def peek(job, **kwargs):
        claim = tmp_path / "claims" / f"{job.key_hash}.claim"
        seen.update(json.loads(claim.read_text()))
        raise RuntimeError("stub")

    monkeypatch.setattr(sweep, "run_one", peek)
    sweep.run_sweep(ONE, tmp_path, progress=False)
    assert seen["host"] == socket.gethostname() and seen["pid"] == os.getpid()
    assert {"start_time", "boot_id", "time"} <= set(seen)
    if Path("/proc/self/stat").exists():
        assert seen["start_time"] == _start_time(os.getpid())
