"""Tests of ``numvae exercises``: start, check and train, and every error path a student can reach."""

import csv
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from numvae.cli import main
from numvae.course.catalog import EXERCISES, NAMES
from numvae.course.checker import FAIL, NOT_STARTED, PASS, check_exercise

FAST = ["--max-examples", "10"]


@pytest.fixture(scope="module")
def solutions(tmp_path_factory):
    directory = tmp_path_factory.mktemp("solutions")
    assert main(["exercises", "start", str(directory), "--solutions"]) == 0
    return directory


def _lines(capsys):
    return {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.split()}


def _solution_copy(solutions, tmp_path, name):
    (tmp_path / f"{name}.py").write_text((solutions / f"{name}.py").read_text())
    return tmp_path / f"{name}.py"


def test_the_checker_passes_every_solution(solutions, capsys):
    assert main(["exercises", "check", str(solutions), *FAST]) == 0
    lines = _lines(capsys)
    for name in NAMES:
        assert lines[name].split()[1] == PASS, lines[name]
    assert lines[f"{len(NAMES)}/{len(NAMES)}"].endswith("passed")


def test_a_fresh_workbook_reports_every_exercise_as_not_started(tmp_path, capsys):
    assert main(["exercises", "start", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["exercises", "check", str(tmp_path), *FAST]) == 1
    lines = _lines(capsys)
    for name in NAMES:
        assert NOT_STARTED in lines[name], lines[name]


def test_solutions_are_numvaes_own_source_and_the_stubs_keep_numvaes_signatures(solutions, tmp_path):
    import ast
    import inspect

    from numvae import gaussian

    assert inspect.getsource(gaussian.kl_standard_normal) in (solutions / "kl.py").read_text()
    main(["exercises", "start", str(tmp_path)])
    for exercise in EXERCISES:
        tree = ast.parse((tmp_path / f"{exercise.name}.py").read_text())
        defined = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert set(defined) == set(exercise.function_names), exercise.name
        for function in exercise.functions:
            theirs = [a.arg for a in defined[function.__name__].args.args]
            ours = [p for p in inspect.signature(function).parameters if p != "need_d_x"]  # the engine's own extra
            assert theirs == ours, (function.__name__, theirs, ours)
        imported = {alias.name if isinstance(node, ast.Import) else node.module
                    for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
        assert imported <= {"numpy", "numvae.activations", "numvae.categorical"}, (exercise.name, imported)


# What a stub must not say: each derivative (or the stable form it is the point to find), as numvae's docstrings
# and code write it. The forward formulas are allowed: the stubs state them.
DERIVATIVES = {
    "relu": ["x > 0)", "1[x > 0]"], "tanh": ["1 - y", "1 − y", "1 - tanh", "1 − tanh"],
    "sigmoid": ["y (1", "y * (1", "(1 - y)", "(1 − y)", "exp(-np.abs", "e^{-|x|}", "e^-|x|"],
    "softplus": ["log1p", "max(x, 0) +", "= sigmoid(x)", "sigmoid(x) ="],
    "dense": ["x.T", "xᵀ", "x^\\top", "W.T", "Wᵀ", "sum(axis=0)", "Σ_n"],
    "reparameterize": ["½ d_z", "0.5 * d_z", "½·z̄", "σ ε /", "½ σ", "½ · σ"],
    "kl": ["expm1", "½ (σ", "½(σ", "= mu_j", "d_kl * mu"], "bernoulli": ["sigmoid(l_d) − x", "sigmoid(logits) - x",
                                                                      "softplus(l_d) − x_d", "softplus(logits) - x"],
    "gaussian_nll": ["(m − x)", "(mean - x)", "(x̂_d − x_d)", "1 - residual", "½ (1 −"],
    "adam": ["out="], "iw_bound": ["np.max", "m + log", "− m)", "- m)"],
    "vae_backward": ["d_mu_z + d_mu_kl", "concatenate", "add"],
    "softmax_cross_entropy": ["softmax(logits) - y_one_hot", "p − t", "p - t", "p_k − t_k", "p − onehot",
                              "np.max", "max_j l_j", "− m)", "- m)", "(l_k − m)"],
    "unlabelled_bound": ["q_k (L_k", "q_k(L_k", "losses + log_q", "- u[", "d_u * q", "d * q", "δ_yk", "softmax_backward",
                         "entropy_backward"],
}


def test_a_fresh_workbooks_stubs_state_no_derivative(tmp_path):
    main(["exercises", "start", str(tmp_path)])
    assert set(DERIVATIVES) == set(NAMES)
    for name, fragments in DERIVATIVES.items():
        text = (tmp_path / f"{name}.py").read_text()
        assert "NotImplementedError" in text and "`check` verifies" in text, name
        for fragment in fragments:
            assert fragment not in text, f"{name}.py states {fragment!r}"


def test_start_only_writes_the_chosen_exercises_and_check_grades_only_those(tmp_path, capsys):
    assert main(["exercises", "start", str(tmp_path), "--only", "kl,reparameterize"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "kl.py", "questions.py", "reparameterize.py"]
    capsys.readouterr()
    assert main(["exercises", "check", str(tmp_path), *FAST]) == 1
    assert set(_lines(capsys)) == {"kl", "reparameterize", "0/2", "questions:"}


def test_start_into_a_non_empty_directory_keeps_the_students_files(tmp_path, capsys):
    main(["exercises", "start", str(tmp_path), "--only", "kl"])
    work = "# my work\n" + (tmp_path / "kl.py").read_text()
    (tmp_path / "kl.py").write_text(work)
    (tmp_path / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert main(["exercises", "start", str(tmp_path), "--only", "kl,adam"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "kl.py").read_text() == work and (tmp_path / "notes.txt").read_text() == "mine"
    assert "kept" in out and "kl.py" in out and (tmp_path / "adam.py").exists()


def test_start_keeps_a_students_symlink_even_one_whose_target_is_gone(tmp_path, capsys):
    (tmp_path / "wb").mkdir()
    link = tmp_path / "wb" / "kl.py"
    link.symlink_to(tmp_path / "moved_away.py")  # the student's file, in a folder they renamed
    assert main(["exercises", "start", str(tmp_path / "wb"), "--only", "kl"]) == 0
    assert link.is_symlink(), "start replaced the student's symlink with a fresh stub"
    assert "kept" in capsys.readouterr().out


@pytest.mark.parametrize("folder", ['wb """ 3', "wb\\N", "week 2", "it's", os.fsdecode(b"wb\xff")],
                         ids=["triple_quote", "backslash", "space", "quote", "not_utf8"])
def test_a_workbook_in_any_folder_parses_and_its_commands_can_be_pasted(folder, tmp_path, monkeypatch, capsys):
    # A folder with \"\"\" or a backslash in its name gave stubs with a syntax error in their docstring,
    # one not in UTF-8 stopped start ("surrogates not allowed"), and a space gave commands that split it in two.
    import importlib.util
    import shlex

    monkeypatch.chdir(tmp_path)
    assert main(["exercises", "start", folder, "--only", "relu"]) == 0
    hint = shlex.quote(folder) if folder.isprintable() and "\udcff" not in folder else "DIR"
    shown = shlex.quote(folder).encode("utf-8", "backslashreplace").decode()  # escaped, where not UTF-8
    assert capsys.readouterr().out.splitlines()[-1] == f"next: numvae exercises check {shown}"
    spec = importlib.util.spec_from_file_location("relu_stub", tmp_path / folder / "relu.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # it parses
    assert f"numvae exercises check {hint} relu\n" in module.__doc__
    assert f"numvae exercises check {hint} kl" in (tmp_path / folder / "README.md").read_text()
    assert main(["exercises", "check", folder]) == 1 and NOT_STARTED in _lines(capsys)["relu"]


# --------------------------------------------------------------------------
# Failures a student can cause: each a readable line, never a crash
# --------------------------------------------------------------------------

BROKEN = {
    "syntax error": ("kl", "def kl_standard_normal(mu, log_var):\n    return mu +\n",
                     "syntax error in kl.py line"),
    "exception": ("kl", "def kl_standard_normal(mu, log_var):\n    raise ValueError('my bug')\n",
                  "kl_standard_normal raised ValueError: my bug"),
    "wrong shape": ("kl", "def kl_standard_normal(mu, log_var):\n    return 0.5 * (mu**2 + np.expm1(log_var) - log_var)\n",
                    "expected shape"),
    "wrong type": ("dense", "def dense_backward(d_y, x, W):\n    return [x.T @ d_y]\n",
                   "dense_backward must return the tuple (d_W, d_b, d_x)"),
    "half done": ("kl", "def kl_standard_normal_backward(d_kl, mu, log_var):\n    raise NotImplementedError\n",
                  "kl_standard_normal_backward is not implemented yet"),
    "import error": ("kl", "import no_such_module_anywhere\n", "importing kl.py raised ModuleNotFoundError"),
    "infinite loop": ("relu", "def relu(x):\n    while True:\n        pass\n", "no answer within 3s"),
    # used to fail the gradient check with "analytic -0, numerical -0.965": nothing a student could act on
    "input changed in place": ("relu", "def relu(x):\n    x[x < 0] = 0\n    return x\n",
                               "relu changed its argument x in place"),
    # used to say only "TypeError: cannot unpack non-iterable NoneType object" (or "can't multiply
    # sequence by non-int"), errors of the property's own code, naming no function of the student's
    "no return": ("kl", "def kl_standard_normal_backward(d_kl, mu, log_var):\n    d_mu = d_kl * mu\n",
                  "kl_standard_normal_backward returned None"),
    "a list": ("kl", "def kl_standard_normal(mu, log_var):\n    return [0.5 * np.sum(m * m + np.expm1(v) - v) for m, v in zip(mu, log_var)]\n",
               "kl_standard_normal returned a list"),
    # exit() used to end the checker with status 0 and no output: a silent "pass"
    "exit() in a function": ("relu", "def relu(x):\n    exit()\n", "relu raised SystemExit"),
    "sys.exit at import": ("relu", "import sys\nsys.exit(3)\n", "importing relu.py raised SystemExit: 3"),
    # each used to fail with a message naming no function of the student's, or the wrong one:
    # "relu(x): expected shape (4, 5), got ()", "ValueError: not enough values to unpack (expected 2, got 1)",
    # "relu_backward raised TypeError: ufunc 'isnan' not supported", "ValueError: shapes (4,5) and (4,5) not aligned"
    "a generator": ("relu", "def relu(x):\n    yield from x\n", "relu returned a generator, expected a NumPy array"
                    " [counterexample: name='relu'] (hint: yield makes a generator"),
    "a generator expression": ("relu", "def relu(x):\n    return (max(v, 0) for v in x.ravel())\n",
                               "(hint: (... for ...) is a generator: compute the array with NumPy operations"),
    "a str": ("relu", "def relu(x):\n    return 'relu'\n",
              "relu returned a str, expected a NumPy array [counterexample: name='relu']\n"),
    "async def": ("relu", "async def relu(x):\n    return x\n", "relu returned a coroutine"),
    "dtype object": ("relu", "def relu(x):\n    return np.maximum(x, 0).astype(object)\n",
                     "relu returned an array of dtype object, expected numbers"),
    "np.matrix": ("relu", "def relu(x):\n    return np.asmatrix(np.maximum(x, 0))\n",
                  "relu returned a numpy.matrix, expected an ndarray"),
    "one array for two": ("kl", "def kl_standard_normal_backward(d_kl, mu, log_var):\n    return d_kl * mu\n",
                          "kl_standard_normal_backward must return the tuple (d_mu, d_log_var), got an array of shape"),
    "z without std": ("reparameterize", "def reparameterize(mu, log_var, eps):\n    return mu + np.exp(0.5 * log_var) * eps\n",
                      "reparameterize must return the tuple (z, std), got an array of shape (1, 1) [counterexample: "
                      "batch=1, latent_dim=1]\n"),
    "adam_step returns param only": ("adam", "def adam_step(param, grad, m, v, t, lr, betas=(0.9, 0.999), epsilon=1e-8):\n"
                                     "    return param - lr * grad\n",
                                     "step raised ValueError: adam_step must return the tuple (param, m, v), got an array"),
    "exit() in adam_step": ("adam", "def adam_step(param, grad, m, v, t, lr, betas=(0.9, 0.999), epsilon=1e-8):\n"
                            "    exit()\n", "step raised SystemExit: (no message)"),
    # used to print the whole message, however long, on the one line
    "a huge message": ("relu", "def relu(x):\n    raise ValueError('x' * 10**6)\n",
                       "relu raised ValueError: " + "x" * 300 + "... (1,000,000 characters)"),
    "a message that cannot be printed": ("relu", "class E(Exception):\n    def __str__(self):\n        raise RuntimeError\n\n"
                                         "def relu(x):\n    raise E()\n",
                                         "relu raised E: (its message could not be printed: str() raised RuntimeError)"),
    # a name bound only where the file's code does not run: named when the file has run
    "a def that never runs": ("relu", "del relu\nif False:\n    def relu(x):\n        return x\n",
                              "relu_backward matches central differences: relu is missing [counterexample: name='relu']\n"),
    # used to end check as Ctrl-C does: "numvae exercises: interrupted", exit status 130
    "KeyboardInterrupt": ("relu", "def relu(x):\n    raise KeyboardInterrupt\n",
                          "relu_backward matches central differences: your code raised KeyboardInterrupt"),
    # used to end the grading process with a traceback, then fail as "ended ... with exit status 1 (os._exit()?)"
    "GeneratorExit": ("relu", "def relu(x):\n    raise GeneratorExit('mine')\n",
                      "relu_backward matches central differences: your code raised GeneratorExit: mine"),
    # hidden randomness used to fail the gradient check with "analytic -0.51, numerical 7170" and no why
    "noise of its own": ("reparameterize", "def reparameterize(mu, log_var, eps):\n    std = np.exp(0.5 * log_var)\n"
                         "    return mu + std * np.random.standard_normal(mu.shape), std\n",
                         "reparameterize gave two different results for the same inputs [counterexample: batch=1, "
                         "latent_dim=1] (hint: does it draw random numbers of its own (np.random...)?"),
    "seeded noise of its own": ("reparameterize", "def reparameterize(mu, log_var, eps):\n    std = np.exp(0.5 * log_var)\n"
                                "    return mu + std * np.random.default_rng(0).standard_normal(mu.shape), std\n",
                                "reparameterize gave the same z for two different eps"),
    "fresh noise in backward": ("reparameterize", "def reparameterize_backward(d_z, eps, std):\n"
                                "    return d_z, 0.5 * d_z * np.random.standard_normal(np.shape(std)) * std\n",
                                "reparameterize_backward gave two different results for the same inputs"),
    "noise in relu": ("relu", "def relu(x):\n    return np.maximum(x, 0) * (1 + 1e-3 * np.random.rand())\n",
                      "relu gave two different results for the same inputs"),
    # passed every check: only the activations, bernoulli and gaussian_nll were held to their dtype
    "kl in float64": ("kl", "def kl_standard_normal(mu, log_var):\n"
                      "    return 0.5 * np.sum(mu * mu + np.expm1(log_var) - log_var, axis=-1, dtype=np.float64)\n",
                      "KL and its gradient keep the dtype: float32 in; out: KL float64, d_mu float32"),
}


def budget(expected):
    """--timeout for a case: 3 s where the case is a hang, else a minute (a loaded machine may need
    several seconds for an exercise, and a tight budget would fail it as a hang)."""
    return "3" if "no answer within 3s" in expected else "60"


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_exercise_fails_with_a_readable_message(case, solutions, tmp_path, capsys):
    name, appended, expected = BROKEN[case]
    path = _solution_copy(solutions, tmp_path, name)
    path.write_text(path.read_text() + "\n\n" + appended)
    assert main(["exercises", "check", str(tmp_path), name, "--timeout", budget(expected), *FAST]) == 1
    line = _lines(capsys)[name] + "\n"  # an expected text ending in \n: nothing after it (no hint)
    assert line.split()[1] == FAIL and expected in line, line


# Files that end or hang the process that runs them. In-process, os._exit(0) ended check (and pytest) with
# status 0, a segfault or SIGKILL ended it with no word about why, and a loop with SIGALRM ignored hung
# forever; so these run through the command line.
KILLERS = {
    "os._exit in a function": ("relu", "import os\n\ndef relu(x):\n    os._exit(0)\n",
                               "relu_backward matches central differences: your code ended the process running it, "
                               "with exit status 0 (os._exit()?)"),
    "os._exit at import": ("relu", "import os\nos._exit(3)\n",
                           "importing the file: your code ended the process running it, with exit status 3"),
    "SIGKILL": ("kl", "import os, signal\n\ndef kl_standard_normal(mu, log_var):\n    os.kill(os.getpid(), signal.SIGKILL)\n",
                "kl_standard_normal_backward matches central differences: the process running your code was killed "
                "by signal 9 (SIGKILL)"),
    "segfault": ("tanh", "import ctypes\n\ndef tanh_backward(d_y, x, y):\n    return ctypes.string_at(0)\n",
                 "killed by signal 11 (SIGSEGV): a crash in compiled code"),
    "alarm ignored": ("relu", "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n\n"
                      "def relu(x):\n    while True:\n        pass\n",
                      "relu_backward matches central differences: no answer within 3s (an infinite loop?)"),
    # a line on the pipe that reports to check, written by the student: Result(**...) raised TypeError, a traceback
    "a result of its own": ("relu", "import os, sys\nos.write(int(sys.argv[1]), b'{\"result\": {\"bogus\": 1}}\\n')\n",
                            "importing the file: your code wrote to the pipe that reports to check"),
    "a line of its own": ("kl", "import os, sys\n\ndef kl_standard_normal(mu, log_var):\n"
                          "    os.write(int(sys.argv[1]), b'hello\\n')\n",
                          "kl_standard_normal_backward matches central differences: your code wrote to the pipe"),
}


@pytest.mark.parametrize("case", list(KILLERS))
def test_a_file_that_ends_or_hangs_its_process_fails_its_exercise_and_the_check_goes_on(case, solutions, tmp_path):
    from cli_helpers import run_numvae

    name, appended, expected = KILLERS[case]
    path = _solution_copy(solutions, tmp_path, name)
    path.write_text(path.read_text() + "\n\n" + appended)
    _solution_copy(solutions, tmp_path, "vae_backward")  # graded after it, by a fresh process
    result = run_numvae("exercises", "check", str(tmp_path), "--timeout", budget(expected), *FAST, timeout=300)
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.split()}
    assert result.returncode == 1 and "Traceback" not in result.stderr, (result.returncode, result.stderr)
    assert lines[name].split()[1] == FAIL and expected in lines[name], lines[name]
    assert lines["vae_backward"].split()[1] == PASS and lines["1/2"] == "1/2 passed", result.stdout


def _grading_processes(directory):
    """Pids of the processes whose command line names ``directory`` (the checker's children), from /proc."""
    from pathlib import Path

    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(directory).encode() in cmdline.read_bytes() and b"serve" in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:  # the process has gone
            pass
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the grading process in /proc")
def test_ctrl_c_stops_check_and_the_process_grading_in_one_line_with_status_130(solutions, tmp_path):
    import os
    import signal
    import subprocess
    import time

    from cli_helpers import numvae_process

    path = _solution_copy(solutions, tmp_path, "relu")  # a loop that only the parent can stop
    path.write_text(path.read_text() + "\n\n" + KILLERS["alarm ignored"][1])
    process = numvae_process("exercises", "check", str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
    try:
        for _ in range(6000):  # until the grading process runs (at most ten minutes: never a timed assertion)
            if _grading_processes(tmp_path) or process.poll() is not None:
                break
            time.sleep(0.1)
        assert _grading_processes(tmp_path), "no grading process started"
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole foreground group
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130 and err == "numvae exercises check: interrupted\n", (process.returncode, err)
    assert out == "" and _grading_processes(tmp_path) == []


def test_a_grading_process_that_cannot_start_is_one_line_not_a_failed_exercise(solutions, monkeypatch, capsys):
    monkeypatch.setattr(sys, "executable", "/bin/false")  # a Python that ends at once, as a broken install would
    assert main(["exercises", "check", str(solutions), "relu"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ("numvae exercises check: error: the process that grades could "
                                                   "not start: it ended with exit status 1\n"), captured


def test_a_workbook_decided_by_reading_its_files_starts_no_grading_process(tmp_path, capsys, monkeypatch):
    from numvae.course import isolated

    monkeypatch.setattr(isolated._Child, "start", lambda self: pytest.fail("a grading process was started"))
    main(["exercises", "start", str(tmp_path)])
    (tmp_path / "kl.py").write_text("def kl_standard_normal(mu, log_var):\n    return mu +\n")
    capsys.readouterr()
    assert main(["exercises", "check", str(tmp_path)]) == 1
    lines = _lines(capsys)
    assert "syntax error in kl.py" in lines["kl"] and NOT_STARTED in lines["relu"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_a_file_saved_by_an_editor_with_a_bom_is_graded_as_python_reads_it(encoding, solutions, tmp_path, capsys):
    # Python imports a UTF-8 file with a BOM (Notepad's "UTF-8 with BOM"), so the checker must grade it;
    # UTF-16 (Notepad's "Unicode") is not Python source: say so, and what to do.
    text = (solutions / "relu.py").read_text()
    (tmp_path / "relu.py").write_text(text, encoding=encoding)
    status = main(["exercises", "check", str(tmp_path), "relu", *FAST])
    line = _lines(capsys)["relu"]
    if encoding == "utf-8-sig":
        assert status == 0 and line.split()[1] == PASS, line
    else:
        assert status == 1 and "relu.py is not UTF-8 text" in line and "save it as UTF-8" in line, line


def test_a_time_budget_longer_than_the_platform_timer_holds_is_no_budget(solutions, capsys):
    # used to fail every exercise with "importing the file: OverflowError: timestamp out of range for platform time_t"
    assert main(["exercises", "check", str(solutions), "relu", "--timeout", "1e300", *FAST]) == 0
    assert _lines(capsys)["relu"].split()[1] == PASS


def test_a_file_python_cannot_parse_or_read_fails_its_exercise_and_the_check_goes_on(solutions, tmp_path, capsys,
                                                                                     monkeypatch):
    # Both used to stop the whole check: "error: out of memory" for 1 MB of nested minus signs, and
    # "error: Permission denied" for a file the student cannot read (tested as root, so read_bytes is patched).
    from pathlib import Path

    (tmp_path / "relu.py").write_text("x = " + "-" * 1_000_000 + "1\n")
    for name in ("tanh", "kl"):
        _solution_copy(solutions, tmp_path, name)
    read_bytes = Path.read_bytes

    def unreadable_kl(path):
        if path.name == "kl.py":
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", unreadable_kl)
    assert main(["exercises", "check", str(tmp_path), *FAST]) == 1
    lines = _lines(capsys)
    assert lines["relu"].endswith("FAIL         Python cannot parse relu.py (MemoryError): is an expression nested "
                                  "thousands deep?"), lines["relu"]
    assert lines["kl"].endswith("FAIL         cannot read kl.py: Permission denied"), lines["kl"]
    assert lines["tanh"].split()[1] == PASS


def test_what_a_file_sets_at_import_stays_with_its_own_exercise(solutions, tmp_path, capsys, monkeypatch):
    # relu.py's np.seterr(all="raise") used to fail tanh, softplus, kl, ... with "FloatingPointError: underflow",
    # and its os.chdir("/") to fail every later exercise of a workbook given by a relative path as "not found".
    for name in ("relu", "softplus", "kl"):
        _solution_copy(solutions, tmp_path, name)
    path = tmp_path / "relu.py"
    path.write_text(path.read_text() + "\n\nimport os\n\nnp.seterr(all='raise')\nos.chdir('/')\n")
    monkeypatch.chdir(tmp_path.parent)
    assert main(["exercises", "check", tmp_path.name, *FAST]) == 0, capsys.readouterr().out


def test_a_helper_module_imported_inside_a_function_is_found(solutions, tmp_path, capsys):
    # used to fail as "relu raised ModuleNotFoundError: No module named 'relu_helpers'", though the student's
    # own script, run from the workbook, found it
    (tmp_path / "relu_helpers.py").write_text("import numpy as np\n\n\ndef positive_part(x):\n"
                                              "    return np.maximum(x, 0)\n")
    path = _solution_copy(solutions, tmp_path, "relu")
    path.write_text(path.read_text() + "\n\ndef relu(x):\n    from relu_helpers import positive_part\n\n"
                    "    return positive_part(x)\n")
    assert main(["exercises", "check", str(tmp_path), *FAST]) == 0, capsys.readouterr().out


@pytest.mark.parametrize("relu", ["relu = lambda x: np.maximum(x, 0.0)\n",
                                  "if True:\n    def relu(x):\n        return np.maximum(x, 0.0)\n",
                                  "from relu_helpers import positive_part as relu\n"],
                         ids=["lambda", "def_under_an_if", "imported"])
def test_a_function_bound_otherwise_than_by_a_top_level_def_is_graded(relu, tmp_path, capsys):
    # used to fail unrun as "relu.py defines no function relu"
    (tmp_path / "relu_helpers.py").write_text("import numpy as np\n\n\ndef positive_part(x):\n"
                                              "    return np.maximum(x, 0.0)\n")
    (tmp_path / "relu.py").write_text("import numpy as np\n\n" + relu + "\n\ndef relu_backward(d_y, x, y):\n"
                                      "    return d_y * (x > 0)\n")
    assert main(["exercises", "check", str(tmp_path), *FAST]) == 0, capsys.readouterr().out
    assert main(["exercises", "train", str(tmp_path), "--epochs", "1", "--hidden", "8"]) == 0
    assert "your functions: relu;" in capsys.readouterr().out


def test_checking_an_exercise_that_was_not_handed_out_fails_and_says_how_to_get_it(tmp_path, capsys):
    main(["exercises", "start", str(tmp_path), "--only", "kl"])
    capsys.readouterr()
    assert main(["exercises", "check", str(tmp_path), "adam", *FAST]) == 1
    line = _lines(capsys)["adam"]
    assert line.split()[1] == FAIL and "adam.py not found" in line and "--only adam" in line, line


def test_a_failure_names_the_property_the_shrunk_counterexample_and_a_hint(solutions, tmp_path, capsys):
    path = _solution_copy(solutions, tmp_path, "reparameterize")
    path.write_text(path.read_text() + "\n\ndef reparameterize_backward(d_z, eps, std):\n    return d_z, d_z * eps * std\n")
    assert main(["exercises", "check", str(tmp_path), "reparameterize", *FAST]) == 1
    line = _lines(capsys)["reparameterize"]
    assert "reparameterize_backward matches central differences" in line
    assert "counterexample: batch=1, latent_dim=1" in line
    assert "d_log_var is 2× the finite difference in every entry" in line
    assert "(hint: d_log_var is missing a ½: std = exp(½·log_var) brings one)" in line


def test_checks_are_derandomized(solutions, tmp_path):
    path = _solution_copy(solutions, tmp_path, "kl")
    path.write_text(path.read_text() + "\n\ndef kl_standard_normal(mu, log_var):\n"
                    "    return 0.5 * np.sum(mu * mu - np.expm1(log_var) + log_var, axis=-1)\n")
    exercise = next(e for e in EXERCISES if e.name == "kl")
    first, second = (check_exercise(exercise, tmp_path, max_examples=20) for _ in range(2))
    assert first.status == FAIL and first == second


@pytest.mark.parametrize(
    "argv, message",
    [
        (["check", "{tmp}/nowhere"], "DIR: expected an existing workbook directory"),
        (["check", "{tmp}", "klx"], "NAME: expected names among relu,"),
        (["check", "{tmp}", "relu", ""], "NAME: expected names among relu, tanh, sigmoid, softplus, dense, "
                                         "reparameterize, kl, bernoulli, gaussian_nll, adam, iw_bound, vae_backward, "
                                         "softmax_cross_entropy, unlabelled_bound, got ''"),
        (["start", "{tmp}/wb", "--only", "kl,nope"], "--only: expected names among relu,"),
        (["check", "{tmp}"], "holds no exercise files"),
        (["train", "{tmp}/nowhere"], "DIR: expected an existing workbook directory"),
        (["start", "{tmp}/a_file"], "DIR: expected a directory, got the file"),
        (["train", "{tmp}", "--out", "{tmp}/a_file"], "--out: expected a directory, got the file"),
    ],
    ids=["missing_dir", "unknown_name", "empty_name", "unknown_only", "empty_dir", "train_missing_dir", "start_into_a_file",
         "train_out_a_file"],
)
def test_command_errors_are_one_line_with_exit_status_1(argv, message, tmp_path, capsys):
    (tmp_path / "a_file").write_text("not a directory")
    assert main(["exercises", *[a.format(tmp=tmp_path) for a in argv]]) == 1
    err = capsys.readouterr().err
    # named like argparse's own errors of the same command (it used to be "numvae exercises: error:")
    assert err.startswith(f"numvae exercises {argv[0]}: error: ") and message in err and err.count("\n") == 1, err


@pytest.mark.parametrize("argv", [["exercises", "check", "wb", "--timout", "3"], ["exercises", "check", "--bogus"],
                                  ["exercises", "start", "wb", "--only"], ["train", "--bogus"]])
def test_usage_errors_name_the_command_they_were_given_to(argv, capsys):
    # An unknown option used to be reported by the top parser: "numvae: error: unrecognized arguments".
    with pytest.raises(SystemExit) as exc_info:
        main(argv)
    err = capsys.readouterr().err
    prog = "numvae " + " ".join(a for a in argv[:2] if a in ("exercises", "check", "start", "train"))
    assert exc_info.value.code == 2 and err.startswith(f"{prog}: error: ") and err.count("\n") == 1, err
    assert f"(see '{prog} --help')" in err, err


@pytest.mark.parametrize("only", ["", ",", " , "])
def test_only_without_a_name_is_a_usage_error(only, tmp_path, capsys):
    """--only "" used to mean every exercise, and wrote the whole workbook."""
    with pytest.raises(SystemExit) as exc_info:
        main(["exercises", "start", str(tmp_path / "wb"), "--only", only])
    err = capsys.readouterr().err
    assert exc_info.value.code == 2 and "argument --only: expected exercise names separated by commas, got " in err, err
    assert not (tmp_path / "wb").exists()


def test_check_without_hypothesis_names_the_package_to_install(solutions, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # import hypothesis now raises ImportError
    assert main(["exercises", "check", str(solutions), "kl"]) == 1
    assert "pip install hypothesis" in capsys.readouterr().err


# --------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------

TRAIN = ["--epochs", "1", "--hidden", "16", "--seed", "3"]


def _history(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_train_with_the_solutions_reaches_the_same_test_loss_as_numvae_train(solutions, tmp_path, capsys):
    assert main(["exercises", "train", str(solutions), "--out", str(tmp_path / "ex"), *TRAIN]) == 0
    assert "your functions: " + ", ".join(NAMES) in capsys.readouterr().out
    assert main(["train", "--out", str(tmp_path / "ref"), "--no-progress", *TRAIN]) == 0
    ours, theirs = _history(tmp_path / "ex" / "history.csv"), _history(tmp_path / "ref" / "history.csv")
    assert float(ours[0]["test_loss"]) == float(theirs[0]["test_loss"])  # the same arithmetic, bit for bit
    assert {p.name for p in (tmp_path / "ref").iterdir()} <= {p.name for p in (tmp_path / "ex").iterdir()}


def test_train_on_a_partial_workbook_uses_numvaes_functions_for_the_rest(tmp_path, capsys):
    main(["exercises", "start", str(tmp_path), "--only", "kl"])
    capsys.readouterr()
    assert main(["exercises", "train", str(tmp_path), *TRAIN]) == 0
    assert "your functions: none yet" in capsys.readouterr().out
    assert float(_history(tmp_path / "run" / "history.csv")[0]["test_loss"]) > 0


def test_train_reports_a_students_exception_in_one_line(solutions, tmp_path, capsys):
    path = _solution_copy(solutions, tmp_path, "kl")
    path.write_text(path.read_text() + "\n\ndef kl_standard_normal_backward(d_kl, mu, log_var):\n    return mu\n")
    assert main(["exercises", "train", str(tmp_path), *TRAIN]) == 1
    err = capsys.readouterr().err
    assert err.startswith("numvae exercises train: error: training stopped: ") and err.count("\n") == 1, err
    # the message names no function (numvae's code called it): check does, and the message says so
    assert err.endswith(f"(numvae exercises check {tmp_path} tests each of your functions on its own)\n"), err


def test_train_reports_a_students_sys_exit_in_one_line(solutions, tmp_path, capsys):
    path = _solution_copy(solutions, tmp_path, "kl")
    path.write_text(path.read_text() + "\n\ndef kl_standard_normal(mu, log_var):\n    raise SystemExit(0)\n")
    assert main(["exercises", "train", str(tmp_path), *TRAIN]) == 1
    err = capsys.readouterr().err
    assert err.startswith("numvae exercises train: error: training stopped: SystemExit") and err.count("\n") == 1, err


def test_train_refuses_to_overwrite_a_run(solutions, capsys):
    out = solutions / "run"
    out.mkdir(exist_ok=True)
    (out / "model.npz").write_bytes(b"")
    assert main(["exercises", "train", str(solutions), *TRAIN]) == 1
    assert "model.npz exists" in capsys.readouterr().err
    (out / "model.npz").unlink()


def test_train_refuses_an_out_that_another_run_holds(solutions, tmp_path, capsys):
    """Two runs on one --out: the second refuses, naming the holder, and writes nothing."""
    from numvae.cli.rundir import prepare

    out = tmp_path / "shared"
    with prepare(out):  # the first run, still going
        assert main(["exercises", "train", str(solutions), "--out", str(out), *TRAIN]) == 1
        err = capsys.readouterr().err
        assert "is in use by another numvae run (pid" in err and err.count("\n") == 1, err
        assert not (out / "model.npz").exists()


def test_train_removes_the_stale_temporaries_of_a_killed_save(solutions, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    stale = out / ".model.npz.0123456789ab.tmp"
    stale.write_bytes(b"half a checkpoint")
    assert main(["exercises", "train", str(solutions), "--out", str(out), *TRAIN]) == 0
    assert not stale.exists() and (out / "model.npz").exists() and not (out / ".lock").exists()


def test_swapped_puts_the_functions_in_every_engine_module_that_holds_them_and_restores_numvaes():
    from numvae import activations, likelihoods, optim
    from numvae.course.swap import swapped

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def adam_step(param, grad, m, v, t, lr, betas=(0.9, 0.999), epsilon=1e-8):
        return param - lr * grad  # the param alone, not (param, m, v)

    own = activations.sigmoid, likelihoods.sigmoid, activations.ACTIVATIONS["sigmoid"], optim.adam_step
    with pytest.raises(KeyError), swapped({"sigmoid": sigmoid, "adam_step": adam_step}):
        assert activations.sigmoid is sigmoid and likelihoods.sigmoid is sigmoid  # likelihoods imported it
        assert activations.ACTIVATIONS["sigmoid"] == (sigmoid, activations.sigmoid_backward)
        with pytest.raises(ValueError, match=r"^adam_step must return the tuple \(param, m, v\), got an array"):
            optim.Adam({"w": np.zeros(2)}).step({"w": np.ones(2)})
        raise KeyError  # left by an exception: numvae's own are back all the same
    assert (activations.sigmoid, likelihoods.sigmoid, activations.ACTIVATIONS["sigmoid"], optim.adam_step) == own
    with pytest.raises(ValueError, match="functions: expected names of numvae's functions, got 'sigmoidd'"):
        with swapped({"sigmoidd": sigmoid}):
            pass


def test_a_swapped_adam_step_that_returns_new_arrays_moves_numvaes_adam_as_one_that_works_in_place():
    from numvae import optim
    from numvae.course.swap import swapped

    def adam_step(param, grad, m, v, t, lr, betas=(0.9, 0.999), epsilon=1e-8):  # Algorithm 1, new arrays
        m = betas[0] * m + (1 - betas[0]) * grad
        v = betas[1] * v + (1 - betas[1]) * grad**2
        return param - lr * (m / (1 - betas[0]**t)) / (np.sqrt(v / (1 - betas[1]**t)) + epsilon), m, v

    params, grads = [{"w": np.array([1.0, -2.0])} for _ in range(2)], [{"w": np.array([3.0, -0.5])}] * 3
    with swapped({"adam_step": adam_step}):
        theirs = optim.Adam(params[0], lr=0.1)
        for g in grads:
            theirs.step(g)
    ours = optim.Adam(params[1], lr=0.1)
    for g in grads:
        ours.step(g)
    np.testing.assert_allclose(params[0]["w"], params[1]["w"], rtol=1e-15)
    np.testing.assert_allclose(theirs.v["w"], ours.v["w"], rtol=1e-15)


def test_a_swapped_dense_backward_without_need_d_x_trains_the_vae_to_numvaes_gradients():
    """The engine passes need_d_x (it spares the first layer a product); the exercise's function does not take it."""
    from numvae import VAE
    from numvae.course.swap import swapped

    def dense_backward(d_y, x, W):
        return x.T @ d_y, d_y.sum(axis=0), d_y @ W.T

    x = np.random.default_rng(0).uniform(size=(5, 6))
    eps = np.random.default_rng(1).standard_normal((5, 2))
    with swapped({"dense_backward": dense_backward}):
        theirs = VAE(6, hidden_dims=(4,), latent_dim=2, seed=3)
        theirs.loss(x, eps)
        their_grads = theirs.backward()
    ours = VAE(6, hidden_dims=(4,), latent_dim=2, seed=3)
    ours.loss(x, eps)
    for name, g in ours.backward().items():
        np.testing.assert_allclose(their_grads[name], g, rtol=1e-13, err_msg=name)


@pytest.mark.parametrize("command", ["train", "check"])
def test_a_reader_that_goes_away_does_not_stop_train_or_check(solutions, tmp_path, command):
    """`numvae exercises train DIR | head -1` used to stop with 'error: Broken pipe', exit 1, without history.csv."""
    import shlex
    import subprocess

    from cli_helpers import environment

    out = tmp_path / "run"
    extra = ["--out", str(out), "--epochs", "2", "--hidden", "16"] if command == "train" else FAST
    argv = shlex.join([sys.executable, "-m", "numvae", "exercises", command, str(solutions), *extra])
    # Many lines of output, the reader gone after the first: later prints meet a closed pipe.
    result = subprocess.run(["bash", "-c", f'{argv} | head -1; exit "${{PIPESTATUS[0]}}"'],
                            capture_output=True, text=True, env=environment(), timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and "Broken pipe" not in result.stderr, (result.stdout, result.stderr)
    if command == "train":
        with open(out / "history.csv", newline="") as f:
            assert [row["epoch"] for row in csv.DictReader(f)] == ["1", "2"]
        assert (out / "model.npz").is_file()


def test_a_students_prints_meet_a_reader_that_went_away_and_their_exercise_still_passes(solutions, tmp_path):
    """The grading process shares check's stdout: a correct relu that prints failed with BrokenPipeError
    once `| head -1` had gone, and check exited 1."""
    import shlex
    import subprocess

    from cli_helpers import environment

    path = _solution_copy(solutions, tmp_path, "relu")
    path.write_text(path.read_text() + "\n\n_relu = relu\n\ndef relu(x):\n"
                    "    for i in range(200):\n        print('debugging relu', i)\n    return _relu(x)\n")
    argv = shlex.join([sys.executable, "-m", "numvae", "exercises", "check", str(tmp_path), *FAST])
    result = subprocess.run(["bash", "-c", f'{argv} | head -1; exit "${{PIPESTATUS[0]}}"'],
                            capture_output=True, text=True, env=environment(), timeout=600)
    assert result.returncode == 0 and result.stdout == "debugging relu 0\n", (result.returncode, result.stdout)
    assert "Broken pipe" not in result.stderr and "Traceback" not in result.stderr, result.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the grading process in /proc")
def test_a_grading_process_does_not_outlive_a_check_killed_outright(solutions, tmp_path):
    """SIGKILL leaves check no way to stop its child: one in a loop with SIGALRM ignored ran on forever."""
    import os
    import signal
    import subprocess
    import time

    from cli_helpers import environment

    workbook = tmp_path / "wb"
    workbook.mkdir()
    path = _solution_copy(solutions, workbook, "relu")
    looping = tmp_path / "looping"  # written once relu runs: no message up the pipe will end the child then
    path.write_text(path.read_text() + "\n\nimport signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n\n"
                    f"def relu(x):\n    open({str(looping)!r}, 'w').close()\n    while True:\n        pass\n")
    env = {**environment(), "TMPDIR": str(tmp_path)}  # the temporary folder a SIGKILL leaves: the test's own
    process = subprocess.Popen([sys.executable, "-m", "numvae", "exercises", "check", str(workbook)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    children = []
    try:
        for _ in range(6000):  # until the grading process runs (at most ten minutes: never a timed assertion)
            if looping.exists() or process.poll() is not None:
                break
            time.sleep(0.1)
        children = _grading_processes(workbook)
        assert looping.exists() and children, "relu never ran"
        process.kill()
        process.wait(timeout=120)
        for _ in range(600):  # the kernel kills it at once; a minute of grace for a loaded machine
            if not _grading_processes(workbook):
                break
            time.sleep(0.1)
        assert _grading_processes(workbook) == []
    finally:
        process.kill()
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the grading process in /proc")
def test_sigterm_stops_a_check_started_with_sigint_ignored_in_one_line_and_leaves_nothing(solutions, tmp_path):
    """A script's background job (check DIR &) starts with SIGINT ignored; SIGTERM then ended check on the
    spot: no line, its temporary folder left in /tmp."""
    import signal
    import subprocess
    import time

    from cli_helpers import environment

    workbook = tmp_path / "wb"
    workbook.mkdir()
    path = _solution_copy(solutions, workbook, "relu")
    looping = tmp_path / "looping"
    path.write_text(path.read_text() + f"\n\ndef relu(x):\n    open({str(looping)!r}, 'w').close()\n"
                    "    while True:\n        pass\n")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "numvae", "exercises", "check", str(workbook)],
                               env={**environment(), "TMPDIR": str(temporary)}, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        for _ in range(6000):  # until relu runs (at most ten minutes: never a timed assertion)
            if looping.exists() or process.poll() is not None:
                break
            time.sleep(0.1)
        assert looping.exists(), "relu never ran"
        process.terminate()
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGTERM and err == "numvae exercises check: terminated\n", (
        process.returncode, err)
    assert list(temporary.iterdir()) == [] and _grading_processes(workbook) == []


# --------------------------------------------------------------------------
# Hints: each tied to the evidence of its mistake
# --------------------------------------------------------------------------

# Each mistake the issue found misdirected: (exercise, the student's code, the hint it gets, the hint it used to get).
MISTAKES = {
    "d_W divided by the batch size": (
        "dense", "def dense_backward(d_y, x, W):\n    return x.T @ d_y / len(x), d_y.sum(axis=0), d_y @ W.T\n",
        "(hint: d_W is a sum over the batch, not a mean (no division by the batch size))", "d_b is a sum"),
    "KL without the ½ in d_log_var": (
        "kl", "def kl_standard_normal_backward(d_kl, mu, log_var):\n"
              "    d_kl = np.reshape(d_kl, (-1, 1)) if np.ndim(d_kl) else d_kl\n"
              "    return d_kl * mu, d_kl * np.expm1(log_var)\n",
        "(hint: d_log_var is missing a ½: the KL's leading ½ multiplies its log_var terms too)", "std = exp"),
    "the KL's leading ½ dropped in forward and backward": (
        "kl", "def kl_standard_normal(mu, log_var):\n    return np.sum(mu * mu + np.expm1(log_var) - log_var, axis=-1)\n\n\n"
              "def kl_standard_normal_backward(d_kl, mu, log_var):\n"
              "    d_kl = np.reshape(d_kl, (-1, 1)) if np.ndim(d_kl) else d_kl\n"
              "    return 2 * d_kl * mu, d_kl * np.expm1(log_var)\n",
        "(hint: the KL is twice the expected value: its leading ½ is missing)", "expm1"),
    "the mu and log_var KL gradients swapped": (
        "vae_backward", "def encoder_gradient(d_mu_z, d_log_var_z, d_mu_kl, d_log_var_kl):\n"
                        "    return np.concatenate([d_mu_z + d_log_var_kl, d_log_var_z + d_mu_kl], axis=1)\n",
        "(hint: the KL's two gradients are swapped: d_mu_kl belongs with d_mu_z, d_log_var_kl with d_log_var_z)",
        "add both"),
    "the halves of d_h in the wrong order": (
        "vae_backward", "def encoder_gradient(d_mu_z, d_log_var_z, d_mu_kl, d_log_var_kl):\n"
                        "    return np.concatenate([d_log_var_z + d_log_var_kl, d_mu_z + d_mu_kl], axis=1)\n",
        "(hint: the halves are in the wrong order: d_h = [d_mu | d_log_var], mu's gradient first)", "add both"),
    "Adam with δ inside the square root": (
        "adam", "def adam_step(param, grad, m, v, t, lr, betas=(0.9, 0.999), epsilon=1e-8):\n    b1, b2 = betas\n"
                "    m = b1 * m + (1 - b1) * grad\n    v = b2 * v + (1 - b2) * grad**2\n"
                "    return param - lr * (m / (1 - b1**t)) / np.sqrt(v / (1 - b2**t) + epsilon), m, v\n",
        "(hint: δ (epsilon) is under the square root: Algorithm 1 adds it after, √v̂ + δ)", "bias correction"),
    "the mean of the log-weights in the IW bound": (
        "iw_bound", "def iw_bound(log_px_z, log_pz, log_qz):\n    return np.mean(log_px_z + log_pz - log_qz, axis=0)\n",
        "(hint: that is the mean of the log-weights (an average ELBO): the bound is the log of the mean of the weights)",
        "log K"),
    # the zoo's bias_mean keeps its hint: the evidence now names the parameter
    "d_b as a mean": (
        "dense", "def dense_backward(d_y, x, W):\n    return x.T @ d_y, d_y.mean(axis=0), d_y @ W.T\n",
        "(hint: d_b is a sum over the batch, not a mean)", "d_W is a sum"),
    # no evidence, no hint: the failure says what differs
    "a wrong d_log_var with no known pattern": (
        "reparameterize", "def reparameterize_backward(d_z, eps, std):\n    return d_z, 0.5 * d_z * eps * std**2\n",
        "d_log_var: relative error", "(hint:"),
}


@pytest.mark.parametrize("case", list(MISTAKES))
def test_a_known_mistake_gets_the_hint_its_evidence_names(case, solutions, tmp_path, capsys):
    name, code, hint, wrong = MISTAKES[case]
    path = _solution_copy(solutions, tmp_path, name)
    path.write_text(path.read_text() + "\n\n" + code)
    assert main(["exercises", "check", str(tmp_path), name, *FAST]) == 1
    line = _lines(capsys)[name]
    assert line.split()[1] == FAIL and hint in line, line
    assert wrong not in line, line


def test_a_failure_prints_two_numbers_that_differ_and_the_relative_error():
    # used to print "got 0.0009110511944, expected 0.0009110511944" at rtol 1e-14
    from numvae.course.properties import PropertyFailure
    from numvae.course.properties.core import expect_close

    expected = 0.0009110511944
    with pytest.raises(PropertyFailure) as info:
        expect_close("value", [expected * (1 + 5e-14)], [expected], 1e-14, 0)
    detail = info.value.detail
    got_text, expected_text = detail.split("got ")[1].split(", expected ")
    assert got_text != expected_text.split(" ")[0], detail
    assert "relative error 5.0e-14" in detail, detail


# --------------------------------------------------------------------------
# Hints on request
# --------------------------------------------------------------------------

def test_hint_shows_the_next_hint_each_time_and_remembers_it_in_the_workbook(tmp_path, capsys):
    import json

    from numvae.course.hints import HINTS, STATE

    main(["exercises", "start", str(tmp_path), "--only", "kl"])
    for name in NAMES:  # every exercise has graded hints, the formula last
        assert len(HINTS[name]) >= 3, name
    capsys.readouterr()
    for shown in (1, 2, 3, 3):
        assert main(["exercises", "hint", str(tmp_path), "kl"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert [line.split(":")[0] for line in lines if line.startswith("kl hint")] == \
            [f"kl hint {i}/3" for i in range(1, shown + 1)]
    assert "the last hint" in lines[-1]
    assert json.loads((tmp_path / STATE).read_text()) == {"kl": 3}
    assert main(["exercises", "hint", str(tmp_path), "adam"]) == 0  # its own count, from the first
    assert "adam hint 1/3" in capsys.readouterr().out
    assert main(["exercises", "hint", str(tmp_path), "nope"]) == 1
    assert capsys.readouterr().err.startswith("numvae exercises hint: error: NAME: expected names among relu,")


def test_the_hint_for_a_stuck_student_ends_with_a_formula_that_passes(tmp_path, capsys):
    """The last hint of the KL is enough: a file written from it passes check."""
    main(["exercises", "start", str(tmp_path), "--only", "kl"])
    (tmp_path / "kl.py").write_text(
        "import numpy as np\n\n\ndef kl_standard_normal(mu, log_var):\n"
        "    return 0.5 * np.sum(mu**2 + np.expm1(log_var) - log_var, axis=-1)\n\n\n"
        "def kl_standard_normal_backward(d_kl, mu, log_var):\n"
        "    d = d_kl[:, None] if np.ndim(d_kl) else d_kl\n"
        "    return d * mu, d * 0.5 * np.expm1(log_var)\n")
    assert main(["exercises", "check", str(tmp_path), "kl", *FAST]) == 0, capsys.readouterr().out


# --------------------------------------------------------------------------
# The lectures' questions
# --------------------------------------------------------------------------

def test_questions_are_graded_from_the_workbook_and_the_key_ships_only_with_the_solutions(solutions, tmp_path, capsys):
    from numvae.course.questions import QUESTIONS

    main(["exercises", "start", str(tmp_path), "--only", "kl"])
    text = (tmp_path / "questions.py").read_text()
    assert all(f'"{q.id}": None,' in text for q in QUESTIONS), "the student's copy holds no answer"
    assert all(f'"{q.id}": {q.key!r},' in (solutions / "questions.py").read_text() for q in QUESTIONS)
    capsys.readouterr()
    (tmp_path / "questions.py").write_text(text.replace('"kl_q1": None', '"kl_q1": 0.684')
                                           .replace('"kl_q2": None', '"kl_q2": 0.3'))
    assert main(["exercises", "check", str(tmp_path), "questions"]) == 1
    lines = _lines(capsys)
    assert lines["kl_q1"].split()[1] == PASS
    assert lines["kl_q2"].split()[1] == FAIL and "is not the answer to a relative 0.001" in lines["kl_q2"]
    assert "0.3161" not in lines["kl_q2"], "a wrong answer must not be told the right one"
    (tmp_path / "questions.py").write_text(text.replace('"kl_q1": None', '"kl_q1": np.exp(-1)'))
    assert main(["exercises", "check", str(tmp_path), "questions"]) == 1
    assert "the answer to 'kl_q1' is not a number" in capsys.readouterr().out
    assert main(["exercises", "check", str(solutions), "questions"]) == 0
    assert f"questions: {len(QUESTIONS)}/{len(QUESTIONS)} right" in capsys.readouterr().out


LECTURES = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("lecture", LECTURES, ids=[p.stem for p in LECTURES])
def test_every_lecture_ends_with_its_exercises_and_questions(lecture):
    import re

    from numvae.course.questions import QUESTIONS

    text = lecture.read_text(encoding="utf-8")
    section = text[text.rindex("# %% [markdown]"):]
    assert "## Exercises for this lecture" in section, f"{lecture.name}: no exercises section at its end"
    only = re.findall(r"numvae exercises start \S+ --only (\S+)", section)
    assert only, f"{lecture.name}: no numvae exercises start ... --only ... line"
    assert all(set(o.split(",")) <= set(NAMES) for o in only), only
    for q in QUESTIONS:
        if q.lecture == lecture.name[:2]:
            assert f"`{q.id}`" in section, f"{lecture.name}: question {q.id} is not asked"
    assert any(q.lecture == lecture.name[:2] for q in QUESTIONS), f"{lecture.name}: no graded question"


# --------------------------------------------------------------------------
# The loop: fix, check, train again
# --------------------------------------------------------------------------

def test_train_lists_the_exercises_that_fail_and_trains_again_with_overwrite(solutions, tmp_path, capsys):
    path = _solution_copy(solutions, tmp_path, "kl")
    path.write_text(path.read_text() + "\n\n" + MISTAKES["KL without the ½ in d_log_var"][1])
    assert main(["exercises", "train", str(tmp_path), *TRAIN]) == 0
    out = capsys.readouterr().out
    assert "these fail numvae exercises check" in out and "\n  kl " in out and "FAIL" in out, out
    assert main(["exercises", "train", str(tmp_path), *TRAIN]) == 1
    assert "add --overwrite to train again" in capsys.readouterr().err
    assert main(["exercises", "train", str(tmp_path), "--overwrite", *TRAIN]) == 0
    assert len(_history(tmp_path / "run" / "history.csv")) == 1


# --------------------------------------------------------------------------
# M2's exercises: the softmax and cross-entropy, the unlabelled bound
# --------------------------------------------------------------------------

M2_EXERCISES = ("softmax_cross_entropy", "unlabelled_bound")


def test_the_m2_exercises_pass_check_with_the_solutions(solutions, capsys):
    assert main(["exercises", "check", str(solutions), *M2_EXERCISES, *FAST]) == 0
    lines = _lines(capsys)
    assert all(lines[name].split()[1] == PASS for name in M2_EXERCISES), lines


# Each a classic mistake a student makes in softmax_cross_entropy (the zoo holds the unlabelled bound's):
# (the student's code, what the failing line says).
SOFTMAX_MISTAKES = {
    "softmax without the max subtracted": (
        "def softmax(logits):\n    e = np.exp(logits)\n    return e / np.sum(e, axis=-1, keepdims=True)\n",
        "softmax rows sum to 1"),
    "log_softmax as the log of the softmax": (
        "def log_softmax(logits):\n    e = np.exp(logits - np.max(logits, axis=-1, keepdims=True))\n"
        "    return np.log(e / np.sum(e, axis=-1, keepdims=True))\n", "divide by zero encountered in log"),
    "the cross-entropy gradient without the target": (
        "def cross_entropy_backward(d_ce, logits, y_one_hot):\n"
        "    d = np.reshape(d_ce, (-1, 1)) if np.ndim(d_ce) else d_ce\n    return d * softmax(logits)\n",
        "the cross-entropy gradient is p − onehot"),
    "a sum over the batch instead of over the classes": (
        "def cross_entropy(logits, y_one_hot):\n    return -np.sum(y_one_hot * log_softmax(logits), axis=0)\n",
        "expected shape"),
}


@pytest.mark.parametrize("case", list(SOFTMAX_MISTAKES))
def test_a_classic_softmax_mistake_fails_its_check(case, solutions, tmp_path, capsys):
    code, says = SOFTMAX_MISTAKES[case]
    path = _solution_copy(solutions, tmp_path, "softmax_cross_entropy")
    path.write_text(path.read_text() + "\n\n" + code)
    assert main(["exercises", "check", str(tmp_path), "softmax_cross_entropy", *FAST]) == 1
    line = _lines(capsys)["softmax_cross_entropy"]
    assert line.split()[1] == FAIL and says in line, line


@pytest.mark.parametrize("mutant", ["entropy_forgotten", "argmax", "alpha_on_unlabelled"])
def test_each_mistake_of_the_unlabelled_bound_fails_its_check(mutant, tmp_path, capsys):
    from numvae.course import zoo

    zoo.place_in_workbook(zoo.BY_MUTANT[mutant], tmp_path)
    assert main(["exercises", "check", str(tmp_path), "unlabelled_bound", *FAST]) == 1
    assert _lines(capsys)["unlabelled_bound"].split()[1] == FAIL


# The last hint of each, typed in as a student would: it passes.
FROM_THE_LAST_HINT = {
    "softmax_cross_entropy": (
        "import numpy as np\n\n\ndef log_softmax(logits):\n"
        "    s = logits - np.max(logits, axis=-1, keepdims=True)\n"
        "    return s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))\n\n\n"
        "def softmax(logits):\n    return np.exp(log_softmax(logits))\n\n\n"
        "def cross_entropy(logits, y_one_hot):\n    return -np.sum(y_one_hot * log_softmax(logits), axis=-1)\n\n\n"
        "def cross_entropy_backward(d_ce, logits, y_one_hot):\n"
        "    d = d_ce[:, None] if np.ndim(d_ce) else d_ce\n    return d * (softmax(logits) - y_one_hot)\n"),
    "unlabelled_bound": (
        "import numpy as np\n\nfrom numvae.categorical import entropy, log_softmax, softmax\n\n\n"
        "def unlabelled_loss(losses, logits):\n"
        "    return np.sum(softmax(logits) * losses, axis=-1) - entropy(logits)\n\n\n"
        "def unlabelled_loss_backward(d_u, losses, logits):\n"
        "    q, log_q = softmax(logits), log_softmax(logits)\n"
        "    u = np.sum(q * losses, axis=-1) - entropy(logits)\n"
        "    d = d_u[:, None] if np.ndim(d_u) else d_u\n"
        "    return d * q, d * q * (losses + log_q - u[:, None])\n"),
}


@pytest.mark.parametrize("name", M2_EXERCISES)
def test_the_last_hint_of_each_m2_exercise_is_a_formula_that_passes(name, tmp_path, capsys):
    from numvae.course.hints import HINTS

    assert len(HINTS[name]) == 3
    main(["exercises", "start", str(tmp_path), "--only", name])
    (tmp_path / f"{name}.py").write_text(FROM_THE_LAST_HINT[name])
    assert main(["exercises", "check", str(tmp_path), name, *FAST]) == 0, capsys.readouterr().out


# --------------------------------------------------------------------------
# train --model m2 | m1m2: M2's exercises in a training run
# --------------------------------------------------------------------------

SEMI = ["--epochs", "2", "--hidden", "16", "--labels-per-class", "5", "--seed", "3"]
SEMI_MODELS = {"m2": [], "m1m2": ["--m1-epochs", "1"]}


@pytest.fixture
def trained(monkeypatch):
    """The models numvae semi's train_and_report returns, in the order it trained them (exercises train calls it too)."""
    from numvae.cli import semi

    models, train_and_report = [], semi.train_and_report

    def keeping_the_model(*args, **kwargs):
        models.append(train_and_report(*args, **kwargs))
        return models[-1]

    monkeypatch.setattr(semi, "train_and_report", keeping_the_model)
    return models


def _parameters(model):
    """Every trained array of an M2, or of M1+M2 (its VAE's, then its M2's)."""
    parts = [model] if hasattr(model, "parameters") else [model.vae, model.m2]
    return [(name, value) for part in parts for name, value in part.parameters().items()]


def _progress(out):
    """The lines that report the training, without their timings."""
    return [line.split("  [")[0].rsplit(",", 1)[0] for line in out.splitlines() if line.startswith(("epoch", "test"))]


@pytest.mark.parametrize("model", list(SEMI_MODELS))
def test_train_with_the_solutions_gives_the_model_numvae_semi_gives(model, solutions, trained, capsys):
    assert main(["exercises", "train", str(solutions), "--model", model, *SEMI, *SEMI_MODELS[model]]) == 0
    ours = capsys.readouterr().out
    assert "your functions: " + ", ".join(NAMES) in ours and "a VAE does not use" not in ours
    assert main(["semi", "--model", model, *SEMI, *SEMI_MODELS[model]]) == 0
    theirs = capsys.readouterr().out
    assert _progress(ours) == _progress(theirs) and _progress(ours)[-1].startswith("test accuracy"), (ours, theirs)
    for (name, a), (_, b) in zip(*map(_parameters, trained), strict=True):
        assert np.array_equal(a, b), name  # the same arithmetic, bit for bit


M2_MISTAKES = {  # a mistake in each M2 exercise, and the run that shows it is used: (exercise, code, model)
    "softmax_cross_entropy": ("def cross_entropy_backward(d_ce, logits, y_one_hot):\n"
                              "    return 2 * (softmax(logits) - y_one_hot) * np.reshape(d_ce, (-1, 1))\n", "m2"),
    "unlabelled_bound": ("def unlabelled_loss(losses, logits):\n    return np.min(losses, axis=-1)\n\n\n"
                         "def unlabelled_loss_backward(d_u, losses, logits):\n"
                         "    q = np.eye(losses.shape[1])[np.argmin(losses, axis=-1)]\n"
                         "    return np.reshape(d_u, (-1, 1)) * q, np.zeros_like(logits)\n", "m1m2"),
}


@pytest.mark.parametrize("name", M2_EXERCISES)
def test_train_m2_computes_with_the_students_m2_functions(name, solutions, trained, tmp_path, capsys):
    code, model = M2_MISTAKES[name]
    path = _solution_copy(solutions, tmp_path, name)
    path.write_text(path.read_text() + "\n\n" + code)
    assert main(["exercises", "train", str(tmp_path), "--model", model, *SEMI, *SEMI_MODELS[model]]) == 0
    assert f"your functions: {name};" in capsys.readouterr().out
    assert main(["semi", "--model", model, *SEMI, *SEMI_MODELS[model]]) == 0
    assert any(not np.array_equal(a, b) for (_, a), (_, b) in zip(*map(_parameters, trained), strict=True))


def test_train_says_a_vae_does_not_use_the_m2_exercises_and_which_model_does(tmp_path, capsys):
    main(["exercises", "start", str(tmp_path), "--only", "unlabelled_bound", "--solutions"])
    capsys.readouterr()
    assert main(["exercises", "train", str(tmp_path), *TRAIN]) == 0
    assert "a VAE does not use unlabelled_bound: --model m1m2 (or m2) trains M2 with them" in capsys.readouterr().out


def test_train_m2_reports_a_students_exception_in_one_line(solutions, tmp_path, capsys):
    path = _solution_copy(solutions, tmp_path, "unlabelled_bound")
    path.write_text(path.read_text() + "\n\ndef unlabelled_loss(losses, logits):\n    return losses[:, 99]\n")
    assert main(["exercises", "train", str(tmp_path), "--model", "m2", *SEMI]) == 1
    err = capsys.readouterr().err
    assert err.startswith("numvae exercises train: error: training stopped: IndexError") and err.count("\n") == 1, err


@pytest.mark.parametrize("argv, message", [
    (["--model", "m2", "--latent-dim", "3"], "--latent-dim: only used with --model vae, got --model m2"),
    (["--model", "m1m2", "--out", "x"], "--out: only used with --model vae, got --model m1m2"),
    (["--model", "m2", "--overwrite"], "--overwrite: only used with --model vae, got --model m2"),
    (["--alpha", "2"], "--alpha: only used with --model m2 or m1m2, got --model vae"),
    (["--model", "m2", "--m1-epochs", "3"], "--m1-epochs: only used with --model m1m2, got --model m2"),
    (["--model", "m2", "--hidden", "8", "8"], "--hidden: M2's networks have one hidden layer, as in numvae semi; "
                                              "expected one size, got 2"),
    (["--model", "m2", "--labels-per-class", "1000"], "--labels-per-class: expected at most 400"),
], ids=["latent_dim", "out", "overwrite", "alpha", "m1_epochs", "hidden", "labels_per_class"])
def test_train_refuses_a_flag_of_another_model_in_one_line(argv, message, tmp_path, capsys):
    assert main(["exercises", "train", str(tmp_path), *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"numvae exercises train: error: {message}") and err.count("\n") == 1, err
