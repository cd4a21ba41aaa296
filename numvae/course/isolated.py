"""Grading in a child process, so that a student's file cannot take ``check`` down with it.

``exit()`` raises SystemExit, which the checker catches; but ``os._exit()``, a
segfault in compiled code or ``os.kill(os.getpid(), 9)`` end the process that
runs the student's code at once, with nothing to catch. Run in-process,
``check`` then ended silently with the student's exit status (0 for
``os._exit(0)``: a "pass"). Here a child process runs :func:`.checker.check_exercise`
for each exercise that has code to run and sends each result up a pipe; a
child that dies before sending one has failed that exercise, named with its
exit status or signal, and a fresh child grades the rest. Exercises decided by
reading the file alone (missing, not started, a syntax error) are graded by
the parent, which starts no child for them.

The parent also enforces the time budget, ``timeout`` + :data:`GRACE` seconds
per exercise: the child's own alarm (SIGALRM) can be ignored by the student's
code, or held up inside compiled code.

Ctrl-C belongs to the parent: the child starts with SIGINT blocked, so the
terminal's SIGINT stops only the parent, which kills the child on its way out
(exit 130, one line). A KeyboardInterrupt in the child is the student's own
``raise``, and fails the exercise.

Protocol: ``python -c "..." FD DIR MAX_EXAMPLES TIMEOUT NAME...`` runs
:func:`serve`, which writes JSON lines to the pipe FD: ``{"start": name}``,
``{"stage": text}`` as each step starts, ``{"result": {...}}`` when graded.
"""

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import suppress as _suppress
from dataclasses import asdict
from pathlib import Path

from ..cli.common import discard
from .properties.core import describe
from .checker import FAIL, NOT_STARTED, PASS, Result, check_exercise, precheck

GRACE = 2.0
"""Seconds the parent waits beyond ``timeout`` for the child's own alarm to report a hang."""

START_UP = 120.0
"""Seconds a child may take to start (Python, NumPy, Hypothesis) before its first exercise; no student code runs."""

READING = "reading the file"

FOREIGN = "foreign"
"""What :meth:`_Child._message` returns for a line on the pipe that the checker did not write."""

SIGNAL_CAUSES = {
    "SIGSEGV": "a crash in compiled code: ctypes, or a C extension given bad memory?",
    "SIGBUS": "a crash in compiled code: ctypes, or a C extension given bad memory?",
    "SIGABRT": "abort() in compiled code",
    "SIGFPE": "a division by zero in compiled code",
    "SIGKILL": "os.kill(), or the system ran out of memory?",
}


def ending(returncode):
    """How a process ended, from its return code: "exit status 3", "signal 11 (SIGSEGV)"."""
    if returncode is None or returncode >= 0:
        return f"exit status {returncode}"
    try:
        return f"signal {-returncode} ({signal.Signals(-returncode).name})"
    except ValueError:
        return f"signal {-returncode}"


def death(stage, returncode):
    """Why an exercise whose child ended with ``returncode`` (negative: killed by that signal) failed, as one line."""
    if returncode is not None and returncode < 0:
        how = ending(returncode)
        cause = SIGNAL_CAUSES.get(how.partition("(")[2].rstrip(")"))
        return f"{stage}: the process running your code was killed by {how}" + (f": {cause}" if cause else "")
    return f"{stage}: your code ended the process running it, with {ending(returncode)} (os._exit()?)"


class _Child:
    """One child process grading ``names`` in order; :meth:`result` reads the next one."""

    def __init__(self, names, directory, max_examples, timeout, storage):
        self.names, self.timeout = list(names), timeout
        self.argv = [str(directory), str(max_examples), repr(float(timeout)), *self.names]
        self.storage, self.process, self.fd, self.buffer, self.heard = storage, None, None, b"", False

    def start(self):
        import numvae

        root = str(Path(numvae.__file__).resolve().parent.parent)  # the parent's numvae, not another one
        code = (f"import sys; root = {root!r}\n"
                "if root not in sys.path: sys.path.insert(0, root)\n"
                f"from numvae.course.isolated import serve; serve(sys.argv[1:], parent={os.getpid()})")
        env = {"HYPOTHESIS_STORAGE_DIRECTORY": self.storage, **os.environ}  # a user's own choice is kept
        read, write = os.pipe()
        # The child inherits the signal mask, and keeps SIGINT blocked to its end: the terminal's Ctrl-C
        # reaches only the parent. Blocked (not ignored) here, a Ctrl-C in these lines is not lost: it is
        # delivered to the parent as the mask is restored, once self.process is set for close().
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if hasattr(signal, "pthread_sigmask") else None
        try:
            self.fd = read
            self.process = subprocess.Popen([sys.executable, "-c", code, str(write), *self.argv], pass_fds=(write,),
                                            stdin=subprocess.DEVNULL, env=env)
        finally:
            os.close(write)
            if mask is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        self.clock = time.monotonic()

    def _message(self, deadline):
        """The next message, None at end of file, or "timeout" once ``deadline`` passes."""
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            ready, _, _ = select.select([self.fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            return FOREIGN  # not the checker's: the student's code wrote to the pipe

    def result(self, name):
        """The Result of exercise ``name``: the child's, or a FAIL if it died or hung on it."""
        stage = READING

        def failed(text):  # the step it failed at, as the property (none while the file is read)
            return Result(name, FAIL, text, property="" if stage == READING else stage)

        while True:  # the clock restarts at each exercise's start; a child's own start-up has more time
            message = self._message(self.clock + self.timeout + (GRACE if self.heard else START_UP))
            if message == "timeout":
                self.close()
                if not self.heard:
                    raise ChildProcessError(f"the process that grades did not start within {START_UP:g}s")
                return failed(f"{stage}: no answer within {self.timeout:g}s (an infinite loop?)")
            if message == FOREIGN or isinstance(message, dict) and "result" in message and not _valid(message, name):
                # The student's code wrote to the pipe (its fd is in sys.argv): not a grade to trust,
                # nor one to crash on (Result(**...) raised TypeError, a traceback).
                self.close()
                return failed(f"{stage}: your code wrote to the pipe that reports to check")
            if not isinstance(message, dict):
                returncode = self.close()
                if not self.heard:  # no student code has run yet: the child itself could not start
                    raise ChildProcessError(f"the process that grades could not start: it ended with {ending(returncode)}")
                return failed(death(stage, returncode))
            self.heard = True
            if "error" in message:  # the child could not grade at all (hypothesis missing, say)
                self.close()
                raise ChildProcessError(str(message["error"]))
            if "start" in message:
                self.clock = time.monotonic()
            elif "stage" in message:
                stage = str(message["stage"])
            elif "result" in message:
                self.clock = time.monotonic()
                return Result(**message["result"])

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def close(self):
        """Stop the child (if it still runs) and return its exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.kill()
        returncode = self.process.wait()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        return returncode


def _valid(message, name):
    """Whether ``message`` is a result the child's :func:`serve` could have sent for exercise ``name``."""
    result = message["result"]
    return (isinstance(result, dict) and set(result) == {"name", "status", "message", "property"}
            and all(isinstance(v, str) for v in result.values()) and result["name"] == name
            and result["status"] in (PASS, FAIL, NOT_STARTED))


def grade(exercises, directory, max_examples=50, timeout=120.0):
    """Yield the Result of each exercise in ``exercises``, in order; student code runs in child processes."""
    decided = {e.name: precheck(e, directory) for e in exercises}
    to_run = [e.name for e in exercises if decided[e.name] is None]
    storage = tempfile.mkdtemp(prefix="numvae-hypothesis-")  # Hypothesis's caches, removed even if a child dies
    child = None
    try:
        for exercise in exercises:
            if decided[exercise.name] is not None:
                yield decided[exercise.name]
                continue
            if child is None:
                child = _Child(to_run[to_run.index(exercise.name):], directory, max_examples, timeout, storage)
                child.start()
            result = child.result(exercise.name)
            if not child.alive():
                child.close()
                child = None
            yield result
    finally:
        if child is not None:
            child.close()
        shutil.rmtree(storage, ignore_errors=True)


class _ReaderMayGo:
    """The child's ``sys.stdout`` or ``sys.stderr``: once its reader has gone (``check DIR | head -1``), what
    the student's code prints is discarded, as the parent's own lines are (:func:`..cli.common.say`).

    The child inherits the parent's stdout; without this, a ``print`` in a correct function met the
    closed pipe and failed its exercise with ``BrokenPipeError`` (and ``check`` exited 1).
    """

    def __init__(self, stream):
        self._stream = stream

    def _gone(self):
        discard(self._stream)  # the stream's buffer, and Python's last flush at exit, then go nowhere

    def write(self, text):
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self):
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()
            with _suppress(OSError, ValueError):
                self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _die_with(parent):
    """Linux: have the kernel kill this process when ``parent`` (the pid that started it) dies.

    A parent killed outright (SIGKILL, a SIGTERM it could not handle) cannot kill its child; the child
    then learnt of it only at its next message up the pipe, and a student's loop with SIGALRM ignored
    never sent one: it ran on, at full CPU, forever.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


def serve(argv, parent=None):
    """The child: grade the exercises named in ``argv`` (see the module docstring), reporting to the pipe."""
    if parent is not None:
        _die_with(parent)
    from .properties import require_hypothesis
    from .catalog import select as select_exercises

    fd, directory, max_examples, timeout, *names = argv
    channel = os.fdopen(int(fd), "w", encoding="utf-8")
    os.set_inheritable(channel.fileno(), False)  # not for the student's own subprocesses
    directory = os.path.abspath(directory)  # a student's os.chdir() cannot lose the workbook
    # A helper module of the student's, imported inside a function, is found when the function runs
    # (load() puts the workbook first on the path only while a file is imported); last, so that it
    # never hides a module the checker imports later.
    sys.path.append(directory)
    sys.stdout, sys.stderr = _ReaderMayGo(sys.stdout), _ReaderMayGo(sys.stderr)

    def send(**message):
        try:
            channel.write(json.dumps(message) + "\n")
            channel.flush()
        except (OSError, ValueError):  # the parent has gone (or the student's code closed the pipe)
            os._exit(1)

    try:
        require_hypothesis()
    except ImportError as exc:
        send(error=str(exc))
        return
    for exercise in select_exercises(names):
        send(start=exercise.name)
        stage = [READING]

        def on_stage(text):
            stage[0] = text
            send(stage=text)

        try:
            result = check_exercise(exercise, directory, int(max_examples), float(timeout), on_stage=on_stage)
        except BaseException as exc:  # KeyboardInterrupt (SIGINT is blocked here: the student's own raise), ...
            result = Result(exercise.name, FAIL, f"{stage[0]}: your code raised {describe(exc)}",
                            property=stage[0] if stage[0] != READING else "")
        for stream in (sys.stdout, sys.stderr):  # the student's prints before the line that grades them
            try:
                stream.flush()
            except Exception:
                pass
        send(result=asdict(result))
