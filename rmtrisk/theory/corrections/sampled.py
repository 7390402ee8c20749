"""The expectation of an exact reduced map over the Gaussian fluctuations of its quadratic forms,
by sampling.

The second-order expansions of :mod:`.interaction` need a map that is smooth at the leading
order. Near a tie of the eigenvalues that select the kept directions it is not: which directions
are kept is decided by the fluctuations themselves. :func:`sampled_expectation` then averages
the exact map over draws of the fluctuation model (independent symmetric coordinates ``z_ab``,
``a <= b``, with the per-block ``2 x 2`` covariances of ``(Delta, Delta_N)`` of
:func:`.interaction.fluctuation_weights`): antithetic pairs from a fixed seed, so the result is
deterministic and the linear term cancels exactly wherever the map is smooth.

Each coordinate moves one entry (and its mirror) of ``Delta`` and of ``Delta_N``, so a draw is
built by gathering at most two standard normals per entry: memory ``O(batch (2r)^2)``, not the
``O(r^4)`` of a dense linear map from the normals to the matrices (``r = 100`` directions: 80 MB
per batch instead of 13 GB).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = ["SAMPLED_PAIRS", "TRUNCATE_AT", "sampled_expectation"]

#: Antithetic pairs of Gaussian draws of the quadratic forms in :func:`sampled_expectation`.
SAMPLED_PAIRS = 2048
#: Largest batch of draws, and the number of matrix entries a batch may hold (about 64 MB per
#: array); batches of 512 draws for every ``2r <= 45``.
_BATCH = 512
_BATCH_ENTRIES = 2**23

#: Gaussian coordinates are truncated at this many standard deviations (and rescaled to unit
#: variance): the reduced forms are bounded, but the exact map has poles where a Gaussian
#: model's far tail makes ``M`` singular (c near 1 at small d: a mean of 339 for a risk of 6).
TRUNCATE_AT = 3.0
#: variance of N(0, 1) conditioned on |z| <= a: 1 - 2 a phi(a) / (2 Phi(a) - 1)
_TRUNCATED_VARIANCE = 1.0 - (2.0 * TRUNCATE_AT * math.exp(-TRUNCATE_AT**2 / 2)
                             / math.sqrt(2.0 * math.pi) / math.erf(TRUNCATE_AT / math.sqrt(2.0)))


def _truncated_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normals conditioned on ``|z| <= TRUNCATE_AT`` (rejection), rescaled to unit
    variance: the second moments, hence the second-order term, are those of the Gaussian
    model."""
    z = rng.standard_normal(shape)
    bad = np.abs(z) > TRUNCATE_AT
    while bad.any():
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > TRUNCATE_AT
    return z / np.sqrt(_TRUNCATED_VARIANCE)


class _Coordinates(NamedTuple):
    """Where the independent normals go: entry ``(i[e], j[e])`` of ``Delta`` is
    ``sum_s z[col[e, s]] * dk[e, s]`` (``Delta_N`` with ``dn``); ``col == count`` points at a
    zero column."""

    i: np.ndarray
    j: np.ndarray
    col: np.ndarray
    dk: np.ndarray
    dn: np.ndarray
    count: int


def _coordinates(r: int, w: np.ndarray) -> _Coordinates:
    """The canonical coordinates of the fluctuation model.

    Per entry ``i <= j`` the ``2 x 2`` covariance of ``(dK, dN)`` is factored by its lower
    Cholesky factor (positive diagonal): a canonical choice, so that a joint rescaling of signal
    and noise rescales every draw exactly. Columns are numbered entry by entry, in row-major
    order of the upper triangle.
    """
    size = 2 * r
    rows_i, rows_j, cols, dks, dns = [], [], [], [], []
    count = 0
    for i in range(size):
        for j in range(i, size):
            block = 0 if j < r else (1 if i < r else 2)
            (a, b), (_, c) = (2.0 if i == j else 1.0) * w[block]
            if a > 0:
                pairs = ((np.sqrt(a), b / np.sqrt(a)), (0.0, np.sqrt(max(c - b * b / a, 0.0))))
            else:
                pairs = ((0.0, np.sqrt(max(c, 0.0))),)
            col, dk, dn = [], [], []
            for k_coef, n_coef in pairs:
                if k_coef == 0.0 and n_coef == 0.0:
                    continue
                col.append(count)
                dk.append(k_coef)
                dn.append(n_coef)
                count += 1
            if not col:
                continue
            pad = 2 - len(col)
            rows_i.append(i)
            rows_j.append(j)
            cols.append(col + [-1] * pad)
            dks.append(dk + [0.0] * pad)
            dns.append(dn + [0.0] * pad)
    col = np.array(cols, dtype=np.intp).reshape(-1, 2)
    col[col < 0] = count
    return _Coordinates(np.array(rows_i, dtype=np.intp), np.array(rows_j, dtype=np.intp), col,
                        np.array(dks).reshape(-1, 2), np.array(dns).reshape(-1, 2), count)


def _draw(coords: _Coordinates, z: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(Delta, Delta_N)`` stacks of shape ``(len(z), size, size)`` from the normals ``z``."""
    padded = np.concatenate((z, np.zeros((z.shape[0], 1))), axis=1)
    picked = padded[:, coords.col]                      # (batch, entries, 2)
    out = []
    for coef in (coords.dk, coords.dn):
        values = np.einsum("bes,es->be", picked, coef)
        mat = np.zeros((z.shape[0], size, size))
        mat[:, coords.i, coords.j] = values
        mat[:, coords.j, coords.i] = values
        out.append(mat)
    return out[0], out[1]


def sampled_expectation(stats: Callable[[np.ndarray, np.ndarray], np.ndarray], m0: np.ndarray,
                        n0: np.ndarray, w: np.ndarray, pairs: int = SAMPLED_PAIRS, seed: int = 0
                        ) -> tuple[np.ndarray, np.ndarray]:
    """``E stats(M0 + Delta, N0 + Delta_N)`` over the Gaussian fluctuations, and its standard
    error, by sampling.

    Parameters
    ----------
    stats : callable
        The exact map, on stacks ``(batch, 2r, 2r)`` of ``M`` and ``N``; returns
        ``(batch, ...)``.
    m0, n0 : ndarray, shape (2r, 2r)
        The forms at their means.
    w : ndarray, shape (3, 2, 2)
        Per-block covariances (:func:`.interaction.fluctuation_weights`).
    pairs : int
        Antithetic pairs ``(Delta, -Delta)``.
    seed : int
        Seed of the draws (with the size, a fixed stream: deterministic results).

    Returns
    -------
    mean, stderr : ndarray
        Shaped like one output of ``stats``.
    """
    size = m0.shape[0]
    coords = _coordinates(size // 2, w)
    rng = np.random.default_rng(np.random.SeedSequence([seed, size, 20261203]))
    batch = max(1, min(_BATCH, _BATCH_ENTRIES // (size * size)))
    means = []
    for start in range(0, pairs, batch):
        z = _truncated_normal(rng, (min(batch, pairs - start), coords.count))
        dm, dn = _draw(coords, z, size)
        means.append(0.5 * (np.asarray(stats(m0 + dm, n0 + dn))
                            + np.asarray(stats(m0 - dm, n0 - dn))))
    values = np.concatenate(means)
    return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])
