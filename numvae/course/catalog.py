"""The exercises: which functions a student writes, in which file, checked by which properties.

Each exercise is one workbook file ``DIR/<name>.py``. Its functions have
numvae's own signatures and docstrings (formula, derivative, shapes); the
solutions are numvae's own functions (see :mod:`.workbook`). The properties
come from :mod:`numvae.course.properties`, the same ones ``tests/`` applies to numvae.
"""

from dataclasses import dataclass
from types import SimpleNamespace

from .. import activations, evaluate, gaussian, likelihoods
from .properties import activations as PA
from .properties import evaluate as PE
from .properties import gaussian as PG
from .properties import layers as PL
from .properties import likelihoods as PLi
from .properties import optim as PO
from . import reference


@dataclass(frozen=True)
class Exercise:
    """One workbook file.

    ``functions`` are numvae's own (their source is the solution), ``header``
    the imports the file starts with, ``properties`` what ``check`` verifies,
    in order (fixed cases first, then Hypothesis). ``adapt`` turns the loaded
    module into what the properties expect (default: the module itself).
    """

    name: str
    title: str
    functions: tuple
    properties: tuple
    header: str = "import numpy as np\n"
    adapt: callable = None

    @property
    def function_names(self):
        return tuple(f.__name__ for f in self.functions)

    def implementation(self, module):
        return self.adapt(module) if self.adapt else module


def _adam_impl(module):
    from .model import functional_adam

    return SimpleNamespace(Adam=functional_adam(module.adam_step))


def _activation(name, *extra, header="import numpy as np\n"):
    forward = getattr(activations, name)
    return Exercise(
        name, f"{name} and its derivative", (forward, getattr(activations, f"{name}_backward")),
        (PA.gradient(name), *extra, PA.large_inputs(name)), header=header,
    )


EXERCISES = (
    _activation("relu", PA.RELU_SUBGRADIENT, PA.RELU_DEFINITION),
    _activation("tanh", PA.TANH_DEFINITION),
    _activation("sigmoid", PA.extremes("sigmoid"), PA.SIGMOID_DEFINITION),
    _activation("softplus", PA.extremes("softplus"), PA.SOFTPLUS_LOGADDEXP, PA.IDENTITIES,
                header="import numpy as np\n\nfrom numvae.activations import sigmoid\n"),
    Exercise("dense", "a Dense layer, forward and backward", (reference.dense_forward, reference.dense_backward),
             (PL.DENSE_DEFINITION, PL.DENSE_GRADIENTS)),
    Exercise("reparameterize", "the reparameterization z = mu + std * eps and its backward",
             (gaussian.reparameterize, gaussian.reparameterize_backward),
             (PG.REPARAMETERIZE_GRADIENTS, PG.REPARAMETERIZE_VALUES, PG.VARIANCE_NOT_SQUARED, PG.SAMPLE_MOMENTS)),
    Exercise("kl", "the KL divergence to N(0, I) and its gradient",
             (gaussian.kl_standard_normal, gaussian.kl_standard_normal_backward),
             (PG.KL_GRADIENTS, PG.KL_AT_PRIOR, PG.KL_NON_NEGATIVE, PG.KL_NON_NEGATIVE_NEAR_PRIOR,
              PG.KL_POSITIVE_AWAY_FROM_PRIOR, PG.KL_NEAR_ZERO, PG.KL_MONTE_CARLO, PG.KL_DTYPE)),
    Exercise("bernoulli", "the Bernoulli negative log-likelihood from logits and its gradient",
             (likelihoods.bernoulli_nll, likelihoods.bernoulli_nll_backward),
             (PLi.BERNOULLI_GRADIENTS, PLi.BERNOULLI_CROSS_ENTROPY, PLi.BERNOULLI_EXTREMES),
             header="import numpy as np\n\nfrom numvae.activations import sigmoid, softplus\n"),
    Exercise("gaussian_nll", "the Gaussian negative log-likelihood and its gradients",
             (likelihoods.gaussian_nll, likelihoods.gaussian_nll_backward),
             (PLi.GAUSSIAN_GRADIENTS, PLi.GAUSSIAN_FIXED_SIGMA_GRADIENT, PLi.GAUSSIAN_SCALAR_LOG_VAR,
              PLi.GAUSSIAN_FAR_MEANS, PLi.GAUSSIAN_DENSITY),
             header="import numpy as np\n\nfrom numvae.gaussian import LOG_2PI\n"),
    Exercise("adam", "one step of Adam", (reference.adam_step,),
             (PO.ADAM_FIRST_STEP, PO.ADAM_ALGORITHM_1, PO.ADAM_QUADRATIC),
             header="import math\n\nimport numpy as np\n", adapt=_adam_impl),
    Exercise("iw_bound", "log-mean-exp and the importance-weighted bound",
             (evaluate.log_mean_exp, reference.iw_bound),
             (PE.LOG_MEAN_EXP_DIRECT, PE.LOG_MEAN_EXP_OVERFLOW, PE.IW_BOUND_EQUAL_WEIGHTS,
              PE.IW_BOUND_DEFINITION, PE.IW_BOUND_JENSEN)),
    Exercise("vae_backward", "the VAE's backward wiring: mu's gradient from two paths",
             (reference.encoder_gradient,), (PL.ENCODER_GRADIENT,)),
)

BY_NAME = {exercise.name: exercise for exercise in EXERCISES}
NAMES = tuple(BY_NAME)


def select(names, what="exercise"):
    """The exercises called ``names`` (all if empty), in catalogue order; unknown names are a ValueError.

    An empty name is unknown: ``check DIR ""`` used to check every exercise.
    """
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ValueError(f"{what}: expected names among {', '.join(NAMES)}, got {unknown[0]!r}")
    return [e for e in EXERCISES if not names or e.name in names]
