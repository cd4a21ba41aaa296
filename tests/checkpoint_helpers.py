"""Damaged checkpoints for the tests: a saved file rewritten with one field changed, and the refusal it must meet."""

import json

import numpy as np
import pytest

from numvae.training.checkpoint import CheckpointError, load_checkpoint


def arrays(path):
    """Every array of the checkpoint at ``path``, by name."""
    with np.load(path) as data:
        return dict(data)


def damaged(good, tmp_path, change_meta=None, **replaced):
    """A copy of ``good`` with ``change_meta(meta)`` applied and ``replaced`` arrays (``a__b`` for ``a/b``) set."""
    saved = arrays(good)
    meta = json.loads(str(saved["meta"]))
    if change_meta is not None:
        change_meta(meta)
    saved["meta"] = np.array(json.dumps(meta))
    saved.update({name.replace("__", "/"): value for name, value in replaced.items()})
    path = tmp_path / "model.npz"
    np.savez(path, **saved)
    return path


def refused(path, *needles):
    """Loading ``path`` raises CheckpointError in one line naming the file and containing every needle."""
    with pytest.raises(CheckpointError) as exc_info:
        load_checkpoint(path)
    message = str(exc_info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    for needle in needles:
        assert needle in message, message
    return message
