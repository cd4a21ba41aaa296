"""Tests of numvae.training.checkpoint: round trip, atomic writes, clear errors."""

import json
import os

import numpy as np
import pytest

from numvae import VAE
from numvae.training import checkpoint as ckpt_module
from numvae.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from numvae.optim import Adam


def _model(**kwargs):
    return VAE(input_dim=6, hidden_dims=(5,), latent_dim=2, seed=2, **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"likelihood": "gaussian", "sigma": 0.3, "learn_sigma": True, "dtype": np.float32, "beta": 2.5}],
)
def test_round_trip_keeps_everything(tmp_path, kwargs):
    model = _model(**kwargs)
    rng = np.random.default_rng(0)
    for p in model.parameters().values():
        p[...] = rng.normal(size=p.shape)
    optimizer = Adam(model.parameters())
    x = np.random.default_rng(1).uniform(size=(4, 6))
    model.loss(x)
    optimizer.step(model.backward())
    history = {"epoch": [1], "test_loss": [float("nan")]}
    rng_states = {"model": model.rng.bit_generator.state}
    path = save_checkpoint(tmp_path / "m.npz", model, epoch=1, history=history,
                           optimizer_state=optimizer.state_dict(), rng_states=rng_states, extra={"dataset": "x"})
    loaded = load_checkpoint(path)
    assert loaded.model.config() == model.config()
    for name, p in model.parameters().items():
        assert np.array_equal(loaded.model.parameters()[name], p), name
        assert loaded.model.parameters()[name].dtype == p.dtype
    state = optimizer.state_dict()
    assert loaded.optimizer_state.keys() == state.keys()
    for key in state:
        assert np.array_equal(loaded.optimizer_state[key], state[key]), key
    assert loaded.epoch == 1 and loaded.extra == {"dataset": "x"}
    assert loaded.history["epoch"] == [1] and np.isnan(loaded.history["test_loss"][0])
    assert loaded.rng_states == json.loads(json.dumps(rng_states))


def _assert_one_line_naming(path, exc_info):
    message = str(exc_info.value)
    assert str(path) in message and "\n" not in message, message


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint file") as exc_info:
        load_checkpoint(tmp_path / "nope.npz")
    _assert_one_line_naming(tmp_path / "nope.npz", exc_info)


def test_a_fifo_is_not_a_regular_file_and_is_not_read(tmp_path):
    """A named pipe exists: 'no such checkpoint file' was wrong, and reading it would block."""
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    with pytest.raises(CheckpointError, match="not a regular file") as exc_info:
        load_checkpoint(fifo)
    _assert_one_line_naming(fifo, exc_info)


def test_a_history_too_long_to_load_back_is_refused_at_save_and_the_old_file_kept(tmp_path, monkeypatch):
    """Before, a checkpoint whose meta passed the loader's limit was written, then refused when read."""
    path = save_checkpoint(tmp_path / "m.npz", _model())
    before = path.read_bytes()
    history = {"epoch": list(range(1, 2001)), "train_loss": [123.456789] * 2000}
    meta_chars = len(json.dumps(history))
    monkeypatch.setattr(ckpt_module, "_MAX_META_BYTES", 4 * meta_chars)  # the history alone fills it
    with pytest.raises(CheckpointError, match=r"not written: its metadata .*2000 epochs.* bytes, more than the .* unchanged") as exc_info:
        save_checkpoint(path, _model(), epoch=2000, history=history)
    _assert_one_line_naming(path, exc_info)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    # Below the limit the same history is written and read back.
    monkeypatch.setattr(ckpt_module, "_MAX_META_BYTES", 8 * meta_chars + 4 * 4096)
    save_checkpoint(path, _model(), epoch=2000, history=history)
    assert load_checkpoint(path).history["epoch"][-1] == 2000


def test_metadata_near_the_limit_is_refused_at_save_or_read_back(tmp_path, monkeypatch):
    """The save-side check counted the JSON alone (4 bytes a character) and the loader the .npy header too, so a
    meta within ~128 bytes under the limit was written, then refused when read. Each limit here either refuses
    the save, keeping the old file, or gives a file that loads."""
    history = {"epoch": list(range(1, 101)), "train_loss": [123.456789] * 100}
    path = save_checkpoint(tmp_path / "m.npz", _model(), epoch=100, history=history)
    with np.load(path) as stored:
        meta_bytes = 4 * len(str(stored["meta"]))
    for limit in [meta_bytes, meta_bytes + 64, meta_bytes + 4095, meta_bytes + ckpt_module._HEADER_BYTES]:
        monkeypatch.setattr(ckpt_module, "_MAX_META_BYTES", limit)
        try:
            save_checkpoint(path, _model(), epoch=100, history=history)
        except CheckpointError as exc:
            assert "not written" in str(exc) and limit < meta_bytes + ckpt_module._HEADER_BYTES, (limit, exc)
            continue
        assert load_checkpoint(path).history["epoch"][-1] == 100, limit
    assert load_checkpoint(path).history["epoch"][-1] == 100, "the largest limit saves"


def test_truncated_file(tmp_path):
    path = save_checkpoint(tmp_path / "m.npz", _model())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated or foreign") as exc_info:
        load_checkpoint(path)
    _assert_one_line_naming(path, exc_info)


def test_text_file(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("hello")
    with pytest.raises(CheckpointError) as exc_info:
        load_checkpoint(path)
    _assert_one_line_naming(path, exc_info)


def test_foreign_npz(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a numvae checkpoint") as exc_info:
        load_checkpoint(path)
    _assert_one_line_naming(path, exc_info)


def test_other_format_version(tmp_path, monkeypatch):
    monkeypatch.setattr(ckpt_module, "FORMAT_VERSION", 99)
    path = save_checkpoint(tmp_path / "m.npz", _model())
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match="format version 99, this numvae reads 1") as exc_info:
        load_checkpoint(path)
    _assert_one_line_naming(path, exc_info)


def test_parameter_of_the_wrong_shape(tmp_path):
    path = save_checkpoint(tmp_path / "m.npz", _model())
    with np.load(path) as data:
        arrays = dict(data)
    arrays["param/decoder.0.W"] = np.zeros((3, 3))
    np.savez(path, **arrays)
    with pytest.raises(CheckpointError, match=r"decoder.0.W: expected shape \(2, 5\), got shape \(3, 3\)"):
        load_checkpoint(path)


def test_failed_save_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "m.npz", _model())
    before = path.read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, VAE(input_dim=6, hidden_dims=(5,), latent_dim=2, seed=9))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def _damage_central_directory(offset, value):
    """Set one byte of the first entry of the zip's central directory (at ``offset`` in it)."""

    def damage(data):
        entry = data.index(b"PK\x01\x02")
        return data[: entry + offset] + bytes([value]) + data[entry + offset + 1 :]

    return damage


def _rewrite_format_member(new_bytes, compression=None):
    """The checkpoint with its first member, ``format.npy``, replaced by ``new_bytes(old_bytes)``
    (a valid zip entry), and then, if given, its compression method byte set to ``compression``."""
    import io
    import zipfile

    def damage(data):
        with zipfile.ZipFile(io.BytesIO(data)) as old:
            members = {info.filename: old.read(info) for info in old.infolist()}
        members["format.npy"] = new_bytes(members["format.npy"])
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as new:
            for name, member in members.items():
                new.writestr(name, member)
        data = out.getvalue()
        return data if compression is None else _damage_central_directory(10, compression)(data)

    return damage


@pytest.mark.parametrize(
    "damage",
    [
        # "version needed to extract" 25.5: zipfile raises NotImplementedError
        _damage_central_directory(6, 0xFF),
        # an unknown compression method: NotImplementedError
        _damage_central_directory(10, 99),
        # the "encrypted" flag: RuntimeError
        _damage_central_directory(8, 0x01),
        # a header whose parenthesis never closes: numpy's parser raises tokenize.TokenError
        _rewrite_format_member(lambda member: member.replace(b"'shape': ()", b"'shape': ( ")),
        # bytes that are not deflate data, marked deflated: zlib.error
        _rewrite_format_member(lambda member: b"\xff" * 40, compression=8),
        # bytes whose LZMA header is invalid, marked LZMA: lzma.LZMAError
        _rewrite_format_member(lambda member: b"\x09\x14\x05\x00" + b"\xff" * 40, compression=14),
    ],
    ids=["zip-version", "compression", "encrypted", "npy-header", "deflate", "lzma"],
)
def test_a_damaged_zip_or_npy_header_is_a_checkpoint_error(tmp_path, damage):
    path = save_checkpoint(tmp_path / "m.npz", _model())
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CheckpointError) as exc_info:
        load_checkpoint(path)
    _assert_one_line_naming(path, exc_info)
