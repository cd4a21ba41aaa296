r"""Hand-written optimizers: SGD with momentum, and Adam.

An optimizer holds a dict ``params`` of live arrays (name -> ndarray) and
updates them **in place** from a dict of gradients with the same keys:

>>> opt = Adam(model.parameters(), lr=1e-3)        # doctest: +SKIP
>>> model.loss(x); opt.step(model.backward())      # doctest: +SKIP

Both rules are element-wise, so they work the same on one flat buffer that
holds every parameter: ``Adam({"all": model.flat_params})`` with
``opt.step({"all": model.flat_grads})`` performs exactly the same update with
a few large array operations instead of many small ones.
"""

import math
from collections.abc import Mapping

import numpy as np

from . import buffers
from .util import checks


class Optimizer:
    """Shared bookkeeping: the parameters, the step count and a state dict."""

    _non_negative = ()  # state slots that can never be negative

    def __init__(self, params, lr):
        if not isinstance(params, Mapping):
            raise ValueError(f"params: expected a dict of name -> array, got {type(params).__name__}")
        # Checked now: a step that failed on one of them would already have moved t and the state.
        for name, p in params.items():
            if not isinstance(p, np.ndarray):
                got = type(p).__name__
            elif p.dtype.kind != "f":
                got = f"dtype {p.dtype}"
            elif not p.flags.writeable:
                got = f"a read-only {p.dtype} array"
            else:
                continue
            raise ValueError(f"params[{name!r}]: expected a writable floating-point ndarray (updated in place), got {got}")
        # Two entries on the same memory (model.flat_params beside the views
        # parameters() returns) would be updated twice per step, silently.
        names = list(params)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                if np.shares_memory(params[a], params[b]):
                    raise ValueError(f"params: {a!r} and {b!r} share memory, so a step would update it twice; "
                                     "pass either the flat buffer or the separate arrays")
        self.params = dict(params)
        self.lr = checks.real("lr", lr, minimum=0, strict=True)
        self.t = 0  # number of steps taken

    def _zeros(self):
        """One zeroed array per parameter, on huge pages when large (see ``numvae.buffers``)."""
        return {name: buffers.zeros_like(p) for name, p in self.params.items()}

    def _check(self, grads):
        """Validate every gradient before any update: a failed step changes nothing, not even t."""
        if not isinstance(grads, Mapping):
            raise ValueError(f"grads: expected a dict of arrays keyed like params, got {type(grads).__name__}")
        if grads.keys() != self.params.keys():
            raise ValueError(
                f"grads: expected the keys {sorted(self.params)}, got {sorted(grads)}"
            )
        for name, p in self.params.items():
            g = np.asarray(grads[name])  # no copy for an array
            if g.shape != p.shape:
                raise ValueError(f"grads[{name!r}]: expected shape {p.shape}, got shape {g.shape}")
            # Real numbers that the in-place update can store in p without losing their kind.
            if g.dtype.kind not in "fiu" or not np.can_cast(g.dtype, p.dtype, "same_kind"):
                raise ValueError(f"grads[{name!r}]: expected real numbers storable as {p.dtype}, "
                                 f"got dtype {g.dtype}")

    def state_dict(self):
        """Everything needed to resume: the step count and each buffer, copied."""
        state = {"t": self.t}
        for slot, arrays in self._slots().items():
            for name, value in arrays.items():
                state[f"{slot}.{name}"] = value.copy()
        return state

    def load_state_dict(self, state):
        """Restore what ``state_dict`` returned.

        Everything is checked before anything is restored, so a refused state
        leaves the optimizer as it was: exactly the keys of ``state_dict()``
        (Adam's state does not fit SGD), ``t`` an integer >= 0, and buffers of
        the right shapes holding finite real numbers (>= 0 for the slots in
        ``_non_negative``, such as Adam's second moments, whose square root a
        step takes).
        """
        if not isinstance(state, Mapping):
            raise ValueError(f"state: expected a dict as returned by state_dict(), got {type(state).__name__}")
        current = {f"{slot}.{name}": value for slot, arrays in self._slots().items() for name, value in arrays.items()}
        if state.keys() != {"t", *current}:
            raise ValueError(f"state: expected the keys {sorted(['t', *current])} of "
                             f"{type(self).__name__}.state_dict(), got {sorted(state)}")
        t = checks.non_negative_int("state['t']", state["t"])
        saved = {key: np.asarray(state[key]) for key in current}
        for key, value in current.items():
            array = saved[key]
            if array.shape != value.shape:
                raise ValueError(f"state[{key!r}]: expected shape {value.shape}, got shape {array.shape}")
            if array.dtype.kind not in "fiu" or not np.can_cast(array.dtype, value.dtype, "same_kind"):
                raise ValueError(f"state[{key!r}]: expected finite real numbers storable as {value.dtype}, "
                                 f"got dtype {array.dtype}")
            if not np.all(np.isfinite(array)):
                raise ValueError(f"state[{key!r}]: expected finite real numbers, got {array[~np.isfinite(array)][0]}")
            if key.partition(".")[0] in self._non_negative and np.any(array < 0):
                raise ValueError(f"state[{key!r}]: expected numbers >= 0 (squared gradients), got {array.min():g}")
        self.t = t
        for key, value in current.items():
            value[...] = saved[key]


class SGD(Optimizer):
    r"""Stochastic gradient descent with (heavy-ball) momentum.

    .. math::
        v \leftarrow \gamma v + g, \qquad \theta \leftarrow \theta - \eta v

    (PyTorch's convention; with momentum γ = 0 this is plain SGD.)

    Parameters
    ----------
    params : dict of str -> ndarray
        Updated in place.
    lr : float > 0
        Learning rate η.
    momentum : float in [0, 1)
        The momentum coefficient γ.
    """

    def __init__(self, params, lr=0.01, momentum=0.9):
        super().__init__(params, lr)
        self.momentum = checks.real("momentum", momentum, minimum=0)
        if self.momentum >= 1:
            raise ValueError(f"momentum: expected a number in [0, 1), got {momentum!r}")
        self.velocity = self._zeros()
        self._scratch = self._zeros()

    def _slots(self):
        return {"velocity": self.velocity}

    def step(self, grads):
        """One update from ``grads`` (same keys and shapes as ``params``)."""
        self._check(grads)
        self.t += 1
        for name, p in self.params.items():
            v, tmp = self.velocity[name], self._scratch[name]
            v *= self.momentum
            v += grads[name]
            np.multiply(v, self.lr, out=tmp)
            p -= tmp


class Adam(Optimizer):
    r"""Adam with bias correction (Kingma & Ba, 2015, arXiv:1412.6980, Algorithm 1).

    At step t, for gradient g, with decay rates ρ₁, ρ₂ (the paper's β₁, β₂;
    numvae keeps β for the KL weight) and stabilizing constant δ (the paper's ε):

    .. math::
        m \leftarrow \rho_1 m + (1 - \rho_1) g, \qquad
        v \leftarrow \rho_2 v + (1 - \rho_2) g^2,

    .. math::
        \hat m = \frac{m}{1 - \rho_1^t}, \quad \hat v = \frac{v}{1 - \rho_2^t}, \quad
        \theta \leftarrow \theta - \eta \frac{\hat m}{\sqrt{\hat v} + \delta}.

    **Why divide by** :math:`1 - \rho_1^t`. From :math:`m_0 = 0`, unrolling the
    update gives :math:`m_t = (1 - \rho_1) \sum_{i=1}^t \rho_1^{t-i} g_i`. If the
    gradients have a common mean, :math:`\mathbb E[g_i] = \bar g`, then
    :math:`\mathbb E[m_t] = \bar g\,(1 - \rho_1) \sum_{i=0}^{t-1} \rho_1^i = \bar g\,(1 - \rho_1^t)`:
    the zero start biases m towards 0 (by a factor 0.1 at t = 1 with ρ₁ = 0.9),
    and dividing by :math:`1 - \rho_1^t` removes exactly that factor. The same
    holds for v with ρ₂ and :math:`g^2`; with ρ₂ = 0.999 the factor stays well
    below 1 for the first thousand or so steps.

    **The folded form.** ``step`` never forms :math:`\hat m, \hat v`. Multiplying
    numerator and denominator of the update by :math:`\sqrt{1 - \rho_2^t}`,

    .. math::
        \eta \frac{m / (1 - \rho_1^t)}{\sqrt{v / (1 - \rho_2^t)} + \delta}
        = \underbrace{\eta \frac{\sqrt{1 - \rho_2^t}}{1 - \rho_1^t}}_{\texttt{lr\_t}}
          \cdot \frac{m}{\sqrt v + \underbrace{\delta \sqrt{1 - \rho_2^t}}_{\texttt{eps\_t}}},

    an identity, so the code performs exactly Algorithm 1 (up to rounding).
    The paper's "efficient version" (end of its section 2) writes a constant
    :math:`\hat\epsilon` where ``eps_t`` stands; implementations that put
    :math:`\hat\epsilon = \delta` there differ from Algorithm 1 slightly
    while :math:`\sqrt v` is small. Scaling δ by :math:`\sqrt{1 - \rho_2^t}`
    removes that difference.

    δ (``epsilon``) is not a fudge of ours: it is part of the algorithm, keeping
    the step finite where a gradient has been 0 so far (the paper's 1e-8).

    Parameters
    ----------
    params : dict of str -> ndarray
        Updated in place.
    lr : float > 0
        Step size η.
    betas : (float, float)
        Decay rates ρ₁, ρ₂ of the moment estimates, each in [0, 1)
        (named ``betas`` as in PyTorch).
    epsilon : float > 0
        The stabilizing constant δ.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), epsilon=1e-8):
        super().__init__(params, lr)
        try:
            self.beta1, self.beta2 = (checks.real("betas", b, minimum=0) for b in betas)
        except (TypeError, ValueError):
            raise ValueError(f"betas: expected two numbers in [0, 1), got {betas!r}") from None
        if self.beta1 >= 1 or self.beta2 >= 1:
            raise ValueError(f"betas: expected two numbers in [0, 1), got {betas!r}")
        self.epsilon = checks.real("epsilon", epsilon, minimum=0, strict=True)
        self.m = self._zeros()
        self.v = self._zeros()
        self._scratch = self._zeros()  # one scratch array per parameter, so a step allocates nothing

    _non_negative = ("v",)

    def _slots(self):
        return {"m": self.m, "v": self.v}

    def step(self, grads):
        """One update from ``grads`` (same keys and shapes as ``params``)."""
        self._check(grads)
        self.t += 1
        # Both bias corrections folded into lr_t and eps_t: exactly Algorithm 1,
        # as the class docstring derives. Python floats (not NumPy scalars)
        # keep float32 arrays in float32.
        lr_t = self.lr * math.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t)
        eps_t = self.epsilon * math.sqrt(1 - self.beta2**self.t)
        for name, p in self.params.items():
            g, m, v, tmp = grads[name], self.m[name], self.v[name], self._scratch[name]
            np.multiply(g, 1 - self.beta1, out=tmp)
            m *= self.beta1
            m += tmp
            np.multiply(g, g, out=tmp)
            tmp *= 1 - self.beta2
            v *= self.beta2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += eps_t
            np.divide(m, tmp, out=tmp)
            tmp *= lr_t
            p -= tmp
