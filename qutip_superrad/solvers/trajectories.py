"""Quantum trajectories (``qutip.mcsolve``) in the full tensor space of a :class:`~qutip_superrad.Model`.

For sizes whose density matrix does not fit (a state vector of ``dim``
entries instead of ``dim²``).  Every value comes with the standard error of
the mean over the trajectories (``result.std``).
"""
from __future__ import annotations

import time

import numpy as np
import qutip

from .. import _validate as V
from ..results import TimeResult, normalise_e_ops
from qutip.solver.integrator import IntegratorException

from .._progress import qutip_progress_bar
from ..exact._common import check_evolve_options
from ..states import dicke_basis, parse_initial
from .full import FullSpace, _dimension_text, hilbert_dimension

__all__ = ["supports", "evolve"]

NAME = "trajectories"
EXACT = False
_DEFAULTS = {"nphot": 10, "ntraj": 200, "seed": 0, "progress_bar": None,
             "max_memory": 8 * 2 ** 30, "max_time": 3600.0, "atol": None, "rtol": None,
             "nsteps": None}


def supports(model):
    """``None`` if the model has an explicit form (integer atoms per cluster)."""
    if not model.is_integer:
        return f"needs an integer number of atoms per cluster (N={model.counts.tolist()})"
    return None


_ACCEPTED = ("None, 'ground', 'excited', 'superradiant', a symmetric Dicke state (N/2, m) or a "
             "ket Qobj of the tensor space")


def _initial(space, initial):
    """The initial ket: trajectories need a pure state."""
    atoms = [d for s, d in space.subsystems if s.kind != "mode"]
    spec = parse_initial(initial, len(atoms), accepted=_ACCEPTED)
    if spec is not None and spec[0] == "product":
        # level 1 is basis(d, d − 1), the highest level basis(d, 0)
        idx = [0 if s.kind == "mode" or spec[1] == "excited" else d - 1
               for s, d in space.subsystems]
        return qutip.basis(space.dims, idx)
    if spec is not None:
        _, j, m = spec
        N = len(atoms)
        if any(d != 2 for d in atoms) or j != N / 2:
            raise ValueError(f"initial={initial!r}: trajectories need a ket; Dicke states with "
                             "j < N/2 are mixed (and need two-level atoms): use method='dicke' "
                             "or 'full'")
        modes = [d for s, d in space.subsystems if s.kind == "mode"]
        vec = np.kron(np.eye(int(np.prod(modes, dtype=int)), 1).ravel(),
                      dicke_basis(N)[(j, m)][:, 0])
        return qutip.Qobj(vec, dims=[space.dims, [1] * len(space.dims)])
    if not (isinstance(initial, qutip.Qobj) and initial.isket and initial.shape[0] == space.dim):
        raise TypeError(f"initial must be {_ACCEPTED} (dimension {space.dim}, dims "
                        f"{space.dims}); got {initial!r:.80}")
    return initial


def evolve(model, tlist, initial=None, e_ops=None, options=None):
    """Monte-Carlo wave-function evolution, averaged over ``ntraj`` trajectories.

    Options
    -------
    nphot : int or dict, default 10
    ntraj : int, default 200
    seed : int, default 0
        Seed of the trajectories (reproducible runs).
    progress_bar : None, bool or str
        QuTiP's progress bar over the trajectories (None/False/"" off, True/"text",
        "enhanced", "tqdm"); the former option ``progress`` is deprecated.
    max_memory : float, default 8 GiB
        Refuse when the operators (≈ 200 B per basis state and jump) exceed it.
    max_time : float, default 3600
        Wall-time limit in seconds (QuTiP's ``timeout``); fewer than ``ntraj`` finished
        trajectories raise ``TimeLimitError``.
    atol, rtol, nsteps : optional
        QuTiP's integrator options (its defaults when omitted); more than ``nsteps``
        steps between output times raise ``TimeLimitError``.

    Returns
    -------
    TimeResult
        ``values`` the trajectory means, ``std`` their standard errors.
    """
    tlist = V.check_grid("tlist", tlist)
    if isinstance(options, dict) and "progress" in options:
        options = dict(options)
        V.rename_keywords(options, {"progress": "progress_bar"},
                          "evolve(method='trajectories')", category=DeprecationWarning)
    opts = check_evolve_options(V.check_options(options, _DEFAULTS,
                                                "evolve(method='trajectories')"))
    ntraj = V.check_int("ntraj", opts["ntraj"], minimum=2)
    e_ops = normalise_e_ops(e_ops)
    nphot = opts["nphot"] if model.modes else None
    dim = hilbert_dimension(model, nphot)
    n_ops = 1 + len(model.symbolic.jump_list) * max(int(model.N), 1)
    V.check_memory(dim * n_ops * 200, opts["max_memory"],
                   f"the trajectory operators (Hilbert dimension {_dimension_text(dim)})")
    space = FullSpace(model, nphot)
    initial = _initial(space, initial)
    t0 = time.perf_counter()
    ops = [model.to_qobj(op, space.nphot) for op in e_ops.values()]
    qopts = {"progress_bar": qutip_progress_bar(opts["progress_bar"]), "store_states": False}
    qopts.update({k: opts[k] for k in ("atol", "rtol", "nsteps") if opts[k] is not None})
    try:
        res = qutip.mcsolve(model.hamiltonian(space.nphot), initial, tlist,
                            model.c_ops(space.nphot), e_ops=ops, ntraj=ntraj, options=qopts,
                            seeds=int(opts["seed"]), timeout=opts["max_time"])
    except IntegratorException as exc:
        raise V.TimeLimitError(f"evolve(method='trajectories'): the integrator stopped ({exc}); "
                               "raise nsteps, add output times or check the rates") from None
    if res.num_trajectories < ntraj:
        raise V.TimeLimitError(f"evolve(method='trajectories') exceeded max_time = "
                               f"{opts['max_time']:.3g} s after {res.num_trajectories} of {ntraj} "
                               f"trajectories (Hilbert dimension {space.dim}); raise max_time or "
                               "lower ntraj")
    values, std = {}, {}
    for i, k in enumerate(e_ops):
        values[k] = np.asarray(res.expect[i])
        std[k] = np.asarray(res.std_expect[i]) / np.sqrt(ntraj)
    return TimeResult("trajectories", model, tlist, values, std=std, e_ops=e_ops,
                      stats={"dimension": space.dim, "ntraj": ntraj,
                             "time": time.perf_counter() - t0})
