"""Full-batch gradient descent on two-layer ReLU autoencoders ``u(x) = alpha V relu(W^T x)``.

Three settings (``regime``): ``"weak"`` trains the encoder ``W`` only (``V`` fixed at its random
initialization), ``"joint"`` trains ``W`` and ``V``, ``"tied"`` has ``V = W`` (one weight
matrix, trained). ``W, V`` are ``d x m`` with i.i.d. ``N(0, 1)`` entries at initialization,
``alpha = 1/sqrt(m)`` unless given. The loss is ``1/2 sum_i |u(x_i) - x_i|^2`` over the columns
of ``X`` (``d x n``); everything is float64 and reproducible from a seed
(``numpy.random.default_rng``). docs/relu_autoencoders.md has the derivations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from .relu_gram import REGIMES, validate_inputs

__all__ = [
    "STATUSES",
    "ReluAutoencoder",
    "ReluTrainingResult",
    "empirical_ntk",
    "fit_loss_factor",
    "init_autoencoder",
    "jacobian",
    "ntk_lambda_max",
    "ntk_neuron_stderr",
    "train_relu_autoencoder",
    "unit_inputs",
]

#: how a run ended: loss below tol * initial loss; the iteration limit; a nan/inf loss; the
#: loss grew beyond 1e12 times the initial loss (gradient descent diverges at that step size)
STATUSES = ("converged", "max_iterations", "non_finite", "diverged")


def _check_regime(regime: str) -> None:
    if regime not in REGIMES:
        raise ValueError(f"regime must be one of {REGIMES}, got {regime!r}")


def _check_int(name: str, value: int, low: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class ReluAutoencoder:
    """The network ``u(x) = alpha V relu(W^T x)`` (``V is W`` for ``regime="tied"``).

    Attributes
    ----------
    W, V : ndarray, shape (d, m)
        Encoder and decoder weights (column ``r`` is neuron ``r``).
    alpha : float
        Output scale (``1/sqrt(m)`` by default).
    regime : str
        ``"weak"``, ``"joint"`` or ``"tied"``.
    """

    W: np.ndarray
    V: np.ndarray
    alpha: float
    regime: str

    @property
    def d(self) -> int:
        """Input (and output) dimension."""
        return self.W.shape[0]

    @property
    def m(self) -> int:
        """Hidden width."""
        return self.W.shape[1]

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Outputs ``alpha V relu(W^T X)``, one column per column of ``X``."""
        X = np.asarray(X, dtype=np.float64)
        return self.alpha * (self.V @ np.maximum(self.W.T @ X, 0.0))

    def loss(self, X: np.ndarray) -> float:
        """``1/2 sum_i |u(x_i) - x_i|^2``."""
        R = self(X) - X
        return 0.5 * float(np.sum(R * R))

    def gradient(self, X: np.ndarray, R: np.ndarray | None = None) -> np.ndarray:
        """Gradient of the loss in the trained parameters, flattened (``W`` row-major, then
        ``V`` for ``"joint"``); with ``R`` given, ``J^T vec(R)`` for that residual instead."""
        Z = self.W.T @ X
        A = np.maximum(Z, 0.0)
        if R is None:
            R = self.alpha * (self.V @ A) - X
        gW = self.alpha * (X @ ((self.V.T @ R) * (Z > 0)).T)
        if self.regime == "weak":
            return gW.ravel()
        gV = self.alpha * (R @ A.T)
        if self.regime == "tied":
            return (gW + gV).ravel()
        return np.concatenate([gW.ravel(), gV.ravel()])

    def parameters(self) -> np.ndarray:
        """The trained parameters, flattened in the order of :meth:`gradient`."""
        if self.regime == "joint":
            return np.concatenate([self.W.ravel(), self.V.ravel()])
        return self.W.ravel().copy()

    def with_parameters(self, theta: np.ndarray) -> ReluAutoencoder:
        """The same network with the trained parameters set to ``theta``."""
        d, m = self.W.shape
        W = np.asarray(theta[: d * m], dtype=np.float64).reshape(d, m)
        if self.regime == "joint":
            return replace(self, W=W, V=np.asarray(theta[d * m:]).reshape(d, m))
        if self.regime == "tied":
            return replace(self, W=W, V=W)
        return replace(self, W=W)


def init_autoencoder(d: int, m: int, regime: str, seed: int | np.random.Generator = 0,
                     alpha: float | None = None) -> ReluAutoencoder:
    """Random initialization: ``W`` (and ``V`` unless tied) with i.i.d. ``N(0, 1)`` entries.

    Parameters
    ----------
    d, m : int
        Dimension and hidden width, >= 1.
    regime : str
        ``"weak"``, ``"joint"`` or ``"tied"``.
    seed : int or numpy.random.Generator
        ``W`` is drawn first, then ``V``, so weak and joint networks of one seed start equal.
    alpha : float, optional
        Output scale, > 0; default ``1/sqrt(m)``.
    """
    d, m = _check_int("d", d, 1), _check_int("m", m, 1)
    _check_regime(regime)
    if alpha is None:
        alpha = 1.0 / math.sqrt(m)
    if not (alpha > 0 and math.isfinite(alpha)):
        raise ValueError(f"alpha must be a finite number > 0, got {alpha!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    W = rng.standard_normal((d, m))
    V = W if regime == "tied" else rng.standard_normal((d, m))
    return ReluAutoencoder(W=W, V=V, alpha=float(alpha), regime=regime)


def unit_inputs(d: int, n: int, seed: int | np.random.Generator = 0) -> np.ndarray:
    """``n`` independent uniform unit vectors in ``R^d`` as the columns of a ``d x n`` array."""
    d, n = _check_int("d", d, 1), _check_int("n", n, 1)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    X = rng.standard_normal((d, n))
    return X / np.linalg.norm(X, axis=0)


def jacobian(net: ReluAutoencoder, X: np.ndarray) -> np.ndarray:
    """The ``nd x P`` Jacobian of the outputs (row ``i d + k``) in the trained parameters
    (order of :meth:`ReluAutoencoder.parameters`). Memory ``O(n d^2 m)``: for checks at small
    sizes; :func:`empirical_ntk` forms ``J J^T`` without it."""
    X = validate_inputs(X)
    d, n = X.shape
    m = net.m
    Z = net.W.T @ X
    A, D = np.maximum(Z, 0.0), (Z > 0).astype(np.float64)
    # dU[k, i] / dW[a, r] = alpha V[k, r] D[r, i] X[a, i]
    JW = net.alpha * np.einsum("kr,ri,ai->ikar", net.V, D, X).reshape(n * d, d * m)
    # dU[k, i] / dV[l, r] = alpha delta_kl A[r, i]
    JV = net.alpha * np.einsum("kl,ri->iklr", np.eye(d), A).reshape(n * d, d * m)
    if net.regime == "weak":
        return JW
    if net.regime == "tied":
        return JW + JV
    return np.hstack([JW, JV])


def empirical_ntk(net: ReluAutoencoder, X: np.ndarray) -> np.ndarray:
    """The finite-width kernel ``J J^T`` (``nd x nd``, sample-major) of the trained parameters.

    Encoder part ``alpha^2 <x_i, x_j> sum_r V_kr V_lr D_ri D_rj``, decoder part
    ``alpha^2 delta_kl sum_r A_ri A_rj`` and, for tied weights, the cross terms
    ``alpha^2 (X_li C_kij + X_kj C_lji)`` with ``C_kij = sum_r W_kr D_ri A_rj``.
    """
    X = validate_inputs(X)
    d, n = X.shape
    Z = net.W.T @ X
    A, D = np.maximum(Z, 0.0), (Z > 0).astype(np.float64)
    B = (D[:, :, None] * net.V.T[:, None, :]).reshape(net.m, n * d)  # B[r, i d + k]
    K = (B.T @ B) * np.kron(X.T @ X, np.ones((d, d)))
    if net.regime == "weak":
        return net.alpha ** 2 * K
    K = K + np.kron(A.T @ A, np.eye(d))
    if net.regime == "tied":
        C = np.einsum("kr,ri,rj->kij", net.W, D, A)
        cross = np.einsum("kij,li->ikjl", C, X).reshape(n * d, n * d)
        K = K + cross + cross.T
    return net.alpha ** 2 * K


def ntk_neuron_stderr(net: ReluAutoencoder, X: np.ndarray, part: str) -> np.ndarray:
    """Standard errors of the entries of ``m alpha^2``-normalized kernel parts as averages
    over the ``m`` independent neurons at initialization: ``part="encoder"`` (the ``W``
    Jacobian's Gram) or ``"decoder"`` (the ``V`` Jacobian's). Entry-wise ``std / sqrt(m)`` of
    the per-neuron contributions; used to test the kernel against its limit."""
    X = validate_inputs(X)
    d, n = X.shape
    m = net.m
    Z = net.W.T @ X
    if part == "encoder":
        D = (Z > 0).astype(np.float64)
        B = (D[:, :, None] * net.V.T[:, None, :]).reshape(m, n * d)
        gram = np.kron(X.T @ X, np.ones((d, d)))
        mean = (B.T @ B) * gram / m
        second = ((B * B).T @ (B * B)) * gram ** 2 / m
    elif part == "decoder":
        A = np.maximum(Z, 0.0)
        mean = np.kron(A.T @ A / m, np.eye(d))
        second = np.kron((A * A).T @ (A * A) / m, np.eye(d))
    else:
        raise ValueError(f"part must be 'encoder' or 'decoder', got {part!r}")
    var = np.maximum(second - mean ** 2, 0.0) * m / max(m - 1, 1)
    return np.sqrt(var / m)


def ntk_lambda_max(net: ReluAutoencoder, X: np.ndarray) -> float:
    """Largest eigenvalue of :func:`empirical_ntk`, matrix-free (Lanczos on ``v -> J J^T v``)."""
    X = validate_inputs(X)
    d, n = X.shape
    Z = net.W.T @ X
    A, D = np.maximum(Z, 0.0), Z > 0

    def matvec(v: np.ndarray) -> np.ndarray:
        R = np.asarray(v, dtype=np.float64).reshape(n, d).T
        g = net.gradient(X, R)  # J^T v
        dm = d * net.m
        dW = g[:dm].reshape(d, net.m)
        dU = net.alpha * (net.V @ ((dW.T @ X) * D))
        if net.regime == "joint":
            dU = dU + net.alpha * (g[dm:].reshape(d, net.m) @ A)
        elif net.regime == "tied":
            dU = dU + net.alpha * (dW @ A)
        return dU.T.ravel()

    size = n * d
    if size <= 2:
        return float(np.linalg.eigvalsh(empirical_ntk(net, X))[-1])
    op = LinearOperator((size, size), matvec=matvec, dtype=np.float64)
    v0 = np.ones(size)
    return float(eigsh(op, k=1, which="LA", v0=v0, tol=1e-8, return_eigenvectors=False)[0])


@dataclass(frozen=True)
class ReluTrainingResult:
    """One gradient-descent run.

    Attributes
    ----------
    losses : ndarray
        ``1/2 sum_i |u(x_i) - x_i|^2`` before each step (``losses[0]`` at initialization) and
        after the last one.
    status : str
        One of :data:`STATUSES`.
    final_loss : float
        ``losses[-1]``.
    iterations : int
        Gradient steps taken.
    eta : float
        The step size used.
    initial, final : ReluAutoencoder
        The network before and after training.
    seed : int or None
        The seed of the initialization (None when a Generator or a network was given).
    """

    losses: np.ndarray
    status: str
    final_loss: float
    iterations: int
    eta: float
    initial: ReluAutoencoder
    final: ReluAutoencoder
    seed: int | None

    @property
    def converged(self) -> bool:
        """Whether the loss fell below the tolerance."""
        return self.status == "converged"

    def to_dict(self) -> dict:
        """Summary (no weights) for JSON."""
        return {"regime": self.initial.regime, "d": self.initial.d, "m": self.initial.m,
                "alpha": self.initial.alpha, "eta": self.eta, "seed": self.seed,
                "status": self.status, "iterations": self.iterations,
                "initial_loss": float(self.losses[0]), "final_loss": self.final_loss}


def train_relu_autoencoder(X: np.ndarray, m: int | None = None, regime: str = "joint", *,
                           eta: float | None = None, max_iter: int = 10_000,
                           tol: float = 1e-10, seed: int | np.random.Generator = 0,
                           alpha: float | None = None,
                           network: ReluAutoencoder | None = None) -> ReluTrainingResult:
    """Full-batch gradient descent ``theta <- theta - eta grad L`` from random initialization.

    Parameters
    ----------
    X : ndarray, shape (d, n)
        Training inputs, one per column.
    m : int
        Hidden width (ignored when ``network`` is given).
    regime : str
        ``"weak"`` (encoder only), ``"joint"`` or ``"tied"`` (ignored with ``network``).
    eta : float, optional
        Step size; default ``1 / lambda_max`` of the network's kernel at initialization.
    max_iter : int
        Iteration limit, >= 0.
    tol : float
        Stop (``"converged"``) once the loss is at most ``tol`` times the initial loss.
    seed : int or numpy.random.Generator
        Initialization seed (:func:`init_autoencoder`).
    alpha : float, optional
        Output scale, default ``1/sqrt(m)``.
    network : ReluAutoencoder, optional
        Start from this network instead of a random one.

    Returns
    -------
    ReluTrainingResult
    """
    X = validate_inputs(X)
    max_iter = _check_int("max_iter", max_iter, 0)
    if not (0 < tol < 1):
        raise ValueError(f"tol must lie in (0, 1), got {tol!r}")
    seed_used = int(seed) if network is None and isinstance(seed, (int, np.integer)) else None
    if network is None:
        if m is None:
            raise ValueError("give the width m (an integer >= 1) or a network")
        network = init_autoencoder(X.shape[0], m, regime, seed, alpha)
    elif network.d != X.shape[0]:
        raise ValueError(f"network has d={network.d} but X has {X.shape[0]} rows")
    if eta is None:
        eta = 1.0 / ntk_lambda_max(network, X)
    if not (eta > 0 and math.isfinite(eta)):
        raise ValueError(f"eta must be a finite number > 0, got {eta!r}")
    losses = np.empty(max_iter + 1)
    W, V = network.W.copy(), network.V.copy()
    alpha, reg = network.alpha, network.regime
    loss0, it, status = math.nan, 0, "max_iterations"
    with np.errstate(over="ignore", invalid="ignore"):
        while True:
            Z = W.T @ X
            A = np.maximum(Z, 0.0)
            R = alpha * (V @ A) - X
            losses[it] = loss = 0.5 * float(np.sum(R * R))
            if it == 0:
                loss0 = loss
            if not math.isfinite(loss):
                status = "non_finite"
                break
            if loss <= tol * loss0:
                status = "converged"
                break
            if loss > 1e12 * loss0:
                status = "diverged"
                break
            if it == max_iter:
                break
            gW = alpha * (X @ ((V.T @ R) * (Z > 0)).T)
            if reg == "weak":
                W = W - eta * gW
            elif reg == "joint":
                W, V = W - eta * gW, V - eta * (alpha * (R @ A.T))
            else:
                W = W - eta * (gW + alpha * (R @ A.T))
                V = W
            it += 1
    final = replace(network, W=W, V=V)
    losses = losses[: it + 1].copy()
    return ReluTrainingResult(losses=losses, status=status, final_loss=float(losses[-1]),
                              iterations=it, eta=float(eta), initial=network, final=final,
                              seed=seed_used)


def fit_loss_factor(losses: np.ndarray, upper: float = 1e-3, lower: float = 1e-9) -> float:
    """Observed per-step loss factor: ``exp`` of the least-squares slope of ``log L_t`` over
    the steps with ``lower <= L_t / L_0 <= upper`` (the tail, where the slowest mode rules).

    Returns nan when fewer than 5 steps fall in the window.
    """
    losses = np.asarray(losses, dtype=np.float64)
    if not (0 < lower < upper <= 1):
        raise ValueError(f"need 0 < lower < upper <= 1, got lower={lower!r}, upper={upper!r}")
    rel = losses / losses[0]
    idx = np.flatnonzero((rel <= upper) & (rel >= lower) & np.isfinite(rel))
    if idx.size < 5:
        return math.nan
    idx = np.arange(idx[0], idx[-1] + 1)  # the contiguous window (no gaps from oscillation)
    slope = np.polyfit(idx.astype(np.float64), np.log(losses[idx]), 1)[0]
    return float(math.exp(slope))
