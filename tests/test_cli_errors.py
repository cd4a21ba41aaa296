"""Every error a user can reach on the command line: one line, the right flag, the user's path."""

import errno
import json
import subprocess

import numpy as np
import pytest
from cli_helpers import run_numvae, tiny_mnist, train_argv

from numvae import VAE
from numvae.training.checkpoint import save_checkpoint
from numvae.cli import build_parser, main


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tiny_mnist(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.npz"
    return save_checkpoint(path, VAE(784, [8], 2, dtype=np.float32, seed=0), extra={"dataset": "mnist"})


def _one_line_error(capsys, *needles):
    captured = capsys.readouterr()
    err = captured.err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return captured


def _usage_error(capsys, argv, *needles):
    with pytest.raises(SystemExit) as exc_info:
        main(argv)
    assert exc_info.value.code == 2
    _one_line_error(capsys, *needles)


# -- B.7, B.9: flags that cannot mean anything ---------------------------------------------


@pytest.mark.parametrize("flags, named", [(["--sigma", "0.5"], "--sigma"), (["--learn-sigma"], "--learn-sigma")])
def test_gaussian_flags_with_a_bernoulli_likelihood_are_refused(data_dir, tmp_path, capsys, flags, named):
    assert main(train_argv(data_dir, tmp_path / "o", *flags)) == 1
    _one_line_error(capsys, f"{named}: only used with --likelihood gaussian, got --likelihood bernoulli")
    assert not (tmp_path / "o" / "model.npz").exists()


@pytest.mark.parametrize("argv", [["train", "--out", ""], ["sample", "--out", " "], ["evaluate", ""], ["sample", ""],
                                  ["train", "--data-dir", ""], ["evaluate", "--data-dir", ""]])
def test_an_empty_path_is_refused(capsys, argv):
    _usage_error(capsys, argv, "expected a path, got")


def test_a_sigma_whose_square_underflows_is_refused_saying_so(data_dir, tmp_path, capsys):
    assert main(train_argv(data_dir, tmp_path / "o", "--likelihood", "gaussian", "--sigma", "1e-30")) == 1
    captured = _one_line_error(capsys, "--sigma: σ² = 1e-60 underflows in float32")
    assert "learning rate" not in captured.err


def test_a_sigma_too_small_for_float32_gradients_is_refused_saying_so(data_dir, tmp_path, capsys):
    assert main(train_argv(data_dir, tmp_path / "o", "--likelihood", "gaussian", "--sigma", "1e-15", "--learn-sigma")) == 1
    captured = _one_line_error(capsys, "--sigma: the squared gradients, of order 1/σ⁴ = 1e+60, overflow float32")
    assert "learning rate" not in captured.err


def test_learning_a_tiny_sigma_diverges_naming_the_variance_not_the_learning_rate():
    from numvae.training.trainer import TrainConfig, Trainer, TrainingDiverged

    model = VAE(6, [4], 2, likelihood="gaussian", sigma=1e-15, learn_sigma=True, dtype=np.float32, seed=0)
    x = np.random.default_rng(0).uniform(size=(10, 6))
    with pytest.raises(TrainingDiverged) as exc_info:
        Trainer(model, x, config=TrainConfig(epochs=3, batch_size=5)).fit()
    message = str(exc_info.value)
    assert "squared gradients, of order 1/σ⁴, overflow in float32" in message, message
    assert "learning rate" not in message


def test_os_errors_are_one_line_without_errno(tmp_path, capsys, model_file):
    assert main(["sample", str(model_file), "--out", "/proc/numvae-test.png"]) == 1
    err = _one_line_error(capsys, "cannot write /proc/numvae-test.png").err
    assert "[Errno" not in err


def test_sample_refuses_more_images_than_a_grid_can_show(capsys, model_file):
    _usage_error(capsys, ["sample", str(model_file), "--n", "100000000000"], "--n", "at most 10,000")


# -- B.11: the divergence message says what is true ------------------------------------------


def test_divergence_says_whether_a_checkpoint_exists(data_dir, tmp_path, capsys):
    out = tmp_path / "wild"
    assert main(train_argv(data_dir, out, "--lr", "1e6", epochs=3)) == 1
    err = _one_line_error(capsys, "became", "smaller learning rate").err
    if (out / "model.npz").exists():
        from numvae.training.checkpoint import read_meta

        epoch = read_meta(out / "model.npz")["epoch"]
        assert f"the checkpoint of epoch {epoch} in {out / 'model.npz'} is intact" in err, err
    else:
        assert "no checkpoint was written" in err, err


def test_divergence_of_an_underflowing_variance_does_not_blame_the_learning_rate():
    from numvae.training.trainer import TrainConfig, Trainer, TrainingDiverged

    model = VAE(6, [4], 2, likelihood="gaussian", sigma=1e-30, dtype=np.float32, seed=0)
    x = np.random.default_rng(0).uniform(size=(10, 6))
    with pytest.raises(TrainingDiverged) as exc_info:
        Trainer(model, x, config=TrainConfig(epochs=1, batch_size=5)).fit()
    message = str(exc_info.value)
    assert "σ² = exp(-138.2) underflows, so 1/σ² is infinite in float32" in message and "no checkpoint was written" in message
    assert "learning rate" not in message and "lr=" not in message


# -- B.5, B.10: where the files go -------------------------------------------------------------


def test_out_under_a_regular_file_is_refused_before_training(data_dir, tmp_path, capsys):
    (tmp_path / "afile").write_text("mine")
    assert main(train_argv(data_dir, tmp_path / "afile" / "run")) == 1
    captured = _one_line_error(capsys, "--out: cannot write in", "afile/run", "Not a directory")
    assert "epoch" not in captured.out
    assert (tmp_path / "afile").read_text() == "mine"


@pytest.fixture
def tmpfs(tmp_path):
    """A 64 kB tmpfs mounted at tmp_path/mnt (needs root and permission to mount)."""
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); the monkeypatched tests below still run")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=True)


def test_a_read_only_out_is_refused_before_training(data_dir, tmpfs, capsys):
    (tmpfs / "run").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    assert main(train_argv(data_dir, tmpfs / "run")) == 1
    captured = _one_line_error(capsys, "--out: cannot write in", str(tmpfs / "run"), "Read-only file system")
    assert "epoch" not in captured.out


def test_a_full_disk_names_the_file(data_dir, tmpfs, capsys):
    out = tmpfs / "run"
    assert main(train_argv(data_dir, out)) == 1
    _one_line_error(capsys, f"cannot write {out / 'model.npz'}: No space left on device")
    assert not out.exists() or not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_a_full_disk_names_the_file_simulated(data_dir, tmp_path, capsys, monkeypatch):
    from numvae.training import checkpoint
    from numvae.util import files

    def full_disk(path, write):
        def fail(f):
            f.write(b"x" * 10)
            raise OSError(errno.ENOSPC, "No space left on device")

        return files.atomic_write(path, fail)

    monkeypatch.setattr(checkpoint, "atomic_write", full_disk)
    out = tmp_path / "run"
    assert main(train_argv(data_dir, out)) == 1
    err = _one_line_error(capsys, f"cannot write {out / 'model.npz'}: No space left on device").err
    assert ".tmp" not in err
    assert not out.exists() or not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_errors_name_the_users_file_never_a_temporary(data_dir, tmp_path, capsys, model_file):
    out = tmp_path / "run"
    (out / "loss_curves.png").mkdir(parents=True)  # a directory where a figure goes
    assert main(train_argv(data_dir, out)) == 1
    err = _one_line_error(capsys, str(out / "loss_curves.png")).err
    assert ".tmp" not in err
    (tmp_path / "d.png").mkdir()
    assert main(["sample", str(model_file), "--out", str(tmp_path / "d.png")]) == 1
    err = _one_line_error(capsys, "--out", str(tmp_path / "d.png"), "is a directory").err
    assert ".tmp" not in err


def test_sample_out_under_a_regular_file_says_not_a_directory(tmp_path, capsys, model_file):
    (tmp_path / "afile").write_text("mine")
    assert main(["sample", str(model_file), "--out", str(tmp_path / "afile" / "grid.png")]) == 1
    err = _one_line_error(capsys, f"cannot write {tmp_path / 'afile' / 'grid.png'}: Not a directory").err
    assert "File exists" not in err, err  # what mkdir says of the file in the way: true, but no help
    assert (tmp_path / "afile").read_text() == "mine"


def test_atomic_write_names_the_destination_when_the_rename_fails(tmp_path):
    from numvae.util.files import atomic_write

    (tmp_path / "d.png").mkdir()
    with pytest.raises(OSError) as exc_info:
        atomic_write(tmp_path / "d.png", lambda f: f.write(b"png"))
    assert str(tmp_path / "d.png") in str(exc_info.value) and ".tmp" not in str(exc_info.value)
    assert exc_info.value.errno == errno.EISDIR


# -- B.4, B.8: out of memory, and results that are not numbers --------------------------------


@pytest.mark.parametrize(
    "command, flags",
    [("train", ["--hidden", "--batch-size"]), ("evaluate", ["--iw-samples"]), ("sample", ["--n"]), ("semi", ["--hidden"])],
)
def test_out_of_memory_names_this_commands_flags(data_dir, tmp_path, capsys, monkeypatch, model_file, command, flags):
    import importlib

    module = importlib.import_module(f"numvae.cli.{command}")

    def no_memory(args):
        raise MemoryError("Unable to allocate 3.00 TiB for an array")

    monkeypatch.setattr(module, "run", no_memory)
    argv = {"train": train_argv(data_dir, tmp_path / "o"), "semi": ["semi"]}.get(command, [command, str(model_file)])
    assert main(argv) == 1
    err = _one_line_error(capsys, f"numvae {command}: error: out of memory (Unable to allocate 3.00 TiB", *flags).err
    others = {"--hidden", "--batch-size", "--iw-samples", "--n"} - set(flags)
    assert not any(f"{flag} " in err or err.rstrip().endswith(flag) for flag in others), err


def test_a_model_too_large_for_memory_is_refused_naming_hidden_dims(data_dir, tmp_path, capsys):
    """Before: 'error: Maximum allowed dimension exceeded', from numpy, naming nothing."""
    argv = [*train_argv(data_dir, tmp_path / "o"), "--hidden", str(10**20)]
    assert main(argv) == 1
    _one_line_error(capsys, "numvae train: error: hidden_dims: (100000000000000000000,) is too large", "parameters")
    assert not (tmp_path / "o" / "model.npz").exists()


@pytest.mark.parametrize("flags, needle", [
    (["--hidden", str(10**7)], "hidden_dims: (10000000,) is too large"),
    (["--latent-dim", str(10**9)], "latent_dim: 1000000000 is too large"),
])
def test_train_refuses_a_model_too_large_for_memory_naming_the_flag(data_dir, tmp_path, capsys, flags, needle):
    """The model no longer checks its size; the command does, before it builds anything."""
    assert main([*train_argv(data_dir, tmp_path / "o"), *flags]) == 1
    _one_line_error(capsys, f"numvae train: error: {needle}", "more than half of this machine's",
                    f"try a smaller {flags[0]}")
    assert not (tmp_path / "o" / "model.npz").exists()


def test_evaluate_refuses_at_once_an_iw_samples_that_would_run_for_months(data_dir, model_file):
    """Before: bounded memory, but no answer within 120 s (and none for years)."""
    process = run_numvae("evaluate", str(model_file), "--data-dir", str(data_dir),
                         "--iw-samples", "1000000000000", timeout=120)  # a hang guard, not a speed test
    assert process.returncode == 1, process
    err = process.stderr
    assert err.count("\n") == 1 and err.startswith("numvae evaluate: error: --iw-samples: "), err
    assert "would take about 73 days" in err and "expected at most 159,033,078 for this model and dataset" in err, err
    assert process.stdout == ""


def test_the_iw_samples_limit_is_the_largest_k_within_the_work_bound(model_file):
    from numvae.cli.common import CommandError
    from numvae.cli.evaluate import MAX_IW_WORK, check_iw_samples, decoder_multiply_adds, max_iw_samples
    from numvae.training.checkpoint import load_checkpoint

    model = load_checkpoint(model_file).model
    assert decoder_multiply_adds(model) == 2 * 8 + 8 * 784  # the decoder 2 -> 8 -> 784
    k = max_iw_samples(model, 20)
    assert k * 20 * decoder_multiply_adds(model) <= MAX_IW_WORK < (k + 1) * 20 * decoder_multiply_adds(model)
    check_iw_samples(k, model, 20)
    with pytest.raises(CommandError, match=f"expected at most {k:,} "):
        check_iw_samples(k + 1, model, 20)


def test_evaluate_never_prints_nan(data_dir, capsys, monkeypatch, model_file):
    from numvae import evaluate

    monkeypatch.setattr(evaluate, "importance_weighted_log_likelihood",
                        lambda model, x, k, rng: np.full(len(x), np.nan))
    assert main(["evaluate", str(model_file), "--data-dir", str(data_dir), "--json"]) == 1
    captured = _one_line_error(capsys, "iw_log_likelihood is nan, not a finite number")
    assert captured.out == ""


def test_evaluate_of_overflowing_weights_is_an_error_not_nan(data_dir, tmp_path, capsys):
    model = VAE(784, [8], 2, dtype=np.float32, seed=0)
    for p in model.parameters().values():
        p[...] *= 1e4  # finite weights whose outputs overflow float32
    path = save_checkpoint(tmp_path / "big.npz", model, extra={"dataset": "mnist"})
    assert main(["evaluate", str(path), "--data-dir", str(data_dir), "--iw-samples", "3", "--json"]) == 1
    captured = _one_line_error(capsys, "numvae evaluate: error:")
    assert captured.out == "" or all(np.isfinite(v) for v in json.loads(captured.out).values()
                                     if isinstance(v, float))


# -- A.4, A.6: messages and help ----------------------------------------------------------------


def test_missing_data_names_download_first_in_sentences(tmp_path, capsys):
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "o")]) == 1
    err = _one_line_error(capsys, "mnist: its four IDX files were not found. Pass --download to fetch them, "
                                  "or --data-dir DIR", f"Searched: {tmp_path / 'none' / 'mnist'}, ").err
    assert "download=True" not in err and "data_dir" not in err


@pytest.mark.parametrize("download", [[], ["--download"]])
def test_a_data_dir_that_is_a_file_is_named_as_such(tmp_path, capsys, download):
    a_file = tmp_path / "mnist.zip"
    a_file.write_bytes(b"")
    assert main(["train", "--dataset", "mnist", "--data-dir", str(a_file), "--out", str(tmp_path / "o"), *download]) == 1
    err = _one_line_error(capsys, f"--data-dir: expected a directory, got the file {str(a_file)!r}").err
    assert "not found" not in err and "Not a directory" not in err


@pytest.fixture
def mnist_mirror(tmp_path, monkeypatch):
    """Serve tiny_mnist's four files, gzipped, on 127.0.0.1 as the only mnist mirror.

    Yields the data directory (its files raw, under ``mnist/``) and the paths requested.
    """
    import functools
    import gzip
    import hashlib
    import http.server
    import threading

    from numvae.data import datasets as data

    data_dir = tiny_mnist(tmp_path / "data")
    served = tmp_path / "served"
    served.mkdir()
    for raw in (data_dir / "mnist").iterdir():
        (served / f"{raw.name}.gz").write_bytes(gzip.compress(raw.read_bytes()))
    requested = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            requested.append(self.path)
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setitem(data.MIRRORS, "mnist", [f"http://127.0.0.1:{server.server_address[1]}/"])
    monkeypatch.setitem(data.SHA256, "mnist", {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                                               for p in served.iterdir()})
    yield data_dir, requested
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_a_damaged_data_file_is_named_with_the_fix(mnist_mirror, tmp_path, capsys):
    data_dir, requested = mnist_mirror
    damaged = data_dir / "mnist" / "t10k-labels-idx1-ubyte"
    damaged.write_bytes(damaged.read_bytes()[:-3])  # a download cut short
    assert main(train_argv(data_dir, tmp_path / "o", epochs=1)) == 1
    _one_line_error(capsys, f"{damaged}: truncated", "--download", "delete or replace")
    assert requested == []


def test_download_fetches_a_damaged_data_file_again_and_trains(mnist_mirror, tmp_path, capsys):
    data_dir, requested = mnist_mirror
    damaged = data_dir / "mnist" / "t10k-labels-idx1-ubyte"
    damaged.write_bytes(b"garbage")
    assert main(train_argv(data_dir, tmp_path / "o", "--download", epochs=1)) == 0
    assert f"data: mnist from {data_dir / 'mnist'}" in capsys.readouterr().out
    assert len(requested) == 4, "the .gz files, found before the raw ones from now on"
    assert main(train_argv(data_dir, tmp_path / "again", epochs=1)) == 0


def _subparsers(parser=None):
    parser = parser or build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    return commands.choices


def _all_actions(parser, name):
    """(command name, action) for every argument, also of nested subcommands."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, subparser in action.choices.items():
                yield from _all_actions(subparser, f"{name} {sub}")
        else:
            yield name, action


def test_every_flag_of_every_subcommand_has_help():
    for name, parser in _subparsers().items():
        for command, action in _all_actions(parser, name):
            assert action.help and action.help.strip(), (command, action.dest)


def test_train_help_opens_with_one_sentence_and_explains_dynamic_binarization():
    train = _subparsers()["train"]
    assert train.description.endswith(".") and train.description.count(". ") == 0
    binarize = next(a for a in train._actions if a.dest == "binarize")
    assert "dynamic: a fresh 0/1 draw" in binarize.help


@pytest.mark.parametrize("command", ["evaluate", "sample"])
def test_checkpoint_and_seed_have_help_and_a_default(command):
    parser = _subparsers()[command]
    checkpoint = next(a for a in parser._actions if a.dest == "checkpoint")
    assert checkpoint.default == "runs/mnist5k/model.npz" and "default" in checkpoint.help
    seed = next(a for a in parser._actions if a.dest == "seed")
    assert "default" in seed.help
    help_text = parser.format_help()
    assert "runs/mnist5k/model.npz" in help_text


def test_a_directory_given_as_checkpoint_is_named(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path)]) == 1
    _one_line_error(capsys, f"{tmp_path}: is a directory; expected a checkpoint file such as {tmp_path / 'model.npz'}")


def test_a_directory_in_place_of_the_lock_file_is_named(data_dir, tmp_path, capsys):
    (tmp_path / "run" / ".lock").mkdir(parents=True)
    assert main(train_argv(data_dir, tmp_path / "run")) == 1
    _one_line_error(capsys, "--out: cannot write in", f"{tmp_path / 'run' / '.lock'}: Is a directory")


def test_missing_default_checkpoint_is_named(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["sample"]) == 1
    _one_line_error(capsys, "runs/mnist5k/model.npz: no such checkpoint file")


def test_main_runs_outside_the_main_thread(tmp_path):
    import threading

    status = []
    thread = threading.Thread(target=lambda: status.append(main(["sample", str(tmp_path / "none.npz")])))
    thread.start()
    thread.join()
    assert status == [1]


def test_evaluate_on_one_image_has_no_standard_error(tmp_path, capsys, model_file):
    data = tiny_mnist(tmp_path / "one", n_train=2, n_test=1)
    assert main(["evaluate", str(model_file), "--data-dir", str(data), "--iw-samples", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["iw_standard_error"] is None
    assert main(["evaluate", str(model_file), "--data-dir", str(data), "--iw-samples", "2"]) == 0
    assert "no standard error" in capsys.readouterr().out


def test_a_subcommand_module_is_one_line_in_subcommands(monkeypatch, tmp_path, capsys):
    """A module with add_parser and run is all a subcommand needs; run's status is the exit status."""
    import sys
    import types

    import numvae.cli

    module = types.ModuleType("numvae_test_hello")
    module.add_parser = lambda subparsers: subparsers.add_parser("hello", help="say hello").add_argument(
        "--times", type=int, default=1, help="how often")
    module.run = lambda args: print("hello " * args.times) or 3
    monkeypatch.setitem(sys.modules, "numvae_test_hello", module)
    monkeypatch.setattr(numvae.cli, "SUBCOMMANDS", (*numvae.cli.SUBCOMMANDS, "numvae_test_hello"))
    assert main(["hello", "--times", "2"]) == 3
    assert capsys.readouterr().out == "hello hello \n"
    assert "hello" in _subparsers()


def test_what_other_commands_reuse_is_importable_from_numvae_cli():
    from numvae.cli import write_figures, write_history_csv
    from numvae.cli.figures import write_figures as figures
    from numvae.cli.rundir import write_history_csv as history

    assert write_figures is figures and write_history_csv is history


def test_resume_without_a_checkpoint_says_to_drop_resume(data_dir, tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "empty"), "--resume", "--data-dir", str(data_dir)]) == 1
    _one_line_error(capsys, f"--resume: no such checkpoint file {tmp_path / 'empty' / 'model.npz'}; drop --resume")
    assert not (tmp_path / "empty").exists()


# -- the BLAS thread policy (numvae/training/threads.py): a bad override is one line -------------------


@pytest.mark.parametrize("command", ["train", "evaluate"])
@pytest.mark.parametrize("value", ["0", "two", "-1", "²", "99999999999999999999"])
def test_a_bad_thread_count_is_refused_by_name(data_dir, model_file, tmp_path, capsys, monkeypatch, command, value):
    monkeypatch.setenv("NUMVAE_NUM_THREADS", value)
    argv = train_argv(data_dir, tmp_path / "o") if command == "train" else ["evaluate", str(model_file),
                                                                          "--data-dir", str(data_dir)]
    assert main(argv) == 1
    _one_line_error(capsys, "NUMVAE_NUM_THREADS: expected a positive integer", f"got {value!r}")
    assert not (tmp_path / "o").exists()


def test_train_says_how_many_blas_threads_it_uses(data_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NUMVAE_NUM_THREADS", "1")
    assert main(train_argv(data_dir, tmp_path / "o")) == 0
    assert "BLAS threads: 1 (NUMVAE_NUM_THREADS)" in capsys.readouterr().out


def test_a_kl_weight_beyond_the_float_type_is_blamed_not_the_learning_rate(data_dir, tmp_path, capsys):
    assert main(train_argv(data_dir, tmp_path / "o", "--beta", "1e308")) == 1
    err = _one_line_error(capsys, "β = 1e+308 overflows float32", "choose a smaller beta").err
    assert "learning rate" not in err, err


def test_ctrl_c_during_a_download_leaves_no_temporary_and_no_thread(tmp_path, capsys, monkeypatch):
    import http.server
    import os
    import signal
    import threading
    import time

    from numvae.data import datasets as data

    asked = threading.Event()

    class Trickle(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # a byte now and then, until the client hangs up
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            asked.set()
            try:
                for _ in range(600):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.05)
            except OSError:
                pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setitem(data.MIRRORS, "mnist", [f"http://127.0.0.1:{server.server_address[1]}/"])

    def ctrl_c():
        if asked.wait(60):
            time.sleep(0.3)  # into the body
            os.kill(os.getpid(), signal.SIGINT)

    interrupter = threading.Thread(target=ctrl_c, daemon=True)
    interrupter.start()
    try:
        status = main(train_argv(tmp_path / "data", tmp_path / "o", "--download", epochs=1))
    finally:
        interrupter.join(timeout=60)
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert status == 130
    _one_line_error(capsys, "numvae train: interrupted")
    assert [p for p in (tmp_path / "data").rglob("*") if p.is_file()] == [], "no temporary file left"
    assert not [t for t in threading.enumerate() if t.name == "numvae-watchdog"], "no watchdog left running"
