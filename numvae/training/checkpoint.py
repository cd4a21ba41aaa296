"""Checkpoints: one ``.npz`` file holding everything needed to resume training.

Layout (format version 1), all readable with ``np.load(path)`` and no pickle:

* ``format`` — the string ``"numvae-checkpoint"``; ``format_version`` — an int;
* ``meta`` — a JSON string: the model's kind ("vae" or "cvae"; a file
  without one holds a VAE) and config, the training config, the history,
  the RNG states, the epoch count and free-form ``extra`` fields;
* ``param/<name>`` — every model parameter (names as in ``VAE.parameters()``);
* ``optim/<key>`` — the optimizer's buffers (Adam's m and v, SGD's velocity).

Files are written to a temporary name in the same directory and moved into
place with ``os.replace``, so a crash mid-write never damages the previous
checkpoint. Every problem on loading raises :class:`CheckpointError` with a
one-line message that names the file.
"""

import json
import lzma
import math
import tokenize
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .checkpoint_schema import OPTIMIZER_SLOTS, SchemaError, check_meta, model_kind, parameter_shapes
from ..cvae import CVAE
from ..util.files import atomic_write
from ..vae import VAE

MODEL_CLASSES = {"vae": VAE, "cvae": CVAE}
"""The class of each ``model_kind`` a checkpoint may hold."""

FORMAT = "numvae-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, foreign or inconsistent."""


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` returns."""

    model: VAE  # or a CVAE, a VAE's subclass
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
        "model_kind": "cvae" if model.n_classes else "vae",  # a label joined to the networks' inputs, or none
        "model": model.config(),
        "epoch": int(epoch),
        "history": history or {},
        "train_config": train_config or {},
        "optimizer_t": int(optimizer_state.pop("t", 0)),
        "rng_states": rng_states or {},
        "extra": extra or {},
    }
    meta_text = json.dumps(meta, allow_nan=True)
    # Stored as UTF-32 after an .npy header (at most _HEADER_BYTES): what load_checkpoint would refuse.
    if 4 * len(meta_text) + _HEADER_BYTES > _MAX_META_BYTES:
        raise CheckpointError(
            f"{path}: not written: its metadata (the run's history, {int(epoch)} epochs, among it) would take "
            f"up to {4 * len(meta_text) + _HEADER_BYTES:,} bytes, more than the {_MAX_META_BYTES:,} a checkpoint "
            "may hold; the file there is unchanged"
        )
    arrays = {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION),
        "meta": np.array(meta_text),
    }
    arrays.update({f"param/{name}": p for name, p in model.parameters().items()})
    arrays.update({f"optim/{key}": np.asarray(v) for key, v in optimizer_state.items()})
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def load_checkpoint(path):
    """Read a checkpoint written by :func:`save_checkpoint`; returns a :class:`Checkpoint`.

    The whole file is checked against the format before any value is used:
    the array names, each array's declared size (before it is read), shape and
    real floating dtype, finite values, and every field of ``meta`` (see
    :mod:`numvae.training.checkpoint_schema`). Anything else raises :class:`CheckpointError`
    naming the file and the field.
    """
    path = Path(path)
    with _Archive(path) as archive:
        meta = archive.meta()
        model = _build_model(path, model_kind(meta), meta["model"], archive.size)
        shapes = parameter_shapes(meta["model"])
        dtype = np.dtype(meta["model"]["dtype"])
        names = archive.names()
        for name in shapes:
            if f"param/{name}" not in names:
                raise CheckpointError(f"{path}: param/{name}: missing")
        optim_shapes = {}
        for name in names:
            if name.startswith("param/") and name[len("param/") :] not in shapes:
                raise CheckpointError(f"{path}: {name}: not a parameter of this model")
            if name.startswith("optim/"):
                optim_shapes[name] = _optimizer_shape(path, name, shapes, sum(math.prod(s) for s in shapes.values()))
        for name, p in model.parameters().items():
            p[...] = archive.array(f"param/{name}", shapes[name], (dtype,))
        optimizer_state = {
            name[len("optim/") :]: archive.array(name, shape, (np.dtype(np.float32), np.dtype(np.float64)))
            for name, shape in optim_shapes.items()
        }
    optimizer_state = _per_parameter(optimizer_state, shapes)
    for key, value in optimizer_state.items():
        if key.startswith("v.") and np.any(value < 0):
            raise CheckpointError(f"{path}: optim/{key}: expected Adam's second moments >= 0, found {value.min():g}")
    optimizer_state["t"] = meta["optimizer_t"]
    return Checkpoint(
        model=model,
        path=path,
        epoch=meta["epoch"],
        history=meta["history"],
        train_config=meta["train_config"],
        optimizer_state=optimizer_state,
        rng_states=meta["rng_states"],
        extra=meta["extra"],
    )


def read_meta(path):
    """The checked ``meta`` of a checkpoint (history, configs, epoch) without its arrays."""
    with _Archive(Path(path)) as archive:
        return archive.meta()


def _build_model(path, kind, config, file_size):
    n_params = sum(math.prod(shape) for shape in parameter_shapes(config).values())
    n_bytes = n_params * np.dtype(config["dtype"]).itemsize
    if n_bytes > file_size:  # a damaged config must not allocate gigabytes
        raise CheckpointError(
            f"{path}: model: declares {n_params:,} parameters ({n_bytes:,} bytes), "
            f"more than the file's {file_size:,} bytes can hold"
        )
    try:
        return MODEL_CLASSES[kind](**config)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: model: {exc}") from None


def _per_parameter(optimizer_state, shapes):
    """Split the ``SLOT.all`` buffers of checkpoints written before numvae 0.2 into one array per parameter.

    Those optimizers ran on one flat buffer of every parameter, in the order
    of ``VAE.parameters()`` (which is the order of ``shapes``); today's keep a
    buffer per parameter, ``SLOT.NAME``. The values are the same.
    """
    state = {}
    for key, value in optimizer_state.items():
        slot, _, target = key.partition(".")
        if target != "all":
            state[key] = value
            continue
        offset = 0
        for name, shape in shapes.items():
            size = math.prod(shape)
            state[f"{slot}.{name}"] = value[offset : offset + size].reshape(shape)
            offset += size
    return state


def _optimizer_shape(path, name, shapes, n_flat):
    slot, _, target = name[len("optim/") :].partition(".")
    if slot not in OPTIMIZER_SLOTS or (target != "all" and target not in shapes):
        raise CheckpointError(
            f"{path}: {name}: not an optimizer buffer of this model "
            f"(expected optim/SLOT.NAME, SLOT one of {', '.join(OPTIMIZER_SLOTS)})"
        )
    return (n_flat,) if target == "all" else shapes[target]


_HEADER_BYTES = 4096  # bound on an .npy header, magic included
_MAX_META_BYTES = 64 * 2**20  # the JSON meta, 4 bytes per character: ~80,000 epochs of history
_TOP_LEVEL = ("format", "format_version", "meta")
_UNREADABLE = (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError,
               zlib.error, lzma.LZMAError, tokenize.TokenError)
"""What damaged bytes make zipfile and numpy's header parser raise: besides the obvious ones,
NotImplementedError (a zip version, compression or flag it does not know), RuntimeError
(an "encrypted" member), the decompressors' own errors (a member marked compressed that is not)
and tokenize.TokenError (a header whose parenthesis never closes)."""


class _Archive:
    """A checkpoint's zip archive, read member by member, each checked before it is read."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        path = self.path
        if path.is_dir():
            raise CheckpointError(f"{path}: is a directory; expected a checkpoint file such as {path / 'model.npz'}")
        if not path.exists():
            raise CheckpointError(f"{path}: no such checkpoint file")
        if not path.is_file():  # a FIFO would block the read, a device would stream for ever
            raise CheckpointError(f"{path}: not a regular file, so not a checkpoint")
        self.size = path.stat().st_size
        self.file = open(path, "rb")
        try:
            if self.file.read(4) != b"PK\x03\x04":  # every .npz is a zip archive
                raise CheckpointError(f"{path}: not a .npz (zip) file, so not a numvae checkpoint")
            self.file.seek(0)
            try:
                self.zip = zipfile.ZipFile(self.file)
            except _UNREADABLE as exc:
                raise CheckpointError(f"{path}: not a readable .npz checkpoint (truncated or foreign file: {exc})") from None
            self.members = {}
            if "format.npy" not in self.zip.namelist():
                raise CheckpointError(f"{path}: not a numvae checkpoint (no '{FORMAT}' marker)")
            for info in self.zip.infolist():
                name = info.filename[: -len(".npy")] if info.filename.endswith(".npy") else None
                if name is None or not (name in _TOP_LEVEL or name.startswith(("param/", "optim/"))):
                    raise CheckpointError(
                        f"{path}: unexpected member {info.filename!r} (a numvae checkpoint holds only "
                        "format, format_version, meta, param/* and optim/* arrays)"
                    )
                if name in self.members:
                    raise CheckpointError(f"{path}: {name}: stored twice")
                self.members[name] = info
        except BaseException:
            self.file.close()
            raise
        return self

    def __exit__(self, *exc):
        self.zip.close()
        self.file.close()

    def names(self):
        return set(self.members)

    def meta(self):
        path = self.path
        marker = self.array("format", (), None, kind="U", max_bytes=_HEADER_BYTES) if "format" in self.members else None
        if marker is None or str(marker) != FORMAT:
            raise CheckpointError(f"{path}: not a numvae checkpoint (no '{FORMAT}' marker)")
        version = None
        if "format_version" in self.members:
            version = int(self.array("format_version", (), None, kind="iu", max_bytes=_HEADER_BYTES))
        if version != FORMAT_VERSION:
            raise CheckpointError(f"{path}: checkpoint format version {version}, this numvae reads {FORMAT_VERSION}")
        if "meta" not in self.members:
            raise CheckpointError(f"{path}: meta: missing")
        text = str(self.array("meta", (), None, kind="U", max_bytes=_MAX_META_BYTES))
        try:
            meta = json.loads(text)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested a million deep
            raise CheckpointError(f"{path}: meta: not valid JSON ({exc})") from None
        try:
            check_meta(meta)
        except SchemaError as exc:
            raise CheckpointError(f"{path}: {exc}") from None
        return meta

    def array(self, name, shape, dtypes, kind="f", max_bytes=None):
        """Read member ``name`` as an array of ``shape`` and one of ``dtypes`` (or of dtype ``kind``),
        refusing it before reading if its declared size, header, shape or dtype do not fit."""
        path, info = self.path, self.members[name]
        if max_bytes is None:
            max_bytes = _HEADER_BYTES + math.prod(shape) * max(d.itemsize for d in dtypes)
        if info.file_size > max_bytes:
            raise CheckpointError(
                f"{path}: {name}: declares {info.file_size:,} bytes, expected at most {max_bytes:,}"
            )
        try:
            with self.zip.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    header = np.lib.format.read_array_header_1_0(f, max_header_size=_HEADER_BYTES)
                elif version == (2, 0):
                    header = np.lib.format.read_array_header_2_0(f, max_header_size=_HEADER_BYTES)
                else:
                    raise ValueError(f"unsupported .npy version {version}")
                got_shape, fortran, dtype = header
                if dtypes is not None and dtype not in dtypes:
                    raise CheckpointError(
                        f"{path}: {name}: expected dtype {' or '.join(d.name for d in dtypes)}, got {dtype}"
                    )
                if dtype.hasobject or dtype.kind not in kind:
                    raise CheckpointError(f"{path}: {name}: expected a {'real floating' if kind == 'f' else kind} dtype, got {dtype}")
                if tuple(got_shape) != tuple(shape):
                    raise CheckpointError(f"{path}: {name}: expected shape {tuple(shape)}, got shape {tuple(got_shape)}")
                n_bytes = math.prod(shape) * dtype.itemsize
                data = f.read(n_bytes)
        except CheckpointError:
            raise
        except _UNREADABLE as exc:
            raise CheckpointError(f"{path}: {name}: unreadable ({exc})") from None
        if len(data) != n_bytes:
            raise CheckpointError(f"{path}: {name}: truncated ({len(data):,} of {n_bytes:,} bytes)")
        value = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
        if kind == "f" and not np.all(np.isfinite(value)):
            raise CheckpointError(f"{path}: {name}: expected finite numbers, found {value[~np.isfinite(value)].flat[0]}")
        return value
