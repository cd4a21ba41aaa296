"""Compare the models saved by measure_iwae.py runs: per seed, paired by test image, and over seeds.

    PYTHONPATH=. python scripts/compare_iwae_runs.py "IWAE, 100 epochs=/tmp/iwae-run/iwae" \
        "VAE, 100 epochs=/tmp/iwae-run/elbo" "VAE, 270 epochs=/tmp/iwae-matched270/elbo" ...

Each argument is ``label=PREFIX``; the files are ``PREFIX_seed{s}.npz``. The
first label is compared with each of the others: the difference of L_1 (all
test images) and of L_5000 (the first n_iw test images) image by image, with
the standard error of the per-image differences, per seed; then the mean over
seeds ± the standard error of the per-seed values. Active units: Burda et
al.'s count, Cov_x(E_q[z_j]) > 1e-2.
"""

import sys

import numpy as np

ACTIVE = 1e-2


def load(prefix, seeds):
    return {seed: np.load(f"{prefix}_seed{seed}.npz") for seed in seeds}


def se(a):
    return a.std(ddof=1) / np.sqrt(len(a))


def main(arguments, seeds=(0, 1, 2)):
    runs = {}
    for argument in arguments:
        label, prefix = argument.split("=", 1)
        runs[label] = load(prefix, seeds)
    print("per seed: mean ± s.e. over test images (L_1: 1000 images, L_5000: the first 300); active units of 50")
    for label, by_seed in runs.items():
        for seed, saved in by_seed.items():
            print(f"{label:18s} seed {seed}: L_1 {saved['elbo'].mean():8.2f} ± {se(saved['elbo']):.2f}   "
                  f"L_5000 {saved['l_5000'].mean():8.2f} ± {se(saved['l_5000']):.2f}   "
                  f"active {int(np.sum(saved['activity'] > ACTIVE)):2d}")
    for label, by_seed in runs.items():
        for name in ("elbo", "l_5000"):
            means = np.array([saved[name].mean() for saved in by_seed.values()])
            print(f"{label:18s} {'L_1' if name == 'elbo' else 'L_5000':6s} over seeds: {means.mean():8.2f} ± "
                  f"{se(means):.2f}")
        print(f"{label:18s} active units: {[int(np.sum(s['activity'] > ACTIVE)) for s in by_seed.values()]}")
    first, *others = runs
    print(f"\n{first} minus each other model, paired by test image")
    for other in others:
        for name in ("elbo", "l_5000"):
            differences = [runs[first][s][name] - runs[other][s][name] for s in seeds]
            per_seed = "   ".join(f"{d.mean():+6.2f} ± {se(d):.2f}" for d in differences)
            means = np.array([d.mean() for d in differences])
            print(f"  − {other:18s} {'L_1' if name == 'elbo' else 'L_5000':6s} seeds {seeds}: {per_seed}   "
                  f"over seeds {means.mean():+6.2f} ± {se(means):.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
