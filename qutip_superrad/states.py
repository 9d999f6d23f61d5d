"""Named initial states and the conversions between the state representations.

Every ``evolve`` of the package takes ``initial=`` as

* ``None`` or ``"ground"``: the vacuum with every atom in level 1;
* ``"excited"``: the vacuum with every atom in its highest level;
* ``"superradiant"``: the vacuum with the atoms in the Dicke state
  ``|j = N/2, m⟩`` of smallest ``|m|`` (``m = 0`` for even ``N``, ``m = ½`` for odd ``N``),
  the state of maximal collective emission rate;
* ``(j, m)``: the vacuum with the atoms in the Dicke state ``|j, m⟩`` (two-level atoms).
  For ``j < N/2`` this is the permutation-invariant mixture over the ``d_j`` degenerate
  copies, as :func:`qutip.piqs.dicke` defines it;
* a :class:`qutip.Qobj` of the method's space (see each method),

wherever the method can represent the state; otherwise ``ValueError`` names
``initial`` and the accepted values.

Convention (QuTiP's, used throughout the package): level ``i`` of an ``n``-level atom
is ``basis(n, n − i)``.  For two-level atoms ``basis(2, 0)`` is the **excited** state
``|e⟩`` (``m = +½``, level 2) and ``basis(2, 1)`` the ground state ``|g⟩`` (level 1);
``σ⁺ = qutip.sigmap()`` raises, ``J_z = Σ σ_z/2``.  In the tensor space the modes come
first, then the atoms.  The block-diagonal Dicke representation is the one of
:mod:`qutip.piqs`: blocks ``j = N/2, N/2 − 1, …`` in that order, ``m = j, j − 1, …, −j``
within a block, each block holding ``d_j ρ_j`` (the degeneracy-weighted elements, so the
trace of the matrix is 1).
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["NAMED_STATES", "parse_initial", "dicke_index", "num_dicke_states",
           "dicke_basis", "dicke_to_full", "full_to_dicke"]

NAMED_STATES = ("ground", "excited", "superradiant")
ACCEPTED = ("None, 'ground', 'excited', 'superradiant', a Dicke state (j, m) or a Qobj")


def _half(x, what):
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not np.isfinite(x) \
            or not float(2 * x).is_integer():
        raise ValueError(f"initial: {what} of the Dicke state (j, m) must be an integer or "
                         f"half-integer, got {x!r}")
    return float(x)


def parse_initial(initial, N=None, accepted=ACCEPTED):
    """A named initial state as ``("product", "ground"|"excited")`` or ``("dicke", j, m)``.

    Returns ``None`` for anything that is not a name or a ``(j, m)`` tuple (a Qobj, a
    state vector…: the caller handles those).  ``N`` (atoms) is needed for
    ``"superradiant"`` and ``(j, m)``.

    Raises
    ------
    ValueError
        An unknown name, or ``(j, m)`` outside ``0 ≤ N/2 − j ∈ ℤ``, ``|m| ≤ j``, ``j − m ∈ ℤ``.
    """
    if initial is None:
        return ("product", "ground")
    if isinstance(initial, str):
        if initial in ("ground", "excited"):
            return ("product", initial)
        if initial == "superradiant":
            if N is None:
                raise ValueError("initial='superradiant' needs a number of atoms")
            return ("dicke", N / 2, (N % 2) / 2)
        raise ValueError(f"initial must be {accepted}; got {initial!r}")
    if isinstance(initial, tuple):
        if len(initial) != 2:
            raise ValueError(f"initial: a Dicke state is the tuple (j, m), got {initial!r}")
        j, m = _half(initial[0], "j"), _half(initial[1], "m")
        if N is None:
            raise ValueError("initial=(j, m) needs a number of atoms")
        if j < 0 or j > N / 2 or not float(N / 2 - j).is_integer():
            raise ValueError(f"initial: j of the Dicke state (j, m) must be one of N/2, N/2 − 1, "
                             f"… ≥ 0 with N = {N}, got j = {j:g}")
        if abs(m) > j or not float(j - m).is_integer():
            raise ValueError(f"initial: m of the Dicke state (j, m) must be one of j, j − 1, …, −j "
                             f"(j = {j:g}), got m = {m:g}")
        return ("dicke", j, m)
    return None


def num_dicke_states(N):
    """Size of the block-diagonal Dicke representation, ``Σ_j (2j + 1)`` (as qutip.piqs)."""
    N = int(N)
    return (N // 2 + 1) * (N // 2 + 1 + N % 2)


def dicke_index(N, jj, e):
    """Row of ``|j, m⟩`` (``jj = N/2 − j``, ``e = m + N/2``) in the piqs ordering.

    Block ``jj`` starts after the blocks ``0 … jj−1`` of sizes ``N − 2k + 1``; within
    it ``m`` runs from ``j`` down to ``−j``.
    """
    jj, e = np.asarray(jj), np.asarray(e)
    return jj * (N + 1) - jj * (jj - 1) + (N - jj - e)


def _raising(N):
    """Sparse ``J⁺`` on the ``2^N`` tensor space (local index 0 = excited)."""
    import scipy.sparse as sp
    dim = 2 ** N
    b = np.arange(dim)
    rows, cols = [], []
    for i in range(N):
        bit = 1 << (N - 1 - i)                 # qutip's order: the first atom is the slowest index
        ground = (b & bit) != 0                 # local index 1 = ground
        cols.append(b[ground])
        rows.append(b[ground] - bit)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    return sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(dim, dim))


def dicke_basis(N):
    """``{(j, m): B}`` with orthonormal columns ``B = [|j, m, α⟩]_α`` of the tensor space.

    The highest weights ``|j, j, α⟩`` span the kernel of ``J⁺`` at ``m = j``; lowering them
    with ``J⁻`` gives every ``m`` with phases consistent across ``m``, so that
    ``Σ_α |j, m, α⟩⟨j, m′, α| = B_{j,m} B_{j,m′}†``.
    """
    from scipy.linalg import null_space
    Jp = _raising(N)
    Jm = Jp.T.tocsr()
    b = np.arange(2 ** N)
    exc = np.array([N - bin(x).count("1") for x in b])   # excited atoms = zero bits
    out = {}
    for jj in range(N // 2 + 1):
        j = N / 2 - jj
        sub = np.flatnonzero(exc == N - jj)             # m = j ⇔ e = N − jj
        targets = np.flatnonzero(exc == N - jj + 1)
        A = Jp[targets][:, sub].toarray()
        K = null_space(A) if A.size else np.eye(sub.size)
        B = np.zeros((2 ** N, K.shape[1]))
        B[sub] = K
        m = j
        while m >= -j - 1e-9:
            out[(j, m)] = B
            B = (Jm @ B) / np.sqrt(max(j * (j + 1) - m * (m - 1), 1e-300))
            m -= 1
    return out


def _blocks(N):
    """``[(jj, e)]`` of every element of the Dicke representation, in piqs order."""
    return [(jj, e) for jj in range(N // 2 + 1) for e in range(N - jj, jj - 1, -1)]


def _vectors(basis, N):
    """``(jj, d_j, V_α)`` for every block and copy: ``V_α`` has the columns ``|j, m, α⟩``,
    ``m = j … −j``, so ``d_j ρ_j`` of block ``jj`` sits between ``V_α … V_α†``."""
    for jj in range(N // 2 + 1):
        j = N / 2 - jj
        cols = [basis[(j, j - k)] for k in range(int(round(2 * j)) + 1)]
        d = cols[0].shape[1]
        for a in range(d):
            yield jj, d, np.stack([c[:, a] for c in cols], axis=1)


def _block_rows(N, jj, photons):
    """Rows of block ``jj`` of the Dicke representation, for every photon state."""
    D = num_dicke_states(N)
    start = int(dicke_index(N, jj, N - jj))
    size = N - 2 * jj + 1
    return (np.arange(photons)[:, None] * D + start + np.arange(size)[None, :]).ravel()


def dicke_to_full(rho, N, photons=1):
    """Tensor-space density matrix of a Dicke representation (both dense arrays).

    ``rho`` has shape ``(P·D, P·D)`` (``D`` = :func:`num_dicke_states`, ``P`` photon
    states, modes first); the result ``(P·2^N, P·2^N)`` is
    ``Σ_j Σ_α (1 ⊗ V_α)(d_j ρ_j)(1 ⊗ V_α)† / d_j`` with ``V_α`` the columns
    ``|j, m, α⟩`` of :func:`dicke_basis`.
    """
    basis = dicke_basis(N)
    out = np.zeros((photons * 2 ** N,) * 2, complex)
    eye = np.eye(photons)
    for jj, d, V in _vectors(basis, N):
        rows = _block_rows(N, jj, photons)
        W = np.kron(eye, V)
        out += W @ rho[np.ix_(rows, rows)] @ W.conj().T / d
    return out


def full_to_dicke(rho, N, photons=1, tol=1e-8):
    """The Dicke representation of a permutation-invariant tensor-space state.

    ``d_j ρ_j(m, m′) = Σ_α ⟨j, m, α|ρ|j, m′, α⟩``; the state is rebuilt from it and compared
    with ``rho``: a state that is not permutation invariant (or has coherences between
    different ``j`` or copies ``α``) raises ``ValueError``.
    """
    basis = dicke_basis(N)
    D = num_dicke_states(N)
    out = np.zeros((photons * D,) * 2, complex)
    eye = np.eye(photons)
    for jj, _, V in _vectors(basis, N):
        rows = _block_rows(N, jj, photons)
        W = np.kron(eye, V)
        out[np.ix_(rows, rows)] += W.conj().T @ rho @ W
    err = float(np.max(np.abs(dicke_to_full(out, N, photons) - rho), initial=0.0))
    if err > tol * max(1.0, float(np.max(np.abs(rho), initial=0.0))):
        raise ValueError(f"initial is not representable in the Dicke basis: it is not a "
                         f"permutation-invariant state of the {N} atoms (deviation {err:.2g}); "
                         "use method='full'")
    return out
