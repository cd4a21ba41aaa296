"""One run per output directory: an exclusive lock, taken over from a killed run; stale temporaries removed."""

import os
import signal
import threading
import time

import pytest
from cli_helpers import assert_one_line_error, numvae_process, run_numvae, tiny_mnist, train_argv

from numvae.cli import main
from numvae.cli.common import CommandError
from numvae.cli.rundir import prepare


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tiny_mnist(tmp_path_factory.mktemp("data"), n_train=400, n_test=20)


def test_a_second_holder_is_refused_naming_the_first(tmp_path):
    with prepare(tmp_path / "out"):
        with pytest.raises(CommandError, match=rf"in use by another numvae run \(pid {os.getpid()} on "):
            with prepare(tmp_path / "out"):
                pass
    with prepare(tmp_path / "out"):  # released when the first run ends
        pass


def _wait_for_lock(out, process, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (out / ".lock").exists() and f"pid {process.pid} " in (out / ".lock").read_text():
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError("the run never took its lock")


def _long_run(data_dir, out):
    return numvae_process(*train_argv(data_dir, out, "--hidden", "64", epochs=100000),
                          stdout=open(os.devnull, "w"), stderr=open(os.devnull, "w"))


def test_two_concurrent_runs_on_one_out(data_dir, tmp_path):
    out = tmp_path / "out"
    first = _long_run(data_dir, out)
    try:
        _wait_for_lock(out, first)
        second = run_numvae(*train_argv(data_dir, out, epochs=1))
        assert second.returncode == 1
        assert_one_line_error(second.stderr, "--out", "in use by another numvae run", f"pid {first.pid} ")
        assert first.poll() is None  # the first run goes on, untouched
    finally:
        first.kill()
        first.wait()


def test_the_lock_of_a_killed_run_is_taken_over(data_dir, tmp_path):
    out = tmp_path / "out"
    first = _long_run(data_dir, out)
    _wait_for_lock(out, first)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert f"pid {first.pid} " in (out / ".lock").read_text()  # the file stays; the lock went with the process
    if (out / "model.npz").exists():  # killed after its first save: continue it
        second = _resume_one_more(data_dir, out)
    else:
        second = run_numvae(*train_argv(data_dir, out, epochs=1))
    assert second.returncode == 0, second.stderr
    assert not (out / ".lock").exists()  # removed by the run that took it over


def _resume_one_more(data_dir, out):
    from numvae.training.checkpoint import read_meta

    epochs = read_meta(out / "model.npz")["epoch"] + 1
    return run_numvae("train", "--data-dir", str(data_dir), "--out", str(out), "--resume",
                      "--epochs", str(epochs), "--no-progress")


def test_a_run_removes_the_stale_temporaries_a_killed_save_left(data_dir, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    stale = [out / ".model.npz.0123456789ab.tmp", out / ".history.csv.a1b2c3d4e5f6.tmp",
             out / ".manifold.png.00000000000f.tmp"]
    kept = [out / ".model.npz.mine.tmp", out / "notes.txt", out / ".model.npz.0123456789ab.tmp.bak"]
    for path in stale + kept:
        path.write_bytes(b"x" * 100)
    assert main(train_argv(data_dir, out, epochs=1)) == 0
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)
    assert "removed 3 temporary file(s) an interrupted save left" in capsys.readouterr().out
    leftovers = [p.name for p in out.iterdir() if p.name.endswith(".tmp") and p not in kept]
    assert leftovers == []


def test_a_symlink_planted_as_the_lock_file_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".lock").symlink_to(victim)
    with pytest.raises(CommandError, match="--out: cannot write in"):
        with prepare(tmp_path / "out"):
            pass
    assert victim.read_text() == "precious"


def test_a_run_that_fails_early_leaves_no_empty_directory(tmp_path, capsys):
    out = tmp_path / "new" / "run"
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "none"), "--out", str(out)]) == 1
    assert not out.exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "none"), "--out", str(existing)]) == 1
    assert existing.is_dir()  # the user's own directory stays


def test_ctrl_c_is_held_back_while_the_csv_catches_up():
    import signal as signals

    from numvae.cli.rundir import sigint_held

    previous = signals.signal(signals.SIGINT, signals.default_int_handler)
    reached = []
    # Another thread that does not block SIGINT (as BLAS's workers): the kernel may deliver it there.
    bystander = threading.Thread(target=time.sleep, args=(0.5,))
    bystander.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            with sigint_held():
                os.kill(os.getpid(), signals.SIGINT)
                time.sleep(0.05)
                reached.append("end of the block")
    finally:
        signals.signal(signals.SIGINT, previous)
    assert reached == ["end of the block"]


def test_a_finished_run_leaves_no_lock_file(data_dir, tmp_path):
    out = tmp_path / "out"
    assert main(train_argv(data_dir, out, epochs=1)) == 0
    assert not (out / ".lock").exists()
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
