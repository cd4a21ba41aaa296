"""What a training run reports, and how its files stay consistent whatever stops it."""

import csv
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import time

import pytest
from cli_helpers import environment, numvae_process, tiny_mnist, train_argv

from numvae.training.checkpoint import read_meta
from numvae.cli import main


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tiny_mnist(tmp_path_factory.mktemp("data"))


def _csv_rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def _assert_consistent(out):
    """history.csv holds exactly the epochs of model.npz, value for value."""
    history = read_meta(out / "model.npz")["history"]
    rows = _csv_rows(out / "history.csv")
    assert [int(r["epoch"]) for r in rows] == history["epoch"]
    assert [float(r["test_loss"]) for r in rows] == history["test_loss"]


def test_train_prints_its_settings_and_its_data_first(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(train_argv(data_dir, out, "--beta", "0.5")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("settings: --dataset mnist --epochs 2 --latent-dim 2 --hidden 16 ")
    for setting in ["--beta 0.5", "--binarize dynamic", "--batch-size 20", "--lr 0.001", "--seed 0", f"--out {out}"]:
        assert setting in lines[0], lines[0]
    assert lines[1].startswith(f"data: mnist from {data_dir / 'mnist'}: 60 train / 20 test images"), lines[1]


def test_resume_reports_the_epochs_it_added(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(train_argv(data_dir, out)) == 0
    assert main(["train", "--data-dir", str(data_dir), "--out", str(out), "--resume", "--epochs", "5",
                 "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].startswith("trained 3 more epochs (2 → 5) in "), lines[-2]
    assert lines[-1].startswith("the test loss is a one-noise-draw estimate"), lines[-1]


def test_evaluate_repeats_the_last_test_loss_of_train(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(train_argv(data_dir, out, "--binarize", "dynamic")) == 0
    last_test_loss = float(_csv_rows(out / "history.csv")[-1]["test_loss"])
    capsys.readouterr()
    assert main(["evaluate", str(out / "model.npz"), "--data-dir", str(data_dir), "--iw-samples", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["elbo"] == -last_test_loss
    assert main(["evaluate", str(out / "model.npz"), "--data-dir", str(data_dir), "--iw-samples", "2"]) == 0
    assert "one noise draw per image, as train's last test loss" in capsys.readouterr().out
    # Another seed is another draw: a different estimate of the same ELBO.
    assert main(["evaluate", str(out / "model.npz"), "--data-dir", str(data_dir), "--iw-samples", "2",
                 "--seed", "7", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["elbo"] != -last_test_loss
    assert main(["evaluate", str(out / "model.npz"), "--data-dir", str(data_dir), "--iw-samples", "2",
                 "--seed", "7"]) == 0
    assert "as train's" not in capsys.readouterr().out


def test_evaluate_does_not_claim_to_repeat_a_test_loss_with_beta(data_dir, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(train_argv(data_dir, out, "--beta", "4")) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out / "model.npz"), "--data-dir", str(data_dir), "--iw-samples", "2"]) == 0
    assert "as train's" not in capsys.readouterr().out


def test_a_closed_stdout_does_not_stop_or_corrupt_the_run(data_dir, tmp_path):
    out = tmp_path / "run"
    process = numvae_process(*train_argv(data_dir, out, epochs=6), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith("settings:")
    process.stdout.close()  # the reader goes away, as `numvae train | head -1` does
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert read_meta(out / "model.npz")["epoch"] == 6
    _assert_consistent(out)
    assert (out / "manifold.png").exists()


def test_head_dash_1_in_a_shell_pipeline(data_dir, tmp_path):
    out = tmp_path / "run"

    command = shlex.join([sys.executable, "-m", "numvae", *map(str, train_argv(data_dir, out, epochs=4))])
    result = subprocess.run(["bash", "-c", f'{command} | head -1; exit "${{PIPESTATUS[0]}}"'],
                            capture_output=True, text=True, env=environment(), timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and result.stdout.startswith("settings:")
    _assert_consistent(out)
    assert read_meta(out / "model.npz")["epoch"] == 4


def test_ctrl_c_between_a_save_and_its_csv_leaves_them_in_step(data_dir, tmp_path, monkeypatch):
    from numvae.cli import rundir

    real = rundir.write_history_csv
    calls = []

    def interrupted_on_second_call(history, path):
        calls.append(len(history["epoch"]))
        if len(calls) == 2:  # epoch 2 is saved in model.npz; Ctrl-C before its CSV
            raise KeyboardInterrupt
        return real(history, path)

    monkeypatch.setattr(rundir, "write_history_csv", interrupted_on_second_call)
    out = tmp_path / "run"
    assert main(train_argv(data_dir, out, epochs=5)) == 130
    assert read_meta(out / "model.npz")["epoch"] == 2
    _assert_consistent(out)


def test_resume_rewrites_a_missing_or_stale_csv(data_dir, tmp_path):
    out = tmp_path / "run"
    assert main(train_argv(data_dir, out, epochs=2)) == 0
    (out / "history.csv").write_text("epoch,test_loss\n1,999\n")
    resume = ["train", "--data-dir", str(data_dir), "--out", str(out), "--resume", "--no-progress"]
    assert main([*resume, "--epochs", "3"]) == 0
    _assert_consistent(out)
    (out / "history.csv").unlink()
    assert main([*resume, "--epochs", "4"]) == 0
    _assert_consistent(out)


def test_ctrl_c_at_random_moments_exits_130_without_traceback(data_dir, tmp_path):
    """SIGINT at random moments from the start: during Python's own start-up it is
    Python's to report, but never with a frame of numvae's code; from numvae's first
    line on it is a clean exit 130, and the files on disk stay consistent."""
    rng = random.Random(6)
    clean = 0
    for attempt in range(10):
        out = tmp_path / f"run{attempt}"
        process = numvae_process(*train_argv(data_dir, out, epochs=100000), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.0, 2.5))
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
        assert f"{os.sep}numvae{os.sep}" not in err, err  # no traceback through numvae's code
        if process.returncode == 130:
            clean += 1
            assert err.strip() in ("numvae: interrupted", "numvae train: interrupted"), err
        if (out / "model.npz").exists():
            _assert_consistent(out)
    assert clean >= 5, f"only {clean} of 10 interrupts reached numvae"


@pytest.mark.parametrize("likelihood, binarize", [("bernoulli", "dynamic"), ("gaussian", "none")])
def test_the_default_binarization_follows_the_likelihood(data_dir, tmp_path, capsys, likelihood, binarize):
    """Bernoulli pixels are drawn as 0/1 each epoch by default; a Gaussian models the grey levels."""
    out = tmp_path / "run"
    assert main(train_argv(data_dir, out, "--likelihood", likelihood, epochs=1)) == 0
    settings = capsys.readouterr().out.splitlines()[0]
    assert f"--binarize {binarize} " in settings, settings
    assert read_meta(out / "model.npz")["train_config"]["binarize"] == binarize


def test_sigterm_mid_run_stops_like_ctrl_c(data_dir, tmp_path):
    """``kill PID`` (what a batch scheduler or ``timeout`` sends) ends the run as Ctrl-C
    does: one line, exit status 128 + 15, the lock released and removed, files in step."""
    out = tmp_path / "run"
    process = numvae_process(*train_argv(data_dir, out, epochs=100000), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        while not process.stdout.readline().startswith("epoch"):  # it is training, past its first save
            assert process.poll() is None, process.stderr.read()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGTERM, (process.returncode, err)
    assert err == "numvae train: terminated\n", err
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # no .lock, no temporary
    _assert_consistent(out)
