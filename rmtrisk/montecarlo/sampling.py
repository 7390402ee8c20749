"""Random draws of the model: Haar frames, Gaussian noise, noisy training data.

The clean data are ``X = U diag(sv) V^T`` with Haar ``U`` (d x r) and ``V`` (N x r); the noise
``A`` has i.i.d. ``N(0, eta2_train / d)`` entries (docs/conventions.md §2–3).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.linalg.blas as blas

from ..problem import Problem

__all__ = ["TrainingSample", "haar_frame", "gaussian_noise", "training_sample"]


class TrainingSample(NamedTuple):
    """One draw of the training set ``Y = U diag(sv) V^T + A`` (``A`` is not kept)."""

    Y: np.ndarray
    U: np.ndarray
    V: np.ndarray


def haar_frame(n: int, r: int, rng: np.random.Generator) -> np.ndarray:
    """An ``n x r`` matrix with orthonormal columns, uniformly (Haar) distributed.

    QR of a Gaussian matrix with the signs of ``diag(R)`` moved into ``Q``.
    """
    Q, R = np.linalg.qr(rng.standard_normal((n, r)))
    return Q * np.sign(np.diag(R))


def gaussian_noise(d: int, n: int, eta2: float, rng: np.random.Generator) -> np.ndarray:
    """A ``d x n`` noise matrix with i.i.d. ``N(0, eta2 / d)`` entries (columns of norm ~ eta)."""
    A = rng.standard_normal((d, n))
    A *= np.sqrt(eta2 / d)
    return A


def training_sample(problem: Problem, rng: np.random.Generator) -> TrainingSample:
    """Draw ``U, V`` (Haar) and ``A`` and return ``Y = X + A`` with ``X = U diag(sv) V^T``.

    The low-rank signal is added in place (one BLAS ``dgemm`` into the noise buffer), so the
    only ``d x N`` array ever allocated is ``Y`` itself.
    """
    U = haar_frame(problem.d, problem.r, rng)
    V = haar_frame(problem.n, problem.r, rng)
    Y = gaussian_noise(problem.d, problem.n, problem.eta2_train, rng)
    # Y^T (Fortran-ordered view of the C-ordered Y) += V (U diag(sv))^T
    out = blas.dgemm(1.0, V, U * problem.sv_array, beta=1.0, c=Y.T, trans_b=True,
                     overwrite_c=True)
    if not np.shares_memory(out, Y):  # pragma: no cover - BLAS made a copy
        Y = np.ascontiguousarray(out.T)
    return TrainingSample(Y, U, V)
