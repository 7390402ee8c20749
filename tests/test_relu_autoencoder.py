"""Two-layer ReLU autoencoders: gradients, limiting Gram matrices, the predicted linear rate.

References are independent of the code under test: finite differences, mpmath quadrature of
the Gaussian integrals, Monte Carlo over random weights with standard-error tolerances, and
the Weyl bound on the kernel's least eigenvalue (docs/relu_autoencoders.md, section 3).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from rmtrisk.dynamics.relu_experiments import linearized_losses, threshold_experiment
from rmtrisk.dynamics.relu_gram import (
    angles,
    decoder_gram,
    encoder_gram,
    kron_identity,
    limiting_gram,
    predicted_loss_factor,
)
from rmtrisk.dynamics.relu_training import (
    empirical_ntk,
    fit_loss_factor,
    init_autoencoder,
    jacobian,
    ntk_lambda_max,
    ntk_neuron_stderr,
    train_relu_autoencoder,
    unit_inputs,
)

Z_MAX = 4.0


def _pair(theta: float, r1: float = 1.0, r2: float = 1.0) -> np.ndarray:
    """Two vectors in R^3 of lengths r1, r2 at angle theta."""
    return np.array([[r1, r2 * math.cos(theta)], [0.0, r2 * math.sin(theta)], [0.0, 0.0]])


def _angular(f, theta: float) -> float:
    """(1 / 2 pi) * integral over a in [0, 2 pi) of f(cos a, cos(a - theta)), by mpmath
    quadrature split at the kinks. For w ~ N(0, I) in the plane of x1 = e1 and x2 at angle
    theta, w = r (cos a, sin a) with a uniform and r independent, so E[f(w^T x1, w^T x2)] is
    this average times E[r^k] for f homogeneous of degree k (E r^0 = 1, E r^2 = 2)."""
    mpmath.mp.dps = 30
    turn = 2 * math.pi
    kinks = sorted({0.0, turn, math.pi / 2, 3 * math.pi / 2, (theta + math.pi / 2) % turn,
                    (theta + 3 * math.pi / 2) % turn})
    value = mpmath.quad(lambda a: f(mpmath.cos(a), mpmath.cos(a - theta)), kinks)
    return float(value / (2 * mpmath.pi))


@pytest.mark.parametrize("regime", ["weak", "joint", "tied"])
def test_gradient_matches_finite_differences(regime):
    X = unit_inputs(4, 3, 1) * np.array([1.0, 2.0, 0.5])
    net = init_autoencoder(4, 6, regime, seed=2)
    theta = net.parameters()
    g = net.gradient(X)
    h = 1e-6
    fd = np.array([(net.with_parameters(theta + h * e).loss(X)
                    - net.with_parameters(theta - h * e).loss(X)) / (2 * h)
                   for e in np.eye(theta.size)])
    # central differences: O(h^2) truncation, O(eps L / h) rounding (~1e-10 here)
    np.testing.assert_allclose(g, fd, rtol=0, atol=1e-7 * max(1.0, np.abs(g).max()))
    # the gradient is J^T r, and the structured kernel is J J^T
    J = jacobian(net, X)
    R = net(X) - X
    np.testing.assert_allclose(J.T @ R.T.ravel(), g, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(empirical_ntk(net, X), J @ J.T, rtol=1e-12, atol=1e-12)
    # the Jacobian itself against finite differences of the outputs
    Jfd = np.stack([((net.with_parameters(theta + h * e)(X)
                      - net.with_parameters(theta - h * e)(X)) / (2 * h)).T.ravel()
                    for e in np.eye(theta.size)], axis=1)
    np.testing.assert_allclose(J, Jfd, rtol=0, atol=1e-7)
    assert ntk_lambda_max(net, X) == pytest.approx(np.linalg.eigvalsh(J @ J.T)[-1], rel=1e-7)


def test_trainer_follows_the_gradient_and_is_reproducible():
    X = unit_inputs(3, 4, 5)
    a = train_relu_autoencoder(X, 8, "joint", eta=0.05, max_iter=3, seed=9)
    b = train_relu_autoencoder(X, 8, "joint", eta=0.05, max_iter=3, seed=9)
    np.testing.assert_array_equal(a.losses, b.losses)
    net = a.initial
    for _ in range(3):
        net = net.with_parameters(net.parameters() - 0.05 * net.gradient(X))
    np.testing.assert_allclose(a.final.W, net.W, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(a.final.V, net.V, rtol=1e-13, atol=1e-13)
    assert a.status == "max_iterations" and a.iterations == 3 and len(a.losses) == 4
    assert a.seed == 9 and a.to_dict()["m"] == 8
    assert train_relu_autoencoder(X, eta=0.05, max_iter=1, network=net).seed is None
    assert a.final_loss == pytest.approx(net.loss(X), rel=1e-12)
    weak = train_relu_autoencoder(X, 8, "weak", eta=0.05, max_iter=3, seed=9)
    np.testing.assert_array_equal(weak.final.V, weak.initial.V)  # the decoder stays fixed
    tied = train_relu_autoencoder(X, 8, "tied", eta=0.01, max_iter=3, seed=9)
    assert tied.final.V is tied.final.W


def test_statuses():
    X = unit_inputs(3, 3, 0)
    ok = train_relu_autoencoder(X, 200, "joint", max_iter=5000, tol=1e-8, seed=0)
    assert ok.status == "converged" and ok.final_loss <= 1e-8 * ok.losses[0]
    assert ok.losses[-2] > 1e-8 * ok.losses[0]  # stopped at the first step below tol
    bad = train_relu_autoencoder(X, 50, "joint", eta=1e3, max_iter=1000, seed=0)
    assert bad.status in ("diverged", "non_finite")
    inf = train_relu_autoencoder(X, 50, "weak", eta=1e300, max_iter=10, seed=0)
    assert inf.status == "non_finite"


def test_angles_are_accurate_for_nearly_parallel_inputs():
    for theta in (1e-9, 1e-4, 0.7, math.pi / 2, math.pi - 1e-6):
        assert angles(_pair(theta, 2.0, 0.5))[0, 1] == pytest.approx(theta, rel=1e-9)


@pytest.mark.parametrize("theta", [0.0, 0.3, math.pi / 2, 2.0, math.pi - 0.2])
def test_gram_closed_forms_equal_quadrature(theta):
    X = _pair(theta, 1.3, 0.7)
    h = _angular(lambda p, q: 1.0 if p > 0 and q > 0 else 0.0, theta)
    g = 2.0 * _angular(lambda p, q: max(p, 0) * max(q, 0), theta)
    assert encoder_gram(X)[0, 1] == pytest.approx(1.3 * 0.7 * math.cos(theta) * h, abs=1e-12)
    assert decoder_gram(X)[0, 1] == pytest.approx(1.3 * 0.7 * g, abs=1e-12)
    assert encoder_gram(X)[0, 0] == pytest.approx(1.3 ** 2 / 2, rel=1e-14)
    assert decoder_gram(X)[1, 1] == pytest.approx(0.7 ** 2 / 2, rel=1e-14)


def test_gram_closed_forms_against_sampling():
    """Monte Carlo over w ~ N(0, I_d) (independent of the module): every entry within 4 SE."""
    rng = np.random.default_rng(11)
    X = np.column_stack([unit_inputs(5, 4, 3) * [1.0, 0.5, 2.0, 1.5],
                         _pair(0.05, 1.0, 1.0).tolist() + [[0.0, 0.0]] * 2])
    S = 400_000
    Wt = rng.standard_normal((S, 5))
    Z = Wt @ X
    A, D = np.maximum(Z, 0.0), (Z > 0).astype(float)
    for closed, contrib in ((encoder_gram(X), lambda i, j: (X[:, i] @ X[:, j]) * D[:, i] * D[:, j]),
                            (decoder_gram(X), lambda i, j: A[:, i] * A[:, j])):
        for i in range(X.shape[1]):
            for j in range(i, X.shape[1]):
                c = contrib(i, j)
                z = (c.mean() - closed[i, j]) / (c.std(ddof=1) / math.sqrt(S))
                assert abs(z) < Z_MAX, (i, j, z)


def test_orthogonal_pair_least_eigenvalues():
    X = np.eye(4)[:, :2]
    assert np.linalg.eigvalsh(decoder_gram(X))[0] == pytest.approx(0.5 - 0.5 / math.pi,
                                                                   rel=1e-14)
    assert np.linalg.eigvalsh(encoder_gram(X))[0] == pytest.approx(0.5, rel=1e-14)
    joint = limiting_gram(X, "joint")
    assert np.linalg.eigvalsh(joint)[0] == pytest.approx(1 - 0.5 / math.pi, rel=1e-14)
    big = np.linalg.eigvalsh(kron_identity(decoder_gram(X), 4))
    np.testing.assert_allclose(big[:4], 0.5 - 0.5 / math.pi, rtol=1e-14)  # multiplicity d


@pytest.mark.parametrize("part, regime", [("encoder", "weak"), ("decoder", "joint")])
def test_finite_width_kernel_converges_to_the_limit(part, regime):
    """The trainer's own Jacobian Gram at initialization, entry by entry, within 4 standard
    errors of its average over the m independent neurons (off-diagonal blocks included)."""
    X = unit_inputs(3, 4, 21) * [1.0, 0.6, 1.4, 1.0]
    net = init_autoencoder(3, 20_000, regime, seed=5)
    K = empirical_ntk(net, X)
    H, G = kron_identity(encoder_gram(X), 3), kron_identity(decoder_gram(X), 3)
    if part == "encoder":
        approx, limit = K, H
    else:  # joint minus the weak (encoder) kernel of the same weights
        approx = K - empirical_ntk(init_autoencoder(3, 20_000, "weak", seed=5), X)
        limit = G
    se = ntk_neuron_stderr(net, X, part)
    exact = se == 0  # decoder blocks k != l vanish identically
    np.testing.assert_allclose(approx[exact], limit[exact], atol=1e-12)
    z = (approx[~exact] - limit[~exact]) / se[~exact]
    assert np.abs(z).max() < Z_MAX


def test_tied_network_starts_near_sqrt_m_over_two_times_identity():
    """E_w[w relu(w^T x)] = x/2, so u_0(x) = sum_r w_r relu(w_r^T x) / sqrt(m) has mean
    sqrt(m) x / 2: the per-neuron average within 4 SE of x/2."""
    x = unit_inputs(6, 1, 4) * 1.7
    m = 200_000
    net = init_autoencoder(6, m, "tied", seed=8)
    per = net.W * np.maximum(net.W.T @ x, 0.0)[:, 0]  # d x m per-neuron contributions
    z = (per.mean(axis=1) - x[:, 0] / 2) / (per.std(axis=1, ddof=1) / math.sqrt(m))
    assert np.abs(z).max() < Z_MAX
    np.testing.assert_allclose(net(x)[:, 0], math.sqrt(m) * per.mean(axis=1), rtol=1e-10)


def test_predicted_loss_factor_and_linearized_model():
    lam = np.array([0.2, 0.5, 1.0])
    assert predicted_loss_factor(1.0, lam) == pytest.approx(0.64)
    assert predicted_loss_factor(1.9, lam) == pytest.approx(0.81)  # 1 - 1.9 = -0.9 rules
    assert predicted_loss_factor(2.5, lam) > 1  # diverges
    X = unit_inputs(4, 5, 2)
    H = encoder_gram(X)
    R0 = np.random.default_rng(0).standard_normal((4, 5))
    eta = 1 / np.linalg.eigvalsh(H)[-1]
    L = linearized_losses(H, R0, eta, 400)
    r, K = R0.T.ravel(), kron_identity(H, 4)
    for t in (0, 1, 7):
        assert L[t] == pytest.approx(0.5 * np.sum((np.linalg.matrix_power(
            np.eye(20) - eta * K, t) @ r) ** 2), rel=1e-10)
    # the tail rate of the linear model is its asymptotic factor
    assert fit_loss_factor(L, 1e-6, 1e-14) == pytest.approx(
        predicted_loss_factor(eta, np.linalg.eigvalsh(H)), rel=2e-3)


def test_weakly_trained_linear_rate_at_large_width():
    """Observed per-step loss factor on the tail within the Weyl interval
    [(1 - eta (lambda_1 + delta))^2, (1 - eta (lambda_1 - delta))^2], delta the largest
    operator-norm distance of the finite-width kernel from the limit (at the start and the end
    of training), valid once the faster eigen-clusters have died out (gap > 2 delta)."""
    d, n, m = 4, 4, 20_000
    X = unit_inputs(d, n, 7)
    H = encoder_gram(X)
    lam = np.linalg.eigvalsh(H)
    eta = 1.0 / lam[-1]
    net = init_autoencoder(d, m, "weak", seed=3)
    res = train_relu_autoencoder(X, eta=eta, max_iter=2000, tol=1e-16, network=net)
    K_inf = kron_identity(H, d)
    delta = max(np.linalg.norm(empirical_ntk(net, X) - K_inf, 2),
                np.linalg.norm(empirical_ntk(res.final, X) - K_inf, 2))
    assert lam[1] - lam[0] > 2 * delta  # the interval is informative at this width
    observed = fit_loss_factor(res.losses, 1e-6, 1e-14)
    low, high = (1 - eta * (lam[0] + delta)) ** 2, (1 - eta * (lam[0] - delta)) ** 2
    assert res.status == "converged"
    assert low <= observed <= high, (low, observed, high)


def test_kernel_distance_shrinks_like_one_over_sqrt_m():
    """sqrt(m) (K_m - K_inf) tends to a Gaussian matrix (central limit over neurons), so the
    mean operator-norm distance falls like m^{-1/2}: a 16-fold width divides it by 4, within
    4 standard errors of the ratio of the two seed means (delta method)."""
    X = unit_inputs(4, 5, 1)
    K_inf = kron_identity(encoder_gram(X) + decoder_gram(X), 4)
    seeds = range(16)
    dist = {m: np.array([np.linalg.norm(empirical_ntk(init_autoencoder(4, m, "joint", s), X)
                                        - K_inf, 2) for s in seeds]) for m in (500, 8000)}
    a, b = dist[500], dist[8000]
    ratio = a.mean() / b.mean()
    se = ratio * math.sqrt((a.std(ddof=1) / a.mean()) ** 2 / a.size
                           + (b.std(ddof=1) / b.mean()) ** 2 / b.size)
    assert abs(ratio - 4.0) < Z_MAX * se, (ratio, se)
    assert se < 0.6  # the test can tell m^{-1/2} from m^{-1/4} (ratio 2) or m^{-1} (16)


@pytest.mark.slow
def test_joint_training_needs_a_smaller_width_than_weak_training():
    _, summary = threshold_experiment(8, [8], seeds=(0, 1, 2), max_iter=5000)
    by = {row["regime"]: row for row in summary}
    assert by["joint"]["converged_seeds"] == by["weak"]["converged_seeds"] == 3
    assert by["joint"]["m_max"] < by["weak"]["m_min"]


@pytest.mark.parametrize("call, words", [
    (lambda: encoder_gram(np.zeros((3, 2))), "nonzero"),
    (lambda: encoder_gram(np.ones(3)), "d x n"),
    (lambda: decoder_gram(np.array([[1.0, np.nan]])), "finite"),
    (lambda: limiting_gram(np.eye(2), "tied"), "no infinite-width"),
    (lambda: limiting_gram(np.eye(2), "both"), "regime must be one of"),
    (lambda: kron_identity(np.eye(2), 0), "d must be an integer >= 1"),
    (lambda: predicted_loss_factor(0.0, [1.0]), "eta must be"),
    (lambda: init_autoencoder(3, 0, "weak"), "m must be an integer >= 1"),
    (lambda: init_autoencoder(3, 2.5, "weak"), "m must be an integer >= 1"),
    (lambda: init_autoencoder(3, 4, "weak", alpha=-1.0), "alpha must be"),
    (lambda: init_autoencoder(3, 4, "untied"), "regime must be one of"),
    (lambda: unit_inputs(0, 3), "d must be an integer >= 1"),
    (lambda: train_relu_autoencoder(np.eye(3), 4, eta=-0.1), "eta must be"),
    (lambda: train_relu_autoencoder(np.eye(3), 4, tol=0.0), "tol must lie in (0, 1)"),
    (lambda: train_relu_autoencoder(np.eye(3), 4, max_iter=-1), "max_iter must be"),
    (lambda: train_relu_autoencoder(np.eye(3)), "give the width m"),
    (lambda: train_relu_autoencoder(np.eye(3), network=init_autoencoder(4, 5, "weak")),
     "network has d=4"),
    (lambda: fit_loss_factor([1.0, 0.5], 1e-2, 1e-1), "need 0 < lower < upper"),
    (lambda: ntk_neuron_stderr(init_autoencoder(3, 4, "weak"), np.eye(3), "both"),
     "part must be"),
    (lambda: threshold_experiment(3, [2], widths=[0, 4]), "widths must be"),
])
def test_bad_input_is_a_clear_error(call, words):
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        call()
