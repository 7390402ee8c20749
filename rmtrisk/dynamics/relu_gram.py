"""Limiting Gram matrices of two-layer ReLU autoencoders and the linear rate they predict.

The network (docs/relu_autoencoders.md) is ``u(x) = alpha V relu(W^T x)`` with ``W, V`` of shape
``d x m``, i.i.d. ``N(0, 1)`` entries at initialization and ``alpha = 1/sqrt(m)`` (the NTK
normalization). Inputs are the columns of ``X`` (``d x n``), as everywhere in rmtrisk.

With ``theta_ij`` the angle between ``x_i`` and ``x_j`` (derived in docs/relu_autoencoders.md):

* encoder (the Jacobian in ``W``; the regime where only ``W`` is trained)
  ``H_ij = <x_i, x_j> (pi - theta_ij) / (2 pi)``;
* decoder (the Jacobian in ``V``)
  ``G_ij = |x_i| |x_j| (sin theta_ij + (pi - theta_ij) cos theta_ij) / (2 pi)``;
* joint training: ``H + G``.

The neural tangent kernel of the network, an ``nd x nd`` matrix indexed sample-major
(row ``i d + k`` is output coordinate ``k`` of sample ``i``), tends to ``m alpha^2 (H ⊗ I_d)``,
``m alpha^2 (G ⊗ I_d)`` or ``m alpha^2 ((H + G) ⊗ I_d)`` as ``m -> infinity``; with
``alpha = 1/sqrt(m)`` the factor ``m alpha^2`` is 1. Gradient descent with step ``eta`` on
``1/2 sum_i |u(x_i) - x_i|^2`` then shrinks the loss per step by the factor
``max_k (1 - eta lambda_k)^2`` over the kernel's eigenvalues (:func:`predicted_loss_factor`).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "REGIMES",
    "angles",
    "decoder_gram",
    "encoder_gram",
    "kron_identity",
    "limiting_gram",
    "predicted_loss_factor",
    "validate_inputs",
]

#: the three training settings: only the encoder W (V fixed at random), W and V, and V = W
REGIMES = ("weak", "joint", "tied")


def validate_inputs(X: np.ndarray) -> np.ndarray:
    """``X`` as a float64 ``d x n`` array of finite, nonzero columns (else a ValueError)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must be a d x n array with d >= 1 and n >= 1 (one sample per "
                         f"column), got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite")
    if np.any(np.linalg.norm(X, axis=0) == 0):
        raise ValueError("every column of X must be nonzero (the angle to a zero input is "
                         "undefined)")
    return X


def angles(X: np.ndarray) -> np.ndarray:
    """The ``n x n`` matrix of angles ``theta_ij`` in ``[0, pi]`` between the columns of ``X``.

    Computed as ``2 atan2(|a - b|, |a + b|)`` of the unit vectors ``a, b``, which is accurate
    also for nearly parallel columns (``arccos`` of the cosine loses half the digits there).
    """
    X = validate_inputs(X)
    U = X / np.linalg.norm(X, axis=0)
    diff = np.linalg.norm(U[:, :, None] - U[:, None, :], axis=0)
    summ = np.linalg.norm(U[:, :, None] + U[:, None, :], axis=0)
    theta = 2.0 * np.arctan2(diff, summ)
    np.fill_diagonal(theta, 0.0)
    return theta


def encoder_gram(X: np.ndarray) -> np.ndarray:
    """``H_ij = <x_i, x_j> (pi - theta_ij) / (2 pi)``: the limit of the encoder's Jacobian Gram.

    Parameters
    ----------
    X : ndarray, shape (d, n)
        Inputs, one per column, nonzero.

    Returns
    -------
    ndarray, shape (n, n)
        Symmetric positive semi-definite (definite when no two columns are parallel).
    """
    X = validate_inputs(X)
    return (X.T @ X) * (math.pi - angles(X)) / (2.0 * math.pi)


def decoder_gram(X: np.ndarray) -> np.ndarray:
    """``G_ij = |x_i||x_j| (sin theta_ij + (pi - theta_ij) cos theta_ij) / (2 pi)``, i.e.
    ``E_w[relu(w^T x_i) relu(w^T x_j)]`` for ``w ~ N(0, I_d)``: the decoder's Jacobian Gram.

    Parameters
    ----------
    X : ndarray, shape (d, n)
        Inputs, one per column, nonzero.

    Returns
    -------
    ndarray, shape (n, n)
    """
    X = validate_inputs(X)
    theta = angles(X)
    norms = np.linalg.norm(X, axis=0)
    return (np.outer(norms, norms) * (np.sin(theta) + (math.pi - theta) * np.cos(theta))
            / (2.0 * math.pi))


def limiting_gram(X: np.ndarray, regime: str) -> np.ndarray:
    """The ``n x n`` Gram matrix whose Kronecker product with ``I_d`` is the infinite-width
    kernel of ``regime``: ``H`` (``"weak"``), ``H + G`` (``"joint"``).

    The weight-tied network has no such limit at initialization in this normalization (its
    output grows like ``sqrt(m) x / 2``; docs/relu_autoencoders.md), so ``"tied"`` raises.
    """
    if regime == "weak":
        return encoder_gram(X)
    if regime == "joint":
        return encoder_gram(X) + decoder_gram(X)
    if regime == "tied":
        raise ValueError("regime 'tied' has no infinite-width limiting Gram matrix at "
                         "initialization (use empirical_ntk); valid: 'weak', 'joint'")
    raise ValueError(f"regime must be one of {REGIMES}, got {regime!r}")


def kron_identity(gram: np.ndarray, d: int) -> np.ndarray:
    """``gram ⊗ I_d`` in the sample-major order of the network's kernel (row ``i d + k``)."""
    if int(d) != d or d < 1:
        raise ValueError(f"d must be an integer >= 1, got {d!r}")
    return np.kron(np.asarray(gram, dtype=np.float64), np.eye(int(d)))


def predicted_loss_factor(eta: float, eigenvalues: np.ndarray) -> float:
    """Per-step factor ``max_k (1 - eta lambda_k)^2`` by which gradient descent on the
    linearized model shrinks ``1/2 |r|^2`` asymptotically (residual ``r_{t+1} = (I - eta K)
    r_t``; generic initial residual).

    For ``eta <= 2 / (lambda_min + lambda_max)`` this is ``(1 - eta lambda_min)^2``; a value
    above 1 means divergence.

    Parameters
    ----------
    eta : float
        Step size, > 0.
    eigenvalues : array_like
        Eigenvalues of the kernel (of ``gram``; the Kronecker factor ``I_d`` only repeats them).
    """
    if not (eta > 0 and math.isfinite(eta)):
        raise ValueError(f"eta must be a finite number > 0, got {eta!r}")
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if lam.size == 0:
        raise ValueError("eigenvalues must not be empty")
    return float(np.max((1.0 - eta * lam) ** 2))
