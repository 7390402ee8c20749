"""Monte Carlo on a real data matrix: its own singular vectors, not Haar frames.

The Gaussian model draws ``U`` and ``V`` uniformly; real data have one fixed ``X``. Here the
clean training matrix is the rank-``r`` truncation of a real training split
(:class:`rmtrisk.data_spectrum.DataSpectrum`), only the noise ``A`` is drawn, the minimizer is
trained in closed form (:func:`rmtrisk.montecarlo.training.risk_statistics`), and the risk is
measured on the held-out split through its full ``L L^T / N_t`` (the off-diagonal part that the
Gaussian model averages away included). Comparing it with the theory of the same spectrum shows
where the prediction holds for real data.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..data_spectrum import DataSpectrum
from ..problem import Problem
from .estimate import MonteCarloResult, split_risk
from .sampling import gaussian_noise
from .training import risk_statistics

__all__ = ["real_data_monte_carlo"]


def _replicate(spectrum: DataSpectrum, problem: Problem, seed: np.random.SeedSequence
               ) -> tuple[float, float, float]:
    rng = np.random.default_rng(seed)
    X = (spectrum.U * spectrum.sv) @ spectrum.V.T
    Y = X + gaussian_noise(problem.d, problem.n, problem.eta2_train, rng)
    stats = risk_statistics(Y, spectrum.U, spectrum.sv, spectrum.V, k=problem.k,
                            skip=problem.skip, reg=problem.reg,
                            critical_set=problem.critical_set)
    risk, bias, variance = split_risk(stats, problem)
    gram = spectrum.test_gram
    off = float(np.sum((gram - np.diag(np.diag(gram))) * stats.test_gram))
    return risk + off, bias + off, variance


def real_data_monte_carlo(spectrum: DataSpectrum, *, k: int, skip: bool = False,
                          reg: float = 0.0, eta2_train: float, eta2_test: float,
                          reps: int = 20, seed: int = 0,
                          progress: Callable[[int], None] | None = None) -> MonteCarloResult:
    """Test risk of the autoencoder trained on the real matrix plus Gaussian noise.

    Parameters
    ----------
    spectrum : DataSpectrum
        The truncated training split (``U``, ``sv``, ``V``) and the held-out ``test_gram``.
    k : int
        Bottleneck width.
    skip : bool
        Skip connection.
    reg : float
        Product regularization.
    eta2_train, eta2_test : float
        Noise levels.
    reps : int
        Noise draws.
    seed : int
        Root seed (replicate ``i`` uses the ``i``-th spawned stream).
    progress : callable, optional
        Called with 1 after each replicate.

    Returns
    -------
    MonteCarloResult
        Its ``problem`` is :meth:`DataSpectrum.problem` with these settings (the theory's view
        of the data: diagonal test energies).
    """
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 2:
        raise ValueError(f"reps must be an integer >= 2, got {reps!r}")
    problem = spectrum.problem(k=k, skip=skip, reg=reg, eta2_train=eta2_train,
                               eta2_test=eta2_test)
    samples = np.empty((int(reps), 3))
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(int(reps))):
        samples[i] = _replicate(spectrum, problem, child)
        if progress is not None:
            progress(1)
    return MonteCarloResult(problem, int(reps), int(seed), samples)
