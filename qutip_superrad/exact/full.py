"""Exact solver in the full tensor space (mode ⊗ N atoms), any per-atom parameters.

The Liouvillian conserves the excitation difference ``k`` between ket and bra
(U(1) symmetry of incoherent pumping), so the steady state is solved in the
``k = 0`` block and ``⟨a†(τ)a(0)⟩`` in ``k = −1`` instead of one huge sparse
solve over all ``(nphot·2^N)²`` elements.
"""
import numpy as np
import qutip
import scipy.sparse as sp

from .. import _validate as V
from ..results import EvolutionResult, SteadyStateResult
from ._common import (DEFAULT_MAX_MEMORY, check_steady_options, check_truncation, propagate,
                      qrt_spectrum, solve_steady)

__all__ = ["supports", "liouvillian", "steadystate", "evolve", "spectrum", "excitations"]

_DEFAULTS = {"nphot": 10, "max_memory": DEFAULT_MAX_MEMORY, "strict": False, "truncation_tol": 1e-6}


def supports(model):
    """Raise ``ValueError`` unless every cluster holds an integer number of atoms."""
    if not model.has_mode:
        raise ValueError("method='full' is available for models with a cavity mode; "
                         "use method='dicke' for the bad-cavity limit")
    if not model.ensemble.is_integer:
        raise ValueError(f"method='full' needs integer counts per cluster, got "
                         f"counts={model.ensemble.counts}")


def excitations(nphot, n_atoms):
    """Excitation number ``n + Σ_i e_i`` of every basis state (mode first; ``basis(2,0)`` = e)."""
    exc = np.arange(nphot)
    for _ in range(n_atoms):
        exc = (exc[:, None] + np.array([1, 0])[None, :]).ravel()
    return exc


def _check(model, opts):
    nphot = V.check_int("nphot", opts["nphot"], minimum=2)
    n_atoms = int(round(model.ensemble.N))
    dim = nphot * 2 ** n_atoms
    n_ops = 2 + 3 * n_atoms
    # superoperator nnz ≈ dim² · (terms); 16+4 B per entry, ×3 for intermediates
    need = float(dim) ** 2 * (4 * n_ops + 4) * 20 * 3
    V.check_memory(need, opts["max_memory"], f"the full-space Liouvillian of {n_atoms} atoms and nphot={nphot} "
                                f"(Hilbert dimension {dim})")
    return nphot, n_atoms


def _sector_indices(nphot, n_atoms, k):
    exc = excitations(nphot, n_atoms)
    dim = exc.size
    # qutip vectorises column-wise: vec[i + j·dim] = ρ[i, j]
    ket, bra = np.nonzero(exc[:, None] - exc[None, :] == k)
    order = np.argsort(ket + bra * dim)
    return ket[order], bra[order], dim


def liouvillian(model, options, sector=None):
    """Full-space Liouvillian as a Qobj superoperator (``sector=None``) or, as an
    operator on that sector's vector, the block of one excitation-difference sector."""
    opts = V.check_options(options, _DEFAULTS, "liouvillian(method='full')")
    if sector is None:
        nphot, _ = _check(model, opts)
        return qutip.liouvillian(model.hamiltonian(nphot), model.c_ops(nphot))
    Ls = _sector(model, opts, V.check_int("sector", sector))[0]
    return qutip.Qobj(Ls, dims=[[Ls.shape[0]], [Ls.shape[0]]])


def _sector(model, opts, k):
    nphot, n_atoms = _check(model, opts)
    L = qutip.liouvillian(model.hamiltonian(nphot), model.c_ops(nphot))
    ket, bra, dim = _sector_indices(nphot, n_atoms, k)
    idx = ket + bra * dim
    Ls = sp.csr_matrix(L.to("csr").data.as_scipy())[idx][:, idx]
    return Ls, ket, bra, dim, nphot, n_atoms


def _cluster_observables(model, rho, nphot):
    """Per-cluster populations and pair correlations (distinct atoms) from a Qobj."""
    a, sm, _, _, _ = model._operators(nphot)
    _, _, cluster = model.ensemble.atom_parameters()
    M = model.ensemble.n_clusters
    n_atoms = len(sm)
    single = np.array([qutip.expect(s.dag() * s, rho) for s in sm])
    pair_atoms = np.zeros((n_atoms, n_atoms), complex)
    for i in range(n_atoms):
        for l in range(n_atoms):
            if i != l:
                pair_atoms[i, l] = qutip.expect(sm[i].dag() * sm[l], rho)
    pop = np.array([single[cluster == m].mean() for m in range(M)])
    pair = np.zeros((M, M), complex)
    for m in range(M):
        for j in range(M):
            mask = (cluster[:, None] == m) & (cluster[None, :] == j) & ~np.eye(n_atoms, dtype=bool)
            if mask.any():
                pair[m, j] = pair_atoms[mask].mean()
    return pop, pair


def _pivot_guess(model, ket, bra, dim, n_atoms):
    """Candidate pivots (positions in the sector): vacuum with all atoms in the
    state favoured by pump vs decay, then all ground, then all excited."""
    total = model.pump + model.gamma
    excited_first = total > 0 and model.pump >= model.gamma
    ground = 2 ** n_atoms - 1              # mode n=0, every atom in basis(2,1) = |g⟩
    states = [0 if excited_first else ground, ground, 0]
    pos = {k: i for i, k in enumerate(ket + bra * dim)}
    return [pos.get(s + s * dim, -1) for s in states]


def steadystate(model, options):
    """Exact steady state in the full space, solved in the sector k = 0.

    Options
    -------
    nphot : int, default 10
    max_memory : float, default 8 GiB
    strict : bool, default False
        Raise instead of warning on photon truncation.
    truncation_tol : float, default 1e-6
    """
    opts = check_steady_options(options, _DEFAULTS, "steadystate(method='full')")
    Ls, ket, bra, dim, nphot, n_atoms = _sector(model, opts, 0)
    keys = ket + bra * dim                   # sorted by construction
    swap = np.searchsorted(keys, bra + ket * dim)
    x, residual, info = solve_steady(Ls, (ket == bra).astype(float), swap=swap,
                                     pivots=_pivot_guess(model, ket, bra, dim, n_atoms))
    rho = np.zeros((dim, dim), complex)
    rho[ket, bra] = x
    dims = [nphot] + [2] * n_atoms
    rho = qutip.Qobj(rho, dims=[dims, dims])
    checks = {"residual": residual, "solver": info, "dimension": int(x.size),
              "trace": float(np.real(rho.tr())),
              "hermiticity": float(np.max(np.abs((rho - rho.dag()).full())))}
    evals = np.linalg.eigvalsh(0.5 * (rho + rho.dag()).full())
    checks["min_eigenvalue"] = float(evals[0])
    pn = np.real(rho.ptrace(0).diag())
    mean_n = float(np.sum(np.arange(nphot) * pn))
    checks["truncation"] = check_truncation(pn, nphot, opts["truncation_tol"], opts["strict"], mean_n)
    pop, pair = _cluster_observables(model, rho, nphot)
    nn = float(np.sum(np.arange(nphot) * (np.arange(nphot) - 1) * pn))
    return SteadyStateResult(method="full", photon_number=mean_n, excited_population=pop,
                             pair_correlation=pair, photon_flux=model.kappa * mean_n,
                             g2=nn / mean_n ** 2 if mean_n > 0 else float("nan"),
                             photon_distribution=pn, checks=checks, state=rho, model=model)


def evolve(model, tlist, initial, options):
    """Exact evolution in the full space from the ground state (vacuum, all atoms in ``|g⟩``).

    ``initial`` may be a density matrix Qobj with the model's dimensions; it
    must lie in the sector k = 0 (no coherence between excitation numbers).
    """
    tlist = V.check_grid("tlist", tlist)
    opts = V.check_options(options, {"nphot": 10, "max_memory": DEFAULT_MAX_MEMORY},
                           "evolve(method='full')")
    Ls, ket, bra, dim, nphot, n_atoms = _sector(model, dict(_DEFAULTS, **opts), 0)
    dims = [nphot] + [2] * n_atoms
    if initial is None:
        rho0 = qutip.tensor([qutip.fock_dm(nphot, 0)] + [qutip.fock_dm(2, 1)] * n_atoms)
    elif isinstance(initial, qutip.Qobj) and initial.dims == [dims, dims]:
        rho0 = initial
    else:
        raise TypeError(f"initial must be None or a density matrix Qobj with dims {[dims, dims]}")
    full = rho0.full()
    outside = np.abs(full).sum() - np.abs(full[ket, bra]).sum()
    if outside > 1e-12:
        raise ValueError("initial state has coherences between different excitation numbers "
                         "(outside the k=0 sector); use qutip.mesolve for such states")
    xs = propagate(Ls, full[ket, bra], tlist)
    states = []
    for x in xs:
        rho = np.zeros((dim, dim), complex)
        rho[ket, bra] = x
        states.append(qutip.Qobj(rho, dims=[dims, dims]))
    a, sm, _, _, _ = model._operators(nphot)
    obs = [_cluster_observables(model, r, nphot) for r in states]
    return EvolutionResult(times=tlist, photon_number=np.array([qutip.expect(a.dag() * a, r) for r in states]),
                           excited_population=np.array([o[0] for o in obs]),
                           pair_correlation=np.array([o[1] for o in obs]), method="full", states=states)


def spectrum(model, omega, options):
    """Exact cavity spectrum by the quantum regression theorem on the sector k = −1."""
    omega = V.check_grid("omega", omega)
    opts = check_steady_options(options, _DEFAULTS, "spectrum(method='full')")
    ss = steadystate(model, opts)
    Ls, ket, bra, dim, nphot, n_atoms = _sector(model, opts, -1)
    a = model._operators(nphot)[0]
    arho = (a * ss.state).full()
    v = arho[ket, bra]
    # Tr(a† X) = Σ_{ket,bra} X[ket, bra] a†[bra, ket]
    adag = a.dag().full()
    w = adag[bra, ket]
    res = qrt_spectrum(Ls, v, w, omega, "full", {"steady_state": ss.checks})
    res.checks["g1_0"] = float(np.real(w @ v))
    res.steady_state = ss
    return res
