"""Appendix B of seed 003: the 3-level model behind the collective pump.

``dR/dt = −i[−δ J_rr + Ω(J_rg + J_gr), R] + γ D[J_ge]R + γ_r D[J_er]R``
(seed eq. 2 / B8), solved exactly on the symmetric subspace, for comparison
with the effective two-level model at ``w = γ_r (Ω/δ)²``.

Contents
--------
* :func:`three_level_pumping` — exact steady state
  (:class:`ThreeLevelSteadyState`).
* ``_symmetric_three_level`` — collective operators on the symmetric subspace
  (Schwinger bosons); ``_full_three_level`` — the same in the full ``3^N``
  tensor space (for tests).
"""
import numpy as np

from ..._validate import check_count, check_int, check_rate, check_real
from ..._validate import renamed_keywords
from .results import ThreeLevelSteadyState

__all__ = ["three_level_pumping"]


def _symmetric_three_level(N):
    """Collective operators ``J_{μν} = b_μ† b_ν`` on the symmetric subspace (Schwinger bosons).

    Levels ``μ ∈ (g, e, r) = (0, 1, 2)``; basis states ``(n_g, n_e, n_r)`` with
    ``n_g + n_e + n_r = N``.  Returns ``(J, states)`` with ``J[μ][ν]`` a Qobj.
    """
    import qutip
    import scipy.sparse as sp
    states = [(N - ne - nr, ne, nr) for nr in range(N + 1) for ne in range(N + 1 - nr)]
    index = {s: i for i, s in enumerate(states)}
    D = len(states)
    J = [[None] * 3 for _ in range(3)]
    for mu in range(3):
        for nu in range(3):
            rows, cols, vals = [], [], []
            for i, s in enumerate(states):
                if s[nu] == 0:
                    continue
                if mu == nu:
                    rows.append(i); cols.append(i); vals.append(float(s[mu]))   # noqa: E702
                    continue
                t = list(s)
                t[nu] -= 1
                t[mu] += 1
                rows.append(index[tuple(t)]); cols.append(i)                      # noqa: E702
                vals.append(np.sqrt(s[nu] * (s[mu] + 1)))
            J[mu][nu] = qutip.Qobj(sp.csr_matrix((vals, (rows, cols)), shape=(D, D)),
                                   dims=[[D], [D]])
    return J, states


def _full_three_level(N):
    """``J_{μν} = Σ_n |μ_n⟩⟨ν_n|`` in the full ``3^N`` tensor space (levels g, e, r = 0, 1, 2)."""
    import qutip
    J = [[None] * 3 for _ in range(3)]
    eye = qutip.qeye(3)
    for mu in range(3):
        for nu in range(3):
            op = qutip.basis(3, mu) * qutip.basis(3, nu).dag()
            total = 0
            for n in range(N):
                ops = [eye] * N
                ops[n] = op
                total = total + qutip.tensor(ops)
            J[mu][nu] = total
    return J


@renamed_keywords(gamma="collective_emission")
def three_level_pumping(N, collective_emission, gamma_r, omega, delta):
    """Exact steady state of the 3-level model, seed eq. (2) / (B8).

    ``dR/dt = −i[−δ J_rr + Ω(J_rg + J_gr), R] + γ D[J_ge]R + γ_r D[J_er]R``

    with ``J_{μν} = Σ_n |μ_n⟩⟨ν_n|``.  In the limit ``δ ≫ √N Ω, Nγ_r, N²γ``
    the ``{g, e}`` dynamics reduce to ``γD[J⁻] + wD[J⁺]`` with
    ``w = γ_r(Ω/δ)²`` (App. B); compare ``jz`` with
    ``CollectivePumping(N, collective_emission=γ, collective_pumping=w).steadystate().jz``.

    The model is solved exactly on the symmetric subspace (Schwinger bosons
    ``J_{μν} = b_μ†b_ν``, dimension ``(N+1)(N+2)/2``): every operator is
    collective and the all-ground state is symmetric, so the dynamics from it
    never leave that subspace.  (The full ``3^N`` space has additional,
    non-symmetric dark steady states; the Schwinger construction is checked
    against explicit tensor products in the tests.)

    Parameters
    ----------
    N : int
        Atoms, ``1 <= N <= 60``.
    collective_emission : float
        Collective decay rate ``γ`` of ``|e⟩ → |g⟩`` (``γ D[J_ge]``; formerly ``gamma``).
    gamma_r : float
        Collective decay rate of ``|r⟩ → |e⟩`` (``γ_r D[J_er]``).
    omega, delta : float
        Rabi frequency and detuning of the ``|g⟩ ↔ |r⟩`` laser.

    Returns
    -------
    ThreeLevelSteadyState
    """
    import qutip
    N = check_count("N", N)
    gamma = check_rate("collective_emission", collective_emission)
    gamma_r = check_rate("gamma_r", gamma_r)
    omega = check_real("omega", omega)
    delta = check_real("delta", delta)
    if delta == 0:
        raise ValueError("delta must be non-zero (effective pump w = gamma_r (omega/delta)^2)")
    check_int("N", N, maximum=60)
    J, _ = _symmetric_three_level(N)
    g, e, r = 0, 1, 2
    H = -delta * J[r][r] + omega * (J[r][g] + J[g][r])
    c_ops = [np.sqrt(gamma) * J[g][e], np.sqrt(gamma_r) * J[e][r]]
    rho = qutip.steadystate(H, c_ops)
    jz_op = 0.5 * (J[e][e] - J[g][g])
    jz = float(qutip.expect(jz_op, rho))
    var = float(qutip.expect(jz_op * jz_op, rho)) - jz ** 2
    return ThreeLevelSteadyState(jz, var, float(qutip.expect(J[r][r], rho)),
                                 gamma_r * (omega / delta) ** 2, rho.shape[0], rho)
