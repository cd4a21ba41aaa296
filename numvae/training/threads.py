"""How many threads BLAS may use for numvae's matrix products.

numvae's matrices are small (a batch of 128 times 784 x 400 is about 40
million multiply-adds, under a millisecond). OpenBLAS splits each product over
all cores and then waits for every part, its threads spinning while they
wait. On an idle machine that is worth it: two threads nearly halve a
product's time. But when another program holds a core, the part scheduled on
that core waits for its time slice, and every product waits for it: on a
loaded two-core machine ``numvae train`` took 2.3 times longer with two
threads than with one, and both numvae's and PyTorch's epochs several times longer
(``benchmarks/bench_threads.py`` and ``bench_vs_torch.py``; the numbers are
in ``benchmarks/README.md``).

So numvae gives BLAS only the cores nobody else is using, counted once when a
command starts: the cores this process may run on, minus the tasks of other
programs that are running or waiting to run right now (Linux's
``/proc/loadavg``, sampled a few times). The choice is made once per run, not
per epoch: another thread count can sum in another order, and a run should be
reproducible bit for bit.

The user decides instead by setting ``NUMVAE_NUM_THREADS``, or BLAS's own
``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` or ``OMP_NUM_THREADS``; then
numvae leaves BLAS alone apart from applying ``NUMVAE_NUM_THREADS``.
"""

import os
import time

from threadpoolctl import threadpool_limits

MAX_THREADS = 2**31 - 1
"""The most ``NUMVAE_NUM_THREADS`` may ask for: BLAS takes a C int (2**32 would wrap round to 0)."""

BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")
"""Variables through which the user already told BLAS how many threads to use."""


def available_cores():
    """Cores this process may run on (its CPU affinity, e.g. under ``taskset``)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _our_running_tasks():
    """Threads of this process that are running now (ourselves, spinning BLAS workers)."""
    running = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/stat") as f:
                # "pid (name) state ...": the state follows the last ")".
                running += f.read().rpartition(")")[2].split()[0] == "R"
        except OSError:  # the thread ended meanwhile
            pass
    return running


def busy_cores(samples=5, interval=0.01):
    """How many cores other programs keep busy right now, or None if unknown.

    The fourth field of ``/proc/loadavg`` counts the tasks running or ready to
    run, this process's own included; the median over a few samples
    ``interval`` seconds apart ignores a task that only runs for an instant.
    Linux only (elsewhere: None).
    """
    counts = []
    for i in range(samples):
        if i:
            time.sleep(interval)
        try:
            with open("/proc/loadavg") as f:
                running = int(f.read().split()[3].split("/")[0])
            ours = _our_running_tasks()
        except (OSError, ValueError, IndexError):
            return None
        counts.append(max(0, running - ours))
    return sorted(counts)[len(counts) // 2]


def choose_blas_threads(environ=None):
    """The thread count numvae would give BLAS, and why, as ``(threads, reason)``.

    ``threads`` is None when the user has set one of :data:`BLAS_VARIABLES`
    (BLAS read it when it started; numvae does not override it).

    Raises
    ------
    ValueError
        If ``NUMVAE_NUM_THREADS`` is set but is not a positive integer of at most :data:`MAX_THREADS`.
    """
    environ = os.environ if environ is None else environ
    requested = environ.get("NUMVAE_NUM_THREADS")
    if requested is not None:
        digits = requested.strip()
        # ASCII digits only: str.isdigit() also accepts "²", which int() then refuses.
        if not (digits.isascii() and digits.isdigit()) or int(digits) <= 0:
            raise ValueError(f"NUMVAE_NUM_THREADS: expected a positive integer, got {requested!r}")
        if int(requested) > MAX_THREADS:
            raise ValueError(
                f"NUMVAE_NUM_THREADS: expected a positive integer at most {MAX_THREADS:,} "
                f"(BLAS takes a C int), got {requested!r}"
            )
        return int(requested), "NUMVAE_NUM_THREADS"
    for name in BLAS_VARIABLES:
        if environ.get(name):
            return None, name
    cores = available_cores()
    busy = busy_cores()
    if busy is None:
        return cores, f"{cores} cores available"
    threads = max(1, min(cores, cores - busy))
    return threads, f"{cores} cores available, {busy} busy with other programs"


def set_blas_threads(environ=None):
    """Apply :func:`choose_blas_threads` for the rest of the process; return its result.

    Commands call this once when they start (``numvae train``, ``evaluate``).
    """
    threads, reason = choose_blas_threads(environ)
    if threads is not None:
        threadpool_limits(limits=threads, user_api="blas")
    return threads, reason
