"""Mode dynamics of the two-layer linear DAE (rmtrisk.dynamics.modes, flow, weight_decay)."""

import mpmath as mp
import numpy as np
import pytest

from rmtrisk.dynamics.flow import (
    aligned_balanced_init,
    mode_projections,
    noise_averaged_flow,
)
from rmtrisk.dynamics.modes import (
    hyperbolic_mode_value,
    mode_fixed_point,
    mode_value,
    noise_product_regularization,
    paper_to_rmtrisk,
    published_hyperbolic_value,
    published_mode_value,
)
from rmtrisk.dynamics.weight_decay import (
    decay_time_rescaling,
    equivalent_weight_decay,
    noise_vs_decay_rows,
    optimal_step,
    paper_optimal_learning_rates,
    scalar_gradient_descent,
    scalar_hessian,
    steps_to_converge,
)
from rmtrisk.montecarlo.dynamics import gradient_flow
from rmtrisk.montecarlo.sampling import gaussian_noise, haar_frame
from rmtrisk.montecarlo.training import dae_loss

mp.mp.dps = 60


# ------------------------------------------------------------------------------------------
# independent references (mpmath, high precision)
# ------------------------------------------------------------------------------------------
def mp_logistic(s, a, nu, wd, u0):
    """u*/(1 + (u*/u0 - 1) e^{-2(a - wd)s}) at 60 digits (no overflow in mpmath)."""
    s, a, nu, wd, u0 = (mp.mpf(x) for x in (s, a, nu, wd, u0))
    g = a - wd
    if g == 0:
        return u0 / (1 + 2 * u0 * (a + nu) * s)
    star = g / (a + nu)
    return star / (1 + (star / u0 - 1) * mp.exp(-2 * g * s))


def mp_published(lam, var, gamma, N, t, lr, u0):
    """The published formula of src/linear_ae_net/dynamics.py, written out in mpmath."""
    lam, var, gamma, N, t, lr, u0 = (mp.mpf(x) for x in (lam, var, gamma, N, t, lr, u0))
    tau = N / lr
    g = N * gamma
    xi = lam + N * var
    E = mp.exp(2 * (lam - g) * t / tau)
    return (lam - g) * E / (xi * (E - 1) + (lam - g) / u0)


def ode_published(lam, var, gamma, N, t, lr, u0):
    """Independent of any closed form: du/dt = (2 lr / N) u ((lam - N gamma) - (lam + N var) u),
    the gradient flow of the mean loss in epochs, integrated in v = log u (DOP853, rtol 1e-13)."""
    from scipy.integrate import solve_ivp

    c = 2 * lr / N
    sol = solve_ivp(lambda _, v: [c * ((lam - N * gamma) - (lam + N * var) * np.exp(v[0]))],
                    (0, t), [np.log(u0)], method="DOP853", rtol=1e-13, atol=1e-13)
    return float(np.exp(sol.y[0, -1]))


def naive_published_float(lam, var, gamma, N, t, lr, u0):
    """The published formula in float64 exactly as written (overflows for large lam)."""
    with np.errstate(over="ignore", invalid="ignore"):
        tau = N / lr
        g = N * gamma
        xi = lam + N * var
        E = np.exp(2 * (lam - g) * t / tau)
        return (lam - g) * E / (xi * (E - 1) + (lam - g) / u0)


# ------------------------------------------------------------------------------------------
# closed forms
# ------------------------------------------------------------------------------------------
CASES = [  # (s, a, nu, wd, u0): growing, dying, a = wd, huge and tiny scales
    (0.0, 2.0, 0.5, 0.1, 1e-6), (0.7, 2.0, 0.5, 0.1, 1e-6), (5.0, 2.0, 0.5, 0.1, 1e-6),
    (3.0, 1.0, 0.0, 0.0, 1e-9), (2.0, 1.0, 3.0, 0.0, 0.9), (0.4, 1.0, 0.2, 0.0, 2.0),
    (1.5, 0.5, 1.0, 2.0, 1e-3), (40.0, 0.5, 1.0, 2.0, 0.3), (1.0, 3.0, 1.0, 3.0, 1e-2),
    (1e-3, 1e6, 1e5, 0.0, 1e-8), (1.0, 1e-4, 1e-6, 5e-5, 1e-5), (2e4, 1e-3, 0.0, 0.0, 1e-6),
    (1e-8, 1e9, 1.0, 1.0, 1e-12),
]


@pytest.mark.parametrize("case", CASES)
def test_mode_value_matches_mpmath(case):
    assert mode_value(*case) == pytest.approx(float(mp_logistic(*case)), rel=1e-13, abs=1e-300)


def test_mode_value_broadcasts_and_limits():
    s = np.geomspace(1e-3, 1e3, 7)[:, None]
    a = np.array([3.0, 1.0, 0.2])
    u = mode_value(s, a, 0.5, 0.4, 1e-4)
    assert u.shape == (7, 3)
    assert np.allclose(u[-1, :2], mode_fixed_point(a, 0.5, 0.4)[:2], rtol=1e-12)
    assert 0 < u[-1, 2] < 1e-170  # decays like exp(-2 (wd - a) s) = exp(-400)
    # the mode with a < wd dies, the others do not; noise alone never kills a mode
    assert mode_fixed_point(0.2, 0.5, 0.4) == 0.0
    assert mode_fixed_point(1e-3, 1e3, 0.0) > 0.0


def test_mode_value_does_not_overflow_at_image_scale_eigenvalues():
    """lam ~ 1e6 N (per-sample variance 1e6, like unnormalized image pixels): the published
    form is inf/inf = nan, ours is finite and equals the 60-digit value."""
    N, lr, u0 = 1000, 1e-3, 2.5e-7
    lam = 1e6 * N
    for t in (1.0, 10.0, 1e3):
        naive = naive_published_float(lam, 0.1, 0.0, N, t, lr, u0)
        ours = published_mode_value(lam, 0.1, 0.0, N, t, lr, u0)
        ref = float(mp_published(lam, 0.1, 0.0, N, t, lr, u0))
        assert not np.isfinite(naive)
        assert np.isfinite(ours) and ours == pytest.approx(ref, rel=1e-13)
    # and a dying mode far below the weight decay: the naive form is fine, ours too
    assert published_mode_value(1.0, 0.1, 1e6, N, 1e3, lr, u0) == pytest.approx(
        float(mp_published(1.0, 0.1, 1e6, N, 1e3, lr, u0)), rel=1e-12, abs=1e-300)


PUBLISHED = [  # (lam, var, gamma, N, t, lr, u0) in the published code's conventions
    (2.5, 0.4, 0.0, 1, 300, 1e-3, 1e-6), (1.0, 1.0, 0.0, 1, 2000, 5e-3, 1e-6),
    (1.0, 0.0, 0.5, 1, 2000, 5e-3, 1e-6), (0.5, 0.0, 0.6, 1, 500, 1e-2, 1e-3),
    (4000.0, 0.2, 0.5, 1000, 150, 0.1, 2.5e-7), (7.5e4, 1e-2, 1e-3, 6e4, 40, 0.05, 2.5e-7),
    (300.0, 0.05, 0.2, 200, 1000, 0.02, 0.3), (12.0, 2.0, 0.0, 10, 10, 1.0, 5.0),
]


@pytest.mark.parametrize("case", PUBLISHED)
def test_published_convention_values_to_1e10(case):
    ours = published_mode_value(*case)
    # against the published formula written out at 60 digits
    assert ours == pytest.approx(float(mp_published(*case)), rel=1e-10, abs=1e-300)
    # and against the published formula in float64 (finite at these sizes)
    assert ours == pytest.approx(naive_published_float(*case), rel=1e-10)


@pytest.mark.parametrize("case", PUBLISHED)
def test_published_convention_values_against_the_ode(case):
    """Independent of any closed form: the mode ODE of the mean loss, integrated."""
    assert published_mode_value(*case) == pytest.approx(ode_published(*case), rel=1e-10)


def test_paper_conversion_is_explicit():
    p = paper_to_rmtrisk(lam=5.0, var=0.1, gamma=0.02, N=50, learning_rate=0.2, epoch=30)
    assert (p.a, p.nu, p.wd, p.s) == (5.0, 50 * 0.1, 50 * 0.02, 0.2 * 30 / 50)
    # the paper's fixed point (lam - N gamma)/(lam + N var) is ours
    assert mode_fixed_point(p.a, p.nu, p.wd) == pytest.approx((5.0 - 1.0) / (5.0 + 5.0))
    assert noise_product_regularization(0.3, 40, 20) == pytest.approx(40 * 0.3 / 20)


def test_noise_averaged_loss_is_the_product_regularized_loss():
    """E_A dae_loss(W; X + A, X) = dae_loss(W; X, X, reg = N eta2 / d): Monte Carlo, 4 SE."""
    rng = np.random.default_rng(5)
    d, N, k, eta2 = 6, 9, 3, 0.7
    X = haar_frame(d, 2, rng) @ np.diag([3.0, 1.5]) @ haar_frame(N, 2, rng).T
    W1, W2 = rng.standard_normal((k, d)) * 0.4, rng.standard_normal((d, k)) * 0.4
    samples = np.array([dae_loss(W1, W2, X + gaussian_noise(d, N, eta2, rng), X)
                        for _ in range(4000)])
    exact = dae_loss(W1, W2, X, X, noise_product_regularization(eta2, N, d))
    se = samples.std(ddof=1) / np.sqrt(samples.size)
    assert abs(samples.mean() - exact) < 4 * se


def ode_w(a, nu, w1, w2, s):
    from scipy.integrate import solve_ivp

    def f(_, w):
        e = (a + nu) * w[0] * w[1] - a
        return [-e * w[1], -e * w[0]]

    sol = solve_ivp(f, (0, s[-1]), [w1, w2], t_eval=s, rtol=1e-13, atol=1e-16,
                    method="DOP853")
    return sol.y[0] * sol.y[1]


@pytest.mark.parametrize("w1, w2", [(0.3, -0.1), (1e-3, 2e-3), (1.5, 0.2), (-0.5, 0.6),
                                    (2e-4, -3e-4), (0.01, 0.01 + 1e-9)])
def test_hyperbolic_solution_matches_the_scalar_ode(w1, w2):
    a, nu = 2.0, 0.7
    s = np.array([0.01, 0.3, 1.0, 2.5, 6.0])
    ours = hyperbolic_mode_value(s, a, nu, w1 * w2, w1**2 - w2**2)
    assert np.allclose(ours, ode_w(a, nu, w1, w2, s), rtol=1e-9, atol=1e-14)


def test_hyperbolic_solution_reduces_to_the_balanced_one():
    s = np.linspace(0, 5, 11)
    assert np.allclose(hyperbolic_mode_value(s, 1.3, 0.4, 1e-4, 0.0),
                       mode_value(s, 1.3, 0.4, 0.0, 1e-4), rtol=1e-13)
    assert np.allclose(hyperbolic_mode_value(s, 1.3, 0.4, 1e-4, 1e-12),
                       mode_value(s, 1.3, 0.4, 0.0, 1e-4), rtol=1e-7)


def mp_figure1(lam, var, t, lr, w1, w2):
    """The hyperbolic trajectory of the paper's Figure 1 notebook, written out in mpmath."""
    lam, var, t, lr, w1, w2 = (mp.mpf(x) for x in (lam, var, t, lr, w1, w2))
    c0 = abs(w2**2 - w1**2)
    th = mp.asinh(2 * w1 * w2 / c0)
    vl = 1 + var / lam
    g = mp.sqrt(c0**2 * vl**2 + 4)
    E = mp.exp(g * lam * t * lr)
    q = mp.tanh(th / 2)
    num = (1 - E) * (g**2 - c0**2 * vl**2 - 2 * c0 * vl * q) - 2 * (E + 1) * g * q
    den = (1 - E) * (2 * c0 * vl + 4 * q) - 2 * (E + 1) * g
    return c0 / 2 * mp.sinh(2 * mp.atanh(num / den))


@pytest.mark.parametrize("lam, var, w1, w2", [(1.0, 0.0, 0.4, -1.2), (1.0, 1.0, 1.5, 0.3),
                                              (1.0, 5.0, -0.8, 1.9), (2.0, 0.5, 0.1, 0.05)])
def test_hyperbolic_matches_the_published_figure1_formula(lam, var, w1, w2):
    for t in (0, 10, 50, 200):
        assert published_hyperbolic_value(lam, var, t, 0.01, w1, w2) == pytest.approx(
            float(mp_figure1(lam, var, t, 0.01, w1, w2)), rel=1e-10, abs=1e-14)


# ------------------------------------------------------------------------------------------
# the integrator
# ------------------------------------------------------------------------------------------
def problem(seed=1, d=10, N=30, energy=(2.0, 1.0, 0.4, 0.05), eta2=0.5):
    rng = np.random.default_rng(seed)
    sv = np.sqrt(N * np.asarray(energy))
    return rng, sv, haar_frame(d, sv.size, rng), noise_product_regularization(eta2, N, d)


@pytest.mark.parametrize("wd", [0.0, 3.0, 30.0])
def test_aligned_balanced_flow_equals_the_closed_form(wd):
    rng, sv, U, nu = problem()
    u0 = np.array([1e-4, 2e-4, 5e-5, 1e-4])
    Q = haar_frame(4, 4, rng)
    W1, W2 = aligned_balanced_init(U, u0, rotation=Q)
    s = np.array([0.0, 0.01, 0.05, 0.1, 0.3, 1.0])
    run = noise_averaged_flow(sv, U, nu, W1, W2, s, wd=wd)
    closed = mode_value(s[:, None], sv**2, nu, wd, u0)
    # relative 1e-6 on every mode value above 1e-10 (dying modes at wd = 30 fall to 1e-29,
    # below the integrator's absolute tolerance 1e-12 * ||W(0)||; there: absolute 1e-12)
    seen = closed > 1e-10
    got = mode_projections(run.W, U)
    assert np.allclose(got[seen], closed[seen], rtol=1e-6, atol=0)
    assert np.allclose(got[~seen], closed[~seen], rtol=0, atol=1e-12)
    for j in range(s.size):  # the weights themselves, not only the modes
        V1, V2 = aligned_balanced_init(U, closed[j], rotation=Q)
        assert np.linalg.norm(run.W1[j] - V1) <= 1e-6 * np.linalg.norm(V1)
        assert np.linalg.norm(run.W2[j] - V2) <= 1e-6 * np.linalg.norm(V2)


def test_flow_agrees_with_the_montecarlo_gradient_flow_in_its_time_unit():
    """rmtrisk.montecarlo.gradient_flow on Y = T = X, reg = nu runs in tau = s ||X||_2^2."""
    rng, sv, U, nu = problem(seed=4, d=6, N=8, energy=(1.5, 0.5))
    X = U @ np.diag(sv) @ haar_frame(8, 2, rng).T
    W1, W2 = aligned_balanced_init(U, [1e-3, 2e-3])
    ref = gradient_flow(X, X, 2, nu, W1=W1, W2=W2, t_max=50.0, n_records=40)
    unit = float(np.linalg.norm(X, 2)) ** 2
    s = ref.times / unit
    ours = noise_averaged_flow(sv, U, nu, W1, W2, s)
    assert np.allclose(ours.losses, ref.losses, rtol=1e-8)


def test_flow_validates_input():
    _, sv, U, nu = problem()
    W1, W2 = aligned_balanced_init(U, 1e-3)
    with pytest.raises(ValueError, match="times"):
        noise_averaged_flow(sv, U, nu, W1, W2, [1.0, 0.5])
    with pytest.raises(ValueError, match="nu"):
        noise_averaged_flow(sv, U, -1.0, W1, W2, [1.0])
    with pytest.raises(ValueError, match="u0"):
        aligned_balanced_init(U, -1.0)
    with pytest.raises(ValueError, match="u0"):
        mode_value(1.0, 1.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="s must be"):
        mode_value(-1.0, 1.0)
    with pytest.raises(ValueError, match="delta"):
        hyperbolic_mode_value(1.0, 1.0, 0.0, -1e-3, 0.0)
    with pytest.raises(ValueError, match="learning_rate"):
        paper_to_rmtrisk(1.0, 0.1, 0.0, 10, 0.0, 5)


# ------------------------------------------------------------------------------------------
# noise versus weight decay
# ------------------------------------------------------------------------------------------
def test_equivalent_weight_decay_has_the_noise_fixed_point():
    lam, var = np.array([0.1, 1.0, 7.0]), np.array([0.3, 1.0, 0.01])
    gamma = equivalent_weight_decay(lam, var)
    assert np.allclose(mode_fixed_point(lam, 0.0, gamma), mode_fixed_point(lam, var, 0.0),
                       rtol=1e-14)


@pytest.mark.parametrize("a, nu", [(2.0, 0.5), (0.3, 4.0)])
def test_flow_trajectories_equal_up_to_the_time_rescaling(a, nu):
    """Integrator, one mode: u_decay(s) = u_noise(u* s) with the equivalent weight decay."""
    rng = np.random.default_rng(2)
    U = haar_frame(5, 1, rng)
    W1, W2 = aligned_balanced_init(U, 1e-5)
    wd = float(equivalent_weight_decay(a, nu))
    star = float(decay_time_rescaling(a, nu))
    s = np.linspace(0, 12 / a, 25)
    noise = noise_averaged_flow([np.sqrt(a)], U, nu, W1, W2, star * s)
    decay = noise_averaged_flow([np.sqrt(a)], U, 0.0, W1, W2, s, wd=wd)
    assert np.allclose(mode_projections(decay.W, U), mode_projections(noise.W, U), rtol=1e-8)


def test_gradient_descent_equal_up_to_the_step_rescaling():
    lam, var = 1.0, 2.0
    gamma = float(equivalent_weight_decay(lam, var))
    star = float(decay_time_rescaling(lam, var))
    for lr in (0.05, 0.4):
        decay = scalar_gradient_descent(lam, 0.0, gamma, lr, 300, 1e-6)
        noise = scalar_gradient_descent(lam, var, 0.0, lr * star, 300, 1e-6)
        assert np.allclose(decay, noise, rtol=1e-11)
    # at the paper's two step sizes the two runs coincide step for step
    lr_dae, lr_wd = paper_optimal_learning_rates(lam, var)
    assert np.allclose(scalar_gradient_descent(lam, var, 0.0, lr_dae, 300, 1e-6),
                       scalar_gradient_descent(lam, 0.0, gamma, lr_wd, 300, 1e-6), rtol=1e-11)


def test_scalar_gradient_descent_takes_gradient_steps():
    """One step against a finite-difference gradient of the scalar loss."""
    lam, var, gamma, lr = 1.3, 0.4, 0.2, 0.1
    w1, w2 = np.sqrt(0.2) * 1.1, np.sqrt(0.2) * 0.9

    def loss(x, y):
        u = x * y
        return lam / 2 * (1 - u)**2 + var / 2 * u**2 + gamma / 2 * (x * x + y * y)

    h = 1e-6
    g1 = (loss(w1 + h, w2) - loss(w1 - h, w2)) / (2 * h)
    g2 = (loss(w1, w2 + h) - loss(w1, w2 - h)) / (2 * h)
    u = scalar_gradient_descent(lam, var, gamma, lr, 1, 0.2, 0.1)
    assert u[1] == pytest.approx((w1 - lr * g1) * (w2 - lr * g2), rel=1e-9)
    k = 1e-4  # second differences: error ~ k**2 + eps / k**2

    def second(dx1, dy1, dx2, dy2):
        return (loss(w1 + k * (dx1 + dx2), w2 + k * (dy1 + dy2))
                - loss(w1 + k * (dx1 - dx2), w2 + k * (dy1 - dy2))
                - loss(w1 - k * (dx1 - dx2), w2 - k * (dy1 - dy2))
                + loss(w1 - k * (dx1 + dx2), w2 - k * (dy1 + dy2))) / (4 * k * k)

    H = np.array([[second(1, 0, 1, 0), second(1, 0, 0, 1)],
                  [second(0, 1, 1, 0), second(0, 1, 0, 1)]])
    assert np.allclose(scalar_hessian(w1, w2, lam, var, gamma), H, rtol=1e-6, atol=1e-7)


def test_paper_step_sizes_are_inverse_curvatures_at_the_identity():
    for lam, var in ((1.0, 0.5), (2.0, 3.0)):
        gamma = float(equivalent_weight_decay(lam, var))
        lr_dae, lr_wd = paper_optimal_learning_rates(lam, var)
        top_dae = np.linalg.eigvalsh(scalar_hessian(1.0, 1.0, lam, var, 0.0))[-1]
        top_wd = np.linalg.eigvalsh(scalar_hessian(1.0, 1.0, lam, 0.0, gamma))[-1]
        assert lr_dae == pytest.approx(1 / top_dae) and lr_wd == pytest.approx(1 / top_wd)
        # and the flow rates per step they give are equal
        assert 2 * lam * lr_dae == pytest.approx(2 * (lam - gamma) * lr_wd, rel=1e-14)


def test_steps_to_converge():
    u = np.array([0.0, 0.5, 0.99, 1.2, 0.995, 1.001])
    assert int(steps_to_converge(u, 1.0, 1e-2)) == 4
    assert int(steps_to_converge(u[:4], 1.0, 1e-2)) == -1


def test_noise_vs_decay_rows():
    rows = noise_vs_decay_rows(1.0, [0.5, 3.0], steps=800, grid=80)
    for row in rows:
        assert row["steps_dae_paper_lr"] == row["steps_wd_paper_lr"] > 0
        assert row["steps_wd_at_dae_lr"] > row["steps_dae_paper_lr"]
        assert row["steps_dae_best_balanced"] == row["steps_wd_best_balanced"]
    # beyond var = lam the weight decay's stable step is set by 2 gamma, and a perturbed
    # start no longer reaches the fixed point as fast as the noise model does
    assert rows[1]["steps_wd_best_perturbed"] > rows[1]["steps_dae_best_perturbed"]
    lr, n = optimal_step(1.0, 0.5, 0.0, 1e-6, steps=800, grid=80)
    assert 0 < lr < 1.0 and n > 0
