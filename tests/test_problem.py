import math

import numpy as np
import pytest

from rmtrisk import Problem

BASE = dict(d=50, n=25, sv=[2.0, 1.0], eta2_train=0.5, eta2_test=0.3, k=1)


def make(**changes):
    kw = dict(BASE)
    kw.update(changes)
    for alt, base in (("c", "n"), ("energy", "sv"), ("kappa", "k")):
        if alt in changes:
            kw.pop(base)
    return Problem(**kw)


def test_basic_fields_and_derived_quantities():
    p = make()
    assert (p.d, p.n, p.r, p.k) == (50, 25, 2, 1)
    assert p.c == 2.0 and p.kappa == 1 / 50
    np.testing.assert_allclose(p.energy, np.array([4.0, 1.0]) / 25)
    np.testing.assert_allclose(p.test_energy_array, p.energy)
    np.testing.assert_allclose(p.snr, [8.0, 2.0])
    assert p.kept == (1,)


def test_alternative_keywords():
    p = make(c=2.5, energy=[0.04, 0.01], kappa=0.1)
    assert p.n == 20 and p.k == 5
    np.testing.assert_allclose(p.sv_array, np.sqrt(20 * np.array([0.04, 0.01])))


def test_spectrum_sorted_with_test_energy_following():
    p = make(sv=[1.0, 3.0, 2.0], test_energy=[0.1, 0.3, 0.2])
    assert p.sv == (3.0, 2.0, 1.0)
    assert p.test_energy == (0.3, 0.2, 0.1)


def test_round_trip_and_replace_and_hashable():
    p = make(critical_set=[2], skip=False)
    assert Problem.from_dict(p.to_dict()) == p
    q = p.replace(eta2_train=0.7)
    assert q.eta2_train == 0.7 and q.sv == p.sv and p.eta2_train == 0.5
    assert p.replace(c=5.0).n == 10
    assert p.replace(sv=[4.0], critical_set=None).test_energy == (16.0 / 25,)
    assert hash(p) == hash(Problem.from_dict(p.to_dict()))
    with pytest.raises(AttributeError):
        p.d = 3


def test_default_problem_is_the_papers_setting():
    p = Problem.default()
    assert p.c == 2 and p.eta2_train == 0.3 and p.eta2_test == 0.3
    assert math.isclose(float(p.energy.sum()), 0.4096)


@pytest.mark.parametrize(
    "changes, words",
    [
        (dict(d=0), "d must be an integer in [1"),
        (dict(d=2.5), "d must be an integer"),
        (dict(n=0), "n must be an integer in [1"),
        (dict(c=0.0), "c must be > 0"),
        (dict(c=-1.0), "c must be > 0"),
        (dict(c=float("nan")), "c must be finite"),
        (dict(sv=[]), "sv must not be empty"),
        (dict(sv=[1.0, -1.0]), "sv must be > 0"),
        (dict(sv=[1.0, float("nan")]), "sv must contain only finite"),
        (dict(energy=[0.0]), "energy must be > 0"),
        (dict(sv=[1.0] * 26), "rank r = len(sv) must be in [1, min(d, n)=25]"),
        (dict(test_energy=[1.0]), "test_energy must have one entry per direction"),
        (dict(test_energy=[1.0, -0.1]), "test_energy must be >= 0"),
        (dict(eta2_train=0.0), "eta2_train must be > 0"),
        (dict(eta2_train=-1.0), "eta2_train must be > 0"),
        (dict(eta2_train=float("nan")), "eta2_train must be finite"),
        (dict(eta2_test=-0.1), "eta2_test must be >= 0"),
        (dict(k=0), "k must be an integer in [1, d=50]"),
        (dict(k=51), "k must be an integer in [1, d=50]"),
        (dict(kappa=1.5), "kappa must be in (0, 1]"),
        (dict(reg=-0.1), "reg must be >= 0"),
        (dict(reg=float("inf")), "reg must be finite"),
        (dict(skip="yes"), "skip must be True or False"),
        (dict(critical_set=[3]), "critical_set entry must be an integer in [1, r=2]"),
        (dict(critical_set=[1, 2]), "critical_set may hold at most k=1"),
        (dict(critical_set=[]), "critical_set must not be empty"),
        (dict(k=2, critical_set=[1, 1]), "must not repeat"),
    ],
)
def test_invalid_input_names_parameter_and_range(changes, words):
    with pytest.raises(ValueError) as err:
        make(**changes)
    assert words in str(err.value)


def test_exactly_one_of_each_alternative():
    with pytest.raises(ValueError, match="exactly one of n"):
        Problem(d=10, sv=[1.0], k=1)
    with pytest.raises(ValueError, match="exactly one of sv"):
        Problem(d=10, n=5, sv=[1.0], energy=[1.0], k=1)
    with pytest.raises(ValueError, match="exactly one of k"):
        Problem(d=10, n=5, sv=[1.0])


def test_skip_critical_set_ranges_up_to_min_d_n():
    p = make(skip=True, k=3, critical_set=[1, 5, 25])
    assert p.kept == (1, 5, 25)
    with pytest.raises(ValueError, match=r"\[1, min\(d, n\)=25\]"):
        make(skip=True, k=3, critical_set=[26])


@pytest.mark.parametrize(
    "changes, words",
    [
        (dict(sv=[1j]), "sv must contain only real numbers"),
        (dict(sv=[1j, 2.0]), "sv must contain only real numbers"),
        (dict(sv={1.0, 2.0}), "sets are unordered"),
        (dict(sv=[True]), "sv must contain only real numbers"),
        (dict(sv="12"), "sv must be an ordered sequence"),
        (dict(energy=[False, 1.0]), "energy must contain only real numbers"),
        (dict(test_energy=[1.0, "2"]), "test_energy must contain only real numbers"),
        (dict(sv=[1e200]), "sv entries must be in [1e-100, 1e+100]"),
        (dict(sv=[1e60]), "sv**2 (squared singular values) must be in [1e-100, 1e+100]"),
        (dict(sv=[1e-60]), "sv**2 (squared singular values) must be in [1e-100, 1e+100]"),
        (dict(sv=[100.0, 10.0], eta2_train=1e-99), "sv**2 / eta2_train (the SNRs) must be in"),
        (dict(test_energy=[1e120, 1.0]), "test_energy entries must be 0 or in [1e-100"),
        (dict(eta2_train=1e-300), "eta2_train must be in [1e-100, 1e+100]"),
        (dict(eta2_train=1e300), "eta2_train must be in [1e-100, 1e+100]"),
        (dict(eta2_test=1e-300), "eta2_test must be 0 or in [1e-100, 1e+100]"),
        (dict(eta2_test=1e300), "eta2_test must be 0 or in [1e-100, 1e+100]"),
        (dict(reg=1e200), "reg must be 0 or in [1e-100, 1e+100]"),
        (dict(c="2"), "c must be a real number (not str"),
        (dict(n="50"), "n must be an integer"),
        (dict(d="50"), "d must be an integer"),
        (dict(k="1"), "k must be an integer"),
        (dict(kappa="0.5"), "kappa must be a real number"),
        (dict(eta2_train="0.5"), "eta2_train must be a real number"),
        (dict(eta2_test=True), "eta2_test must be a real number"),
        (dict(reg=1j), "reg must be a real number"),
        (dict(d=True), "d must be an integer"),
        (dict(critical_set={1}), "critical_set must be a list or tuple"),
        (dict(critical_set=[True]), "critical_set entry must be an integer"),
    ],
)
def test_bad_types_and_scales_are_rejected(changes, words):
    with pytest.raises(ValueError) as err:
        make(**changes)
    assert words in str(err.value)


def test_scale_range_edges_are_accepted():
    make(eta2_train=1e-90, sv=[1e-40, 1e-41])
    make(eta2_train=1e90, sv=[1e45, 1e44])
    make(eta2_test=0.0, test_energy=[0.0, 1.0])


@pytest.mark.parametrize("call, words", [
    (lambda p: Problem.from_dict({}), "missing key(s) ['d', 'n', 'sv', 'k']"),
    (lambda p: Problem.from_dict({**p.to_dict(), "foo": 1}), "unknown key(s) ['foo']"),
    (lambda p: Problem.from_dict([1, 2]), "needs a dict"),
    (lambda p: p.replace(foo=1), "replace got unknown field(s) ['foo']"),
])
def test_from_dict_and_replace_reject_unknown_or_missing_keys(call, words):
    with pytest.raises(ValueError) as err:
        call(make())
    assert words in str(err.value)


@pytest.mark.parametrize("obj", [None, {}, "problem", 3])
def test_check_names_the_parameter(obj):
    with pytest.raises(TypeError, match="p must be a rmtrisk.Problem"):
        Problem.check(obj, "p")
    p = make()
    assert Problem.check(p) is p


@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("finite_size", [False, True])
@pytest.mark.parametrize("scale", [1e-45, 1e45])
def test_formulas_are_scale_covariant_at_the_range_edges(skip, finite_size, scale):
    """X -> a X, A -> a A (eta2 -> a^2 eta2) leaves W unchanged, so the risk scales by a^2.

    At a = 1e+-45 the noise levels sit at 1e+-90, near the edges of the accepted range:
    the float64 formulas must still give the same relative numbers there.
    """
    from rmtrisk.theory import asymptotic_risk

    base = make(skip=skip)
    far = make(skip=skip, sv=[scale * s for s in BASE["sv"]],
               eta2_train=scale**2 * BASE["eta2_train"], eta2_test=scale**2 * BASE["eta2_test"])
    r0 = asymptotic_risk(base, finite_size=finite_size, throw=False)
    r1 = asymptotic_risk(far, finite_size=finite_size, throw=False)
    assert r0.status.ok and r1.status.ok
    # 1e-8: the default's interaction term is a central second difference (relative step
    # 1e-3), whose rounding error is ~1e-9 of the risk
    assert math.isclose(r1.risk, scale**2 * r0.risk, rel_tol=1e-8)
