"""Exact QuTiP reference for the coherently driven V-level laser (seed 002).

Independent of ``qutip_superrad``: the model is assembled here from plain
QuTiP operators and solved with :func:`qutip.steadystate` / sparse linear
solves on the Liouvillian.  Meant to validate a second-order cumulant engine
for the same model at small ``N``.

Model (seed eqs. 2–10; ħ = 1, ``D[c]ρ = cρc† − ½{c†c, ρ}``)::

    H = −Δc a†a + Σ_j g (a† σ^j_12 + a σ^j_21)
        + Σ_j Σ_{i=2,3} [ −Δ_i σ^j_ii + Ω_i (σ^j_i1 + σ^j_1i) ]
    dρ/dt = −i[H, ρ] + κ D[a]ρ + Σ_j (Γ_2 D[σ^j_12] + Γ_3 D[σ^j_13])ρ
            + ν_3 D[S_3]ρ + ν_2 D[a†a + S_2]ρ,      S_i = Σ_j σ^j_ii

with ``σ_ik = |i⟩⟨k|``, level 1 = ground, 2 = narrow (lasing) excited state,
3 = broad excited state.  The frame rotates at the two pump frequencies
(``Δ_i = ω_ℓi − ω_i``, ``Δc = ω_ℓ2 − ω_c``).

Conventions
-----------
* Level ``i`` of an atom is ``qutip.basis(3, 3 − i)`` (level 3 = ``basis(3, 0)``,
  ground = ``basis(3, 2)``), as in the rest of the package.  Tensor order:
  cavity mode first, then atoms 1 … N: ``dims = [[nphot, 3, …, 3], …]``.
* Cavity loss is ``κ D[a]`` so that ``⟨a†a⟩`` decays at ``κ``.  **Seed
  inconsistency:** eq. (6) reads ``κ(2aρa† − a†aρ − ρa†a) = 2κ D[a]``, in line
  with "photons leaking … at a rate 2κ" (Sec. III) and "FWHM ≈ cavity
  linewidth 2κ" (Sec. III B); but the seed's Appendix B/C equations,
  ``d⟨a†a⟩/dt = −κ⟨a†a⟩ + …``, ``d⟨a⟩/dt = … − ½(κ + ν_2)⟨a⟩`` and
  ``d⟨ã†ã_0⟩/dt = … − ½κ⟨ã†ã_0⟩``, correspond to ``κ D[a]`` (FWHM κ).  We use
  ``κ D[a]`` (Appendix C); to reproduce eq. (6) literally pass ``2κ``.
* Dephasing of the pump lasers is collective (eqs. 8–9, App. A): ``ν_3 D[S_3]``
  and ``ν_2 D[a†a + S_2]`` (the cavity shares the ν_2 frame).  For a single
  atom without cavity (:func:`exact_single_atom_inversion`) these reduce to
  ``ν_i D[σ_ii]`` (eq. 4).

Exact steady-state identities (Heisenberg equations)
----------------------------------------------------
Adjoint generator ``dO/dt = i[H, O] + Σ_c (c†Oc − ½{c†c, O})``.  With the
truncated ``a`` one still has ``[a, a†a] = a``, ``[a†, a†a] = −a†`` and
``a†(a†a)a = a†a(a†a − 1)``, so the photon-number and population identities
are exact for the truncated model; the field identity carries a top-state term:

* Photon number: ``i[H, a†a] = ig Σ_j (aσ^j_21 − a†σ^j_12)``, ``κD†[a](a†a) = −κa†a``,
  ``ν_2 D[a†a + S_2]`` commutes with ``a†a``::

      d⟨a†a⟩/dt = −κ⟨a†a⟩ − 2gN Im⟨aσ^1_21⟩
      ⇒  κ⟨a†a⟩ = −2gN Im⟨aσ^1_21⟩ = 2gN Im⟨a†σ^1_12⟩      (steady state)

  (permutation symmetry used for ``Σ_j → N``; matches seed App. C line 1).
* Field: ``i[H, a] = iΔc a + ig Σ_j [a†, a]σ^j_12``, ``κD†[a](a) = −κa/2``,
  ``ν_2D†[K](a) = −½[K,[K,a]] = −ν_2 a/2`` (``K = a†a + S_2``).  Here the
  truncation matters: ``[a†, a] = −1 + nphot·Π_top`` with ``Π_top`` the
  projector on ``|nphot − 1⟩``, so::

      d⟨a⟩/dt = (iΔc − (κ + ν_2)/2)⟨a⟩ − igN⟨σ^1_12⟩ + igN·nphot⟨Π_top σ^1_12⟩
      ⇒  ⟨a⟩ = igN(⟨σ^1_12⟩ − nphot⟨Π_top σ^1_12⟩) / (iΔc − (κ + ν_2)/2)

  (the seed's App. C form without the last term is the ``nphot → ∞`` limit).
* Narrow population: ``i[H, σ_22] = iΩ_2(σ_12 − σ_21) + ig(a†σ_12 − aσ_21)``,
  ``Γ_2D†[σ_12](σ_22) = −Γ_2σ_22``; Γ_3 and both dephasings commute::

      d⟨σ_22⟩/dt = −Γ_2⟨σ_22⟩ − 2Ω_2 Im⟨σ_12⟩ − 2g Im⟨a†σ_12⟩

* Broad population: ``d⟨σ_33⟩/dt = −Γ_3⟨σ_33⟩ − 2Ω_3 Im⟨σ_13⟩``.

Spectrum sign convention
------------------------
:func:`exact_spectrum` returns, by default, ``S(ω) = 2 Re ∫₀^∞ e^{−iωτ}
⟨δa†(τ)δa(0)⟩ dτ`` — the convention of seed eq. (11), of
``qutip.spectrum(H, ω, c_ops, a.dag(), a)`` and of the package
(``SuperradiantLaser.spectrum``).  In this convention the free mode
(``H = −Δc a†a``, ``a(t) = a e^{+iΔc t}``, ``⟨a†(τ)a⟩ ∝ e^{−iΔc τ}``) peaks at
``ω = −Δc = ω_c − ω_ℓ2``, i.e. ``ω`` is the physical emission frequency
relative to the pump laser ω_ℓ2 (the bare narrow line sits at ``ω = −Δ_2``).
With the kernel ``e^{+iωτ}`` (``sign=+1``) the spectrum is mirrored,
``S₊(ω) = S₋(−ω)``, and the mode peaks at ``ω = +Δc``.  Checked numerically
in ``test_vlevel_reference.py::test_spectrum_peak_follows_cavity``.

Reference parameter set
-----------------------
:data:`SMALL_N_LASER` (units Γ_3 = 1; Sr ratio Γ_3/Γ_2 = 4266; the seed's
pump point Δ_2 = 5, Δ_3 = −1, Ω_2 = Ω_3 = 0.5, where a free atom has
inversion 0.678): cavity resonant with the bare narrow line (``Δc = Δ_2``,
as in seed Fig. 5), ``g = 0.01 ≈ 43Γ_2``, ``κ = 0.0025 ≈ 11Γ_2`` (seed:
``g = 2Γ_2``, ``κ = 50Γ_2``, threshold N ≈ 12000).  The single-atom
cooperativity ``4g²/(κΓ_2^gain) ≈ 1.1`` (``Γ_2^gain ≈ 614Γ_2``, seed Fig. 4)
is ~2000× the seed's, so the few-atom system is already strongly
cavity-coupled: ``⟨a†a⟩ = 0.20, 0.41, 0.62`` for N = 1, 2, 3 (∝ N), the
inversion is clamped from 0.678 to ≈ 0.16, ``g⁽²⁾(0) = 0.85 … 1.25`` (far
from thermal 2), coherent pump scattering ``|⟨a⟩|² ≲ 1e-8`` is negligible, and
the spectrum is a Lorentzian at ``ω = −Δc`` of FWHM ≈ κ (no narrowing yet:
⟨a†a⟩ ≪ 1).  ``nphot = 10`` gives a top-Fock population ≤ 1.4e-7 up to N = 3;
larger ``⟨a†a⟩`` (≳ 0.8) is incompatible with the 1e-6 truncation criterion at
``nphot ≤ 10``.  :data:`SMALL_N_LASER_DEPHASED` adds pump linewidths
``ν_2 = 10Γ_2``, ``ν_3 = 0.05`` to exercise the collective dephasing terms.
Print the tables with ``python tests/systems/vlevel_laser.py``.
"""
import numpy as np
import qutip
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse.csgraph import reverse_cuthill_mckee

__all__ = [
    "GAMMA_RATIO", "SEED_PUMP", "SMALL_N_LASER", "SMALL_N_LASER_DEPHASED",
    "STEADY_KEYS", "PAIR_KEYS",
    "TruncationError", "vlevel_operators", "vlevel_model", "exact_steady",
    "exact_single_atom_inversion", "exact_spectrum",
]

#: Γ_3/Γ_2 for ⁸⁸Sr as used throughout the seed.
GAMMA_RATIO = 4266.0

#: Seed pump parameters (Fig. 2, 4, 5), units Γ_3 = 1.
SEED_PUMP = dict(Delta2=5.0, Delta3=-1.0, Omega2=0.5, Omega3=0.5,
                 Gamma2=1.0 / GAMMA_RATIO, Gamma3=1.0)

#: Small-N lasing-like regime (see module docstring).
SMALL_N_LASER = dict(SEED_PUMP, Delta_c=5.0, g=0.01, kappa=0.0025, nu2=0.0, nu3=0.0)

#: Same with finite pump linewidths (collective dephasing switched on).
SMALL_N_LASER_DEPHASED = dict(SMALL_N_LASER, nu2=10.0 / GAMMA_RATIO, nu3=0.05)

#: Keys returned by :func:`exact_steady` (the ``N ≥ 2`` ones only when N ≥ 2).
STEADY_KEYS = ("a†a", "a", "aa", "s22", "s33", "s12", "s13", "s23",
               "a s21", "a† s12", "a s22", "a s33")
PAIR_KEYS = ("s21 s12", "s22 s22")


class TruncationError(RuntimeError):
    """The top Fock state of the truncated mode is populated above tolerance."""


def _level(i):
    return qutip.basis(3, 3 - i)


def vlevel_operators(N, nphot):
    """Cavity and atomic operators on ``mode ⊗ atom_1 ⊗ … ⊗ atom_N``.

    Parameters
    ----------
    N : int
        Number of atoms (≥ 1).
    nphot : int
        Fock-space dimension of the mode (photon numbers ``0 … nphot − 1``).

    Returns
    -------
    dict
        ``'a'``: annihilation operator; ``'sigma'``: list over atoms ``j = 0 … N−1``
        of dicts ``{(i, k): σ^{j+1}_ik = |i⟩⟨k|}`` for ``i, k ∈ {1, 2, 3}``;
        ``'n_top'``: projector on the top Fock state ``|nphot − 1⟩``.
    """
    if N < 1 or nphot < 2:
        raise ValueError("need N >= 1 and nphot >= 2")
    I3, Ip = qutip.qeye(3), qutip.qeye(nphot)
    a = qutip.tensor([qutip.destroy(nphot)] + [I3] * N)
    n_top = qutip.tensor([qutip.fock_dm(nphot, nphot - 1)] + [I3] * N)
    sigma = []
    for j in range(N):
        d = {}
        for i in (1, 2, 3):
            for k in (1, 2, 3):
                op = _level(i) * _level(k).dag()
                d[(i, k)] = qutip.tensor([Ip] + [op if m == j else I3 for m in range(N)])
        sigma.append(d)
    return {"a": a, "sigma": sigma, "n_top": n_top}


def _model_from_ops(ops, Delta_c, g, Delta2, Delta3, Omega2, Omega3, Gamma2, Gamma3,
                    kappa, nu2=0.0, nu3=0.0):
    a, sig = ops["a"], ops["sigma"]
    H = -Delta_c * a.dag() * a
    for s in sig:
        H += g * (a.dag() * s[(1, 2)] + a * s[(2, 1)])
        for i, D, W in ((2, Delta2, Omega2), (3, Delta3, Omega3)):
            H += -D * s[(i, i)] + W * (s[(i, 1)] + s[(1, i)])
    c_ops = []
    if kappa:
        c_ops.append(np.sqrt(kappa) * a)
    for s in sig:
        if Gamma2:
            c_ops.append(np.sqrt(Gamma2) * s[(1, 2)])
        if Gamma3:
            c_ops.append(np.sqrt(Gamma3) * s[(1, 3)])
    if nu3:
        c_ops.append(np.sqrt(nu3) * sum(s[(3, 3)] for s in sig))
    if nu2:
        c_ops.append(np.sqrt(nu2) * (a.dag() * a + sum(s[(2, 2)] for s in sig)))
    return H, c_ops


def vlevel_model(N, nphot, Delta_c, g, Delta2, Delta3, Omega2, Omega3, Gamma2, Gamma3,
                 kappa, nu2=0.0, nu3=0.0):
    """Hamiltonian and collapse operators of N V-level atoms in a cavity.

    Parameters
    ----------
    N, nphot : int
        Atom number and Fock dimension (see :func:`vlevel_operators`).
    Delta_c : float
        ``Δc = ω_ℓ2 − ω_c`` (``−Δc a†a``).
    g : float
        Coupling on the narrow transition 1 ↔ 2.
    Delta2, Delta3 : float
        Pump detunings ``Δ_i = ω_ℓi − ω_i``.
    Omega2, Omega3 : float
        Pump Rabi frequencies (``Ω_i (σ_i1 + σ_1i)``).
    Gamma2, Gamma3 : float
        Spontaneous decay rates of levels 2 and 3 into 1.
    kappa : float
        Cavity loss, ``κ D[a]`` (see the module docstring on the seed's 2κ).
    nu2, nu3 : float, optional
        Pump linewidths: ``ν_2 D[a†a + S_2]``, ``ν_3 D[S_3]``.

    Returns
    -------
    H : Qobj
    c_ops : list of Qobj
        Already multiplied by ``sqrt(rate)``; zero rates are skipped.
    """
    return _model_from_ops(vlevel_operators(N, nphot), Delta_c, g, Delta2, Delta3, Omega2,
                           Omega3, Gamma2, Gamma3, kappa, nu2, nu3)


def _check_truncation(rho, n_top, tol):
    p_top = float(np.real(qutip.expect(n_top, rho)))
    if p_top >= tol:
        raise TruncationError(f"top Fock state population {p_top:.3g} >= {tol:g}: "
                              "increase nphot")
    return p_top


def _sym_isometry(N, nphot):
    """Isometry ``P`` onto the permutation-symmetric operators (column-stacked vec).

    A full vec index ``(p, i_1…i_N; q, k_1…k_N)`` (QuTiP column stacking,
    ``index = row + col·D``) belongs to the orbit labelled by ``(p, q)`` and the
    *multiset* of the single-atom matrix units ``u_j = 3 i_j + k_j``; each
    symmetric basis vector is the normalised sum over its orbit.
    """
    D = nphot * 3 ** N
    idx = np.arange(D * D)
    shape = (nphot,) + (3,) * N
    r = np.array(np.unravel_index(idx % D, shape)).T
    c = np.array(np.unravel_index(idx // D, shape)).T
    u = np.sort(r[:, 1:] * 3 + c[:, 1:], axis=1)
    _, inv, cnt = np.unique(np.column_stack([r[:, 0], c[:, 0], u]), axis=0,
                            return_inverse=True, return_counts=True)
    inv = inv.ravel()
    return sp.csr_matrix((1.0 / np.sqrt(cnt[inv]), (idx, inv)), shape=(D * D, len(cnt)))


class _Resolvent:
    """Sparse solves of ``(s − L)Y = X`` with ``Tr Y = Tr X`` on a (reduced) Liouvillian.

    One population row (a row with a non-zero trace weight) is replaced by the
    trace functional; its equation is implied by the others because
    ``Tr(LY) = 0`` for every ``Y``.  The matrix is then regular also at
    ``s = 0`` when the steady state is unique.  A reverse Cuthill–McKee
    ordering keeps the SuperLU fill-in small (the mode makes L banded).
    """

    def __init__(self, L, tr):
        self.L = L.tocsr()
        self.n = L.shape[0]
        self.r0 = int(np.flatnonzero(tr)[0])
        keep = np.ones(self.n)
        keep[self.r0] = 0.0
        self.mask = sp.diags(keep)
        nz = np.flatnonzero(tr)
        self.trace_row = sp.csr_matrix((tr[nz], (np.full(len(nz), self.r0), nz)),
                                       shape=(self.n, self.n))
        pattern = (abs(self.L) + abs(self.L.T) + self.trace_row + sp.identity(self.n)).tocsr()
        self.perm = reverse_cuthill_mckee(pattern, symmetric_mode=True)

    def solve(self, s, X, trace):
        M = (self.mask @ (s * sp.identity(self.n, format="csr") - self.L) + self.trace_row)
        M = M.tocsr()[self.perm][:, self.perm].tocsc()
        rhs = np.asarray(X, complex).copy()
        rhs[self.r0] = trace
        y = spla.splu(M, permc_spec="NATURAL").solve(rhs[self.perm])
        out = np.empty_like(y)
        out[self.perm] = y
        return out


def _setup(N, nphot, params, method):
    """Operators, model, steady state and (optionally) the resolvent."""
    if method == "auto":
        method = "full" if N <= 2 else "symmetric"
    if method not in ("full", "symmetric"):
        raise ValueError("method must be 'auto', 'full' or 'symmetric'")
    ops = vlevel_operators(N, nphot)
    H, c_ops = _model_from_ops(ops, **params)
    tr = qutip.operator_to_vector(qutip.qeye(H.dims[0]).to("dense")).full().ravel().real
    if method == "full":
        rho = qutip.steadystate(H, c_ops).to("dense")
        return ops, H, c_ops, rho, None, None
    L = qutip.liouvillian(H, c_ops).data.as_scipy()
    P = _sym_isometry(N, nphot)
    res = _Resolvent((P.T @ L @ P).tocsr(), P.T @ tr)
    x = res.solve(0.0, np.zeros(res.n), 1.0)
    rho = qutip.vector_to_operator(qutip.Qobj(P @ x, dims=[H.dims, [1]]))
    rho = (0.5 * (rho + rho.dag())).to("dense")
    return ops, H, c_ops, rho, P, res


def exact_steady(N, nphot, *, fock_tol=1e-6, extras=False, method="auto", return_state=False,
                 **params):
    """Exact steady-state moments of the V-level laser.

    Parameters
    ----------
    N, nphot : int
        Atom number and Fock dimension.
    fock_tol : float, optional
        Maximal allowed population of the top Fock state ``|nphot − 1⟩``.
    extras : bool, optional
        Also return ``'a†a†aa'``, ``'g2'`` and ``'p_top'`` (diagnostics that a
        second-order engine does not provide).
    method : {'auto', 'full', 'symmetric'}, optional
        ``'full'``: :func:`qutip.steadystate` on the full Liouvillian (dimension
        ``(nphot·3^N)²``).  ``'symmetric'``: the same Liouvillian restricted
        exactly to the permutation-symmetric operators (``P^T L P`` with the
        isometry ``P``; ``L`` commutes with atom permutations, so the subspace is
        invariant and the unique steady state lies in it), solved with a
        banded sparse LU — needed for N = 3 (``(nphot)²·165`` instead of
        ``(nphot)²·729`` unknowns).  ``'auto'``: full for ``N ≤ 2``.
    return_state : bool, optional
        Return ``(values, rho, ops)`` with the steady-state density matrix and
        the operators of :func:`vlevel_operators`.
    **params
        Keyword arguments of :func:`vlevel_model`.

    Returns
    -------
    dict
        ``'a†a'``, ``'s22'``, ``'s33'`` (float) and the complex ``'a'``,
        ``'aa'``, ``'s12'``, ``'s13'``, ``'s23'``, ``'a s21'`` (``⟨aσ^1_21⟩``),
        ``'a† s12'``, ``'a s22'``, ``'a s33'`` — all for atom 1 — and for
        ``N ≥ 2`` ``'s21 s12'`` (``⟨σ^1_21σ^2_12⟩``) and ``'s22 s22'``
        (``⟨σ^1_22σ^2_22⟩``, float).  Only ``values`` unless ``return_state``.

    Raises
    ------
    TruncationError
        If the top Fock state holds ``≥ fock_tol`` of the population.
    """
    ops, _, _, rho, _, _ = _setup(N, nphot, params, method)
    p_top = _check_truncation(rho, ops["n_top"], fock_tol)
    a, s = ops["a"], ops["sigma"][0]
    ad = a.dag()

    def ev(op):
        return complex(qutip.expect(op, rho))

    out = {
        "a†a": ev(ad * a).real,
        "a": ev(a),
        "aa": ev(a * a),
        "s22": ev(s[(2, 2)]).real,
        "s33": ev(s[(3, 3)]).real,
        "s12": ev(s[(1, 2)]),
        "s13": ev(s[(1, 3)]),
        "s23": ev(s[(2, 3)]),
        "a s21": ev(a * s[(2, 1)]),
        "a† s12": ev(ad * s[(1, 2)]),
        "a s22": ev(a * s[(2, 2)]),
        "a s33": ev(a * s[(3, 3)]),
    }
    if N >= 2:
        s2 = ops["sigma"][1]
        out["s21 s12"] = ev(s[(2, 1)] * s2[(1, 2)])
        out["s22 s22"] = ev(s[(2, 2)] * s2[(2, 2)]).real
    if extras:
        out["a†a†aa"] = ev(ad * ad * a * a).real
        out["g2"] = out["a†a†aa"] / out["a†a"] ** 2 if out["a†a"] > 0 else np.nan
        out["p_top"] = p_top
    return (out, rho, ops) if return_state else out


def exact_single_atom_inversion(Delta2, Delta3, Omega2, Omega3, Gamma2, Gamma3, nu2=0.0,
                                nu3=0.0, populations=False):
    """Steady-state inversion ``⟨σ_22⟩ − ⟨σ_11⟩`` of one driven V atom (no cavity).

    Seed eqs. (2)–(4): ``H = Σ_i −Δ_iσ_ii + Ω_i(σ_i1 + σ_1i)``,
    ``Γ_i D[σ_1i]`` and ``ν_i D[σ_ii]``.

    Parameters
    ----------
    Delta2, Delta3, Omega2, Omega3, Gamma2, Gamma3, nu2, nu3 : float
        As in :func:`vlevel_model`.
    populations : bool, optional
        Return ``(p1, p2, p3)`` instead of the inversion.

    Returns
    -------
    float or tuple of float
    """
    s = {(i, k): _level(i) * _level(k).dag() for i in (1, 2, 3) for k in (1, 2, 3)}
    H = 0 * s[(1, 1)]
    for i, D, W in ((2, Delta2, Omega2), (3, Delta3, Omega3)):
        H += -D * s[(i, i)] + W * (s[(i, 1)] + s[(1, i)])
    c_ops = [np.sqrt(r) * op for r, op in ((Gamma2, s[(1, 2)]), (Gamma3, s[(1, 3)]),
                                          (nu2, s[(2, 2)]), (nu3, s[(3, 3)])) if r]
    rho = qutip.steadystate(H, c_ops)
    p = tuple(float(np.real(qutip.expect(s[(i, i)], rho))) for i in (1, 2, 3))
    return p if populations else p[1] - p[0]


def exact_spectrum(N, nphot, omega, *, sign=-1, fock_tol=1e-6, method="auto", **params):
    """Cavity emission spectrum of the fluctuations ``δa = a − ⟨a⟩``.

    ``S(ω) = 2 Re ∫₀^∞ e^{sign·iωτ} ⟨δa†(τ)δa(0)⟩ dτ`` by the quantum regression
    theorem, evaluated in the Laplace domain: ``⟨δa†(τ)δa(0)⟩ = Tr[a† e^{Lτ}X]``
    with the traceless ``X = (a − ⟨a⟩)ρ_ss``, so ``S(ω) = 2 Re Tr[a† Y]`` with
    ``(−sign·iω − L)Y = X`` and ``Tr Y = 0`` (one population row of the sparse
    system is replaced by the trace condition, which keeps it regular at
    ``ω = 0``).  The coherent part ``|⟨a⟩|²`` (a δ-peak at the pump frequency
    ``ω = 0``) is thereby removed.

    Parameters
    ----------
    N, nphot : int
        Atom number and Fock dimension.
    omega : array_like
        Frequencies in the frame of the narrow pump laser ω_ℓ2.
    sign : {-1, +1}, optional
        ``-1`` (default): kernel ``e^{−iωτ}`` as in seed eq. (11), ``qutip.spectrum``
        and the package; a mode at frame frequency ``−Δc`` peaks at
        ``ω = −Δc``.  ``+1``: kernel ``e^{+iωτ}`` — the mirror image ``S(−ω)``.
    fock_tol : float, optional
        Maximal allowed population of the top Fock state.
    method : {'auto', 'full', 'symmetric'}, optional
        As in :func:`exact_steady` (``X`` and ``a†`` are permutation symmetric,
        so the regression can be restricted to the symmetric subspace as well).
    **params
        Keyword arguments of :func:`vlevel_model`.

    Returns
    -------
    ndarray
        ``S(ω)``, not normalised: ``∫ S dω/2π = ⟨a†a⟩ − |⟨a⟩|²``.
    """
    if sign not in (-1, 1):
        raise ValueError("sign must be -1 or +1")
    ops, H, c_ops, rho, P, res = _setup(N, nphot, params, method)
    _check_truncation(rho, ops["n_top"], fock_tol)
    a = ops["a"]
    am = complex(qutip.expect(a, rho))
    X = qutip.operator_to_vector((a - am) * rho).full().ravel()
    w = qutip.operator_to_vector(a).full().ravel().conj()   # Tr(a†Y) = vec(a)^H vec(Y)
    if res is None:
        tr = qutip.operator_to_vector(qutip.qeye(H.dims[0]).to("dense")).full().ravel().real
        res = _Resolvent(qutip.liouvillian(H, c_ops).data.as_scipy(), tr)
    else:
        X, w = P.T @ X, P.T @ w
    omega = np.atleast_1d(np.asarray(omega, float))
    return np.array([2.0 * np.real(w @ res.solve(-sign * 1j * x, X, 0.0)) for x in omega])


def _table(Ns=(1, 2, 3), nphot=10, params=None):
    params = SMALL_N_LASER if params is None else params
    rows = []
    for N in Ns:
        rows.append((N, exact_steady(N, nphot, extras=True, **params)))
    return rows


if __name__ == "__main__":                                      # pragma: no cover
    import time
    for name, par in (("SMALL_N_LASER", SMALL_N_LASER),
                      ("SMALL_N_LASER_DEPHASED", SMALL_N_LASER_DEPHASED)):
        print(f"\n{name} = {par}")
        t0 = time.perf_counter()
        for N, r in _table(params=par):
            print(f"N = {N}")
            for k, v in r.items():
                print(f"   {k:8s} {v: .10g}")
        print(f"({time.perf_counter() - t0:.1f} s)")
