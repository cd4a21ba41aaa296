"""`numvae train` with each BLAS thread policy, on the machine as it is and beside spinning processes.

Policies:

* ``all cores``: ``OPENBLAS_NUM_THREADS`` = the cores available, what BLAS
  does by itself (numvae before ``numvae.training.threads``);
* ``one``: ``OPENBLAS_NUM_THREADS=1``;
* ``numvae``: ``numvae.training.threads.set_blas_threads()`` chooses at start.

Conditions: as the machine is, then with ``--spinners`` processes running
``while True: pass`` beside it (one core busy with the default of 1). Runs are
interleaved (every policy once per round) and the median of ``--rounds``
rounds is printed, wall clock, each run in a fresh process.

    python benchmarks/bench_threads.py --epochs 5 --rounds 3
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout

from numvae.cli.common import non_negative_int, positive_int  # noqa: E402

CORES = len(os.sched_getaffinity(0))
TRAIN = (
    "import sys; from numvae.training.threads import set_blas_threads; print('threads', set_blas_threads()); "
    "from numvae.cli import main; sys.exit(main(sys.argv[1:]))"
)
POLICIES = {
    "all cores": {"OPENBLAS_NUM_THREADS": str(CORES)},
    "one": {"OPENBLAS_NUM_THREADS": "1"},
    "numvae": {},
}
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "NUMVAE_NUM_THREADS")


def run(policy, epochs, out):
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARIABLES}
    env.update(POLICIES[policy])
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    argv = ["train", "--epochs", str(epochs), "--no-progress", "--out", out]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", TRAIN, *argv], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{policy}: numvae train failed:\n{done.stderr}")
    chosen = done.stdout.splitlines()[0] if policy == "numvae" else ""
    return seconds, chosen


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=positive_int, default=5, help="epochs of `numvae train` (default: 5)")
    parser.add_argument("--rounds", type=positive_int, default=3, help="runs of each policy per condition (default: 3)")
    parser.add_argument("--spinners", type=non_negative_int, default=1, help="busy processes beside it (default: 1)")
    args = parser.parse_args(argv)
    print(f"{CORES} cores; load average {os.getloadavg()[0]:.2f}; numvae train --epochs {args.epochs} (mnist5k)")
    for condition in ("as is", f"{args.spinners} spinning"):
        spinners = []
        if condition != "as is":
            spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.spinners)]
            time.sleep(1)
        try:
            seconds = {p: [] for p in POLICIES}
            chosen = set()
            for _ in range(args.rounds):
                for policy in POLICIES:
                    with tempfile.TemporaryDirectory() as tmp:
                        s, c = run(policy, args.epochs, str(Path(tmp) / "run"))
                    seconds[policy].append(s)
                    if c:
                        chosen.add(c)
        finally:
            for p in spinners:
                p.kill()
                p.wait()
        cells = ", ".join(f"{p} {statistics.median(s):.1f} s" for p, s in seconds.items())
        print(f"{condition:>12}: median of {args.rounds}: {cells}  (numvae chose: {'; '.join(sorted(chosen))})")
        print(f"{'':>12}  all runs: " + ", ".join(f"{p} " + "/".join(f"{x:.1f}" for x in s) for p, s in seconds.items()))


if __name__ == "__main__":
    main()
