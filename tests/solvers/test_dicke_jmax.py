"""Total-spin cutoff ``jmax`` of the Dicke solver (issue 11: the laser with its cavity at N = 200).

Leaving out the blocks ``j > jmax`` removes the local channels into them — gain and loss
together — so the generator stays trace preserving and of Lindblad form (the state stays
positive).  The error is controlled by the weight of the top kept block, which the solver
checks like a photon cutoff.
"""
import warnings

import numpy as np
import pytest

import qutip_superrad as qsr
from qutip_superrad import examples
from qutip_superrad.exact._common import TruncationWarning
from qutip_superrad.solvers import dicke

C10 = dict(coupling=0.05, kappa=1.0, emission=1e-3, pumping=0.02)   # C = 4g²/(κΓ) = 10


def laser(N, **kw):
    model, ops = examples.superradiant_laser(N, **dict(C10, **kw))
    return model, ops["photon_number"]


def photon_number(N, nphot, **opts):
    model, n = laser(N)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncationWarning)
        res = qsr.steadystate(model, "dicke", e_ops={"n": n}, nphot=nphot, **opts)
    return res.expect("n"), res


@pytest.mark.parametrize("N, jmax", [(9, 2.5), (12, 4), (12, 6), ([3, 4], 1), ([4, 5], (2, 1.5))])
def test_space_is_the_window_and_generator_keeps_the_trace(N, jmax):
    model, _ = laser(N) if np.ndim(N) == 0 else examples.superradiant_laser(
        N, detuning=[0.0, 0.1], **C10)
    counts = [int(c) for c in np.atleast_1d(N)]
    full = dicke.DickeFockSpace(counts, [4])
    cut = dicke.DickeFockSpace(counts, [4], jmax=jmax)
    # exactly the elements of the kept blocks, counted exactly without building them
    jm = np.broadcast_to(np.asarray(jmax, float), (len(counts),))
    keep = np.all(np.array(counts)[:, None] / 2 - full.jjs <= jm[:, None] + 1e-9, axis=0)
    assert cut.dim == int(keep.sum()) == dicke.DickeFockSpace.size_estimate(counts, [4], jmax=jmax)
    pos = full.index(cut.jjs, cut.n, cut.es, cut.n2, cut.e2s)
    assert np.array_equal(np.sort(pos), np.flatnonzero(keep))
    # trace preserving: the column sums of the populations vanish to rounding
    L = dicke.liouvillian(model, cut)
    t = cut.diagonal.astype(float)
    assert np.abs(t @ L).max() < 1e-13 * abs(L).max()


def test_jmax_at_the_top_is_no_truncation():
    n_all, _ = photon_number(12, 8)
    n_top, res = photon_number(12, 8, jmax=6)
    assert n_top == n_all                       # the same space, the same numbers
    assert "spin" not in res.checks["truncation"]


def test_error_is_bounded_by_the_top_block_weight():
    """Measured at N = 30, C = 10: |Δn|/n ≤ P(top kept block) for every cutoff, from
    |Δn|/n = 7.5e-6 at P_top = 1.4e-4 (j ≤ 14) to 5e-2 at P_top = 0.14 (j ≤ 8); the weight
    that the missing blocks would hold is smaller than that of the top kept one because the
    local processes push the total spin down (P(j) falls ~5× per step above its peak)."""
    n_ref, _ = photon_number(30, 10)
    for jmax in (14, 12, 10):
        n, res = photon_number(30, 10, jmax=jmax)
        spin = res.checks["truncation"]["spin"]
        top = spin["top_block_population"][0]
        assert not spin["ok"] and spin["jmax"] == (float(jmax),)
        assert abs(n - n_ref) / n_ref <= top
        assert res.checks["min_eigenvalue"] > -1e-12      # a Lindblad generator: positive
        assert abs(res.checks["trace"] - 1) < 1e-12


def test_converged_cutoff_matches_the_full_space():
    """N = 30, C = 10: blocks above j = 13 hold < 1e-3 together; with jmax = 13 the photon
    number agrees with the untruncated solve to 1e-4 (measured 9.6e-5)."""
    n_ref, _ = photon_number(30, 10)
    n, _ = photon_number(30, 10, jmax=13)
    assert abs(n / n_ref - 1) < 1.5e-4


def test_truncation_is_warned_and_strict_raises():
    model, n = laser(12)
    with pytest.warns(TruncationWarning, match=r"total spin truncated: the block j = 3 \(jmax\)"):
        qsr.steadystate(model, "dicke", nphot=6, jmax=3)
    with pytest.raises(ValueError, match="total spin truncated"):
        qsr.steadystate(model, "dicke", nphot=6, jmax=3, strict=True)


def test_suggested_jmax_passes_the_check():
    """The suggestion extrapolates the tail's decay from the blocks below the top (which
    feels the cutoff); it errs high because the tail falls faster further out."""
    model, _ = laser(50)
    with pytest.warns(TruncationWarning, match="use jmax >= "), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "photon space truncated", TruncationWarning)
        res = qsr.steadystate(model, "dicke", nphot=6, jmax=14)
    jmax = res.checks["truncation"]["spin"]["suggested_jmax"][0]
    assert 14 < jmax <= 25
    _, res = photon_number(50, 6, jmax=jmax)
    assert res.checks["truncation"].get("spin", {"ok": True})["ok"]


def test_spectrum_and_evolve_accept_jmax():
    """The regression sector uses the same window: at N = 20 with jmax = 9 (top kept block
    7e-3) the spectrum agrees with the untruncated one within that weight."""
    model, _ = laser(20)
    w = np.linspace(-0.2, 0.2, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncationWarning)
        ref = qsr.spectrum(model, w, method="dicke", nphot=6)
        cut = qsr.spectrum(model, w, method="dicke", nphot=6, jmax=9)
    top = cut.steady_state.checks["truncation"]["spin"]["top_block_population"][0]
    assert 1e-3 < top < 1e-2
    assert np.allclose(cut.S, ref.S, rtol=top, atol=0)
    assert cut.linewidth == pytest.approx(ref.linewidth, rel=top)
    model, n = laser(6)
    tl = [0.0, 5.0]
    ev = qsr.evolve(model, tl, method="dicke", e_ops={"n": n}, nphot=6, jmax=3)
    ev_all = qsr.evolve(model, tl, method="dicke", e_ops={"n": n}, nphot=6)
    assert np.allclose(ev.expect("n"), ev_all.expect("n"), atol=1e-12)  # jmax = N/2


@pytest.mark.parametrize("jmax, match", [
    (-1, "jmax must be >= 0"),
    ("ten", "jmax"),
    ([3, 4, 5], "one number per cluster"),
    (0.2, "leaves no total-spin block"),     # N = 7: j ≥ 1/2
])
def test_bad_jmax(jmax, match):
    model, _ = laser(7)
    with pytest.raises((ValueError, TypeError), match=match):
        qsr.steadystate(model, "dicke", nphot=4, jmax=jmax)


def test_refusals():
    model, ops = examples.driven_dicke(6, rabi=1.0, collective_emission=0.5, dephasing=0.1)
    with pytest.raises(ValueError, match="symmetric manifold"):
        dicke._check_jmax(model, 2, symmetric=True)
    # the ground state j = N/2 lies outside the window
    with pytest.raises(ValueError, match="total spin above jmax"):
        qsr.evolve(model, [0, 1], method="dicke", initial="ground", jmax=2)
    # a local jump mixing transitions (σ_x): its K†K is not diagonal in m
    from qutip_superrad.cumulant.engine.clusters import Clusters
    atoms = Clusters("s")
    s = atoms.atom
    mixed = qsr.Model(atoms.sum(s.sp * s.sm), [(1.0, atoms.each(s.sp + s.sm)),
                                               (0.5, atoms.sum(s.sm))], N=6)
    with pytest.raises(ValueError, match="one definite amount"):
        qsr.steadystate(mixed, "dicke", jmax=2)
    assert qsr.steadystate(mixed, "dicke", jmax=3).checks["trace"] == pytest.approx(1)
