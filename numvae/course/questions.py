"""The lectures' numerical questions: a student writes each answer in ``questions.py``, ``check`` grades it.

Each lecture that introduces a formula ends with "Exercises for this lecture":
the exercises that formula is part of, conceptual questions, and numerical
questions, each with an id (``kl_q1``). The workbook's ``questions.py`` holds
``ANSWERS = {"kl_q1": None, ...}``; the student replaces ``None`` by a number.
The file is read, never run (:func:`read_answers` parses it), so an answer is
a number literal, worked out on paper or in a Python shell.

An answer passes when ``|answer − key| <= atol + rtol · |key|``: by default a
relative 1e-3, so three significant digits are enough, and an exact match for
a count. The key is computed here from the formulas, so it cannot drift from
them; the lecturer's copy of ``questions.py`` (``start --solutions``) holds it,
the student's holds ``None``.
"""

import ast
import math
import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    id: str
    lecture: str  # the lecture's number, "02"
    text: str
    key: float
    rtol: float = 1e-3
    atol: float = 0.0

    @property
    def tolerance(self):
        if self.rtol == 0:
            return "exactly" if self.atol < 1 else f"within {self.atol:g}"
        return f"to a relative {self.rtol:g}" + (f" or {self.atol:g}" if self.atol else "")

    def right(self, answer):
        return abs(answer - self.key) <= self.atol + self.rtol * abs(self.key)


def _log_mean_exp(values):
    m = max(values)
    return m + math.log(sum(math.exp(v - m) for v in values) / len(values))


QUESTIONS = (
    Question("elbo_q1", "01", "Two importance samples have log-weights −1 and −3. What is the bound L_2 = log ½(w₁ + w₂)?",
             _log_mean_exp([-1.0, -3.0])),
    Question("elbo_q2", "01", "For the same two samples, what is the average of the log-weights (the ELBO's one-sample "
             "estimates, averaged)?", -2.0),
    Question("dense_q1", "00", "y = x W + b with x = [[1, 2]], W = [[3], [4]], b = [5] and upstream gradient d_y = [[1]]. "
             "What is dL/dW[1, 0]?", 2.0),
    Question("sigmoid_q1", "00", "What is sigmoid'(0)?", 0.25),
    Question("kl_q1", "02", "The KL of q = N(1, e^{-1}) to N(0, 1) (mu = 1, log_var = −1), in nats.",
             0.5 * (1 + math.exp(-1))),
    Question("kl_q2", "02", "dKL/dlog_var at the same q (mu = 1, log_var = −1).", 0.5 * math.expm1(-1)),
    Question("reparameterize_q1", "02", "z = mu + σ·eps with mu = 0.5, log_var = 2 log 2 and eps = −1: what is z?", -1.5),
    Question("score_q1", "04", "z ~ N(μ, 1) and f(z) = z². What is d/dμ E[f(z)] at μ = 1?", 2.0),
    Question("score_q2", "04", "The score-function estimator's one-sample term f(z)·∂log q(z)/∂μ for z ~ N(μ, 1), at "
             "μ = 1 and the sample z = 2 (f(z) = z²)?", 4.0),
    Question("adam_q1", "03", "Adam's first step with lr = 1e-3, gradient g = 0.02 and δ = 1e-8: its size?",
             1e-3 * 0.02 / (0.02 + 1e-8), 1e-6),
    Question("adam_q2", "03", "The same first step without bias correction (ρ₁ = 0.9, ρ₂ = 0.999), in units of lr?",
             0.1 * 0.02 / (math.sqrt(0.001) * 0.02 + 1e-8)),
    Question("gaussian_q1", "05", "−log N(x; x̂, σ²) for one pixel with x − x̂ = 0.1 and σ = 0.1, in nats.",
             0.5 * (1 + math.log(0.01) + math.log(2 * math.pi))),
    Question("gaussian_q2", "05", "The implicit β of a Gaussian decoder with σ = 0.1 (the loss is a squared error "
             "divided by 2σ², so the KL's weight relative to the squared error is β = 2σ²)?", 0.02),
    Question("prior_q1", "07", "In a 2-D latent space, what fraction of the prior N(0, I) lies within distance 1 of "
             "the origin?", 1 - math.exp(-0.5)),
    Question("pca_q1", "07", "Data with covariance diag(4, 1): what fraction of the variance does 1-D PCA keep?", 0.8),
    Question("active_q1", "08", "A unit j is active when the variance over x of its posterior mean E_q[z_j] exceeds "
             "0.01. These variances are [1.2, 0.005, 0.3, 0.0001, 0.02, 0.009]: how many units are active?",
             3.0, 0.0, 0.0),
    Question("active_q2", "08", "The KL of a collapsed unit, q(z_j|x) = N(0, 1) for every x, in nats?", 0.0, 0.0, 1e-6),
    Question("auc_q1", "10", "Anomaly scores: anomalies [3, 5], normal examples [1, 4]. The AUC (the fraction of "
             "(anomaly, normal) pairs the score ranks the right way)?", 0.75),
    Question("softmax_q1", "14", "The softmax of the logits [0, log 3]: the probability of the second class?", 0.75),
    Question("unlabelled_q1", "14", "An unlabelled image, two classes: L(x, y) = 100 and 102 nats, and the classifier "
             "says q(y|x) = [½, ½]. What is u(x) = Σ_y q(y|x) L(x, y) − H(q(y|x)), in nats?", 101 - math.log(2)),
    Question("unlabelled_q2", "14", "For the same image, the classifier that makes u(x) smallest is q(y|x) ∝ e^{−L(x, y)}: "
             "the probability it gives the first class?", 1 / (1 + math.exp(-2))),
    Question("join_q1", "13", "A conditional VAE with a 2-D z and 10 classes joins the one-hot label to z: how many "
             "inputs does its decoder's first layer take?", 12.0, 0.0, 0.5),
    Question("join_q2", "13", "The decoder's first layer computes [z | onehot(y)] W + b. For a batch of one image of class 3, "
             "dL/dW for the rows of the label is x_jᵀ ȳ: how many of those 10 rows are not zero?", 1.0, 0.0, 0.5),
    Question("iwae_q1", "11", "Three importance samples have log-weights −2, −2 and −2 + log 2 (so w₃ = 2·w₁). What is "
             "the normalised weight w̃₃, the share of the IWAE's gradient the third sample gets?", 0.5),
    Question("iwae_q2", "11", "For the same three samples, the effective sample size 1/Σ_k w̃_k²?", 1 / 0.375),
    Question("iwae_q3", "11", "One latent dimension, z = μ + σε: the total derivative of log q(z|x) in log σ², through "
             "both paths (the direct one and the one through z), at ε = 0.5 and log σ² = 0?", -0.5),
    Question("amortization_q1", "12", "ELBO(q_φ) = −120, ELBO(q*) = −115 and log p(x) = −112 nats: the amortization gap, "
             "in nats?", 5.0),
    Question("amortization_q2", "12", "For the same image, the approximation gap, in nats?", 3.0),
    Question("amortization_q3", "12", "An importance-weighted estimate of log p(x) from K = 1000 samples has an effective "
             "sample size of 25: its delta-method standard error √(1/ESS − 1/K), in nats?", math.sqrt(1 / 25 - 1 / 1000)),
    Question("freebits_q1", "09", "Free bits with λ = 0.5 nats per unit: a unit's KL is 0.2. What does it add to the loss, "
             "in nats?", 0.5),
    Question("freebits_q2", "09", "The same unit: what is the gradient of the free-bits term with respect to its KL?",
             0.0, 0.0, 1e-12),
    Question("made_q1", "09", "A MADE over D = 784 pixels in the natural order: how many pixels may the logit of pixel "
             "d = 10 (counting from 1) depend on?", 9.0, 0.0, 0.5),
    Question("gradcheck_q1", "06", "A backward pass returns exactly twice the true gradient. What relative error "
             "max|a − n| / max(|a|, |n|) does the gradient check report?", 0.5),
)
BY_ID = {q.id: q for q in QUESTIONS}
FILE = "questions.py"


def _value(q, solutions):
    return repr(q.key) if solutions else "None"


def render(solutions=False):
    """The text of the workbook's ``questions.py``: every question, its tolerance, and None (or the key)."""
    lines = ['"""' + ("The answer key of the lectures' questions (the lecturer's copy)." if solutions else
                      "The lectures' numerical questions: replace each None with your answer, a number."),
             "",
             "This file is read, not run: write a number (0.684, -1.5, 3), not an expression. Work it",
             "out on paper or in a Python shell. An answer passes within the tolerance written beside its",
             "question; None means not answered yet, and is not graded. Check your answers with",
             "",
             "    numvae exercises check DIR questions",
             '"""', "", "ANSWERS = {"]
    lecture = None
    for q in QUESTIONS:
        if q.lecture != lecture:
            lecture = q.lecture
            lines.append(f"    # Lecture {lecture}")
        lines += textwrap.wrap(f"{q.text} ({q.tolerance})", 96, initial_indent="    # ", subsequent_indent="    #   ")
        lines.append(f'    "{q.id}": {_value(q, solutions)},')
    lines.append("}")
    return "\n".join(lines) + "\n"


def read_answers(source):
    """{id: number or None} from the text of a ``questions.py``; ValueError saying what is wrong."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"syntax error in {FILE} line {exc.lineno}: {exc.msg}") from None
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["ANSWERS"]:
            if not isinstance(node.value, ast.Dict):
                raise ValueError(f"{FILE}: ANSWERS must be a dict written out, {{'kl_q1': 0.684, ...}}")
            answers = {}
            for key, value in zip(node.value.keys, node.value.values):
                try:
                    key, value = ast.literal_eval(key), ast.literal_eval(value)
                except (ValueError, TypeError, SyntaxError):
                    name = ast.unparse(key) if key is not None else "**"
                    raise ValueError(f"{FILE}: the answer to {name} is not a number: write a number, not an "
                                     "expression (the file is read, not run)") from None
                if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                    raise ValueError(f"{FILE}: the answer to {key!r} is {type(value).__name__}, expected a number")
                answers[key] = value
            return answers
    raise ValueError(f"{FILE} defines no ANSWERS = {{...}}")


def grade(source):
    """[(id, status, message)] for each answered question of the ``questions.py`` text ``source``, and the count
    of questions not answered; ValueError when the file cannot be read as answers."""
    answers = read_answers(source)
    unknown = [k for k in answers if k not in BY_ID]
    if unknown:
        raise ValueError(f"{FILE}: no question is called {unknown[0]!r} (expected ids among {', '.join(BY_ID)})")
    graded = []
    for q in QUESTIONS:
        answer = answers.get(q.id)
        if answer is None:
            continue
        if q.right(answer) and math.isfinite(answer):
            graded.append((q.id, "pass", ""))
        else:
            graded.append((q.id, "FAIL", f"your {answer!r} is not the answer {q.tolerance} (lecture {q.lecture})"))
    return graded, sum(answers.get(q.id) is None for q in QUESTIONS)
