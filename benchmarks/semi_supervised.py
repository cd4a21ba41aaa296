"""Semi-supervised MNIST with few labels: M1+M2 and M2 against four baselines, on the same label draws.

    python benchmarks/semi_supervised.py                      # the full table (about 10 minutes, one thread)
    python benchmarks/semi_supervised.py --draws 1 --m1-epochs 5 --m2-epochs 5 --pixel-epochs 2   # a smoke run

mnist5k's own 4,000 / 1,000 split. For each number of labels per class and
each draw d = 0, 1, 2: ``draw_labelled`` with seed d picks the labelled
training images; every method sees exactly those; every training image is
used without its label by the methods that use unlabelled data (PCA, M1, M2).
Draw d also seeds M1's VAE (so the spread covers the label draw and the VAE's
own seed together) and M2.

* logistic regression on raw pixels (λ = 1e-2, not tuned; 200 Adam steps);
* 1-NN on PCA-20 (PCA fitted on all 4,000 training images);
* an MLP 784-256-10 on the labelled images alone (300 Adam steps);
* 1-NN on M1's codes (the means of q(z|x), z = 50, VAE 784-400-50, dynamically binarized);
* M1+M2: M2 (hidden 256, z = 20, Gaussian likelihood with learned variance) on those codes;
* M2 on raw pixels (hidden 256, z = 50, Bernoulli, dynamically binarized), 10 labels per class only,
  its test accuracy every ``--every`` epochs: a learning curve over the budget given.

α, the weight of the labelled cross-entropy, is 10 for M2 on pixels: in the
per-example means numvae minimises, the paper's α = 0.1·N (in its sums over
the data set) becomes 0.1 × the number of labelled images, 10 at 10 labels
per class. M2 on codes (``M1M2``) uses α = 1 and Adam's learning rate 3e-3,
both chosen on 1,000 training images held out of M2's training (draws 0-2;
the settings tried are in benchmarks/README.md), not on the test set. Prints mean ± sd over draws.
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from numvae.cli.common import non_negative_int, positive_int
from numvae.data import load_dataset
from numvae.m2 import M2
from numvae.training import baselines
from numvae.training.semi import M1M2, draw_labelled, fit_m2

REFERENCE = {  # the autograd prototype, mean ± sd over three draws: (10/class, 100/class)
    "logistic regression, raw pixels": ("0.778 ± 0.020", "0.885 ± 0.005"),
    "1-NN, PCA-20": ("0.790 ± 0.013", "0.908 ± 0.010"),
    "MLP 784-256-10, labelled images only": ("0.772 ± 0.010", "0.918 ± 0.004"),
    "1-NN, M1 codes": ("0.750 ± 0.017", "0.909 ± 0.009"),
    "M1+M2": ("0.881 ± 0.024", "0.946 ± 0.006"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels-per-class", type=positive_int, nargs="+", default=[10, 100])
    parser.add_argument("--draws", type=positive_int, default=3)
    parser.add_argument("--m1-epochs", type=positive_int, default=100)
    parser.add_argument("--m2-epochs", type=positive_int, default=100)
    parser.add_argument("--pixel-epochs", type=non_negative_int, default=20, help="M2 on pixels; 0 skips it")
    parser.add_argument("--every", type=positive_int, default=2, help="M2 on pixels: test accuracy every this many epochs")
    args = parser.parse_args()
    threadpool_limits(1)
    data = load_dataset("mnist5k")
    x_train, y_train, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
    pixels_train, pixels_test = x_train.astype(np.float64), x_test.astype(np.float64)
    project = baselines.pca(pixels_train, 20)
    pca_train, pca_test = project(pixels_train), project(pixels_test)

    def accuracy(predicted):
        return float(np.mean(predicted == y_test))

    results = {}  # (method, per_class) -> list of accuracies, one per draw
    start = time.perf_counter()
    for draw in range(args.draws):
        m1 = M1M2(m1_epochs=args.m1_epochs, m2_epochs=args.m2_epochs, seed=draw).fit_m1(x_train)
        codes_train, codes_test = m1.codes(x_train), m1.codes(x_test)
        print(f"draw {draw}: M1 trained [{time.perf_counter() - start:.0f}s]", flush=True)
        for per_class in args.labels_per_class:
            labelled = draw_labelled(y_train, per_class, np.random.default_rng(draw))
            x_l, y_l = pixels_train[labelled], y_train[labelled]
            m1.fit_m2(x_train[labelled], y_l, x_train)
            row = {
                "logistic regression, raw pixels": accuracy(baselines.logistic_regression(x_l, y_l, pixels_test)),
                "1-NN, PCA-20": accuracy(baselines.nearest_neighbour(pca_train[labelled], y_l, pca_test)),
                "MLP 784-256-10, labelled images only": accuracy(baselines.mlp_on_labels(x_l, y_l, pixels_test,
                                                                                          seed=draw)),
                "1-NN, M1 codes": accuracy(baselines.nearest_neighbour(codes_train[labelled], y_l, codes_test)),
                "M1+M2": accuracy(m1.predict(x_test)),
            }
            for method, value in row.items():
                results.setdefault((method, per_class), []).append(value)
            print(f"  {per_class}/class: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items())
                  + f" [{time.perf_counter() - start:.0f}s]", flush=True)

    curves = []
    if args.pixel_epochs:
        for draw in range(args.draws):
            labelled = draw_labelled(y_train, 10, np.random.default_rng(draw))
            model = M2(784, 10, (256,), 50, alpha=10.0, dtype=np.float32, seed=draw)
            curve = []
            fit_m2(model, x_train[labelled], y_train[labelled], x_train, args.pixel_epochs, binarize_method="dynamic",
                   seed=draw, on_epoch=lambda epoch, terms: curve.append((epoch, accuracy(model.predict(x_test)),
                                                                         terms["classification"]))
                   if epoch % args.every == 0 or epoch == args.pixel_epochs else None)
            curves.append(curve)
            print(f"draw {draw}: M2 on pixels " + ", ".join(f"epoch {e} {a:.3f}" for e, a, _ in curve)
                  + f" [{time.perf_counter() - start:.0f}s]", flush=True)

    print(f"\ntest accuracy on mnist5k's 1,000 test images, mean ± sd over {args.draws} draws "
          f"(M1 {args.m1_epochs} epochs, M2 on codes {args.m2_epochs} epochs); reference: the issue's prototype")
    columns = args.labels_per_class
    print(f"{'method':40s}" + "".join(f"{f'{n}/class':>17s}{'reference':>16s}" for n in columns))
    for method in REFERENCE:
        cells = []
        for n in columns:
            values = np.array(results[method, n])
            sd = values.std(ddof=1) if len(values) > 1 else float("nan")
            reference = REFERENCE[method][{10: 0, 100: 1}[n]] if n in (10, 100) else "-"
            cells.append(f"{values.mean():10.3f} ± {sd:.3f}{reference:>16s}")
        print(f"{method:40s}" + "".join(cells))
    if curves:
        print(f"\nM2 on pixels, 10 labels/class, test accuracy by epoch (mean ± sd over {len(curves)} draws; "
              "reference 0.652 ± 0.008 after 50 epochs); labelled cross-entropy beside it")
        for i, (epoch, _, _) in enumerate(curves[0]):
            acc = np.array([c[i][1] for c in curves])
            ce = np.mean([c[i][2] for c in curves])
            print(f"  epoch {epoch:3d}: {acc.mean():.3f} ± {acc.std(ddof=1) if len(acc) > 1 else float('nan'):.3f}"
                  f"   (cross-entropy {ce:.3f})")
    print(f"total {time.perf_counter() - start:.0f}s")


if __name__ == "__main__":
    main()
