"""Training a VAE: the loop, its settings, checkpoints and threads (machinery, not math).

* :mod:`.trainer`           — ``Trainer``: epochs of minibatches, the test loss, resume
* :mod:`.config`            — ``TrainConfig``: the settings of a run, and their defaults
* :mod:`.diverged`          — what a run whose numbers stop being finite reports
* :mod:`.checkpoint`        — resumable checkpoints, written atomically
* :mod:`.checkpoint_schema` — what a checkpoint may hold, checked before any of it is used
* :mod:`.threads`           — how many threads BLAS gets
"""

from .config import TrainConfig
from .diverged import TrainingDiverged
from .trainer import Trainer

__all__ = ["TrainConfig", "Trainer", "TrainingDiverged"]
