"""Exact emission spectra (quantum regression) against closed forms and each other.

Convention: ``S(ω) = 2 Re ∫₀^∞ e^{−iωτ} g⁽¹⁾(τ) dτ`` with
``g⁽¹⁾(τ) = ⟨a†(τ)a(0)⟩`` (``⟨J⁺(τ)J⁻(0)⟩`` in the bad-cavity limit); with
``H = −Δσ⁺σ⁻`` a line sits at ``ω = −Δ`` (derivation in
``tests/systems/laser_reference.py``).

Note on the peak position: at a smooth maximum ``S(ω) ≈ S₀[1 − (ω−ω₀)²/w²]``
so a maximiser in double precision locates ``ω₀`` only to ``~√ε·w ≈ 1e-8 w``.
Peak positions are therefore compared in units of the linewidth.
"""

import numpy as np
import pytest
import qutip

import qutip_superrad as qsr
from qutip_superrad.exact import _common

import laser_reference as ref


def laser(N, params=ref.DEPHASED_DETUNED):
    ens, rates = ref.split(params)
    return qsr.SuperradiantLaser(qsr.Ensemble.identical(N, **ens), **rates)


# -- (a) one atom, bad cavity: exact Lorentzian ----------------------------------
@pytest.mark.parametrize("emission,pumping,gc,nu,delta,chi", [
    (0.1, 1.0, 0.3, 0.2, 0.4, 0.15),
    (0.5, 0.2, 1.0, 0.0, -1.3, 0.0),
    (0.0, 2.0, 0.1, 0.7, 0.0, -0.4),
])
def test_one_atom_lorentzian(emission, pumping, gc, nu, delta, chi):
    bc = qsr.BadCavityLaser(qsr.Ensemble.identical(1, detuning=delta), collective_emission=gc,
                            emission=emission, pumping=pumping, dephasing=nu, collective_shift=chi)
    omega = np.linspace(-6, 6, 241)
    s = bc.spectrum(omega)
    width = emission + pumping + gc + nu
    # a single eigenvalue: S is exactly p·Γtot/((ω+Δ+χ)² + Γtot²/4); 1e-8 leaves room
    # for the root finding of the half-maximum points (converged to ~1e-14 here)
    assert abs(s.linewidth - width) <= 1e-8 * width
    assert abs(s.peak - (-(delta + chi))) <= 1e-8 * width       # centred at ω = −(Δ + χ)
    expected = ref.one_atom_lorentzian(omega, emission, pumping, gc, nu, delta, chi)
    assert np.max(np.abs(s.S - expected)) <= 1e-12 * expected.max()
    assert np.max(np.abs(s.evaluate(np.array([0.123, 7.7])) -
                         ref.one_atom_lorentzian(np.array([0.123, 7.7]), emission, pumping, gc, nu,
                                                 delta, chi))) <= 1e-12 * expected.max()
    assert s.n_peaks == 1


def test_sign_convention_with_cavity():
    # one atom, detuned atom and resonant weakly-coupled cavity: the atomic line
    # is at ω = −Δ (not +Δ): the spectrum there is orders of magnitude above ω = +Δ
    delta = 2.0
    l = qsr.SuperradiantLaser(qsr.Ensemble.identical(1, g=0.05, detuning=delta), kappa=1.0,
                              emission=0.1, pumping=0.2)
    s = l.spectrum(np.linspace(-4, 4, 161), nphot=3)
    S = s.evaluate(np.array([-delta, delta]))
    assert S[0] > 100 * S[1]


# -- (b) dicke vs full ------------------------------------------------------------
@pytest.mark.parametrize("N", [2, 3])
@pytest.mark.parametrize("regime", ["plain", "dephased_detuned"])
def test_spectrum_dicke_vs_full(N, regime):
    l = laser(N, ref.REGIMES[regime])
    omega = np.linspace(-6, 6, 121)
    sd = l.spectrum(omega, "dicke", nphot=5, truncation_tol=1.0)
    sf = l.spectrum(omega, "full", nphot=5, truncation_tol=1.0)
    # exact vs exact (both dense eigendecompositions): observed ≲ 3e-14 on S,
    # 1e-14 on the FWHM and 1e-9·FWHM on the peak (√ε limit, see module docstring)
    assert abs(sd.linewidth - sf.linewidth) <= 1e-7 * sf.linewidth
    assert abs(sd.peak - sf.peak) <= 1e-7 * sf.linewidth
    assert np.max(np.abs(sd.S - sf.S)) <= 1e-7 * sf.S.max()
    assert sd.n_peaks == sf.n_peaks
    if regime == "plain":
        assert abs(sd.peak) <= 1e-7 * sd.linewidth      # resonant: symmetric about 0


# -- (c) sub-grid line ---------------------------------------------------------------
def test_line_narrower_than_grid():
    # FWHM 6e-7 on a grid with spacing 0.1 (ratio 6e-6): still measured from the
    # analytic Lorentzian sum.  Observed relative error 3e-8, limited by the
    # absolute brentq tolerance (1e-14·grid span) — see the xfail below.
    width = 6e-7
    bc = qsr.BadCavityLaser(qsr.Ensemble.identical(1, detuning=0.0123), collective_emission=width / 6,
                            emission=width / 3, pumping=width / 2)
    s = bc.spectrum(np.linspace(-1, 1, 21))
    assert abs(s.linewidth - width) <= 1e-6 * width
    assert abs(s.peak + 0.0123) <= 1e-6 * width
    assert s.n_peaks == 1


def test_narrow_line_off_grid_is_found():
    # the line is between two grid points far from both: found by the pole hints
    width = 1e-4
    bc = qsr.BadCavityLaser(qsr.Ensemble.identical(3, detuning=-0.437), collective_emission=width / 6,
                            emission=width / 3, pumping=width / 2)
    s = bc.spectrum(np.linspace(-1, 1, 3))
    assert abs(s.peak - 0.437) <= 1e-6 * s.linewidth
    assert s.linewidth < 1e-3


def test_very_narrow_line_relative_accuracy():
    width = 1e-9
    bc = qsr.BadCavityLaser(qsr.Ensemble.identical(1, detuning=0.0123), collective_emission=width / 6,
                            emission=width / 3, pumping=width / 2)
    s = bc.spectrum(np.linspace(-100, 100, 21))
    # doubles resolve ω ≈ 0.0123 to ~2e-18, i.e. 2e-9 of the width: 1e-6 is generous
    assert abs(s.linewidth - width) <= 1e-6 * width






def bad_cavity_resolvent(bc):
    """``(L, v, w)`` of sector k = −1 rebuilt from the Dicke solver, for direct solves.

    ``S(ω) = 2Re wᵀ(iω − L)⁻¹v`` with ``v = J⁻ρ_ss`` and ``wᵀX = Tr(J⁺X)``.
    """
    from qutip_superrad.solvers import dicke
    model = bc.description()
    ss = bc.steadystate("dicke", check_positivity=False)
    s0, x = ss.state.space, ss.state.vector
    space = dicke.DickeFockSpace(int(model.N), [], -1)
    L = dicke.liouvillian(model, space)
    v = np.zeros(space.dim, complex)
    n, e, c = s0.apply((("J", 0, 1, 2),), s0.jjs, s0.n, s0.es)              # J⁻ on the ket
    idx = space.index(s0.jjs, n, e, s0.n2, s0.e2s)
    ok = (idx >= 0) & (c != 0)
    np.add.at(v, idx[ok], c[ok] * x[ok])
    n, e, c = space.apply((("J", 0, 2, 1),), space.jjs, space.n, space.es)   # Tr J⁺·
    w = np.where(e[0] == space.e2, c, 0.0)
    return L, v, w, ss


def direct_errors(s, bc):
    """Relative error of ``s.evaluate`` against one sparse LU solve per frequency,
    at the peak, both half maxima, a far wing point and ω = 10."""
    L, v, w, ss = bad_cavity_resolvent(bc)
    pts = np.array([s.peak, s.peak - s.linewidth / 2, s.peak + s.linewidth / 2, -30.0, 10.0])
    direct = np.array([_common._direct(L, v, w, p) for p in pts])
    return np.abs(s.evaluate(pts) / direct - 1), direct, ss


@pytest.mark.parametrize("N", [20, 80])
def test_krylov_vs_direct_solves(N):
    # N = 80 bad cavity, sector k = −1 of 1640 elements.  Reference: S(ω) = 2Re wᵀ(iω − L)⁻¹v by one sparse LU per
    # frequency.  Observed: ≤ 5e-15 at the line, 2.4e-8 (relative to the local value,
    # i.e. 6e-12 of the peak) at ω = −30.
    bc = qsr.BadCavityLaser(qsr.Ensemble.identical(N, detuning=0.1), **ref.BAD_CAVITY)
    s = bc.spectrum(np.linspace(-30, 30, 301))
    assert s.checks["qrt"]["mode"] == "shift-invert Arnoldi"
    err, direct, ss = direct_errors(s, bc)
    # Krylov model verified to 1e-8 (its own tolerance) near the line
    assert np.max(err[:3]) <= 1e-8
    assert np.max(err[3:]) <= 1e-6            # wings: relative to S there (~1e-4 of the peak)
    # the half maximum is really at ±FWHM/2
    assert np.max(np.abs(direct[1:3] / direct[0] - 0.5)) <= 1e-8
    assert abs(s.peak + 0.1) <= 1e-6 * s.linewidth
    # g⁽¹⁾(0) = ⟨J⁺J⁻⟩
    assert abs(s.checks["g1_0"] - ss.photon_flux / bc.collective_emission) <= 1e-10 * s.checks["g1_0"]







# -- (e) g1(0) -------------------------------------------------------------------
@pytest.mark.parametrize("method,N", [("dicke", 1), ("dicke", 4), ("full", 1), ("full", 3)])
def test_g1_zero_is_photon_number(method, N):
    l = laser(N)
    s = l.spectrum(np.linspace(-5, 5, 51), method, nphot=5, truncation_tol=1.0)
    ss = l.steadystate(method, nphot=5, truncation_tol=1.0)
    assert abs(s.checks["g1_0"] - ss.photon_number) <= 1e-12 * ss.photon_number


def test_spectrum_sum_rule():
    # ∫S(ω)dω/2π = g⁽¹⁾(0) = ⟨a†a⟩ (the Lorentzian tails are integrated analytically
    # by quad on the infinite interval; the dispersive 1/ω parts cancel pairwise
    # because S is real and the integral is taken symmetrically) — 1e-6 (quad)
    from scipy import integrate
    l = laser(2, ref.PLAIN)
    s = l.spectrum(np.linspace(-5, 5, 51), nphot=5, truncation_tol=1.0)
    f = lambda w: float(s.evaluate(np.array([w]))[0])
    total = 0.0
    for lo, hi in ((-np.inf, -20), (-20, 20), (20, np.inf)):
        total += integrate.quad(f, lo, hi, epsabs=1e-13, epsrel=1e-11, limit=400)[0]
    n = l.steadystate(nphot=5, truncation_tol=1.0).photon_number
    assert abs(total / (2 * np.pi) - n) <= 1e-6 * n


# -- independent QRT in the full tensor space -------------------------------------------
@pytest.mark.parametrize("N", [1, 2, 3])
def test_bad_cavity_spectrum_vs_tensor_qrt(N):
    # H = −Δ Σσ⁺σ⁻ − χJ⁺J⁻ with every dissipator, 2^N spins built with plain QuTiP;
    # dense solves of (iω − L) on the 4^N superoperator: 1e-10 relative
    p = dict(collective_emission=0.3, emission=0.1, pumping=1.0, dephasing=0.2)
    delta, chi = 0.4, 0.25
    H, c_ops, sm = ref.bad_cavity_tensor(N, detuning=delta, collective_shift=chi, **p)
    Jm = sum(sm[1:], sm[0])
    omega = np.linspace(-4.05, 3.95, 17)           # avoids ω = 0 (see qrt_spectrum_dense)
    S_ref = ref.qrt_spectrum_dense(H, c_ops, Jm, omega)
    bc = qsr.BadCavityLaser(qsr.Ensemble.identical(N, detuning=delta), collective_shift=chi, **p)
    s = bc.spectrum(omega)
    assert np.max(np.abs(s.S - S_ref)) <= 1e-10 * S_ref.max()


@pytest.mark.parametrize("method", ["dicke", "full"])
def test_laser_spectrum_vs_tensor_qrt(method):
    # cavity spectrum ⟨a†(τ)a(0)⟩ from qutip.liouvillian of the model's own H, c_ops
    # (the construction of H and c_ops is checked against a numpy.kron model elsewhere)
    l = laser(2)
    omega = np.linspace(-4.05, 3.95, 17)
    nphot = 4
    a = qutip.tensor([qutip.destroy(nphot), qutip.qeye(2), qutip.qeye(2)])
    S_ref = ref.qrt_spectrum_dense(l.hamiltonian(nphot), l.c_ops(nphot), a, omega)
    s = l.spectrum(omega, method, nphot=nphot, truncation_tol=1.0)
    assert np.max(np.abs(s.S - S_ref)) <= 1e-10 * S_ref.max()


def test_vacuum_rabi_doublet():
    # one atom strongly coupled (g = 2 ≫ κ, Γ, R): the 1-excitation manifold splits into
    # |±⟩ at ω ≈ ±√(g² − ((κ − Γ − R)/4)²) ≈ ±1.99; two peaks of equal height.
    # Resonant model (Δ = δc = 0): complex conjugation maps L to itself with ω → −ω, so
    # S(ω) = S(−ω) exactly (1e-12).
    l = qsr.SuperradiantLaser(qsr.Ensemble.identical(1, g=2.0), kappa=0.5, emission=0.05, pumping=0.02)
    s = l.spectrum(np.linspace(-5, 5, 201), nphot=4, truncation_tol=1e-4)
    assert s.n_peaks == 2
    assert abs(abs(s.peak) - 2.0) < 0.05
    w = np.linspace(0.1, 4.9, 25)
    assert np.max(np.abs(s.evaluate(w) - s.evaluate(-w))) <= 1e-12 * s.S.max()
    # the dip between the peaks is deep (strong coupling)
    assert s.evaluate(np.array([0.0]))[0] < 0.05 * s.S.max()


def test_exact_spectra_count_peaks_with_an_explicit_prominence():
    """Issue 17, item 2, for the exact methods: one atom strongly coupled (g = 1 ≫ κ, Γ)
    and weakly pumped shows the vacuum-Rabi doublet at ω ≈ ±g (±√(g² − (κ−Γ)²/16) for the
    first rung, within 5 %) and weaker higher-rung lines of the Jaynes–Cummings ladder
    (at ±(√2 − 1)g, broadened).  ``n_peaks`` counts the lines above ``prominence`` of the
    maximum, recorded in ``checks["peak_prominence"]``: the doublet alone at 0.05, the
    ladder at the default 1e-3; full and Dicke agree; the count is that of
    ``count_peaks`` on the sampled spectrum."""
    from qutip_superrad.spectrum import DEFAULT_PROMINENCE, count_peaks
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(1, g=1.0), kappa=0.2,
                                  emission=0.05, pumping=0.1)
    omega = np.linspace(-3, 3, 1201)
    counts = {}
    for method in ("full", "dicke"):
        for prom in (None, 0.05):
            sp = laser.spectrum(omega, method, nphot=12, prominence=prom)
            p = DEFAULT_PROMINENCE if prom is None else prom
            assert sp.checks["peak_prominence"] == p
            assert sp.n_peaks == count_peaks(sp.S, p)
            counts[method, p] = sp.n_peaks
            assert 0.95 < abs(sp.peak) <= 1.0
    assert counts["full", 0.05] == counts["dicke", 0.05] == 2
    assert counts["full", 1e-3] == counts["dicke", 1e-3] >= 4
    with pytest.raises(ValueError, match="prominence"):
        laser.spectrum(omega, "dicke", nphot=12, prominence=1.5)
    # the generic solvers take the same option
    model = laser.description()
    res = qsr.spectrum(model, omega, "full", nphot=12, prominence=0.05)
    assert res.n_peaks == 2 and res.checks["peak_prominence"] == 0.05
