"""Correlation and entanglement measures for pairs of dipoles and N-qubit states.

The quantities used to characterise the synchronised phase of a superradiant
laser (Zhu et al., New J. Phys. 17, 083063 (2015), Sec. IV B and App. C):

* :func:`mutual_information` — total correlations ``I = S_A + S_B − S_AB``;
* :func:`quantum_discord` — quantum correlations ``D_{B|A} = I − J_{B|A}``
  with the classical correlation ``J`` optimised over projective
  measurements on one qubit;
* :func:`two_qubit_state` — the two-dipole reduced state of a U(1)-symmetric
  ensemble (an X state) rebuilt from the moments a cumulant or Dicke-basis
  solver returns;
* :func:`quantum_fisher_information`, :func:`collective_qfi`,
  :class:`CollectiveQFI` and :func:`separable_qfi_bound` — the mean
  collective quantum Fisher information ``F̄_Q = [F(J_x)+F(J_y)+F(J_z)]/3``
  used as an entanglement witness: any state with ``F̄_Q > 2N/3`` is
  entangled.

Conventions
-----------
A two-level atom is ``C²`` with ``basis(2, 0) = |↑⟩`` the excited (upper)
state and ``basis(2, 1) = |↓⟩`` the ground state, so that
``qutip.sigmam() = |↓⟩⟨↑|`` lowers, ``qutip.sigmap() = |↑⟩⟨↓|`` raises and
``qutip.sigmaz() = |↑⟩⟨↑| − |↓⟩⟨↓|``.  This is the convention of the rest of
the package (see :class:`qutip_superrad.Model`).  In a tensor product the
first factor is qubit ``a`` (subsystem ``A``).

Entropies are von Neumann entropies ``S(ρ) = −Tr ρ log ρ`` in the logarithm
base ``base`` (2 by default, so that for two qubits ``0 ≤ I ≤ 2`` and
``0 ≤ D ≤ 1``).

Every function takes QuTiP objects and returns Python floats or NumPy
arrays.  Input is validated: a density matrix must be a square ``Qobj`` with
the stated dims, finite, Hermitian, of unit trace and positive semidefinite,
each within ``atol`` (default ``1e-8``); otherwise a ``TypeError`` or
``ValueError`` naming the argument is raised.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import qutip
import scipy.linalg
import scipy.sparse as sp
from scipy.optimize import minimize

from ._validate import check_real, check_count

__all__ = [
    "mutual_information", "quantum_discord", "DiscordResult", "two_qubit_state",
    "quantum_fisher_information", "collective_qfi", "CollectiveQFI",
    "separable_qfi_bound",
]

_ATOL = 1e-8          # default tolerance of the density-matrix checks
_EIG_TOL = 1e-12      # eigenvalues of ρ below this are treated as exactly zero
_MOMENT_TOL = 1e-10   # two_qubit_state: largest tolerated negative eigenvalue
_CHUNK = 256          # kets processed together in the vectorised QFI


# ----------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------
def _check_tol(name, value):
    value = check_real(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _check_base(base):
    if isinstance(base, bool) or not isinstance(base, numbers.Real):
        raise TypeError(f"base must be a real number (e.g. 2 or numpy.e), got {base!r}")
    base = float(base)
    if not np.isfinite(base) or base <= 0 or base == 1:
        raise ValueError(f"base must be a finite number > 0 and != 1, got {base}")
    return base


def _check_matrix_entries(name, mat, atol):
    """Finite, Hermitian, unit-trace, positive-semidefinite ``mat`` (ndarray)."""
    if not np.all(np.isfinite(mat)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    herm = np.max(np.abs(mat - mat.conj().T)) if mat.size else 0.0
    if herm > atol:
        raise ValueError(f"{name} is not Hermitian: max |ρ − ρ†| = {herm:.3g} > atol = {atol:g}")
    mat = 0.5 * (mat + mat.conj().T)
    tr = np.trace(mat).real
    if abs(tr - 1) > atol:
        raise ValueError(f"{name} must have unit trace, got Tr = {tr:.12g} (atol = {atol:g})")
    # divide-and-conquer: ~3x faster than numpy's default for the 2^N-dim states
    lam, vec = scipy.linalg.eigh(mat, driver="evd")
    if lam[0] < -atol:
        raise ValueError(f"{name} is not positive semidefinite: smallest eigenvalue "
                         f"{lam[0]:.3g} < -atol = {-atol:g}")
    return mat, lam, vec


def _density_matrix(name, rho, atol, nsub=None, subdim=None):
    """Validate a ket or density matrix ``Qobj`` -> (dims, dense ρ, eigenvalues, vectors).

    ``nsub``: required number of tensor factors; ``subdim``: required dimension
    of each factor.
    """
    if not isinstance(rho, qutip.Qobj):
        raise TypeError(f"{name} must be a qutip.Qobj density matrix or ket, "
                        f"got {type(rho).__name__}")
    if rho.isket:
        dims = list(rho.dims[0])
        psi = rho.full().ravel()
        if not np.all(np.isfinite(psi)):
            raise ValueError(f"{name} contains NaN or infinite entries")
        norm = np.linalg.norm(psi)
        if abs(norm - 1) > atol:
            raise ValueError(f"{name} must be a normalised ket, got norm {norm:.12g} "
                             f"(atol = {atol:g})")
        mat = np.outer(psi, psi.conj())
    elif rho.isoper:
        if rho.dims[0] != rho.dims[1]:
            raise ValueError(f"{name} must have equal row and column dims, got {rho.dims}")
        dims = list(rho.dims[0])
        mat = rho.full()
    else:
        raise TypeError(f"{name} must be a density matrix (oper) or a ket, "
                        f"got a Qobj of type {rho.type!r}")
    if nsub is not None and len(dims) != nsub:
        want = "[[dA, dB], [dA, dB]]" if subdim is None else str([[subdim] * nsub] * 2)
        raise ValueError(f"{name} must have dims {want} ({nsub} subsystems), got "
                         f"{[dims, dims]}; reduce it with rho.ptrace([...]) first")
    if subdim is not None and any(d != subdim for d in dims):
        raise ValueError(f"{name} must be a state of qubits with dims "
                         f"{[[subdim] * len(dims)] * 2}, got {[dims, dims]}")
    mat, lam, vec = _check_matrix_entries(name, mat, atol)
    return dims, mat, lam, vec


def _entropy_from_eigs(lam, base):
    lam = np.asarray(lam, dtype=float)
    lam = lam[lam > 0]
    return float(max(0.0, -np.sum(lam * np.log(lam)) / np.log(base)))


def _partial_traces(mat, dA, dB):
    r = mat.reshape(dA, dB, dA, dB)
    return np.einsum("ijkj->ik", r), np.einsum("ijil->jl", r)


# ----------------------------------------------------------------------------
# mutual information and discord
# ----------------------------------------------------------------------------
def mutual_information(rho, base=2, *, atol=_ATOL):
    r"""Quantum mutual information ``I = S_A + S_B − S_AB`` of a bipartite state.

    Parameters
    ----------
    rho : qutip.Qobj
        Density matrix with dims ``[[dA, dB], [dA, dB]]`` (a normalised ket
        with dims ``[[dA, dB], [1, 1]]`` is accepted as the pure state).
        Reduce a many-body state to the pair of interest first, e.g.
        ``rho.ptrace([0, 1])``.
    base : float, default 2
        Base of the logarithm; with ``base=2`` two qubits give ``0 ≤ I ≤ 2``.
    atol : float, default 1e-8
        Tolerance of the Hermiticity, trace and positivity checks.

    Returns
    -------
    float
        ``I ≥ 0`` (zero iff ``ρ = ρ_A ⊗ ρ_B``).

    Raises
    ------
    TypeError
        If ``rho`` is not a ``Qobj`` ket or operator.
    ValueError
        If ``rho`` is not bipartite, contains NaN, or is not Hermitian, of
        unit trace and positive semidefinite within ``atol``.

    Examples
    --------
    >>> import qutip
    >>> bell = (qutip.tensor(qutip.basis(2, 0), qutip.basis(2, 0))
    ...         + qutip.tensor(qutip.basis(2, 1), qutip.basis(2, 1))).unit()
    >>> round(mutual_information(bell), 12)
    2.0
    """
    base = _check_base(base)
    atol = _check_tol("atol", atol)
    dims, mat, lam, _ = _density_matrix("rho", rho, atol, nsub=2)
    rA, rB = _partial_traces(mat, *dims)
    SA = _entropy_from_eigs(np.linalg.eigvalsh(rA), base)
    SB = _entropy_from_eigs(np.linalg.eigvalsh(rB), base)
    SAB = _entropy_from_eigs(lam, base)
    return float(max(0.0, SA + SB - SAB))


@dataclass(frozen=True)
class DiscordResult:
    """Quantum discord together with its ingredients.

    Attributes
    ----------
    discord : float
        ``D = I − J`` (≥ 0).
    classical_correlation : float
        ``J = S_B − min_n Σ_k p_k S(ρ_{B|k})`` for ``measured=0`` (roles of
        the qubits swapped for ``measured=1``).
    mutual_information : float
        ``I = S_A + S_B − S_AB``.
    direction : numpy.ndarray, shape (3,)
        Unit Bloch vector ``n`` of the optimal measurement
        ``Π_± = (1 ± n·σ)/2`` on the measured qubit (``n`` and ``−n`` are the
        same measurement; the sign returned is arbitrary).
    measured : int
        Index (0 or 1) of the measured qubit.
    base : float
        Base of the logarithm.
    """

    discord: float
    classical_correlation: float
    mutual_information: float
    direction: np.ndarray
    measured: int
    base: float


_PAULI = (np.eye(2, dtype=complex), np.array([[0, 1], [1, 0]], dtype=complex),
          np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]], dtype=complex))


def _pauli_coefficients(mat):
    """``T_ij = Tr[ρ σ_i ⊗ σ_j]`` (``σ_0 = 1``), real 4×4."""
    r = mat.reshape(2, 2, 2, 2)          # [a, b, a', b']
    T = np.empty((4, 4))
    for i, si in enumerate(_PAULI):
        for j, sj in enumerate(_PAULI):
            # Tr[ρ (si ⊗ sj)] = Σ ρ[a b, a' b'] si[a', a] sj[b', b]
            T[i, j] = np.einsum("abcd,ca,db->", r, si, sj).real
    return T


def _binary_entropy(r, base):
    """Entropy of a qubit with Bloch-vector length ``r`` (array)."""
    r = np.clip(r, 0.0, 1.0)
    p = 0.5 * (1 + r)
    q = 0.5 * (1 - r)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(p * np.log(p) + np.where(q > 0, q * np.log(np.where(q > 0, q, 1)), 0.0))
    return h / np.log(base)


def _conditional_entropy(n, a, b, C, base):
    """``Σ_± p_± S(ρ_{B|±})`` for measurement directions ``n`` (shape (M, 3))."""
    na = n @ a
    nC = n @ C
    out = np.zeros(n.shape[0])
    for sgn in (1.0, -1.0):
        p = 0.5 * (1 + sgn * na)
        ok = p > 1e-15
        s = b[None, :] + sgn * nC
        r = np.linalg.norm(s, axis=1) / np.where(ok, 2 * p, 1.0)
        out += np.where(ok, p * _binary_entropy(r, base), 0.0)
    return out


def _conditional_entropy_scalar(n, a, b, C, log_base):
    """Scalar pure-Python version of :func:`_conditional_entropy` (optimiser hot loop)."""
    n0, n1, n2 = n
    na = n0 * a[0] + n1 * a[1] + n2 * a[2]
    nC = [n0 * C[0][j] + n1 * C[1][j] + n2 * C[2][j] for j in range(3)]
    total = 0.0
    for sgn in (1.0, -1.0):
        p = 0.5 * (1 + sgn * na)
        if p <= 1e-15:
            continue
        r = math.sqrt(sum((b[j] + sgn * nC[j]) ** 2 for j in range(3))) / (2 * p)
        r = min(max(r, 0.0), 1.0)
        h = 0.0
        for x in (0.5 * (1 + r), 0.5 * (1 - r)):
            if x > 0:
                h -= x * math.log(x)
        total += p * h
    return total / log_base


def _fibonacci_hemisphere(m):
    k = np.arange(m) + 0.5
    z = k / m                               # z in (0, 1): n and -n are equivalent
    phi = np.pi * (1 + np.sqrt(5)) * k
    s = np.sqrt(1 - z ** 2)
    return np.column_stack([s * np.cos(phi), s * np.sin(phi), z])


_GRID = np.vstack([np.eye(3), _fibonacci_hemisphere(600)])


def _minimise_conditional_entropy(a, b, C, base, n_starts=4):
    values = _conditional_entropy(_GRID, a, b, C, base)
    al, bl, Cl, log_base = a.tolist(), b.tolist(), C.tolist(), math.log(base)
    order = np.argsort(values)
    best_val, best_n = values[order[0]], _GRID[order[0]]
    starts = []
    for idx in order:                  # a few well-separated starting points
        cand = _GRID[idx]
        if all(abs(cand @ s) < 0.98 for s in starts):
            starts.append(cand)
        if len(starts) == n_starts:
            break
    for n0 in starts:
        # local tangent-plane chart around n0: non-singular, 2 parameters
        e1 = np.cross(n0, [1.0, 0, 0] if abs(n0[0]) < 0.9 else [0, 1.0, 0])
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(n0, e1)

        def to_n(x, n0=n0, e1=e1, e2=e2):
            v = n0 + x[0] * e1 + x[1] * e2
            return v / np.linalg.norm(v)

        n0l, e1l, e2l = n0.tolist(), e1.tolist(), e2.tolist()

        def f(x, n0l=n0l, e1l=e1l, e2l=e2l):
            u, w = float(x[0]), float(x[1])
            v = [n0l[j] + u * e1l[j] + w * e2l[j] for j in range(3)]
            nv = math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
            return _conditional_entropy_scalar([x_ / nv for x_ in v], al, bl, Cl, log_base)

        res = minimize(f, np.zeros(2), method="Nelder-Mead",
                       options=dict(xatol=1e-10, fatol=1e-15, maxiter=4000,
                                    initial_simplex=np.array([[0, 0], [0.08, 0], [0, 0.08]])))
        val = float(_conditional_entropy(to_n(res.x)[None, :], a, b, C, base)[0])
        if val < best_val:
            best_val, best_n = val, to_n(res.x)
    return float(best_val), np.asarray(best_n, dtype=float)


def quantum_discord(rho, measured=0, base=2, return_details=False, *, atol=_ATOL):
    r"""Quantum discord of a two-qubit state (Ollivier–Zurek / Henderson–Vedral).

    ``D_{B|A} = I − J_{B|A}`` with the classical correlation

    .. math::

        J_{B|A} = S_B − \min_{\vec n} \sum_{k=\pm} p_k S(ρ_{B|k}),\qquad
        Π_\pm = \tfrac12(1 \pm \vec n\cdot\vec σ_A),\;
        p_k = \mathrm{Tr}[Π_k ρ],\; ρ_{B|k} = \mathrm{Tr}_A[Π_k ρ]/p_k,

    maximised over all projective (von Neumann) measurements on the measured
    qubit, as in Zhu et al. (2015), App. C.

    Parameters
    ----------
    rho : qutip.Qobj
        Two-qubit density matrix, dims ``[[2, 2], [2, 2]]`` (or a normalised
        two-qubit ket).
    measured : {0, 1}, default 0
        The qubit that is measured: ``0`` gives ``D_{B|A}`` (measure A),
        ``1`` gives ``D_{A|B}``.  Discord is not symmetric in general.
    base : float, default 2
        Logarithm base (``0 ≤ D ≤ 1`` for two qubits with ``base=2``).
    return_details : bool, default False
        If true return a :class:`DiscordResult` with ``J``, ``I`` and the
        optimal measurement direction instead of the float ``D``.
    atol : float, default 1e-8
        Tolerance of the density-matrix checks.

    Returns
    -------
    float or DiscordResult

    Notes
    -----
    The conditional entropy is evaluated in closed form from the Pauli
    coefficients ``T_ij = Tr[ρ σ_i⊗σ_j]``: a measurement along ``n`` leaves
    B with probability ``p_± = (1 ± n·a)/2`` in the Bloch vector
    ``(b ± Cᵀn)/(1 ± n·a)``.  It is minimised over the Bloch (hemi)sphere by
    a fixed grid of 603 directions (the three axes plus a Fibonacci
    hemisphere, spacing ≈ 0.1 rad), followed by Nelder–Mead refinement in a
    local chart from the four best well-separated grid points (≈ 10 ms per
    state).  ``J`` agrees with Luo's closed form for 200 random Bell-diagonal
    states to ``1e-15``, and the minimised conditional entropy matched a
    20 000-direction multi-start reference on 150 random general and X states
    to ``1e-15``; the tests assert ``1e-9`` against the Bell-diagonal, Werner
    and pure-state closed forms.  Because any missed optimum can
    only *under*-estimate ``J``, the returned ``D`` is an upper bound on the
    true (projective-measurement) discord up to rounding; small negative
    rounding values are clipped to 0.  POVMs are not considered (for two
    qubits they can lower the conditional entropy only marginally, and the
    seed uses projective measurements).

    Examples
    --------
    >>> import qutip
    >>> bell = (qutip.tensor(qutip.basis(2, 0), qutip.basis(2, 1))
    ...         - qutip.tensor(qutip.basis(2, 1), qutip.basis(2, 0))).unit()
    >>> round(quantum_discord(bell), 10)
    1.0
    """
    if isinstance(measured, bool) or measured not in (0, 1):
        raise ValueError(f"measured must be 0 (measure qubit A) or 1 (measure qubit B), "
                         f"got {measured!r}")
    measured = int(measured)
    base = _check_base(base)
    atol = _check_tol("atol", atol)
    _, mat, lam, _ = _density_matrix("rho", rho, atol, nsub=2, subdim=2)
    T = _pauli_coefficients(mat)
    if measured == 1:
        T = T.T
    a, b, C = T[1:, 0], T[0, 1:], T[1:, 1:]
    S_A = float(_binary_entropy(np.linalg.norm(a), base))
    S_B = float(_binary_entropy(np.linalg.norm(b), base))
    I = max(0.0, S_A + S_B - _entropy_from_eigs(lam, base))
    cond, n = _minimise_conditional_entropy(a, b, C, base)
    J = min(max(0.0, S_B - cond), I)
    D = max(0.0, I - J)
    if not return_details:
        return float(D)
    return DiscordResult(float(D), float(J), float(I), n, measured, base)


# ----------------------------------------------------------------------------
# X state from moments
# ----------------------------------------------------------------------------
def two_qubit_state(sz_a, sz_b, szsz, spsm):
    r"""Two-qubit density matrix of a U(1)-symmetric pair from its moments.

    If the dynamics conserves the number of excitations (no coherent drive),
    the reduced state of dipoles ``a`` and ``b`` is an *X state* fixed by four
    moments:

    .. math::

        ρ = \begin{pmatrix}
            P_{↑↑} & 0 & 0 & 0\\
            0 & P_{↑↓} & \langle σ^+_b σ^-_a\rangle & 0\\
            0 & \langle σ^+_a σ^-_b\rangle & P_{↓↑} & 0\\
            0 & 0 & 0 & P_{↓↓}\end{pmatrix},
        \qquad P_{s_a s_b} = \tfrac14\bigl(1 + s_a\langle σ^z_a\rangle
            + s_b\langle σ^z_b\rangle + s_a s_b\langle σ^z_aσ^z_b\rangle\bigr),

    in the basis ``|↑↑⟩, |↑↓⟩, |↓↑⟩, |↓↓⟩`` with ``s = ±1`` for ``↑/↓``.

    Parameters
    ----------
    sz_a, sz_b : float
        ``⟨σ^z_a⟩``, ``⟨σ^z_b⟩`` with ``σ^z = |↑⟩⟨↑| − |↓⟩⟨↓|``.
    szsz : float
        ``⟨σ^z_a σ^z_b⟩``.
    spsm : complex
        ``⟨σ^+_a σ^-_b⟩`` (``σ^+ = |↑⟩⟨↓| = qutip.sigmap()``); the element
        ``ρ[|↓↑⟩, |↑↓⟩]``.

    Returns
    -------
    qutip.Qobj
        Density matrix with dims ``[[2, 2], [2, 2]]``.  QuTiP convention:
        ``|↑⟩ = basis(2, 0)`` is the excited state, ``|↓⟩ = basis(2, 1)`` the
        ground state (``sigmam()`` maps ``basis(2, 0)`` to ``basis(2, 1)``);
        the first tensor factor is dipole ``a``.

    Raises
    ------
    TypeError
        If a moment is not a (real, for the ``σ^z`` moments) number.
    ValueError
        If a moment is NaN/infinite, or the moments do not describe a state
        (an eigenvalue below ``−1e-10``).

    Examples
    --------
    >>> rho = two_qubit_state(0.0, 0.0, -1.0, 0.5)   # the triplet |T0⟩
    >>> round(abs(qutip.expect(qutip.tensor(qutip.sigmap(), qutip.sigmam()), rho)), 12)
    0.5
    """
    sz_a = check_real("sz_a", sz_a)
    sz_b = check_real("sz_b", sz_b)
    szsz = check_real("szsz", szsz)
    if isinstance(spsm, bool) or not isinstance(spsm, numbers.Complex):
        raise TypeError(f"spsm must be a (complex) number, got {type(spsm).__name__}")
    spsm = complex(spsm)
    if not np.isfinite(spsm):
        raise ValueError(f"spsm must be finite, got {spsm}")
    P = {}
    for sa, la in ((1, "u"), (-1, "d")):
        for sb, lb in ((1, "u"), (-1, "d")):
            P[la + lb] = 0.25 * (1 + sa * sz_a + sb * sz_b + sa * sb * szsz)
    mat = np.zeros((4, 4), dtype=complex)
    mat[0, 0], mat[1, 1], mat[2, 2], mat[3, 3] = P["uu"], P["ud"], P["du"], P["dd"]
    mat[2, 1] = spsm                 # ⟨↓↑|ρ|↑↓⟩ = Tr[ρ |↑↓⟩⟨↓↑|] = ⟨σ⁺_a σ⁻_b⟩
    mat[1, 2] = spsm.conjugate()
    lam_min = float(np.linalg.eigvalsh(mat)[0])
    if lam_min < -_MOMENT_TOL:
        raise ValueError(
            "the moments (sz_a, sz_b, szsz, spsm) = "
            f"({sz_a:.6g}, {sz_b:.6g}, {szsz:.6g}, {spsm:.6g}) are not a valid two-qubit "
            f"state: smallest eigenvalue {lam_min:.3g} < -{_MOMENT_TOL:g} (populations "
            f"P_↑↑, P_↑↓, P_↓↑, P_↓↓ = {P['uu']:.3g}, {P['ud']:.3g}, {P['du']:.3g}, "
            f"{P['dd']:.3g}; need |spsm|² ≤ P_↑↓ P_↓↑)")
    return qutip.Qobj(mat, dims=[[2, 2], [2, 2]])


# ----------------------------------------------------------------------------
# quantum Fisher information
# ----------------------------------------------------------------------------
def _as_operator(name, op, dim=None, atol=_ATOL):
    """Hermitian generator -> (sparse or dense matrix, dims or None)."""
    dims = None
    if isinstance(op, qutip.Qobj):
        if not op.isoper:
            raise TypeError(f"{name} must be an operator, got a Qobj of type {op.type!r}")
        dims = op.dims
        if op.dtype is qutip.data.Dense:
            mat = op.full()
        else:
            mat = op.to("csr").data_as("csr_matrix")
    elif sp.issparse(op):
        mat = sp.csr_matrix(op)
    else:
        try:
            mat = np.asarray(op, dtype=complex)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a Hermitian qutip.Qobj or matrix, "
                            f"got {type(op).__name__}") from None
        if mat.ndim != 2:
            raise ValueError(f"{name} must be a square matrix, got shape {mat.shape}")
    if mat.shape[0] != mat.shape[1]:
        raise ValueError(f"{name} must be square, got shape {mat.shape}")
    if dim is not None and mat.shape[0] != dim:
        raise ValueError(f"{name} has dimension {mat.shape[0]}, the state has {dim}")
    data = mat.data if sp.issparse(mat) else mat
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    diff = mat - mat.conj().T
    herm = (abs(diff).max() if sp.issparse(diff) else np.max(np.abs(diff))) if mat.size else 0.0
    scale = max(1.0, float(abs(mat).max() if sp.issparse(mat) else np.max(np.abs(mat))))
    if herm > atol * scale:
        raise ValueError(f"{name} must be Hermitian: max |H − H†| = {herm:.3g}")
    return mat, dims


def _kets_qfi(psi, ops):
    """Pure-state QFI ``4 Var(H)`` for columns of ``psi`` (d, M) -> (M, len(ops))."""
    nn = np.sum(np.abs(psi) ** 2, axis=0)
    out = np.empty((psi.shape[1], len(ops)))
    for k, H in enumerate(ops):
        phi = H @ psi
        mean = np.real(np.sum(psi.conj() * phi, axis=0)) / nn
        sq = np.sum(np.abs(phi) ** 2, axis=0) / nn
        out[:, k] = 4 * np.maximum(sq - mean ** 2, 0.0)
    return out


def _dm_qfi(lam, vec, ops, eig_tol):
    """Mixed-state QFI from the eigendecomposition of ρ, for each operator."""
    keep = lam > eig_tol
    lam_s = lam[keep]
    V = vec[:, keep]
    out = np.empty(len(ops))
    lsum = lam_s[:, None] + lam_s[None, :]
    w = (lam_s[:, None] - lam_s[None, :]) ** 2 / lsum
    for k, H in enumerate(ops):
        HV = H @ V
        Hss = V.conj().T @ HV
        Hss2 = np.abs(Hss) ** 2
        # pairs inside the support + pairs (support, kernel) where w_ij = λ_i
        out_of_support = np.sum(np.abs(HV) ** 2, axis=0) - np.sum(Hss2, axis=0)
        F = 2 * np.sum(w * Hss2) + 4 * np.sum(lam_s * np.maximum(out_of_support, 0.0))
        out[k] = max(F, 0.0)
    return out


def _states_to_batch(name, state, dim, qdims, atol):
    """Validate the accepted state inputs.

    Returns ``(seq, scalar, psi, ket_pos, dms)``: the states as a list, whether
    a single state was given, the kets as columns of ``psi`` (d, M) or None,
    their positions in ``seq``, and ``(position, λ, V)`` per density matrix.
    """
    def check_qobj_dims(q, label):
        if qdims is not None and list(q.dims[0]) != list(qdims):
            raise ValueError(f"{label} has dims {q.dims}, expected {qdims} to match "
                             "the generator")

    def ket_vector(q, label):
        check_qobj_dims(q, label)
        v = q.full().ravel()
        if v.size != dim:
            raise ValueError(f"{label} has dimension {v.size}, expected {dim}")
        return v

    if isinstance(state, qutip.Qobj) or (isinstance(state, np.ndarray) and state.ndim == 1):
        seq, scalar = [state], True
    elif isinstance(state, np.ndarray):
        if state.ndim != 2:
            raise ValueError(f"{name} as an array must have shape (dim,) or (n_states, dim), "
                             f"got {state.shape}")
        seq, scalar = list(state), False
    elif isinstance(state, (list, tuple)):
        if len(state) == 0:
            raise ValueError(f"{name} is an empty list")
        seq, scalar = list(state), False
    else:
        raise TypeError(f"{name} must be a qutip.Qobj (ket or density matrix), a list of "
                        f"them or an array of kets, got {type(state).__name__}")

    kets, ket_pos, dms = [], [], []
    for i, s in enumerate(seq):
        label = name if scalar else f"{name}[{i}]"
        if isinstance(s, qutip.Qobj):
            if s.isket:
                kets.append(ket_vector(s, label))
                ket_pos.append(i)
            elif s.isoper:
                check_qobj_dims(s, label)
                if s.shape[0] != dim:
                    raise ValueError(f"{label} has dimension {s.shape[0]}, expected {dim}")
                _, lam, vec = _check_matrix_entries(label, s.full(), atol)
                dms.append((i, lam, vec))
            else:
                raise TypeError(f"{label} must be a ket or a density matrix, got a Qobj "
                                f"of type {s.type!r}")
        else:
            try:
                v = np.asarray(s, dtype=complex).ravel()
            except (TypeError, ValueError):
                raise TypeError(f"{label} must be a ket (Qobj or array), got "
                                f"{type(s).__name__}") from None
            if v.size != dim:
                raise ValueError(f"{label} has dimension {v.size}, expected {dim}")
            kets.append(v)
            ket_pos.append(i)
    psi = None
    if kets:
        psi = np.array(kets).T
        if not np.all(np.isfinite(psi)):
            raise ValueError(f"{name} contains NaN or infinite entries")
        norms = np.linalg.norm(psi, axis=0)
        bad = np.flatnonzero(np.abs(norms - 1) > atol)
        if bad.size:
            j = bad[0]
            label = name if scalar else f"{name}[{ket_pos[j]}]"
            raise ValueError(f"{label} must be a normalised ket, got norm {norms[j]:.12g} "
                             f"(atol = {atol:g})")
    return seq, scalar, psi, ket_pos, dms


def _qfi_batch(name, state, ops, dim, qdims, atol, eig_tol):
    seq, scalar, psi, ket_pos, dms = _states_to_batch(name, state, dim, qdims, atol)
    out = np.empty((len(seq), len(ops)))
    if psi is not None:
        pos = np.asarray(ket_pos)
        for start in range(0, psi.shape[1], _CHUNK):
            out[pos[start:start + _CHUNK]] = _kets_qfi(psi[:, start:start + _CHUNK], ops)
    for i, lam, vec in dms:
        out[i] = _dm_qfi(lam, vec, ops, eig_tol)
    return out, scalar


def quantum_fisher_information(state, generator, *, atol=_ATOL, eig_tol=_EIG_TOL):
    r"""Quantum Fisher information ``F_Q[ρ, H]`` for the phase ``e^{−iθH}``.

    * pure state ``|ψ⟩``: ``F = 4 (⟨H²⟩ − ⟨H⟩²)``;
    * mixed state ``ρ = Σ_i λ_i |i⟩⟨i|``:

      .. math::

          F = 2 \sum_{i,j:\,λ_i+λ_j>0} \frac{(λ_i − λ_j)^2}{λ_i + λ_j}
              |\langle i|H|j\rangle|^2 .

    Parameters
    ----------
    state : qutip.Qobj, list of Qobj, or ndarray
        A normalised ket or a density matrix, a list of them (e.g. the
        states of many quantum trajectories), or an array of kets of shape
        ``(dim,)`` or ``(n_states, dim)``.  Kets are processed together
        (vectorised); a rank-1 density matrix gives the pure-state value.
    generator : qutip.Qobj or array_like or scipy.sparse matrix
        Hermitian generator ``H`` on the same space (dims must match when both
        are ``Qobj``).
    atol : float, default 1e-8
        Tolerance of the state checks (ket norm; Hermiticity, trace and
        positivity of a density matrix) and, relative to ``max|H_ij|``, of
        the Hermiticity of ``generator``.
    eig_tol : float, default 1e-12
        Eigenvalues of ``ρ`` below ``eig_tol`` (including small negative
        rounding errors) are set to zero before the formula is applied.
        Each dropped eigenvalue ``λ_j`` changes ``F`` by at most
        ``≈ 4 λ_j ‖H‖²``, so the error is ``≲ 4 d·eig_tol·‖H‖²``; without
        the cut, pairs of numerically-zero eigenvalues would contribute
        noise ``(δλ)²/(2δλ)`` with uncontrolled sign.

    Returns
    -------
    float or numpy.ndarray
        A float for a single state, an array of shape ``(n_states,)`` for a
        list or 2-D array.

    Examples
    --------
    >>> import qutip
    >>> plus = (qutip.basis(2, 0) + qutip.basis(2, 1)).unit()
    >>> round(quantum_fisher_information(plus, qutip.sigmaz() / 2), 12)
    1.0
    """
    atol = _check_tol("atol", atol)
    eig_tol = _check_tol("eig_tol", eig_tol)
    H, hdims = _as_operator("generator", generator, atol=atol)
    qdims = hdims[0] if hdims is not None else None
    out, scalar = _qfi_batch("state", state, [H], H.shape[0], qdims, atol, eig_tol)
    return float(out[0, 0]) if scalar else out[:, 0]


@lru_cache(maxsize=16)
def _collective_operators(N):
    """Sparse CSR ``J_x, J_y, J_z`` (``J_α = Σ_i σ_α^{(i)}/2``) on ``(C²)^{⊗N}``."""
    d = 2 ** N
    s = np.arange(d)
    rows, cols, vx, vy = [], [], [], []
    for i in range(N):
        mask = 1 << (N - 1 - i)          # qubit 0 is the most significant bit
        bit = (s & mask) != 0            # bit 0 = |↑⟩ = basis(2, 0)
        rows.append(s ^ mask)
        cols.append(s)
        vx.append(np.full(d, 0.5, dtype=complex))
        vy.append(np.where(bit, -0.5j, 0.5j))   # σ_y|↑⟩ = i|↓⟩, σ_y|↓⟩ = −i|↑⟩
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    Jx = sp.csr_matrix((np.concatenate(vx), (rows, cols)), shape=(d, d))
    Jy = sp.csr_matrix((np.concatenate(vy), (rows, cols)), shape=(d, d))
    popcount = np.array([bin(k).count("1") for k in range(d)])
    Jz = sp.diags(0.5 * (N - 2 * popcount).astype(complex), format="csr")
    for J in (Jx, Jy, Jz):
        J.sort_indices()
    return Jx, Jy, Jz


def separable_qfi_bound(N):
    r"""Largest mean collective QFI ``F̄_Q`` of a separable N-qubit state: ``2N/3``.

    For any separable state ``F(J_x) + F(J_y) + F(J_z) ≤ 2N``: the QFI is
    additive on product states and a qubit with Bloch vector ``r`` has
    ``Σ_α F(σ_α/2) = Σ_α (|r|² − r_α²) = 2|r|² ≤ 2``; convexity of the QFI
    extends the bound to mixtures of product states.  Hence ``F̄_Q > 2N/3`` witnesses
    entanglement.  The maximum over all states, ``N(N+2)/3``, is reached by
    GHZ (``N ≥ 2``) and by the Dicke state ``|N/2, 0⟩`` (``N`` even).

    Parameters
    ----------
    N : int
        Number of qubits.

    Returns
    -------
    float

    Examples
    --------
    >>> separable_qfi_bound(12)
    8.0
    """
    N = check_count("N", N)
    return 2.0 * N / 3.0


class CollectiveQFI:
    r"""Mean collective QFI ``F̄_Q = [F(J_x) + F(J_y) + F(J_z)]/3`` of N qubits.

    Builds ``J_α = Σ_i σ_α^{(i)}/2`` once as sparse matrices on the
    ``2^N``-dimensional tensor space (QuTiP ordering, ``|↑⟩ = basis(2, 0)``)
    and reuses them for every call, so evaluating many trajectories is one
    sparse-times-dense product per operator and chunk of 256 kets.

    Parameters
    ----------
    N : int
        Number of qubits (the states must have dims ``[[2]*N, ...]``).

    Attributes
    ----------
    N : int
    separable_bound : float
        ``2N/3``: states with ``F̄_Q`` above it are entangled.
    maximum : float
        ``N(N+2)/3``, the largest possible value.

    Examples
    --------
    >>> import qutip
    >>> ghz = (qutip.basis([2, 2, 2], [0, 0, 0]) + qutip.basis([2, 2, 2], [1, 1, 1])).unit()
    >>> qfi = CollectiveQFI(3)
    >>> [round(float(x), 10) for x in qfi.components(ghz)]     # F(Jx), F(Jy), F(Jz)
    [3.0, 3.0, 9.0]
    >>> round(qfi(ghz), 10), qfi.separable_bound
    (5.0, 2.0)
    """

    def __init__(self, N):
        self.N = check_count("N", N)
        if self.N > 16:
            raise ValueError(f"N must be <= 16 for the full tensor space, got {self.N}")
        self.dim = 2 ** self.N
        self._ops = _collective_operators(self.N)
        self.separable_bound = separable_qfi_bound(self.N)
        self.maximum = self.N * (self.N + 2) / 3.0

    def __repr__(self):
        return f"CollectiveQFI(N={self.N})"

    @property
    def operators(self):
        """``(J_x, J_y, J_z)`` as ``qutip.Qobj`` with dims ``[[2]*N, [2]*N]``."""
        dims = [[2] * self.N, [2] * self.N]
        return tuple(qutip.Qobj(J, dims=dims) for J in self._ops)

    def components(self, states, *, atol=_ATOL, eig_tol=_EIG_TOL):
        """``(F(J_x), F(J_y), F(J_z))``: shape ``(3,)`` or ``(n_states, 3)``.

        Accepts the same ``states`` as :func:`quantum_fisher_information`.
        """
        atol = _check_tol("atol", atol)
        eig_tol = _check_tol("eig_tol", eig_tol)
        out, scalar = _qfi_batch("state", states, self._ops, self.dim, [2] * self.N,
                                 atol, eig_tol)
        return out[0] if scalar else out

    def __call__(self, states, *, atol=_ATOL, eig_tol=_EIG_TOL):
        """Mean QFI ``F̄_Q``: a float, or an array for a list/array of states."""
        comp = self.components(states, atol=atol, eig_tol=eig_tol)
        return float(np.mean(comp)) if comp.ndim == 1 else comp.mean(axis=1)

    def is_entangled(self, states, **kwargs):
        """``F̄_Q > 2N/3`` (boolean or boolean array); kwargs as for ``__call__``."""
        return np.asarray(self(states, **kwargs)) > self.separable_bound


def _infer_N(state, N):
    if N is not None:
        return check_count("N", N)
    first = state
    if isinstance(state, (list, tuple)) and state:
        first = state[0]
    if isinstance(first, qutip.Qobj):
        dims = first.dims[0]
        if any(d != 2 for d in dims):
            raise ValueError(f"state must be an N-qubit state with dims [[2]*N, ...], "
                             f"got {first.dims}")
        return len(dims)
    arr = np.asarray(first)
    d = arr.shape[-1] if arr.ndim else 0
    if d < 2 or d & (d - 1):
        raise ValueError(f"cannot infer N from a state of dimension {d}; pass N=")
    return int(d).bit_length() - 1


def collective_qfi(state, *, N=None, components=False, atol=_ATOL, eig_tol=_EIG_TOL):
    r"""Mean collective QFI ``F̄_Q = [F(J_x)+F(J_y)+F(J_z)]/3`` (Zhu et al., App. C).

    ``J_α = Σ_i σ_α^{(i)}/2``.  A value above :func:`separable_qfi_bound`
    ``= 2N/3`` certifies entanglement; the maximum is ``N(N+2)/3``.  The
    collective operators for each ``N`` are built once (sparse) and cached;
    use :class:`CollectiveQFI` to hold them explicitly.

    Parameters
    ----------
    state : qutip.Qobj, list of Qobj, or ndarray
        N-qubit ket(s) or density matrices with dims ``[[2]*N, ...]``, or
        an array of kets of shape ``(2**N,)`` / ``(n_states, 2**N)``.
    N : int, optional
        Number of qubits; inferred from the dims (or from the array length).
    components : bool, default False
        Return ``(F(J_x), F(J_y), F(J_z))`` instead of their mean.
    atol, eig_tol : float
        As for :func:`quantum_fisher_information`.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> import qutip
    >>> up = qutip.tensor([qutip.basis(2, 0)] * 4)     # product state: 2N/3
    >>> round(collective_qfi(up), 12), separable_qfi_bound(4)
    (2.666666666667, 2.6666666666666665)
    """
    qfi = CollectiveQFI(_infer_N(state, N))
    if components:
        return qfi.components(state, atol=atol, eig_tol=eig_tol)
    return qfi(state, atol=atol, eig_tol=eig_tol)
