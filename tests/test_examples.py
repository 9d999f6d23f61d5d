"""Physics checks of the example models of :mod:`qutip_superrad.examples`.

The V-level laser (seed 002) written with the model description must be the
same master equation as the independent QuTiP reference of
``tests/systems/vlevel_laser.py`` and as the engine model of
``tests/systems/engine_models.py``:

* exact (``method="full"``, nphot = 8) against the exact reference for N = 1, 2
  without and with the collective pump dephasing: the Liouvillians agree
  entry by entry and the steady states to ~1e-14 (asserted: 1e-8 relative
  on ⟨a†a⟩ and the populations, 1e-6 relative on the tiny ⟨a⟩, 1e-10 on the
  density matrix);
* the order-2 cumulant steady state against the engine model solved
  directly with the same numbers (asserted: 1e-10 relative), including
  the seed's many-atom regime, and against the exact photon numbers with
  the deviations recorded in ``tests/cumulant/engine/test_seed002.py``
  (13.3 % for N = 1, 14.1 % for N = 2).
"""
import numpy as np
import pytest
import qutip

import qutip_superrad as qsr
from qutip_superrad import examples

import engine_models
import vlevel_laser as ref

NPHOT = 8          # top Fock population ≤ 5.5e-7 for N ≤ 2 (checked below)
EXACT_RTOL = 1e-8  # both sides are exact steady states of the same truncated model

PARAMETER_SETS = {"laser": ref.SMALL_N_LASER, "dephased": ref.SMALL_N_LASER_DEPHASED}


def _example(N, P):
    """The example with the numbers of a reference parameter set (same keywords)."""
    return examples.vlevel_laser(N, **P)


def test_defaults_are_the_small_n_reference_point():
    model, ops = examples.vlevel_laser(2)
    expect = {k: float(v) for k, v in ref.SMALL_N_LASER.items()}
    assert model.parameters == expect
    assert model.N == 2 and model.symmetry == "none"
    assert set(ops) == {"photon_number", "field", "S1", "S2", "S3", "inversion", "coherence"}


@pytest.mark.parametrize("name", sorted(PARAMETER_SETS))
@pytest.mark.parametrize("N", [1, 2])
def test_liouvillian_is_the_reference_one(N, name):
    """Same tensor order (mode first), level convention and operators: equal entry by entry."""
    P = PARAMETER_SETS[name]
    model, _ = _example(N, P)
    H, c_ops = ref.vlevel_model(N, 4, **P)
    L_ref = qutip.liouvillian(H, c_ops)
    L = model.liouvillian(4)
    assert L.dims == L_ref.dims
    assert np.max(np.abs((L - L_ref).full())) <= 1e-14 * np.max(np.abs(L_ref.full()))


@pytest.mark.parametrize("name", sorted(PARAMETER_SETS))
@pytest.mark.parametrize("N", [1, 2])
def test_full_steady_state_matches_exact_reference(N, name):
    """⟨a†a⟩, the populations and ⟨a⟩ of method "full" vs the exact reference.

    Measured agreement: ≤ 5e-14 relative on ⟨a†a⟩ (0.2012, 0.4089; dephased
    0.2068, 0.4201 for N = 1, 2) and the populations, ≤ 6e-13 relative on the
    tiny ⟨a⟩ (|⟨a⟩| ≈ 3e-5 … 6e-5), ≤ 2e-14 on ρ.  The
    reference is solved with ``qutip.steadystate`` for N = 1 and in the
    permutation-symmetric subspace for N = 2 (exact as well; the full
    ``qutip.steadystate`` of the dephased N = 2 case takes ~15 s).
    """
    P = PARAMETER_SETS[name]
    model, ops = _example(N, P)
    res = qsr.steadystate(model, "full", e_ops=ops, nphot=NPHOT)
    trunc = res.checks["truncation"]["a"]
    assert trunc["ok"] and trunc["top_fock_population"] < 1e-6
    exact, rho, _ = ref.exact_steady(N, NPHOT, method="full" if N == 1 else "symmetric",
                                     return_state=True, **P)
    v = res.values
    # the photon number is ∝ N (≈ 0.2 per atom), far from a truncation artefact
    assert 0.19 * N < exact["a†a"] < 0.22 * N
    assert v["photon_number"] == pytest.approx(exact["a†a"], rel=EXACT_RTOL)
    # reference values are for atom 1; the atoms are identical, S_i = N ⟨σ^1_ii⟩
    assert v["S2"] / N == pytest.approx(exact["s22"], rel=EXACT_RTOL)
    assert v["S3"] / N == pytest.approx(exact["s33"], rel=EXACT_RTOL)
    s11 = 1.0 - exact["s22"] - exact["s33"]
    assert v["S1"] / N == pytest.approx(s11, rel=EXACT_RTOL)
    assert v["inversion"] / N == pytest.approx(exact["s22"] - s11, rel=EXACT_RTOL)
    assert v["S1"] + v["S2"] + v["S3"] == pytest.approx(N, rel=1e-12)
    assert abs(v["coherence"] / N - exact["s12"]) <= EXACT_RTOL * abs(exact["s12"])
    assert abs(v["field"] - exact["a"]) <= 1e-6 * abs(exact["a"])
    assert np.max(np.abs((res.state - rho).full())) < 1e-10


@pytest.fixture(scope="module")
def engine_system():
    """Order-2 closure of the engine's own seed-002 model (tests/systems/engine_models.py)."""
    return engine_models.vlevel_laser()[2].close(2)


SEED_REGIME = dict(ref.SMALL_N_LASER, Delta_c=0.0, g=0.002, kappa=0.05)   # test_seed002
CUMULANT_SETS = {"laser": ref.SMALL_N_LASER, "seed": SEED_REGIME}


@pytest.fixture(scope="module")
def cumulant_steady():
    """``(N, set name) → Result`` of the example's order-2 steady state, computed once.

    One example model, other numbers by ``with_values`` (the closure is derived
    once); each steady state takes ~1 s (slow relaxation at Γ_2 = Γ_3/4266).
    """
    base, ops = examples.vlevel_laser(1)
    cache = {}

    def get(N, name):
        if (N, name) not in cache:
            model = base.with_values(N=N, **CUMULANT_SETS[name])
            cache[N, name] = qsr.steadystate(model, "cumulant", e_ops=ops)
        return cache[N, name]

    return get


@pytest.mark.parametrize("N, name", [(1, "laser"), (2, "laser"), (2000, "seed")],
                         ids=["N1", "N2", "N2000-seed-regime"])
def test_cumulant_order2_matches_engine_model(engine_system, cumulant_steady, N, name):
    """``qsr.steadystate(model, "cumulant")`` = the engine's seed-002 model at order 2.

    Measured: identical to the last digit (relative difference 0).
    """
    P = CUMULANT_SETS[name]
    res = cumulant_steady(N, name)
    assert res.stats["order"] == 2
    ss = engine_system.solver(engine_models.engine_params(P), {"N": [float(N)]}).steadystate()
    v = res.values
    assert v["photon_number"] == pytest.approx(ss["a† a"].real, rel=1e-10)
    assert v["S2"] / N == pytest.approx(ss["s22[i0]"][0].real, rel=1e-10)
    assert v["S3"] / N == pytest.approx(ss["s33[i0]"][0].real, rel=1e-10)
    assert abs(v["field"] - ss["a"]) <= 1e-10 * abs(ss["a"])
    assert abs(v["coherence"] / N - ss["s12[i0]"][0]) <= 1e-10 * abs(ss["s12[i0]"][0])
    if N == 2000:   # the seed's lasing regime (test_seed002::test_large_n_lasing_and_spectrum)
        assert v["photon_number"] > 50
        assert v["S2"] / N > 0.5 > v["S3"] / N


@pytest.mark.parametrize("N, deviation", [(1, 0.133), (2, 0.141)])
def test_cumulant_order2_deviation_from_exact(cumulant_steady, N, deviation):
    """Order 2 overestimates ⟨a†a⟩ by 13.3 % (N = 1) and 14.1 % (N = 2), the values
    measured in test_seed002::test_orders_approach_the_exact_vlevel_laser (few photons:
    a quantum regime where low orders are rough)."""
    n_cum = cumulant_steady(N, "laser").values["photon_number"]
    n_exact = ref.exact_steady(N, NPHOT, method="full" if N == 1 else "symmetric",
                               **ref.SMALL_N_LASER)["a†a"]
    assert n_cum / n_exact - 1 == pytest.approx(deviation, abs=1e-3)
