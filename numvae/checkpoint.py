"""Checkpoints: one ``.npz`` file holding everything needed to resume training.

Layout (format version 1), all readable with ``np.load(path)`` and no pickle:

* ``format`` — the string ``"numvae-checkpoint"``; ``format_version`` — an int;
* ``meta`` — a JSON string: the model config, the training config, the
  history, the RNG states, the epoch count and free-form ``extra`` fields;
* ``param/<name>`` — every model parameter (names as in ``VAE.parameters()``);
* ``optim/<key>`` — the optimizer's buffers (Adam's m and v, SGD's velocity).

Files are written to a temporary name in the same directory and moved into
place with ``os.replace``, so a crash mid-write never damages the previous
checkpoint. Every problem on loading raises :class:`CheckpointError` with a
one-line message that names the file.
"""

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .files import atomic_write
from .vae import VAE

FORMAT = "numvae-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, foreign or inconsistent."""


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns."""

    model: VAE
    path: Path = None  # the file it was loaded from
    epoch: int = 0
    history: dict = field(default_factory=dict)
    train_config: dict = field(default_factory=dict)
    optimizer_state: dict = field(default_factory=dict)
    rng_states: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def save_checkpoint(
    path, model, *, epoch=0, history=None, train_config=None, optimizer_state=None, rng_states=None, extra=None
):
    """Write a checkpoint atomically; returns its ``Path``.

    ``optimizer_state`` is ``Optimizer.state_dict()``: an int ``"t"`` plus
    named arrays. ``rng_states`` maps names to ``Generator.bit_generator.state``.
    """
    optimizer_state = dict(optimizer_state or {})
    meta = {
        "model": model.config(),
        "epoch": int(epoch),
        "history": history or {},
        "train_config": train_config or {},
        "optimizer_t": int(optimizer_state.pop("t", 0)),
        "rng_states": rng_states or {},
        "extra": extra or {},
    }
    arrays = {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION),
        "meta": np.array(json.dumps(meta, allow_nan=True)),
    }
    arrays.update({f"param/{name}": p for name, p in model.parameters().items()})
    arrays.update({f"optim/{key}": np.asarray(v) for key, v in optimizer_state.items()})
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def load_checkpoint(path):
    """Read a checkpoint written by :func:`save_checkpoint`; returns a :class:`Checkpoint`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    # Opened here rather than by np.load, which leaves its file open when the
    # archive turns out to be broken.
    with open(path, "rb") as f:
        if f.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
            raise CheckpointError(f"{path}: not a .npz (zip) file, so not a numvae checkpoint")
        f.seek(0)
        try:
            with np.load(f, allow_pickle=False) as data:
                arrays = {key: data[key] for key in data.files}
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            raise CheckpointError(
                f"{path}: not a readable .npz checkpoint (truncated or foreign file: {exc})"
            ) from None
    if "format" not in arrays or str(arrays["format"]) != FORMAT:
        raise CheckpointError(f"{path}: not a numvae checkpoint (no '{FORMAT}' marker)")
    version = arrays.get("format_version")
    version = int(version) if version is not None and version.shape == () else None
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {version}, this numvae reads {FORMAT_VERSION}")
    try:
        meta = json.loads(str(arrays["meta"]))
        model = VAE(**meta["model"])
        if not isinstance(meta.get("history", {}), dict) or not isinstance(meta.get("extra", {}), dict):
            raise TypeError("history and extra must be JSON objects")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{path}: damaged checkpoint metadata ({type(exc).__name__}: {exc})") from None
    for name, p in model.parameters().items():
        saved = arrays.get(f"param/{name}")
        if saved is None or saved.shape != p.shape:
            got = "missing" if saved is None else f"shape {saved.shape}"
            raise CheckpointError(f"{path}: parameter {name}: expected shape {p.shape}, got {got}")
        if not np.issubdtype(saved.dtype, np.number) or not np.all(np.isfinite(saved)):
            raise CheckpointError(f"{path}: parameter {name}: expected finite numbers, got dtype {saved.dtype}")
        p[...] = saved
    optimizer_state = {key[len("optim/") :]: v for key, v in arrays.items() if key.startswith("optim/")}
    optimizer_state["t"] = meta.get("optimizer_t", 0)
    return Checkpoint(
        model=model,
        path=path,
        epoch=meta.get("epoch", 0),
        history=meta.get("history", {}),
        train_config=meta.get("train_config", {}),
        optimizer_state=optimizer_state,
        rng_states=meta.get("rng_states", {}),
        extra=meta.get("extra", {}),
    )
