"""Numba scalar kernels GENERATED from the sympy expressions of ``rmtrisk.symbolic``.

DO NOT EDIT: regenerate with ``python -m rmtrisk._codegen``
(``tests/test_kernels.py`` fails when this file is stale).

Marchenko–Pastur kernels take the law as ``(gamma, gammabar, s)`` with ``gammabar = 1 - gamma``
passed separately (exact when ``gamma = 1/c``: ``gammabar = (c - 1)/c``).
"""

# ruff: noqa
# fmt: off
from __future__ import annotations

import cmath
import math

from numba import njit

__all__ = ["mp_edges", "mp_masses", "mp_density", "mp_tail_mass", "mp_tail_mass_dt", "mp_moment_m2", "mp_moment_scale_m2", "mp_moment_m1", "mp_moment_scale_m1", "mp_moment_0", "mp_moment_scale_0", "mp_moment_1", "mp_moment_scale_1", "mp_moment_2", "mp_moment_scale_2", "mp_threshold_guess", "mp_stieltjes", "mp_stieltjes_real", "mp_stieltjes_deriv", "mp_stieltjes_poly", "skip_direction_terms", "skip_aggregate", "skip_fixed_k_moment", "one_layer_factors_c_gt_1", "one_layer_factors_c_lt_1", "ridge_moments", "ridge_direction_factors", "ridge_aggregate", "skip_under_edges", "skip_under_pole_terms", "skip_under_semicircle", "skip_under_overlaps", "skip_under_edge_overlaps", "skip_under_full_overlaps", "skip_under_direction_terms", "skip_under_aggregate", "skip_ridge_constants", "skip_ridge_smooth", "skip_ridge_poles", "skip_ridge_boundary_m", "skip_ridge_bulk", "skip_ridge_node", "skip_ridge_outlier", "skip_ridge_full_width", "skip_ridge_aggregate", "skip_ridge_edge", "gf_outlier", "gf_residual_limit", "gf_bulk_integrands", "gf_atom_terms"]


@njit(cache=True, error_model="numpy")
def mp_edges(gamma, gammabar, s):
    """Support edges (a, b) = (s (1 - sqrt(gamma))^2, s (1 + sqrt(gamma))^2)."""
    _x0 = (math.sqrt(gamma) + 1)**2
    return (gammabar**2*s/_x0, _x0*s)


@njit(cache=True, error_model="numpy")
def mp_masses(gamma, gammabar, s):
    """(atom mass at 0, continuous mass)."""
    _x0 = (1/(gamma))
    return (max(0, -_x0*gammabar), min(1, _x0))


@njit(cache=True, error_model="numpy")
def mp_density(x, gamma, gammabar, s):
    """Density of the continuous part (0 outside (a, b))."""
    _x0 = -x
    _x1 = (math.sqrt(gamma) + 1)**2
    _x2 = _x1*s
    _x3 = gammabar**2*s/_x1
    return (((1/2)*math.sqrt(-_x0 - _x3)*math.sqrt(_x0 + _x2)/(math.pi*gamma*s*x)) if (_x2 > x) and (_x3 < x) else (0))


@njit(cache=True, error_model="numpy")
def mp_tail_mass(t, gamma, gammabar, s):
    """Tail mass F(t) = mu((t, inf))."""
    _x0 = (1/(gamma))
    _x1 = math.sqrt(gamma) + 1
    _x2 = _x1**2
    _x3 = _x2*s
    _x4 = gammabar**2*s/_x2
    _x5 = -min(_x3, max(_x4, t))
    _x6 = math.sqrt(_x3 + _x5)
    _x7 = math.sqrt(-_x4 - _x5)
    _x8 = abs(gammabar)
    _x9 = math.sqrt(s)
    return (1/2)*_x0*(-_x6*_x7 - 2*_x8*s*math.atan2(_x6*_x8*_x9/_x1, _x1*_x7*_x9) + (_x3 + _x4)*math.atan2(_x6, _x7))/(math.pi*s) + ((max(0, -_x0*gammabar)) if (gammabar < 0) and (t < 0) else (0))


@njit(cache=True, error_model="numpy")
def mp_tail_mass_dt(t, gamma, gammabar, s):
    """dF/dt = -density(t) (Newton derivative of the threshold equation)."""
    _x0 = -t
    _x1 = (math.sqrt(gamma) + 1)**2
    _x2 = _x1*s
    _x3 = gammabar**2*s/_x1
    return -(((1/2)*math.sqrt(-_x0 - _x3)*math.sqrt(_x0 + _x2)/(math.pi*gamma*s*t)) if (_x2 > t) and (_x3 < t) else (0))


@njit(cache=True, error_model="numpy")
def mp_moment_m2(t, gamma, gammabar, s):
    """Truncated moment T_-2(t) = int_{x > t} x^-2 dmu(x) (closed form, any real t)."""
    _x0 = math.sqrt(gamma) + 1
    _x1 = _x0**2
    _x2 = _x1*s
    _x3 = gammabar**2
    _x4 = (1/(_x1))
    _x5 = _x3*_x4*s
    _x6 = min(_x2, max(_x5, t))
    _x7 = -_x6
    _x8 = _x2 + _x7
    _x9 = (1/(s))
    _x10 = _x4*_x9/_x6**(3/2)
    _x11 = math.sqrt(-_x5 - _x7)
    _x12 = math.sqrt(_x8)
    _x13 = _x11*_x12
    _x14 = (1/2)*_x13/_x6**2
    _x15 = (1/2)*_x9/(math.pi*gamma)
    _x16 = (1/4)/_x3
    _x17 = abs(gammabar)
    _x18 = math.sqrt(s)
    return ((math.inf) if (gammabar < 0) and (t < 0) else (((_x15*((1/4)*_x10*_x12*(_x2 - 3*_x6) - 1/12*_x10*_x8**(3/2) + _x14)) if (gammabar == 0) else (_x15*(_x13*_x16*(-_x2 - _x5)/(_x6*s**2) + _x14 + _x16*(_x2 - _x5)**2*math.atan2(_x12*_x17*_x18/_x0, _x0*_x11*_x18)/(_x17*s**3))))))


@njit(cache=True, error_model="numpy")
def mp_moment_scale_m2(t, gamma, gammabar, s):
    """Sum of |terms| of T_-2(t) (eps times this bounds its rounding error)."""
    _x0 = math.sqrt(gamma) + 1
    _x1 = _x0**2
    _x2 = _x1*s
    _x3 = gammabar**2
    _x4 = (1/(_x1))
    _x5 = _x3*_x4*s
    _x6 = min(_x2, max(_x5, t))
    _x7 = -_x6
    _x8 = _x2 + _x7
    _x9 = (1/(s))
    _x10 = _x4*_x9/_x6**(3/2)
    _x11 = math.sqrt(_x8)
    _x12 = math.sqrt(-_x5 - _x7)
    _x13 = _x11*_x12
    _x14 = (1/2)*abs(_x13)/_x6**2
    _x15 = (1/2)*_x9/(math.pi*gamma)
    _x16 = (1/(_x3))
    _x17 = abs(gammabar)
    _x18 = math.sqrt(s)
    return ((_x15*((1/12)*_x10*abs(_x8**(3/2)) + (1/4)*_x10*abs(_x11*(_x2 - 3*_x6)) + _x14)) if (gammabar == 0) else (_x15*(_x14 + (1/4)*(-_x2 + _x5)**2*abs(_x16*math.atan2(_x11*_x17*_x18/_x0, _x0*_x12*_x18)/_x17)/s**3 + (1/4)*(_x2 + _x5)*abs(_x13*_x16)/(_x6*s**2))))


@njit(cache=True, error_model="numpy")
def mp_moment_m1(t, gamma, gammabar, s):
    """Truncated moment T_-1(t) = int_{x > t} x^-1 dmu(x) (closed form, any real t)."""
    _x0 = math.sqrt(gamma) + 1
    _x1 = _x0**2
    _x2 = _x1*s
    _x3 = gammabar**2*s/_x1
    _x4 = min(_x2, max(_x3, t))
    _x5 = (1/(_x4))
    _x6 = -_x4
    _x7 = _x2 + _x6
    _x8 = math.sqrt(_x7)
    _x9 = math.sqrt(-_x3 - _x6)
    _x10 = -2*math.atan2(_x8, _x9)
    _x11 = (1/(s))
    _x12 = (1/2)*_x11/(math.pi*gamma)
    _x13 = abs(gammabar)
    _x14 = math.sqrt(s)
    return ((math.inf) if (gammabar < 0) and (t < 0) else (((_x12*(_x10 + 2*math.sqrt(_x5*_x7))) if (gammabar == 0) else (_x12*(_x10 + _x11*(_x2 + _x3)*math.atan2(_x13*_x14*_x8/_x0, _x0*_x14*_x9)/_x13 + _x5*_x8*_x9)))))


@njit(cache=True, error_model="numpy")
def mp_moment_scale_m1(t, gamma, gammabar, s):
    """Sum of |terms| of T_-1(t) (eps times this bounds its rounding error)."""
    _x0 = math.sqrt(gamma) + 1
    _x1 = _x0**2
    _x2 = _x1*s
    _x3 = gammabar**2*s/_x1
    _x4 = min(_x2, max(_x3, t))
    _x5 = (1/(_x4))
    _x6 = -_x4
    _x7 = _x2 + _x6
    _x8 = math.sqrt(_x7)
    _x9 = math.sqrt(-_x3 - _x6)
    _x10 = 2*abs(math.atan2(_x8, _x9))
    _x11 = (1/(s))
    _x12 = (1/2)*_x11/(math.pi*gamma)
    _x13 = abs(gammabar)
    _x14 = math.sqrt(s)
    return ((_x12*(_x10 + 2*abs(math.sqrt(_x5*_x7)))) if (gammabar == 0) else (_x12*(_x10 + _x11*(_x2 + _x3)*abs(math.atan2(_x13*_x14*_x8/_x0, _x0*_x14*_x9)/_x13) + _x5*abs(_x8*_x9))))


@njit(cache=True, error_model="numpy")
def mp_moment_0(t, gamma, gammabar, s):
    """Truncated moment T_0(t) = int_{x > t} x^0 dmu(x) (closed form, any real t)."""
    _x0 = (1/(gamma))
    _x1 = math.sqrt(gamma) + 1
    _x2 = _x1**2
    _x3 = _x2*s
    _x4 = gammabar**2*s/_x2
    _x5 = -min(_x3, max(_x4, t))
    _x6 = math.sqrt(_x3 + _x5)
    _x7 = math.sqrt(-_x4 - _x5)
    _x8 = abs(gammabar)
    _x9 = math.sqrt(s)
    return (1/2)*_x0*(-_x6*_x7 - 2*_x8*s*math.atan2(_x6*_x8*_x9/_x1, _x1*_x7*_x9) + (_x3 + _x4)*math.atan2(_x6, _x7))/(math.pi*s) + ((max(0, -_x0*gammabar)) if (gammabar < 0) and (t < 0) else (0))


@njit(cache=True, error_model="numpy")
def mp_moment_scale_0(t, gamma, gammabar, s):
    """Sum of |terms| of T_0(t) (eps times this bounds its rounding error)."""
    _x0 = math.sqrt(gamma) + 1
    _x1 = _x0**2
    _x2 = _x1*s
    _x3 = gammabar**2*s/_x1
    _x4 = -min(_x2, max(_x3, t))
    _x5 = math.sqrt(_x2 + _x4)
    _x6 = math.sqrt(-_x3 - _x4)
    _x7 = abs(gammabar)
    _x8 = math.sqrt(s)
    return (1/2)*(2*s*abs(_x7*math.atan2(_x5*_x7*_x8/_x0, _x0*_x6*_x8)) + (_x2 + _x3)*abs(math.atan2(_x5, _x6)) + abs(_x5*_x6))/(math.pi*gamma*s)


@njit(cache=True, error_model="numpy")
def mp_moment_1(t, gamma, gammabar, s):
    """Truncated moment T_1(t) = int_{x > t} x^1 dmu(x) (closed form, any real t)."""
    _x0 = (math.sqrt(gamma) + 1)**2
    _x1 = _x0*s
    _x2 = gammabar**2*s/_x0
    _x3 = min(_x1, max(_x2, t))
    _x4 = -_x3
    _x5 = math.sqrt(_x1 + _x4)
    _x6 = math.sqrt(-_x2 - _x4)
    return (1/2)*(-1/4*_x5*_x6*(-_x1 - _x2 + 2*_x3) + (1/4)*(_x1 - _x2)**2*math.atan2(_x5, _x6))/(math.pi*gamma*s)


@njit(cache=True, error_model="numpy")
def mp_moment_scale_1(t, gamma, gammabar, s):
    """Sum of |terms| of T_1(t) (eps times this bounds its rounding error)."""
    _x0 = (math.sqrt(gamma) + 1)**2
    _x1 = _x0*s
    _x2 = gammabar**2*s/_x0
    _x3 = min(_x1, max(_x2, t))
    _x4 = -_x3
    _x5 = math.sqrt(_x1 + _x4)
    _x6 = math.sqrt(-_x2 - _x4)
    return (1/2)*((1/4)*(-_x1 + _x2)**2*abs(math.atan2(_x5, _x6)) + (1/4)*abs(_x5*_x6*(_x1 + _x2 - 2*_x3)))/(math.pi*gamma*s)


@njit(cache=True, error_model="numpy")
def mp_moment_2(t, gamma, gammabar, s):
    """Truncated moment T_2(t) = int_{x > t} x^2 dmu(x) (closed form, any real t)."""
    _x0 = (math.sqrt(gamma) + 1)**2
    _x1 = _x0*s
    _x2 = gammabar**2*s/_x0
    _x3 = min(_x1, max(_x2, t))
    _x4 = -_x3
    _x5 = _x1 + _x4
    _x6 = -_x2 - _x4
    _x7 = math.sqrt(_x5)
    _x8 = math.sqrt(_x6)
    _x9 = _x1 + _x2
    _x10 = (1/8)*_x9
    return (1/2)*(-_x10*_x7*_x8*(2*_x3 - _x9) + _x10*(_x1 - _x2)**2*math.atan2(_x7, _x8) + (1/3)*_x5**(3/2)*_x6**(3/2))/(math.pi*gamma*s)


@njit(cache=True, error_model="numpy")
def mp_moment_scale_2(t, gamma, gammabar, s):
    """Sum of |terms| of T_2(t) (eps times this bounds its rounding error)."""
    _x0 = (math.sqrt(gamma) + 1)**2
    _x1 = _x0*s
    _x2 = gammabar**2*s/_x0
    _x3 = min(_x1, max(_x2, t))
    _x4 = -_x3
    _x5 = _x1 + _x4
    _x6 = -_x2 - _x4
    _x7 = _x1 + _x2
    _x8 = math.sqrt(_x5)
    _x9 = math.sqrt(_x6)
    return (1/2)*((1/8)*_x7*(-_x1 + _x2)**2*abs(math.atan2(_x8, _x9)) + ((1/8)*_x1 + (1/8)*_x2)*abs(_x8*_x9*(2*_x3 - _x7)) + (1/3)*abs(_x5**(3/2)*_x6**(3/2)))/(math.pi*gamma*s)


@njit(cache=True, error_model="numpy")
def mp_threshold_guess(mass, gamma, gammabar, s):
    """Edge asymptotics (t_upper, t_lower) of the threshold F(t) = mass."""
    _x0 = math.sqrt(gamma) + 1
    _x1 = _x0**2
    _x2 = -_x1*s
    _x3 = _x0**(4/3)
    _x4 = gammabar**2*s/_x1
    _x5 = -_x2 - _x4
    _x6 = 3**(2/3)*math.pi**(2/3)*gamma**(2/3)*s**(4/3)
    return (-_x2 - _x3*_x6*mass**(2/3)/_x5**(1/3), _x4 + _x6*((-mass + min(1, (1/(gamma))))/math.sqrt(_x5))**(2/3)*abs(gammabar)**(4/3)/_x3)


@njit(cache=True, error_model="numpy")
def mp_stieltjes(z, gamma, gammabar, s):
    """Physical (Herglotz) root m(z) of the Stieltjes equation, complex z."""
    _x0 = -z
    _x1 = (cmath.sqrt(gamma) + 1)**2
    _x2 = cmath.sqrt(-_x0 - _x1*s)*cmath.sqrt(-_x0 - gammabar**2*s/_x1)
    _x3 = _x2 - gammabar*s + z
    _x4 = _x0 + _x2 + gammabar*s
    return ((-2/_x3) if (abs(_x3) >= abs(_x4)) else ((1/2)*_x4/(gamma*s*z)))


@njit(cache=True, error_model="numpy")
def mp_stieltjes_real(x, gamma, gammabar, s):
    """m(x) for real x outside the support (nan inside (a, b))."""
    _x0 = -x
    _x1 = (math.sqrt(gamma) + 1)**2
    _x2 = _x1*s
    _x3 = _x0 + _x2
    _x4 = gammabar**2*s/_x1
    _x5 = _x0 + _x4
    _x6 = math.sqrt(_x3*_x5)
    _x7 = gammabar*s
    _x8 = _x0 + _x7
    _x9 = _x6 + _x8
    _x10 = -_x7 + x
    _x11 = _x10 + _x6
    _x12 = abs(_x11)
    _x13 = (1/2)/(gamma*s*x)
    _x14 = math.sqrt(_x3*_x5)
    _x15 = _x14 + _x8
    return ((((2/_x9) if (_x12 <= abs(_x9)) else (-_x11*_x13))) if (_x4 >= x) else (((2/(-_x10 - _x14)) if (_x12 >= abs(_x15)) else (_x13*_x15))) if (_x2 <= x) else (math.nan))


@njit(cache=True, error_model="numpy")
def mp_stieltjes_deriv(z, m, gamma, gammabar, s):
    """m'(z) by implicit differentiation, from (z, m(z))."""
    _x0 = gamma*m*s
    return -m*(_x0 + 1)/(2*_x0*z - gammabar*s + z)


@njit(cache=True, error_model="numpy")
def mp_stieltjes_poly(z, m, gamma, gammabar, s):
    """(P(z, m), dP/dm) of the Stieltjes quadratic (Newton on m)."""
    _x0 = gamma*s*z
    _x1 = gammabar*s
    return (_x0*m**2 - m*(_x1 - z) + 1, 2*_x0*m - _x1 + z)


@njit(cache=True, error_model="numpy")
def skip_direction_terms(sigma, kappa, c, eta2_train, T):
    """(Gamma, dGamma/dT, frob, dfrob/dT, trace, dtrace/dT) of one signal direction."""
    _x0 = (1/(eta2_train))
    _x1 = (1/(sigma**2))
    _x2 = -_x0 - _x1
    _x3 = (1/(_x2**2))
    _x4 = c - 1
    _x5 = -_x4
    _x6 = _x1*_x5**2/c**2
    _x7 = (1/(_x2))
    _x8 = _x5*_x7/c
    _x9 = T*_x8
    return (_x3*(T*_x6 + kappa/sigma**4), _x3*_x6, -_x0*_x7*c*kappa/_x4 - _x9, -_x8, _x9, _x8)


@njit(cache=True, error_model="numpy")
def skip_aggregate(G, F, Tr, kappa, d, eta2_test):
    """(risk, bias, variance) from the direction sums G, F, Tr."""
    _x0 = (1/(d))
    _x1 = 2*Tr
    return (G + eta2_test*(_x0*(F + _x1) - kappa + 1), G + eta2_test*(_x0*_x1 - 2*kappa + 1), eta2_test*(F*_x0 + kappa))


@njit(cache=True, error_model="numpy")
def skip_fixed_k_moment(kappa, c, eta2_train):
    """kappa -> 0 limit of T_{-1}: kappa c / (eta2_train (1 + 1/sqrt(c))^2)."""
    return c*kappa/(eta2_train*(1 + 1/math.sqrt(c))**2)


@njit(cache=True, error_model="numpy")
def one_layer_factors_c_gt_1(t, a, q, q2):
    """(b, v) of one direction of W = X Y^+, c > 1 (Woodbury; q2 unused)."""
    _x0 = q*t
    _x1 = _x0*(1 - a) + 1
    return ((1/(_x1**2)), _x0/_x1)


@njit(cache=True, error_model="numpy")
def one_layer_factors_c_lt_1(t, a, q, q2):
    """(b, v) of one direction of W = X Y^+, c < 1 (Woodbury)."""
    _x0 = q*t
    _x1 = a - 1
    _x2 = (1/((_x0*(-_x1) + 1)**2))
    return (_x2, _x2*(_x0*a + _x1**2*q2*t**2))


@njit(cache=True, error_model="numpy")
def ridge_moments(c, lam):
    """Ridge (g, g') = (int x/(x+lam) dmu, int x/(x+lam)^2 dmu), law of A^T A (1/c)."""
    _x0 = (1/(c))
    _x1 = (math.sqrt(c) + 1)**2
    _x2 = math.sqrt(_x0*_x1 + lam)
    _x3 = math.sqrt(_x0*(c - 1)**2/_x1 + lam)
    _x4 = 2/(_x0 + _x2*_x3 + lam + 1)
    return (_x4, _x4/(_x2*_x3))


@njit(cache=True, error_model="numpy")
def ridge_direction_factors(t, g, gprime):
    """Ridge (b, v) = (1/(1 + g t)^2, t (1 + t) g'/(1 + g t)^2) of one direction."""
    _x0 = (1/((g*t + 1)**2))
    return (_x0, _x0*gprime*t*(t + 1))


@njit(cache=True, error_model="numpy")
def ridge_aggregate(Bk, Bd, V, eta2_test, d):
    """Ridge (risk, bias, variance) from the sums Bk, Bd, V."""
    _x0 = V*eta2_test/d
    _x1 = Bd + Bk
    return (_x0 + _x1, _x1, _x0)


@njit(cache=True, error_model="numpy")
def skip_under_edges(c):
    """Edges (a, b) of the law of A A^T (ratio c, scale 1/c)."""
    _x0 = (1/(c))
    _x1 = (math.sqrt(c) + 1)**2
    return (_x0*(1 - c)**2/_x1, _x0*_x1)


@njit(cache=True, error_model="numpy")
def skip_under_pole_terms(t, c):
    """(delta, 1 + delta, x0, sqrt(a - x0), sqrt(b - x0)) of one direction, c < 1."""
    _x0 = 1 - c
    _x1 = c*t + 1
    _x2 = (1/(_x1))
    _x3 = _x2*t
    _x4 = t + 1
    _x5 = math.sqrt(c)
    _x6 = _x5 + 1
    _x7 = _x5*t
    _x8 = 1/(math.sqrt(_x1)*math.sqrt(_x4)*_x5)
    return (_x0*_x3, _x2*_x4, _x0**2*_x3/(_x4*c), _x0*_x8*abs(_x7 - 1)/_x6, _x6*_x8*(_x7 + 1))


@njit(cache=True, error_model="numpy")
def skip_under_semicircle(t, c, theta):
    """(G(x0), (G(x0) - G(0))/x0) shifted semicircle integral, a <= theta <= b."""
    _x0 = (1/(c))
    _x1 = math.sqrt(c)
    _x2 = _x1 + 1
    _x3 = _x2**2
    _x4 = _x0*_x3
    _x5 = -_x4
    _x6 = -_x5 - theta
    _x7 = math.sqrt(_x6)
    _x8 = (1/(_x3))
    _x9 = c - 1
    _x10 = -_x9
    _x11 = _x10**2
    _x12 = _x0*_x11
    _x13 = _x12*_x8
    _x14 = -_x13 + theta
    _x15 = math.sqrt(_x14)
    _x16 = _x15*_x7
    _x17 = math.atan2(_x7, _x15)
    _x18 = t + 1
    _x19 = (1/(_x18))
    _x20 = c*t
    _x21 = _x20 + 1
    _x22 = (1/(_x21))
    _x23 = _x19*_x22
    _x24 = _x13 + _x4
    _x25 = _x1*t
    _x26 = _x10*abs(_x25 - 1)
    _x27 = 1/(_x1*math.sqrt(_x18)*math.sqrt(_x21))
    _x28 = _x25 + 1
    _x29 = 2*math.atan2(_x26*_x27*_x7/_x2, _x15*_x2*_x27*_x28)
    _x30 = _x0*_x23*_x26*_x28
    _x31 = abs(_x9)
    _x32 = (1/(_x2**4))
    _x33 = _x26/_x28
    return (-_x16 + _x17*(-2*_x12*_x23*t + _x24) - _x29*_x30, -2*_x17 - _x29*(_x0*_x11*_x19*_x22*t - _x24)/(_x0*_x31 + _x30) - 2*_x18*_x21*_x31*math.atan(_x11*_x16*_x20*_x32*(_x13 + _x5)/(_x28**2*(_x14 + _x31*_x32*_x33*_x6)*(_x31*_x8 + _x33*_x8)))/(_x11*t))


@njit(cache=True, error_model="numpy")
def skip_under_overlaps(t, c, theta):
    """(pi0, pi1, dpi0/dtheta, dpi1/dtheta, scale0, scale1) kept overlaps, c < 1."""
    _x0 = (1/(c))
    _x1 = math.sqrt(c)
    _x2 = _x1 + 1
    _x3 = _x2**2
    _x4 = _x0*_x3
    _x5 = -_x4
    _x6 = _x5 + theta
    _x7 = -_x6
    _x8 = math.sqrt(_x7)
    _x9 = c - 1
    _x10 = -_x9
    _x11 = _x10**2
    _x12 = (1/(_x3))
    _x13 = _x0*_x12
    _x14 = _x11*_x13
    _x15 = -_x14 + theta
    _x16 = math.sqrt(_x15)
    _x17 = math.atan2(_x8, _x16)
    _x18 = t + 1
    _x19 = (1/(_x18))
    _x20 = c*t
    _x21 = _x20 + 1
    _x22 = (1/(_x21))
    _x23 = _x19*_x22
    _x24 = _x0*_x23
    _x25 = _x24*t
    _x26 = _x14 + _x4
    _x27 = -2*_x11*_x25 + _x26
    _x28 = _x16*_x8
    _x29 = _x1*t
    _x30 = _x29 - 1
    _x31 = abs(_x30)
    _x32 = _x10*_x31
    _x33 = 1/(_x1*math.sqrt(_x18)*math.sqrt(_x21))
    _x34 = _x29 + 1
    _x35 = 2*math.atan2(_x32*_x33*_x8/_x2, _x16*_x2*_x33*_x34)
    _x36 = _x24*_x34
    _x37 = _x32*_x36
    _x38 = _x28 + _x35*_x37
    _x39 = (1/2)*_x19*_x21/math.pi
    _x40 = 2*_x17
    _x41 = abs(_x9)
    _x42 = _x0*_x41
    _x43 = _x12*_x41
    _x44 = (1/(_x34))
    _x45 = _x12*_x44
    _x46 = (1/(_x2**4))
    _x47 = _x41*_x44*_x46
    _x48 = _x20*_x46/_x34**2
    _x49 = 2*_x18*_x21*_x41/t
    _x50 = _x28*_x39/(_x14*_x23*_x30**2 + _x15)
    _x51 = _x31*_x9
    _x52 = _x9**2
    _x53 = _x13*_x52
    _x54 = -_x53
    _x55 = _x54 + theta
    return (_x39*(_x17*_x27 - _x38), _x39*(-_x35*(_x0*_x11*_x19*_x22*t - _x26)/(_x37 + _x42) - _x40 - _x49*math.atan(_x11*_x28*_x48*(_x14 + _x5)/((_x15 + _x32*_x47*_x7)*(_x32*_x45 + _x43)))/_x11), -_x50, -_x50/theta, _x39*(_x17*_x27 + _x38), _x39*(_x35*abs((-_x25*_x52 + _x4 + _x53)/(_x36*_x51 - _x42)) + _x40 + _x49*abs(math.atan(_x48*_x52*math.sqrt(_x55)*_x8*(_x4 + _x54)/((_x43 - _x45*_x51)*(_x47*_x51*_x6 + _x55)))/_x52)))


@njit(cache=True, error_model="numpy")
def skip_under_edge_overlaps(t, c, kappa):
    """kappa -> 0 overlaps (pi0, pi1) with the threshold at the upper edge, c < 1."""
    _x0 = math.sqrt(c)
    _x1 = kappa*(c*t + 1)**2/(_x0*t + 1)**2
    return (_x1, _x1*c/(_x0 + 1)**2)


@njit(cache=True, error_model="numpy")
def skip_under_full_overlaps(t, c):
    """Full-width (kappa = 1) overlaps (1, c (1 + c t)/(1 - c)), c < 1."""
    return (1, c*(c*t + 1)/(1 - c))


@njit(cache=True, error_model="numpy")
def skip_under_direction_terms(t, c, pi0, pi1):
    """(Gamma, tr, frob, v pi0) of one signal direction, skip connection, c < 1."""
    _x0 = (1/((c*t + 1)**2))
    _x1 = _x0*pi0
    _x2 = 1 - c
    _x3 = _x0*_x2*pi1*t
    _x4 = _x1*c**2*t*(t + 1)/_x2
    return (_x1, _x3, -2*_x3 + _x4, _x4)


@njit(cache=True, error_model="numpy")
def skip_under_aggregate(G, F, Tr, Vp, kappa, d, eta2_test):
    """(risk, bias, variance) of the c < 1 skip connection from the sums G, F, Tr, Vp."""
    _x0 = (1/(d))
    return (G + eta2_test*(Vp*_x0 - kappa + 1), G + eta2_test*(2*Tr*_x0 - 2*kappa + 1), eta2_test*(F*_x0 + kappa))


@njit(cache=True, error_model="numpy")
def skip_ridge_constants(c, lam):
    """(1 - p, q, <(x + lam)^-2>, c <x/(x + lam)^2>) at -lam, without cancellation."""
    _x0 = (1/(c))
    _x1 = 1/math.sqrt(c)
    _x2 = math.sqrt(lam + (_x1 + 1)**2)
    _x3 = math.sqrt(lam + (1 - _x1)**2)
    _x4 = _x2*_x3
    _x5 = _x0 + _x4
    _x6 = _x5 + lam + 1
    _x7 = (1/(_x6))
    _x8 = _x5 - 1
    _x9 = lam*(2*_x0 + lam + 2)
    _x10 = lam + _x9/_x8
    _x11 = (_x0 > 1)
    _x12 = -_x0 + _x4 + 1
    _x13 = _x12 + lam
    _x14 = _x7*((_x10) if _x11 else (_x13))
    _x15 = (1/(lam))
    return (_x14, _x15*_x7*((lam + _x9/_x12) if (_x0 < 1) else (_x8 + lam)), (_x14*_x15 + ((_x10**2) if _x11 else (_x13**2))/(_x6**2*lam**2))/(_x0*(1 - c) + 2*_x14 + lam), 2*_x7/(_x2*_x3))


@njit(cache=True, error_model="numpy")
def skip_ridge_smooth(x, zeta, lam, c):
    """Smooth integrands of the eleven kept-spectrum averages at eigenvalue x."""
    _x0 = lam*zeta
    _x1 = 2*lam
    _x2 = x*zeta
    _x3 = lam + x
    _x4 = (1/(_x3))
    _x5 = _x1 + zeta
    _x6 = lam*x
    _x7 = _x2 + _x6
    _x8 = _x0 + _x7
    _x9 = 1/(_x5*_x8)
    _x10 = _x4*_x9
    _x11 = lam**2
    _x12 = _x10*(-_x11 + _x7)
    _x13 = lam**3
    _x14 = _x13*zeta
    _x15 = 2*x
    _x16 = x**2
    _x17 = 3*_x2
    _x18 = zeta**2
    _x19 = lam + zeta
    _x20 = 1/(_x19*_x3**2)
    _x21 = _x20*_x9*(-_x11*_x17 - _x13*_x15 - _x14 + _x16*_x18 + _x16*lam*zeta)
    _x22 = (1/(zeta))
    _x23 = 2*_x11
    _x24 = 1/(_x5**3*_x8**2)
    _x25 = _x24*lam
    _x26 = _x24*c
    _x27 = _x22*_x26
    _x28 = lam**4
    _x29 = 4*x
    _x30 = 2*_x28
    _x31 = zeta**3
    _x32 = _x11*_x31
    _x33 = 3*_x31
    _x34 = 4*_x16
    _x35 = _x16*_x18
    _x36 = _x11*_x29
    _x37 = _x16*zeta
    _x38 = lam**5
    _x39 = _x13*_x31
    _x40 = _x18*_x28
    _x41 = zeta**4
    _x42 = _x16*_x41
    _x43 = 16*x
    _x44 = _x2*_x38
    _x45 = _x28*_x31
    _x46 = 8*_x16
    _x47 = _x38*_x46
    _x48 = _x18*_x38
    _x49 = x**3
    _x50 = _x41*_x49
    _x51 = _x31*_x49*lam
    _x52 = _x14*_x49
    _x53 = _x28*_x37
    _x54 = _x11*_x18*_x49
    _x55 = _x13*_x35
    _x56 = lam**6
    return (_x10*lam*(_x0 + _x1*x + 2*_x2), -_x12*c, -_x12, -_x21, -_x21*c, -_x19**2*_x22*_x25*(_x15*_x18 + _x18*lam + _x23*x + 4*_x6*zeta), _x19**3*_x27*(-_x23 + _x7), -_x25*_x4*(11*_x11*_x37 - _x13*_x17 + _x13*_x34 + _x16*_x33 + _x18*_x36 - _x28*_x29 - _x30*zeta + _x32 + _x33*_x6 + 10*_x35*lam), -_x27*_x4*(-_x1*_x16*_x31 + _x11*_x35 + _x13*_x18*_x43 + _x14*_x34 + _x15*_x38 + _x16*_x30 + 12*_x2*_x28 + 6*_x32*x + 2*_x39 + 3*_x40 - _x42), -_x20*_x25*(_x13*_x41 + _x32*_x46 + _x36*_x41 - _x40*_x43 + 6*_x42*lam - 10*_x44 - _x45 - _x47 - 4*_x48 + 4*_x50 + 14*_x51 + 6*_x52 - 24*_x53 + 16*_x54 - 14*_x55), -_x20*_x26*(12*_x16*_x32 + 4*_x28*_x49 - _x29*_x56 + 8*_x39*x + 15*_x40*x + _x44 + 2*_x45 + _x47 + 2*_x48 - _x50 - _x51 + 9*_x52 + 32*_x53 + 5*_x54 + 36*_x55 - 2*_x56*zeta))


@njit(cache=True, error_model="numpy")
def skip_ridge_poles(zeta, lam, c):
    """A of each average, then B of the squared ones: <form> = <smooth> + A m + B m'"""
    _x0 = 2*lam
    _x1 = _x0 + zeta
    _x2 = (1/(_x1))
    _x3 = _x2*zeta
    _x4 = lam + zeta
    _x5 = (1/(_x4))
    _x6 = _x3*_x5
    _x7 = _x4**2
    _x8 = (1/(zeta))
    _x9 = (1/(_x1**3))
    _x10 = _x0*_x9
    _x11 = _x9*c
    _x12 = _x11*_x8
    _x13 = lam**2
    _x14 = zeta**2
    _x15 = -_x14
    _x16 = (1/(_x1**2))
    _x17 = _x16*_x7
    _x18 = _x16*_x4
    return (_x3, _x2*c, _x2, _x6, _x6*c, _x10*_x7*_x8, -_x12*_x7, _x9*lam*(4*lam + 3*zeta), _x12*(2*_x13 + _x15), _x10*_x5*zeta*(3*lam + 2*zeta), _x11*_x5*(4*_x13 + _x15 + lam*zeta), _x17, _x17*_x8*c, _x18*zeta, _x18*c, _x14*_x16, _x16*c*zeta)


@njit(cache=True, error_model="numpy")
def skip_ridge_boundary_m(zeta, c):
    """(m, m') at zeta + i0 inside the support of the law of A A^T."""
    _x0 = (1/(c))
    _x1 = cmath.sqrt(c)
    _x2 = cmath.sqrt((-_x0*(1 - _x1)**2 + zeta)*(_x0*(_x1 + 1)**2 - zeta))
    _x3 = _x0*(1 - c) + 1j*_x2 - zeta
    _x4 = (1/2)*_x3/zeta
    return (_x4, 1j*((1/4)*_x3**2/zeta**2 + _x4)/_x2)


@njit(cache=True, error_model="numpy")
def skip_ridge_bulk(x, lam):
    """(psi, psi^2) = (x/(x + lam), (x/(x + lam))^2)."""
    _x0 = lam + x
    return (x/_x0, x**2/_x0**2)


@njit(cache=True, error_model="numpy")
def skip_ridge_node(H1, H2, Y1, Y2, XV, dH1, dH2, eH1a, eH2a, eH1b, eH2b, pbar, q, sigma, lam, r, gp, h1):
    """Complex integrands J of (Gamma, trace, frob) of one direction at zeta + i0."""
    _x0 = sigma**2
    _x1 = _x0*q
    _x2 = _x1*pbar + 1
    _x3 = (1/(_x2**2))
    _x4 = _x0*pbar
    _x5 = 2*_x4
    _x6 = H2*lam
    _x7 = lam**2
    _x8 = (1/(H1*H2*_x0*_x7 + H1*_x0*lam*q - _x2 - _x4*_x6))
    _x9 = H1*lam
    _x10 = H2*_x8*_x9
    _x11 = _x6 + q
    _x12 = _x0*_x8
    _x13 = _x12*lam
    _x14 = _x11*_x13
    _x15 = H1**2*_x14
    _x16 = pbar**2
    _x17 = _x9 - pbar
    _x18 = _x13*_x17
    _x19 = -H2**2*_x18 + H2
    _x20 = _x0*_x19
    _x21 = (1/(_x2))
    _x22 = _x12*_x9
    _x23 = _x21*_x22
    _x24 = _x0*_x7
    _x25 = H2*_x21*_x24*_x8
    _x26 = _x11*_x22
    _x27 = _x1*_x21*lam
    _x28 = h1**2
    _x29 = sigma**3
    _x30 = _x3*gp
    _x31 = _x3*r
    _x32 = _x31*_x7
    _x33 = sigma**4
    return (_x3*(H1 + _x10*_x5 - _x15 + _x16*_x20), -H2*_x23 + Y1*_x25 + _x14*(dH1*h1 - eH1a) + _x18*(dH2*h1 - eH2a) - _x20*_x21*pbar + _x27*(Y1*_x26 - Y1), -2*XV*_x23 + 2*Y2*_x25 + 2*_x10*sigma*(_x29*_x30*pbar - _x29*_x32*q) + _x14*(_x28*dH1 - eH1b) + _x18*(_x28*dH2 - eH2b) + _x19*(_x16*_x30*_x33 + _x24*_x31) - _x21*_x5*(-XV*_x12*_x17*_x6 + XV) + 2*_x27*(Y2*_x26 - Y2) + (H1 - _x15)*(_x0*_x30 + _x32*_x33*q**2))


@njit(cache=True, error_model="numpy")
def skip_ridge_outlier(H1, H2, Y1, Y2, XV, dH1, dH2, eH1a, eH2a, eH1b, eH2b, pbar, q, sigma, lam, r, gp, h1):
    """Residues (Gamma, trace, frob) of one direction at an outlier zeta_o."""
    _x0 = sigma**2
    _x1 = _x0*pbar
    _x2 = _x1*q + 1
    _x3 = (1/(_x2**2))
    _x4 = H2*lam
    _x5 = _x4 + q
    _x6 = H1*lam
    _x7 = _x6 - pbar
    _x8 = (1/(_x5*dH1 + _x7*dH2))
    _x9 = 2*H1*H2*_x8
    _x10 = H1**2
    _x11 = _x5*_x8
    _x12 = pbar**2
    _x13 = H2**2
    _x14 = _x13*_x7
    _x15 = (1/(_x2))
    _x16 = _x15*_x8
    _x17 = _x16*_x4
    _x18 = _x0*_x11*_x15*_x6*q
    _x19 = 2*Y2
    _x20 = sigma**3
    _x21 = _x3*gp
    _x22 = _x3*lam**2*r
    _x23 = sigma**4
    return (_x3*(_x0*_x12*_x14*_x8 + _x10*_x11 - _x9*pbar), H1*H2*_x15*_x8 - Y1*_x17 - Y1*_x18 - _x1*_x14*_x16 + _x8*(_x5*eH1a + _x7*eH2a) - h1, 2*H1*XV*_x15*_x8 - 2*H2*XV*_x1*_x16*_x7 + _x10*_x5*_x8*(_x0*_x21 + _x22*_x23*q**2) + _x13*_x7*_x8*(_x0*_x22 + _x12*_x21*_x23) - _x17*_x19 - _x18*_x19 + _x8*(_x5*eH1b + _x7*eH2b) - _x9*(_x20*_x21*pbar - _x20*_x22*q)/sigma - h1**2)


@njit(cache=True, error_model="numpy")
def skip_ridge_full_width(pbar, q, sigma, lam, r, gp, psi2, e3, c):
    """(Gamma, trace, frob) of one direction when the bottleneck keeps everything."""
    _x0 = pbar**2
    _x1 = sigma**2
    _x2 = _x1*gp
    _x3 = _x1*pbar
    _x4 = _x3*q + 1
    _x5 = (1/(_x4**2))
    _x6 = (1/(_x4))
    _x7 = _x3*_x6
    _x8 = _x6*lam*q
    _x9 = 2*e3
    _x10 = _x5*sigma**4
    _x11 = lam**2*r
    return (_x5*(_x0*_x2 + psi2), -_x2*_x8/c - _x7*gp, -_x1*_x8*_x9 - _x7*_x9*c + gp*(_x0*_x10*gp + _x1*_x11*_x5) + psi2*(_x10*_x11*q**2 + _x2*_x5))


@njit(cache=True, error_model="numpy")
def skip_ridge_aggregate(G, Tr, Fr, T1, T2, eta2_test, d):
    """(bias, variance) from the direction sums G, Tr, Fr and the bulk T1, T2."""
    _x0 = (1/(d))
    return (G + eta2_test*(-2*T1 - 2*Tr*_x0 + 1), eta2_test*(Fr*_x0 + T2))


@njit(cache=True, error_model="numpy")
def skip_ridge_edge(H1, H2, pbar, q, sigma, lam):
    """(largest eigenvalue, determinant) of lam N (outlier test and root)."""
    _x0 = sigma**2
    _x1 = (1/(_x0))
    _x2 = (1/2)*pbar
    _x3 = (1/2)*lam
    _x4 = H2*_x3 + (1/2)*q
    return (H1*_x3 - _x2 + _x4 + math.sqrt(_x1 + ((1/2)*H1*lam - _x2 - _x4)**2), _x1*(H1*H2*_x0*lam**2 + H1*_x0*lam*q - H2*_x0*lam*pbar - _x0*pbar*q - 1))


@njit(cache=True, error_model="numpy")
def gf_outlier(c, t):
    """Gradient flow (z0, z0 - b, nu({z0}), mu({z0})) of one direction (atoms iff t sqrt(c) > 1)."""
    _x0 = c*t + 1
    _x1 = 1/(c*t)
    _x2 = math.sqrt(c)*t
    _x3 = _x2 - 1
    _x4 = _x3*(_x2 + 1)
    return (_x0*_x1*(t + 1), _x1*_x3**2, _x1*_x4, _x4/_x0)


@njit(cache=True, error_model="numpy")
def gf_residual_limit(c, t):
    """Gradient flow tau -> inf residual 1 - u^T W u = 1/(1 + min(1, c) t)."""
    return (1/(t*min(1, c) + 1))


@njit(cache=True, error_model="numpy")
def gf_bulk_integrands(tau, x, zx, t):
    """Gradient flow bulk integrands against x dmu_AA: (exp(-tau x)/(x zx), (1 + t) g^2/zx)."""
    _x0 = (1/(zx))
    _x1 = -tau*x
    return (_x0*math.exp(_x1)/x, _x0*(t + 1)*math.expm1(_x1)**2/x**2)


@njit(cache=True, error_model="numpy")
def gf_atom_terms(tau, z0, w1, w2):
    """Gradient flow outlier terms (w1 exp(-tau z0)/z0, w2 z0 g(z0)^2)."""
    _x0 = (1/(z0))
    _x1 = -tau*z0
    return (_x0*w1*math.exp(_x1), _x0*w2*math.expm1(_x1)**2)
