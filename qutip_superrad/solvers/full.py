"""Exact solver in the full tensor space of a :class:`~qutip_superrad.Model`.

Clusters are unrolled into explicit atoms (any per-atom and per-pair
parameters are allowed), the Liouvillian is built by ``qutip.liouvillian``
and, when the model conserves the excitation difference ``k`` between ket and
bra (``model.symmetry`` is ``"U(1)"`` or ``"parity"``), only the sector of
the steady state is solved (``k = 0``, or ``k`` even).
"""
from __future__ import annotations

import time

import numpy as np
import qutip
import scipy.sparse as sp

from .. import _validate as V
from .._progress import Progress
from ..exact._common import (DEFAULT_MAX_MEMORY, EVOLVE_OPTIONS, STEADY_OPTIONS,
                             check_evolve_options, check_steady_options, propagate, qrt_spectrum,
                             solve_steady)
from ..results import Result, TimeResult, normalise_e_ops
from ..states import dicke_index, dicke_to_full, num_dicke_states, parse_initial
from ._shared import (expect_values, physical_or_raise, real_if_close, solve_unique,
                      truncation_checks, unique_or_raise)

__all__ = ["supports", "estimate", "steadystate", "evolve", "spectrum", "correlation", "FullSpace"]

NAME = "full"
EXACT = True
_DEFAULTS = {"nphot": 10, "max_memory": DEFAULT_MAX_MEMORY, **STEADY_OPTIONS}
_EVOLVE_DEFAULTS = {"nphot": 10, "max_memory": DEFAULT_MAX_MEMORY, **EVOLVE_OPTIONS}


def supports(model):
    """``None`` if the model fits the full space, else the reason."""
    if not model.is_integer:
        return f"needs an integer number of atoms per cluster (N={model.counts.tolist()})"
    return None


def _dims(model, nphot):
    return [d for _, d in model.dims(nphot)]


def hilbert_dimension(model, nphot):
    """Dimension of the tensor space as a float (``inf`` beyond 64 atoms, whose tensor
    factors are not even listed)."""
    atoms = float(np.sum(model.counts)) if model.counts is not None else 0.0
    if atoms > 64:
        return float("inf")
    return float(np.prod(_dims(model, nphot if model.modes else None), dtype=float))


def _dimension_text(dim):
    return str(int(round(dim))) if np.isfinite(dim) else "above 2^64"


def estimate(model, options):
    """Size and memory estimate (bytes) of the Liouvillian, without building it."""
    # only nphot is read: the steady-state, evolution and spectrum options all pass here
    opts = V.check_options({k: v for k, v in (options or {}).items() if k == "nphot"},
                           _DEFAULTS, "full")
    dim = hilbert_dimension(model, opts["nphot"])
    n_terms = 2 + len(model.symbolic.jump_list) * max(int(model.N), 1)
    # superoperator nnz ≈ dim²·terms, 20 B per entry, ×3 for qutip's intermediates
    return {"size": dim * dim, "memory": float(dim) ** 2 * (4 * n_terms + 4) * 20 * 3}


class FullSpace:
    """The explicit tensor space of a model, with its excitation numbers.

    Attributes
    ----------
    dims : list of int
        Tensor factors (modes first, then atoms).
    excitation : ndarray
        Excitation number of every basis state (photons plus ``i − 1`` per
        atom in level ``i``; level ``i`` is ``basis(n, n − i)``).
    """

    def __init__(self, model, nphot):
        self.model = model
        self.nphot = nphot
        self.subsystems = model.dims(nphot)
        self.dims = [d for _, d in self.subsystems]
        exc = np.zeros(1, dtype=np.int64)
        for s, d in self.subsystems:
            local = np.arange(d) if s.kind == "mode" else d - 1 - np.arange(d)
            exc = (exc[:, None] + local[None, :]).ravel()
        self.excitation = exc
        self.dim = exc.size

    def sector(self, k=0):
        """``(ket, bra)`` of the elements with ``exc(ket) − exc(bra) ≡ k`` (all without symmetry)."""
        mod = self.model.sector_modulus
        diff = self.excitation[:, None] - self.excitation[None, :] - k
        mask = diff == 0 if mod == 0 else (diff % mod == 0)
        ket, bra = np.nonzero(mask)
        order = np.argsort(ket + bra * self.dim)      # qutip's column-stacked vectorisation
        return ket[order], bra[order]

    def mode_distribution(self, rho, mode_index):
        """Photon distribution of one mode from a density matrix Qobj."""
        return np.real(rho.ptrace(mode_index).diag())


def _pivot_states(model, space):
    """Basis states likely to be populated: vacuum with every atom in the level its local
    jumps alone favour (a good pivot saves a second factorisation), then the extremes."""
    from ..cumulant.engine.algebra import to_qobj
    jumps = model.explicit_jumps()
    index = 0
    for sub, d in space.subsystems:
        level = 0
        if sub.kind == "atom":
            L = np.zeros((d * d, d * d), complex)
            I = np.eye(d)
            for rate, c in jumps:
                if c.subsystems == [sub]:
                    A = to_qobj(c, [(sub, d)]).full()
                    AdA = A.conj().T @ A
                    L += rate * (np.kron(A, A.conj()) - 0.5 * np.kron(AdA, I) - 0.5 * np.kron(I, AdA.T))
            w, v = np.linalg.eig(L)
            rho = v[:, np.argmin(np.abs(w))].reshape(d, d)
            level = int(np.argmax(np.abs(np.diag(rho)))) if np.any(L) else d - 1
        index = index * d + level
    return [index, int(np.argmin(space.excitation)), int(np.argmax(space.excitation))]


def _liouvillian(model, opts):
    est = estimate(model, {"nphot": opts["nphot"]})
    V.check_memory(est["memory"], opts["max_memory"],
                   f"the full-space Liouvillian of {model.N} atoms (Hilbert dimension "
                   f"{_dimension_text(np.sqrt(est['size']))})")
    space = FullSpace(model, opts["nphot"] if model.modes else None)
    L = model.liouvillian(space.nphot)
    return space, sp.csr_matrix(L.to("csr").data.as_scipy())


def _restrict(L, space, ket, bra):
    idx = ket + bra * space.dim
    return L[idx][:, idx]


def _expect_fn(model, space, rho):
    def value(op):
        return complex(qutip.expect(qutip.Qobj(model.to_qobj(op, space.nphot).full(),
                                               dims=rho.dims), rho))
    return value


def steadystate(model, e_ops=None, options=None):
    """Exact steady state in the full tensor space (per symmetry sector).

    Options
    -------
    nphot : int or dict, default 10
        Fock states per mode.
    max_memory : float, default 8 GiB
        Refuse before building when the Liouvillian would exceed it.
    strict : bool, default False
        Raise instead of warning when a photon space is truncated.
    truncation_tol : float, default 1e-6
        Allowed population of the top Fock state.
    max_time : float, default 600
        Wall-time limit (s) of the iterative (GMRES) solve of large sectors;
        ``TimeLimitError`` with the iterations and residual when exceeded.
    progress_bar : None, bool or str
        QuTiP's values; stages weighted by their estimated cost.
    """
    opts = check_steady_options(options, _DEFAULTS, "steadystate(method='full')")
    unique_or_raise(model, 'full')
    e_ops = normalise_e_ops(e_ops)
    t0 = time.perf_counter()
    bar = Progress(4, "steadystate(method='full')", opts["progress_bar"])
    space, L = _liouvillian(model, opts)
    bar.advance(1, "Liouvillian")                 # the sparse solve costs ~3× the assembly
    ket, bra = space.sector(0)
    keys = ket + bra * space.dim
    swap = np.searchsorted(keys, bra + ket * space.dim)
    pos = {k: i for i, k in enumerate(keys)}
    pivots = [pos.get(s + s * space.dim, -1) for s in _pivot_states(model, space)]
    x, residual, info = solve_unique(model, "full", solve_steady, _restrict(L, space, ket, bra),
                                     (ket == bra).astype(float), pivots=pivots, swap=swap,
                                     max_time=opts["max_time"])
    bar.advance(3, "solve")
    bar.close()
    rho = np.zeros((space.dim, space.dim), complex)
    rho[ket, bra] = x
    rho = qutip.Qobj(rho, dims=[space.dims, space.dims])
    checks = {"residual": residual, "solver": info, "trace": float(np.real(rho.tr())),
              "hermiticity": float(np.max(np.abs((rho - rho.dag()).full()))),
              "min_eigenvalue": float(np.linalg.eigvalsh(0.5 * (rho + rho.dag()).full())[0]),
              "truncation": truncation_checks(
                  model, [space.mode_distribution(rho, i) for i in range(len(model.modes))], opts)}
    physical_or_raise(model, "full", checks)
    fn = _expect_fn(model, space, rho)
    return Result("full", model, state=rho, values=expect_values(fn, e_ops), checks=checks,
                  stats={"dimension": int(x.size), "symmetry": model.symmetry,
                         "time": time.perf_counter() - t0}, evaluator=fn, e_ops=e_ops)


_ACCEPTED = ("None, 'ground', 'excited', 'superradiant', a Dicke state (j, m), or a Qobj (ket "
             "or density matrix) of the tensor space (dims [[nphot…, levels…], …]) or, for "
             "two-level atoms, of the Dicke representation (dims [[nphot…, "
             "num_dicke_states(N)], …])")


def _named(space, spec, initial):
    """Density matrix of a named state: the vacuum with the atoms in a product or Dicke state."""
    atoms = [d for sub, d in space.subsystems if sub.kind != "mode"]
    photons = int(np.prod([d for sub, d in space.subsystems if sub.kind == "mode"], dtype=int))
    if spec[0] == "product":
        # level 1 is basis(d, d − 1), the highest level basis(d, 0)
        idx = [0 if s.kind == "mode" or spec[1] == "excited" else d - 1
               for s, d in space.subsystems]
        psi = qutip.basis(space.dims, idx)
        return (psi * psi.dag()).full()
    if any(d != 2 for d in atoms):
        raise ValueError(f"initial={initial!r}: Dicke states need two-level atoms (the model's "
                         f"atoms have {sorted(set(atoms))} levels)")
    N = len(atoms)
    _, j, m = spec
    D = num_dicke_states(N)
    row = int(dicke_index(N, int(round(N / 2 - j)), int(round(m + N / 2))))
    M = np.zeros((photons * D,) * 2)
    M[row, row] = 1.0                                        # photon state 0 is the vacuum
    return dicke_to_full(M, N, photons)


def _initial(model, space, initial):
    n_atoms = sum(s.kind != "mode" for s, _ in space.subsystems)
    spec = parse_initial(initial, n_atoms, accepted=_ACCEPTED)
    if spec is not None:
        return _named(space, spec, initial)
    if not isinstance(initial, qutip.Qobj):
        raise TypeError(f"initial must be {_ACCEPTED}; got {type(initial).__name__}")
    rho = initial.proj() if initial.isket else initial
    dims = [int(d) for d in rho.dims[0]]
    modes = [d for s, d in space.subsystems if s.kind == "mode"]
    if rho.isoper and dims == modes + [num_dicke_states(n_atoms)] and n_atoms \
            and all(d == 2 for s, d in space.subsystems if s.kind != "mode"):
        return dicke_to_full(rho.full(), n_atoms, int(np.prod(modes, dtype=int)))
    if not rho.isoper or rho.shape != (space.dim, space.dim):
        raise ValueError(f"initial has dims {rho.dims}, the model's space needs "
                         f"{[space.dims, space.dims]}")
    return rho.full()


def evolve(model, tlist, initial=None, e_ops=None, options=None):
    """Exact time evolution in the full space (``exp(Lt)`` applied exactly).

    ``initial`` defaults to the vacuum with every atom in level 1.  When the
    model is symmetric and ``initial`` lies in the sector ``k = 0`` only that
    sector is propagated.

    Options: ``nphot``, ``max_memory``, QuTiP's ``atol``/``rtol``/``nsteps`` (the Adams
    integrator instead of the exact propagator), ``max_time``, ``progress_bar``; their
    meanings and defaults are documented by :func:`qutip_superrad.evolve`.
    """
    tlist = V.check_grid("tlist", tlist)
    opts = check_evolve_options(V.check_options(options, _EVOLVE_DEFAULTS, "evolve(method='full')"))
    e_ops = normalise_e_ops(e_ops)
    space, L = _liouvillian(model, opts)
    rho0 = _initial(model, space, initial)
    ket, bra = space.sector(0)
    if np.abs(rho0).sum() - np.abs(rho0[ket, bra]).sum() > 1e-12:
        ket, bra = np.nonzero(np.ones((space.dim, space.dim), bool))
        order = np.argsort(ket + bra * space.dim)
        ket, bra = ket[order], bra[order]
    xs = propagate(_restrict(L, space, ket, bra), rho0[ket, bra], tlist, opts)
    states, values = [], {k: [] for k in e_ops}
    ops = {k: model.to_qobj(op, space.nphot) for k, op in e_ops.items()}
    for x in xs:
        rho = np.zeros((space.dim, space.dim), complex)
        rho[ket, bra] = x
        rho = qutip.Qobj(rho, dims=[space.dims, space.dims])
        states.append(rho)
        for k, o in ops.items():
            values[k].append(qutip.expect(qutip.Qobj(o.full(), dims=rho.dims), rho))
    values = {k: real_if_close(np.array(v)) for k, v in values.items()}
    return TimeResult("full", model, tlist, values, states=states, e_ops=e_ops,
                      stats={"dimension": int(ket.size)})


def _regression(model, operator, opts):
    """``(L_k, v, w, steady state)`` with ``⟨B†(τ)B(0)⟩ = wᵀ e^{L_k τ} v`` (``v = Bρ``)."""
    ss = steadystate(model, None, opts)
    space, L = _liouvillian(model, opts)
    Bq = model.to_qobj(operator, space.nphot)
    Brho = (Bq * ss.state).full()
    nz = np.argwhere(np.abs(Brho) > 0)
    k = int(space.excitation[nz[0, 0]] - space.excitation[nz[0, 1]]) if nz.size else -1
    ket, bra = space.sector(k)
    v = Brho[ket, bra]
    if np.abs(Brho).sum() - np.abs(v).sum() > 1e-12 * max(np.abs(Brho).sum(), 1e-300):
        raise ValueError("B ρ is not in one symmetry sector; B must change the excitation "
                         "number by a definite amount")
    w = Bq.dag().full()[bra, ket]              # Tr(B† X) = Σ X[ket, bra] B†[bra, ket]
    return _restrict(L, space, ket, bra), v, w, ss


def spectrum(model, omega, operator, options=None):
    """``S(ω) = 2 Re ∫₀^∞ e^{−iωτ} ⟨B†(τ)B(0)⟩ dτ`` by the quantum regression theorem.

    ``B`` (``operator``) is any operator of the description (default: the
    annihilation operator of the model's single mode, chosen by the caller).
    The correlation is propagated in the sector of ``Bρ`` when the model is
    symmetric.
    """
    omega = V.check_grid("omega", omega)
    opts = check_steady_options(options, dict(_DEFAULTS, prominence=None),
                                "spectrum(method='full')")
    prominence = opts.pop("prominence")
    with Progress(2, "spectrum(method='full')", opts["progress_bar"]) as bar:
        L, v, w, ss = _regression(model, operator, dict(opts, progress_bar=None))
        bar.advance(1, "steady state")
        res = qrt_spectrum(L, v, w, omega, "full", {"steady_state": ss.checks},
                           prominence=prominence)
        bar.advance(1, "spectrum")
    res.checks["g1_0"] = float(np.real(w @ v))
    res.steady_state = ss
    return res


def correlation(model, taulist, operator, options=None):
    """``⟨B†(τ)B(0)⟩`` in the steady state on ``taulist`` (quantum regression, exact ``e^{Lτ}``)."""
    taulist = V.check_grid("taulist", taulist)
    opts = check_steady_options(options, _DEFAULTS, "correlation(method='full')")
    L, v, w, _ = _regression(model, operator, opts)
    return propagate(L, v, taulist) @ w
