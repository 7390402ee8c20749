"""Command-line options that take the spectrum from a real data set (``--data``)."""

from __future__ import annotations

import argparse

import numpy as np

from .data_spectrum import DataSpectrum, data_spectrum, split_samples
from .report.data import SAMPLE_AXES, load_matrix
from .report.natural_images import natural_image_patches

__all__ = ["BUILTIN_DATA", "add_data_options", "data_from_args"]

#: ``--data`` value of the built-in natural-image patches (scikit-image's photographs).
BUILTIN_DATA = "natural-images"


def add_data_options(p: argparse.ArgumentParser) -> None:
    """Add the ``--data`` group to a command."""
    g = p.add_argument_group(
        "real data (instead of --d/--sv/--energy/--test-energy: d, the per-sample energies of "
        "the rank-r truncation of a training split and the test energies of a held-out split; "
        "--n or --c then chooses how many training samples are used)")
    g.add_argument("--data", metavar="FILE",
                   help=f"data matrix: .npy, .npz, .csv or a CIFAR-10 python batch; "
                        f"'{BUILTIN_DATA}': 32x32x3 patches of scikit-image's photographs "
                        "(needs scikit-image)")
    g.add_argument("--samples-as", choices=SAMPLE_AXES,
                   help="one sample per row or per column of FILE (required with a file)")
    g.add_argument("--data-key", help="array name inside an .npz")
    g.add_argument("--rank", type=int, default=10, help="truncation rank r (default 10)")
    g.add_argument("--center", action="store_true",
                   help="subtract the training mean from both splits (default: not centred)")
    g.add_argument("--total-energy", type=float,
                   help="scale the data so the energies sum to this (||X||_F^2 = E N; the "
                        "paper's CIFAR-10 setting is 0.4096); default: as loaded")
    g.add_argument("--n-test", type=int,
                   help="held-out samples of a FILE (default: a quarter; the built-in set "
                        "holds out the right half of every photograph)")
    g.add_argument("--data-seed", type=int, default=0,
                   help="seed of the train/test split (default 0)")


def data_from_args(args: argparse.Namespace) -> DataSpectrum | None:
    """The data set's spectrum (``None`` without ``--data``)."""
    if getattr(args, "data", None) is None:
        return None
    for name in ("d", "sv", "energy", "test_energy"):
        if getattr(args, name, None) is not None:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"--data sets d and the spectrum: drop {flag}")
    if args.data == BUILTIN_DATA:
        train, test = natural_image_patches()
    else:
        if args.samples_as is None:
            raise ValueError("--data FILE needs --samples-as rows|columns (how the file holds "
                             "its samples)")
        matrix = load_matrix(args.data, samples_as=args.samples_as, key=args.data_key)
        n_test = args.n_test if args.n_test is not None else max(1, matrix.shape[1] // 4)
        train, test = split_samples(matrix, n_test, seed=args.data_seed)
    d, available = train.shape
    n = getattr(args, "n", None)
    c = getattr(args, "c", None)
    if isinstance(n, list) or isinstance(c, list):  # grid commands: the spectrum of all of it
        n = c = None
    if c is not None:
        if not c > 0:
            raise ValueError(f"c must be > 0, got {c}")
        n = max(1, round(d / c))
    if n is not None:
        if not 1 <= n <= available:
            raise ValueError(f"n must be in [1, {available}] (the training samples of the "
                             f"data), got {n}")
        # a seeded random subset (the first n columns of a file may come from one source)
        pick = np.random.default_rng(args.data_seed).permutation(available)[:n]
        train = train[:, np.sort(pick)]
    return data_spectrum(train, test, args.rank, center=args.center,
                         total_energy=args.total_energy)
