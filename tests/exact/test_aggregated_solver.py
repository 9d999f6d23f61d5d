"""The two-level (aggregation / disaggregation) GMRES for large Dicke ⊗ Fock sectors.

Exact against exact: the iterative solver must give the direct LU's steady state to the
solvers' tolerance (1e-10 relative: GMRES stops at 1e-11 of the regularised residual).
"""
import numpy as np
import pytest

import qutip_superrad as qsr
from qutip_superrad.exact import _common
from qutip_superrad.models._laser_exact import _dicke_description
from qutip_superrad.solvers.dicke import _DEFAULTS, _space, liouvillian


def _sector(N, nphot, g=0.05):
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(N, g=g), kappa=1.0, emission=1e-3,
                                  pumping=0.02)
    model = _dicke_description(laser)
    space = _space(model, dict(_DEFAULTS, nphot=nphot))
    blocks = np.flatnonzero(np.r_[True, np.diff(space.jj) != 0])
    return space, liouvillian(model, space), blocks


@pytest.mark.parametrize("params", [
    dict(N=12, nphot=8),                                            # C = 10, below saturation
    dict(N=10, nphot=10, g=1.0, kappa=10.0, emission=0.1, pumping=1.0, dephasing=0.05),
])
def test_iterative_equals_direct_lu(params):
    nphot = params.pop("nphot")
    g = params.pop("g", 0.05)
    N = params.pop("N")
    base = dict(kappa=1.0, emission=1e-3, pumping=0.02)
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(N, g=g), **{**base, **params})
    direct = laser.steadystate("dicke", nphot=nphot, linear_solver="direct")
    it = laser.steadystate("dicke", nphot=nphot, linear_solver="iterative")
    assert direct.checks["solver"]["solver"] == "sparse LU"
    assert it.checks["solver"]["solver"] == "gmres + aggregation"
    assert it.checks["solver"]["iterations"] < 40 and it.checks["residual"] < 1e-10
    for name in ("photon_number", "excited_population", "pair_correlation", "g2"):
        np.testing.assert_allclose(getattr(it, name), getattr(direct, name), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


def test_large_sector_through_the_public_api():
    """N = 30 with 16 photon states (46 000 elements, above the direct limit): the
    photon number agrees with N = 30 at 20 photon states to the truncation error, and the
    solver reports what it did."""
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(30, g=0.05), kappa=1.0,
                                  emission=1e-3, pumping=0.02)
    r = laser.steadystate("dicke", nphot=16)
    assert r.checks["solver"]["solver"] == "gmres + aggregation"
    assert r.checks["residual"] < 1e-10 and r.checks["truncation"]["ok"]
    assert r.photon_number == pytest.approx(0.26789837314, rel=1e-9)   # nphot = 24 value


def test_not_converged_is_reported():
    space, L, blocks = _sector(N=8, nphot=6)
    R, _ = _common.hermitian_real_form(L, space.swap())
    _, info = _common._aggregated_gmres(R, space.diagonal.astype(float), blocks, tol=1e-30,
                                        maxiter=1, restart=2)
    assert info["gmres_info"] != 0


def test_linear_solver_option_checked():
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(4, g=0.05), kappa=1.0,
                                  emission=1e-3, pumping=0.02)
    with pytest.raises(ValueError, match="linear_solver must be one of"):
        laser.steadystate("dicke", nphot=4, linear_solver="lu")


def test_block_krylov_spectrum_equals_direct():
    """The large-sector spectrum (shift-invert Krylov with block-preconditioned GMRES
    solves, Galerkin poles) against the whole-sector LU path: same line to 1e-8 (the
    verification tolerance of both reduced-order models)."""
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(12, g=0.05), kappa=1.0,
                                  emission=1e-3, pumping=0.02)
    omega = np.linspace(-0.1, 0.1, 201)
    direct = laser.spectrum(omega, "dicke", nphot=8, linear_solver="direct")
    blocks = laser.spectrum(omega, "dicke", nphot=8, linear_solver="iterative")
    assert blocks.checks["qrt"]["mode"] == "block-preconditioned Krylov + Galerkin"
    assert blocks.checks["qrt"]["verified_relative_error"] < 1e-8
    assert blocks.linewidth == pytest.approx(direct.linewidth, rel=1e-8)
    np.testing.assert_allclose(blocks.S, direct.S, atol=1e-8 * direct.S.max())


def test_spins_only_sector_stays_direct():
    """Without a cavity mode (bad cavity) the one-cluster blocks fill little and the sparse
    LU beats the aggregation GMRES up to DIRECT_LIMIT_SPINS elements (N = 1000: 4.9 s against
    13.4 s of CPU), so "auto" stays direct above the cavity's limit; same state either way."""
    from qutip_superrad.solvers import dicke
    bc = qsr.SuperradiantLaser(qsr.Ensemble.identical(300, g=1.0), kappa=10, emission=0.1,
                               pumping=1).eliminate_cavity()
    auto = bc.steadystate("dicke")
    assert auto.checks["dimension"] > dicke.DIRECT_LIMIT
    assert auto.checks["solver"]["solver"] == "sparse LU"
    it = bc.steadystate("dicke", linear_solver="iterative")
    assert it.checks["solver"]["solver"] == "gmres + aggregation"
    assert it.photon_flux == pytest.approx(auto.photon_flux, rel=1e-9)


def test_excitation_slab_smoother_equals_direct_lu():
    """The smoother ``"excitation"`` (exact LUs of slabs of two excitation numbers inside
    every total-spin block, decision 41) gives the direct LU's steady state.  Tolerance
    1e-9 relative as for the spin-block smoother: both GMRES solves stop at 1e-11 of the
    regularised residual, and the measured differences are ≤ 1e-11 (N = 30, 50).  The
    regime is "strong" of bench_dicke_cavity.py (C = 4), the case the smoother is for."""
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(10, g=1.0), kappa=10.0,
                                  emission=0.1, pumping=1.0)
    direct = laser.steadystate("dicke", nphot=10, linear_solver="direct")
    spin = laser.steadystate("dicke", nphot=10, linear_solver="iterative", smoother="spin")
    slab = laser.steadystate("dicke", nphot=10, linear_solver="iterative",
                             smoother="excitation")
    assert spin.checks["solver"]["smoother"] == "spin"
    info = slab.checks["solver"]
    assert info["smoother"] == "excitation" and slab.checks["residual"] < 1e-10
    assert info["smoother_blocks"] > info["blocks"]
    assert info["preconditioner_fill"] < spin.checks["solver"]["preconditioner_fill"]
    for name in ("photon_number", "excited_population", "pair_correlation", "g2"):
        np.testing.assert_allclose(getattr(slab, name), getattr(direct, name), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


@pytest.mark.filterwarnings("ignore::qutip_superrad.TruncationWarning")
def test_excitation_slabs_with_two_clusters():
    """Two detuned clusters with a cavity (slab labels summed over the clusters): the same
    state as the direct LU to 1e-9."""
    from qutip_superrad import examples
    model, ops = examples.superradiant_laser([2, 3], coupling=0.7, kappa=2.0, emission=0.1,
                                             pumping=0.9, dephasing=0.05, detuning=[0.4, -0.3])
    e = {"n": ops["photon_number"], "exc": ops["excited"]}
    direct = qsr.steadystate(model, "dicke", e_ops=e, nphot=6, linear_solver="direct")
    slab = qsr.steadystate(model, "dicke", e_ops=e, nphot=6, linear_solver="iterative",
                           smoother="excitation")
    assert slab.checks["solver"]["smoother"] == "excitation"
    for k in e:
        np.testing.assert_allclose(slab.values[k], direct.values[k], rtol=1e-9, err_msg=k)


def test_auto_smoother_follows_max_memory():
    """``smoother="auto"`` keeps the total-spin blocks while their estimated LU memory fits
    in ``max_memory`` and switches to the excitation slabs when only those fit."""
    from qutip_superrad.solvers import dicke
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(10, g=1.0), kappa=10.0,
                                  emission=0.1, pumping=1.0)
    est = dicke.estimate(_dicke_description(laser), {"nphot": 10})
    by = est["memory_by_smoother"]
    assert est["smoother"] == "spin" and by["excitation"] < by["spin"]
    r = laser.steadystate("dicke", nphot=10, linear_solver="iterative")
    assert r.checks["solver"]["smoother"] == "spin"
    between = (by["excitation"] + by["spin"]) / 2
    r = laser.steadystate("dicke", nphot=10, linear_solver="iterative", max_memory=between)
    assert r.checks["solver"]["smoother"] == "excitation"


def test_spectrum_with_excitation_slabs_equals_direct():
    """The regression sector's preconditioner with the excitation slabs (the smoother the
    steady state uses when the spin-block LUs do not fit) gives the whole-sector LU's
    spectrum: line to 1e-8 (the verification tolerance of both reduced-order models), the
    same as the spin-block preconditioner, with a smaller LU fill.  Regime C = 4 ("strong"),
    where the smoother matters."""
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(8, g=1.0), kappa=10.0,
                                  emission=0.1, pumping=1.0)
    omega = np.linspace(-8.0, 8.0, 161)
    direct = laser.spectrum(omega, "dicke", nphot=8, linear_solver="direct")
    spin = laser.spectrum(omega, "dicke", nphot=8, linear_solver="iterative", smoother="spin")
    slab = laser.spectrum(omega, "dicke", nphot=8, linear_solver="iterative",
                          smoother="excitation")
    q = slab.checks["qrt"]
    assert q["mode"] == "block-preconditioned Krylov + Galerkin"
    assert q["smoother"] == "excitation" and spin.checks["qrt"]["smoother"] == "spin"
    assert q["blocks"] > spin.checks["qrt"]["blocks"]
    assert q["preconditioner_fill"] < spin.checks["qrt"]["preconditioner_fill"]
    assert q["verified_relative_error"] < 1e-8
    assert slab.steady_state.checks["solver"]["smoother"] == "excitation"
    assert slab.linewidth == pytest.approx(direct.linewidth, rel=1e-8)
    np.testing.assert_allclose(slab.S, direct.S, atol=1e-8 * direct.S.max())


def test_spectrum_memory_check_follows_the_smoother():
    """The spectrum refuses before building anything when the chosen smoother's estimate
    exceeds ``max_memory``, and with ``smoother="auto"`` a limit between the two estimates
    runs with the excitation slabs."""
    from qutip_superrad.solvers import dicke
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(8, g=1.0), kappa=10.0,
                                  emission=0.1, pumping=1.0)
    by = dicke.estimate(_dicke_description(laser), {"nphot": 8})["memory_by_smoother"]
    omega = np.linspace(-8.0, 8.0, 41)
    with pytest.raises(qsr.MemoryLimitError, match="regression sector"):
        laser.spectrum(omega, "dicke", nphot=8, smoother="excitation",
                       max_memory=by["excitation"] / 2)
    r = laser.spectrum(omega, "dicke", nphot=8, linear_solver="iterative",
                       max_memory=(by["excitation"] + by["spin"]) / 2)
    assert r.checks["qrt"]["smoother"] == "excitation"


@pytest.mark.parametrize("value", ["ilu", 2, None])
def test_smoother_option_checked(value):
    laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(4, g=0.05), kappa=1.0,
                                  emission=1e-3, pumping=0.02)
    with pytest.raises(ValueError, match="smoother must be one of"):
        laser.steadystate("dicke", nphot=4, smoother=value)


def test_slab_labels_must_match_the_sector():
    space, L, blocks = _sector(N=6, nphot=4)
    R, _ = _common.hermitian_real_form(L, space.swap())
    with pytest.raises(ValueError, match="slabs must hold one label per element"):
        _common._aggregated_gmres(R, space.diagonal.astype(float), blocks, 1e-11,
                                  slabs=np.zeros(3, int))


def test_compact_lu_solves_like_superlu():
    """The slab LUs are kept as plain CSC factors (SuperLU's reserved address space freed):
    the same solution as the SuperLU object to rounding."""
    import scipy.sparse as sp
    rng = np.random.default_rng(3)
    A = sp.csc_matrix(sp.random(200, 200, density=0.03, random_state=4) + 4 * sp.identity(200))
    lu = _common.factorize(A)
    c = _common._CompactLU.compact(lu)
    assert isinstance(c, _common._CompactLU) and c.nnz >= A.shape[0]
    b = rng.standard_normal(200)
    np.testing.assert_allclose(c.solve(b), lu.solve(b), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(A @ c.solve(b), b, atol=1e-12)
    z = b + 1j * rng.standard_normal(200)
    np.testing.assert_allclose(c.solve(z), lu.solve(z.real) + 1j * lu.solve(z.imag),
                               rtol=1e-12, atol=1e-14)


def test_slab_order_keeps_blocks_and_merges_small_slabs():
    blocks = np.array([0, 5])
    slabs = np.array([2, 1, 2, 1, 0, 0, 1, 1, 0, 2])
    order, sub = _common._slab_order(blocks, slabs, min_size=0)
    np.testing.assert_array_equal(order, [4, 1, 3, 0, 2, 5, 8, 6, 7, 9])
    np.testing.assert_array_equal(sub, [0, 1, 3, 5, 7, 9])
    _, merged = _common._slab_order(blocks, slabs, min_size=3)
    np.testing.assert_array_equal(merged, [0, 3, 5, 9])      # a block start always cuts
