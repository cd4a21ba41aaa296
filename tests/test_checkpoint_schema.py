"""A damaged checkpoint is refused on load, naming the file and the field, before any value is used."""

import struct
import zipfile

import numpy as np
import pytest

from numvae import VAE
from numvae.training.checkpoint import CheckpointError, load_checkpoint, read_meta
from numvae.cli import main
from numvae.training.trainer import TrainConfig, Trainer

from checkpoint_helpers import arrays, damaged, refused


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A checkpoint written by a real (tiny) training run: every field present."""
    path = tmp_path_factory.mktemp("good") / "model.npz"
    model = VAE(input_dim=6, hidden_dims=(5,), latent_dim=2, dtype=np.float32, seed=1)
    x = np.random.default_rng(0).uniform(size=(20, 6))
    Trainer(model, x, x[:5], TrainConfig(epochs=2, batch_size=10)).fit(checkpoint_path=path)
    return path


def _set(key, value):
    def change(meta):
        meta[key] = value

    return change


def test_the_good_checkpoint_loads(good):
    ckpt = load_checkpoint(good)
    assert ckpt.epoch == 2 and ckpt.optimizer_state["t"] == 4 and len(ckpt.history["test_loss"]) == 2


@pytest.mark.parametrize(
    "key, value, needle",
    [
        ("epoch", None, "epoch: expected an integer >= 0, got None"),
        ("epoch", "1", "epoch: expected an integer >= 0, got '1'"),
        ("epoch", -1, "epoch: expected an integer >= 0"),
        ("epoch", True, "epoch: expected an integer"),
        ("epoch", 3, "epoch: expected at most train_config.epochs = 2"),
        ("optimizer_t", float("inf"), "optimizer_t: expected an integer >= 0, got inf"),
        ("optimizer_t", -2, "optimizer_t: expected an integer >= 0"),
        ("optimizer_t", 1.5, "optimizer_t"),
        ("rng_states", 5, "rng_states: expected a JSON object, got 5"),
        ("rng_states", None, "rng_states: expected a JSON object, got None"),
        ("rng_states", {"trainer": {"bit_generator": "PCG64", "state": 3}}, "rng_states.trainer"),
        ("rng_states", {"trainer": {"bit_generator": "os.system"}}, "rng_states.trainer.bit_generator"),
        ("train_config", [1, 2], "train_config: expected a JSON object, got [1, 2]"),
        ("train_config", "abc", "train_config: expected a JSON object, got 'abc'"),
        ("train_config", {"epochs": 2, "lr": -1}, "train_config.lr"),
        ("train_config", {"epochs": 2, "bogus": 1}, "train_config: ", ),
        ("history", {"test_loss": [1.0]}, "history.test_loss: expected one value per epoch (2), got '1 values'"),
        ("history", {"test_loss": [1.0, "x"]}, "history.test_loss: expected finite numbers"),
        ("history", {"test_loss": [1.0, float("inf")]}, "history.test_loss: expected finite numbers"),
        ("history", [], "history: expected a JSON object"),
        ("extra", 5, "extra: expected a JSON object"),
        ("extra", {"dataset": 7}, "extra.dataset: expected a dataset name, got 7"),
    ],
)
def test_each_damaged_meta_field_is_named(good, tmp_path, key, value, needle):
    refused(damaged(good, tmp_path, _set(key, value)), needle)


def test_unknown_and_missing_meta_fields(good, tmp_path):
    refused(damaged(good, tmp_path, _set("surprise", 1)), "meta: expected only the fields", "'surprise'")
    refused(damaged(good, tmp_path, lambda meta: meta.pop("epoch")), "epoch: missing")


def test_a_model_config_too_large_for_the_file_is_refused_before_allocating(good, tmp_path):
    def huge(meta):
        meta["model"]["hidden_dims"] = [10**9]

    refused(damaged(good, tmp_path, huge), "model: declares", "parameters", "more than the file")
    bad_type = damaged(good, tmp_path, lambda meta: meta["model"].update(hidden_dims="abc"))
    refused(bad_type, "model.hidden_dims: expected a list of positive integers")


def test_complex_weights_are_refused(good, tmp_path):
    w = arrays(good)["param/encoder.0.W"]
    refused(damaged(good, tmp_path, **{"param__encoder.0.W": w.astype(np.complex64)}),
             "param/encoder.0.W", "dtype", "complex64")


def test_weights_of_another_dtype_are_refused(good, tmp_path):
    w = arrays(good)["param/encoder.0.W"]
    refused(damaged(good, tmp_path, **{"param__encoder.0.W": w.astype(np.float64)}),
             "param/encoder.0.W: expected dtype float32, got float64")


def test_optimizer_state_must_be_finite_with_non_negative_second_moments(good, tmp_path):
    v = arrays(good)["optim/v.encoder.0.W"]
    refused(damaged(good, tmp_path, **{"optim__v.encoder.0.W": -np.ones_like(v)}), "optim/v.encoder.0.W", ">= 0")
    refused(damaged(good, tmp_path, **{"optim__m.encoder.0.W": np.full_like(v, np.nan)}), "optim/m.encoder.0.W", "finite")
    refused(damaged(good, tmp_path, **{"optim__momentum.encoder.0.W": v}), "optim/momentum.encoder.0.W")


def test_an_extra_array_is_refused_without_reading_it(good, tmp_path, monkeypatch):
    path = damaged(good, tmp_path, junk=np.zeros(10))
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: opened.append(str(name)) or
                        real_open(self, name, *a, **k))
    refused(path, "unexpected member 'junk.npy'")
    assert not any("junk" in name for name in opened), opened


def _declare_size(path, member, size):
    """Rewrite the central directory so ``member`` declares ``size`` uncompressed bytes (the data stay small)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    at = 0
    while True:
        at = data.index(b"PK\x01\x02", at)
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + name_length]) == name:
            struct.pack_into("<II", data, at + 20, size, size)  # compressed and uncompressed sizes
            break
        at += 4
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("member", ["junk.npy", "param/encoder.0.W.npy", "meta.npy"])
def test_a_member_declaring_gigabytes_is_refused_before_it_is_read(good, tmp_path, monkeypatch, member):
    path = damaged(good, tmp_path, junk=np.zeros(10)) if member == "junk.npy" else damaged(good, tmp_path)
    _declare_size(path, member, 3 * 2**30)
    assert path.stat().st_size < 10**6  # cheap: the 3 GB exist only in the header
    reads = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: reads.append(getattr(name, "filename", name))
                        or real_open(self, name, *a, **k))
    why = "unexpected member" if member == "junk.npy" else "declares 3,221,225,472 bytes, expected at most"
    message = refused(path, member[: -len(".npy")], why)
    assert member not in reads, (reads, message)


@pytest.mark.parametrize("command", [["train", "--resume", "--epochs", "5", "--out"], ["evaluate"]])
def test_the_command_line_refuses_a_dataset_it_does_not_know(good, tmp_path, capsys, command):
    path = damaged(good, tmp_path, _set("extra", {"dataset": "cifar"}))
    assert main([*command, str(tmp_path if command[-1] == "--out" else path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}: extra.dataset: expected one of mnist5k, mnist, fashion-mnist, got 'cifar'" in err


def test_deeply_nested_meta_is_refused(good, tmp_path):
    saved = arrays(good)
    saved["meta"] = np.array("[" * 100000 + "]" * 100000)
    np.savez(tmp_path / "model.npz", **saved)
    refused(tmp_path / "model.npz", "meta: not valid JSON")


def test_read_meta_checks_the_schema_too(good, tmp_path):
    with pytest.raises(CheckpointError, match="epoch: expected an integer"):
        read_meta(damaged(good, tmp_path, _set("epoch", None)))


@pytest.mark.parametrize("command", [["train", "--resume", "--out"], ["evaluate"], ["sample"]])
def test_the_command_line_reports_a_damaged_field_in_one_line(good, tmp_path, capsys, command):
    path = damaged(good, tmp_path, _set("rng_states", None))
    target = str(tmp_path) if command[-1] == "--out" else str(path)
    assert main([*command, target, "--epochs", "5"] if command[0] == "train" else [*command, target]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert str(path) in err and "rng_states: expected a JSON object, got None" in err, err
