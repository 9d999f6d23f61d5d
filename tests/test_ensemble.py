"""Ensemble constructors against hand-computed values and exact identities."""
import math

import numpy as np
import pytest

import qutip_superrad as qsr
from qutip_superrad import Ensemble


def test_identical():
    ens = Ensemble.identical(5, g=0.7, detuning=-0.2)
    assert ens.n_clusters == 1 and len(ens) == 1
    assert ens.N == 5.0
    assert ens.counts.tolist() == [5.0]
    assert ens.detunings.tolist() == [-0.2] and ens.couplings.tolist() == [0.7]
    assert ens.is_identical and ens.is_integer
    assert ens.g_eff == pytest.approx(0.7, rel=1e-15)
    # non-integer N is allowed (cumulants) but not integer
    assert not Ensemble.identical(2.5).is_integer


def test_default_detunings_and_couplings():
    ens = Ensemble([3, 4])
    assert ens.detunings.tolist() == [0.0, 0.0] and ens.couplings.tolist() == [1.0, 1.0]
    assert ens.N == 7.0 and ens.is_identical


def test_arrays_are_read_only():
    ens = Ensemble([3, 4], [0.1, 0.2], [1.0, 0.5])
    with pytest.raises(ValueError):
        ens.counts[0] = 10


def test_atoms():
    ens = Ensemble.atoms([0.0, 0.3, -0.5], couplings=[1.0, 0.7, 1.2])
    assert ens.counts.tolist() == [1.0, 1.0, 1.0]
    assert ens.N == 3.0 and not ens.is_identical
    # g_eff² = mean g² = (1 + 0.49 + 1.44)/3
    assert ens.g_eff == pytest.approx(math.sqrt(2.93 / 3), rel=1e-15)
    assert Ensemble.atoms([0.1, 0.1]).is_identical


def test_gaussian_hand_computed():
    # N = 10, σ = 1, M = 5, width 3: Δ = −3, −1.5, 0, 1.5, 3; weights e^{−Δ²/2}
    # = 0.0111, 0.3247, 1, 0.3247, 0.0111 → 10·w/Σw = 0.066, 1.942, 5.983, 1.942, 0.066.
    # Floors 0, 1, 5, 1, 0 (sum 7); the 3 remaining atoms go to the largest fractional
    # parts (0.983, 0.942, 0.942) → 0, 2, 6, 2, 0; empty clusters dropped, with a warning
    # (issue 12: N = 3 with 10 clusters silently gave 3)
    with pytest.warns(UserWarning, match="2 of 5 clusters would hold no atom"):
        ens = Ensemble.gaussian(10, sigma=1.0, n_clusters=5)
    assert ens.counts.tolist() == [2.0, 6.0, 2.0]
    assert ens.detunings.tolist() == [-1.5, 0.0, 1.5]
    assert ens.N == 10.0 and ens.is_integer


def test_gaussian_non_integer_weights():
    ens = Ensemble.gaussian(10, sigma=1.0, n_clusters=5, integer=False)
    w = np.exp(-0.5 * np.array([-3, -1.5, 0, 1.5, 3]) ** 2)
    assert np.allclose(ens.counts, 10 * w / w.sum(), rtol=1e-14, atol=0)
    assert ens.N == pytest.approx(10, rel=1e-14)
    assert np.allclose(ens.detunings, [-3, -1.5, 0, 1.5, 3], rtol=0, atol=1e-15)


@pytest.mark.parametrize("N,sigma,M,width", [(100, 0.3, 7, 2.0), (100, 0.3, 7, 3.0), (37, 1.0, 12, 3.0),
                                             (1000, 2.0, 31, 3.0), (5, 1.0, 9, 3.0)])
def test_gaussian_largest_remainder(N, sigma, M, width):
    exact = Ensemble.gaussian(N, sigma, M, width=width, integer=False)
    ens = Ensemble.gaussian(N, sigma, M, width=width)
    assert ens.N == N and ens.is_integer            # sums exactly to N
    assert np.all(ens.counts >= 1)                  # empty clusters dropped
    # align the kept clusters with the exact weights by detuning
    lookup = dict(zip(exact.detunings.tolist(), exact.counts.tolist()))
    full = np.array([dict(zip(ens.detunings.tolist(), ens.counts.tolist())).get(d, 0.0)
                     for d in exact.detunings])
    w = exact.counts
    assert set(ens.detunings.tolist()) <= set(lookup)
    # each count is floor or floor + 1 of its exact weight
    up = full - np.floor(w)
    assert np.all((up == 0) | (up == 1))
    # largest remainder: every rounded-up cluster has a fractional part at least as
    # large as every rounded-down one
    frac = w - np.floor(w)
    if np.any(up == 1) and np.any(up == 0):
        assert frac[up == 1].min() >= frac[up == 0].max() - 1e-12
    # symmetric weights give symmetric counts unless an odd number of atoms must go
    # to tied pairs (e.g. N = 37, M = 12; N = 5, M = 9; N = 100, M = 7, width 2: the tie goes to the lower
    # index by the stable sort, an unavoidable O(σ/N) shift of the mean detuning)
    if (N, M, width) in ((100, 7, 3.0), (1000, 31, 3.0)):
        assert np.array_equal(ens.counts, ens.counts[::-1])
        assert np.allclose(ens.detunings, -ens.detunings[::-1], rtol=0, atol=1e-12)


def test_gaussian_single_cluster():
    ens = Ensemble.gaussian(7, sigma=0.5, n_clusters=1)
    assert ens.counts.tolist() == [7.0] and ens.detunings.tolist() == [0.0]


@pytest.mark.parametrize("K", [1, 2, 5, 8])
def test_standing_wave_geff(K):
    # g_m = g0 cos(πm/2K), m = 0…K−1;  Σ_m cos²(πm/2K) = K/2 + 1/2, so with equal
    # counts g_eff² = g0²(K+1)/(2K); K = 5: g_eff = √0.6 g0 = 0.7746 g0.
    g0 = 2.0
    ens = Ensemble.standing_wave(10 * K, g0, K)
    assert ens.n_clusters == K and ens.N == 10 * K
    assert np.allclose(ens.counts, 10)
    assert np.allclose(ens.couplings, g0 * np.cos(np.pi * np.arange(K) / (2 * K)), rtol=0, atol=1e-15)
    assert ens.g_eff == pytest.approx(g0 * math.sqrt((K + 1) / (2 * K)), rel=1e-14)
    if K == 5:
        assert ens.g_eff / g0 == pytest.approx(0.7746, abs=1e-4)


def test_standing_wave_rounding():
    ens = Ensemble.standing_wave(7, 1.0, 5)
    assert ens.N == 7 and ens.is_integer
    assert sorted(ens.counts.tolist()) == [1, 1, 1, 2, 2]
    exact = Ensemble.standing_wave(7, 1.0, 5, integer=False)
    assert np.allclose(exact.counts, 1.4)
    assert exact.g_eff == pytest.approx(math.sqrt(0.6), rel=1e-14)
    # fewer atoms than positions: empty positions dropped, N preserved
    few = Ensemble.standing_wave(3, 1.0, 5)
    assert few.N == 3 and few.n_clusters == 3


def test_product():
    with pytest.warns(UserWarning, match="dropped"):
        freq = Ensemble.gaussian(10, sigma=1.0, n_clusters=5)      # 3 clusters [2, 6, 2]
    pos = Ensemble.standing_wave(5, 1.0, 5)                        # 5 clusters of 1
    prod = Ensemble.product(freq, pos)
    assert prod.n_clusters == 3 * 5
    assert prod.N == pytest.approx(10, rel=1e-15)                  # total of `frequencies`
    # cluster (m, k): N_m · K_k / N_K
    expected = np.outer(freq.counts, pos.counts / pos.counts.sum()).ravel()
    assert np.allclose(prod.counts, expected, rtol=1e-15)
    assert prod.detunings.tolist() == np.repeat(freq.detunings, 5).tolist()
    assert prod.couplings.tolist() == np.tile(pos.couplings, 3).tolist()
    # the coupling distribution is unchanged: g_eff of the product = g_eff of positions
    assert prod.g_eff == pytest.approx(pos.g_eff, rel=1e-14)
    # counts 0.4 and 1.2: not usable by the exact methods
    assert not prod.is_integer


def test_product_integer_when_divisible():
    freq = Ensemble([4, 8], detunings=[-0.1, 0.1])
    pos = Ensemble([1, 1, 2], couplings=[1.0, 0.8, 0.5])
    prod = Ensemble.product(freq, pos)
    assert prod.counts.tolist() == [1, 1, 2, 2, 2, 4] and prod.is_integer
    assert prod.N == 12


def test_atom_parameters():
    ens = Ensemble([2, 1, 3], detunings=[0.1, 0.2, -0.3], couplings=[1.0, 2.0, 0.5])
    delta, g, cluster = ens.atom_parameters()
    assert delta.tolist() == [0.1, 0.1, 0.2, -0.3, -0.3, -0.3]
    assert g.tolist() == [1.0, 1.0, 2.0, 0.5, 0.5, 0.5]
    assert cluster.tolist() == [0, 0, 1, 2, 2, 2]
    # g_eff² = Σ N_m g_m² / N = mean over atoms of g²
    assert ens.g_eff == pytest.approx(math.sqrt(np.mean(g ** 2)), rel=1e-15)


def test_equality_and_repr():
    a = Ensemble([2, 1], [0.1, 0.2])
    assert a == Ensemble([2.0, 1.0], [0.1, 0.2], [1, 1])
    assert a != Ensemble([2, 1], [0.1, 0.3])
    assert a != "Ensemble"
    assert "counts=[2.0, 1.0]" in repr(a)
    assert "M=9" in repr(Ensemble.gaussian(100, 1.0, 9, integer=False))


# -- uniform and empirical distributions (issue 17, item 3) ---------------------------------
@pytest.mark.parametrize("M", [1, 2, 5, 12])
def test_uniform_moments(M):
    """Uniform in [−w, w]: the midpoint bins have variance (w²/3)(1 − 1/M²); Gauss–Legendre
    is exact for polynomials of degree 2M − 1, so its variance is w²/3 for M >= 2 and its
    fourth moment w⁴/5 for M >= 3 (to 1e-12)."""
    w, N = 0.3, 1000.0
    bins = qsr.Ensemble.uniform(N, w, M, g=0.5, integer=False)
    quad = qsr.Ensemble.uniform(N, w, M, g=0.5, integer=False, placement="quadrature")
    for ens in (bins, quad):
        assert ens.N == pytest.approx(N) and ens.n_clusters == M
        assert np.all(ens.couplings == 0.5)
        assert np.sum(ens.counts * ens.detunings) == pytest.approx(0.0, abs=1e-12)
        assert ens.distribution.kind == "uniform" and ens.distribution.n_clusters == M
    var = lambda e, k=2: np.sum(e.counts * e.detunings ** k) / e.N       # noqa: E731
    assert var(bins) == pytest.approx(w ** 2 / 3 * (1 - 1 / M ** 2), rel=1e-12, abs=1e-15)
    if M >= 2:
        assert var(quad) == pytest.approx(w ** 2 / 3, rel=1e-12)
    if M >= 3:
        assert var(quad, 4) == pytest.approx(w ** 4 / 5, rel=1e-12)
    assert quad.distribution.placement == "legendre"
    assert bins.refine(2 * M, "legendre") == qsr.Ensemble.uniform(N, w, 2 * M, g=0.5,
                                                                   integer=False,
                                                                   placement="legendre")
    integer = qsr.Ensemble.uniform(100, w, M)
    assert integer.is_integer and integer.N == 100


def test_from_samples_histogram_and_quantiles():
    rng = np.random.default_rng(3)
    x = rng.normal(0.2, 0.1, 500)
    hist = qsr.Ensemble.from_samples(x, 10)
    assert hist.N == 500 and hist.is_integer and hist.n_clusters <= 10
    counts, edges = np.histogram(x, 10)
    np.testing.assert_array_equal(hist.counts, counts[counts > 0])
    np.testing.assert_allclose(hist.detunings, (0.5 * (edges[:-1] + edges[1:]))[counts > 0])
    quant = qsr.Ensemble.from_samples(x, 7, N=1e4, placement="quadrature")
    assert quant.distribution.placement == "quantiles" and quant.N == pytest.approx(1e4)
    # the quantile clusters keep the mean exactly; one sample per cluster is the samples
    assert np.sum(quant.counts * quant.detunings) / quant.N == pytest.approx(x.mean(),
                                                                             rel=1e-12)
    every = qsr.Ensemble.from_samples(x, x.size, placement="quantiles")
    np.testing.assert_allclose(every.detunings, np.sort(x), rtol=0, atol=0)
    assert np.all(every.counts == 1)
    same = qsr.Ensemble.from_samples(np.full(4, 0.3), 3)
    assert same.n_clusters == 1 and same.detunings[0] == 0.3 and same.N == 4


def test_uniform_and_samples_bad_input():
    with pytest.raises(ValueError, match="half_width must be > 0"):
        qsr.Ensemble.uniform(10, 0.0, 5)
    with pytest.raises(ValueError, match=r"placement must be one of \('bins', 'legendre'\)"):
        qsr.Ensemble.uniform(10, 0.1, 5, placement="hermite")
    with pytest.raises(ValueError, match="n_clusters must be <= 3"):
        qsr.Ensemble.from_samples([0.0, 0.1, 0.2], 4)
    with pytest.raises(ValueError, match="at least one sample"):
        qsr.Ensemble.from_samples([], 1)
    with pytest.raises(TypeError, match="detunings must be real numbers"):
        qsr.Ensemble.from_samples(["0.1", "0.2"], 1)
    with pytest.raises(ValueError, match=r"placement must be one of \('bins', 'quantiles'\)"):
        qsr.Ensemble.from_samples([0.0, 0.1], 2, placement="legendre")
