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
from .full import FullSpace

__all__ = ["supports", "evolve"]

NAME = "trajectories"
EXACT = False
_DEFAULTS = {"nphot": 10, "ntraj": 200, "seed": 0, "progress": False, "max_memory": 8 * 2 ** 30}


def supports(model):
    """``None`` if the model has an explicit form (integer atoms per cluster)."""
    if not model.is_integer:
        return f"needs an integer number of atoms per cluster (N={model.counts.tolist()})"
    return None


def evolve(model, tlist, initial=None, e_ops=None, options=None):
    """Monte-Carlo wave-function evolution, averaged over ``ntraj`` trajectories.

    Options
    -------
    nphot : int or dict, default 10
    ntraj : int, default 200
    seed : int, default 0
        Seed of the trajectories (reproducible runs).
    progress : bool, default False
        Show QuTiP's progress bar.
    max_memory : float, default 8 GiB
        Refuse when the operators (≈ 200 B per basis state and jump) exceed it.

    Returns
    -------
    TimeResult
        ``values`` the trajectory means, ``std`` their standard errors.
    """
    tlist = V.check_grid("tlist", tlist)
    opts = V.check_options(options, _DEFAULTS, "evolve(method='trajectories')")
    ntraj = V.check_int("ntraj", opts["ntraj"], minimum=2)
    e_ops = normalise_e_ops(e_ops)
    space = FullSpace(model, opts["nphot"] if model.modes else None)
    n_ops = 1 + len(model.symbolic.jump_list) * max(int(model.N), 1)
    V.check_memory(float(space.dim) * n_ops * 200, opts["max_memory"],
                   f"the trajectory operators (Hilbert dimension {space.dim})")
    if initial is None:
        # vacuum and every atom in level 1, which is basis(n, n − 1)
        idx = [0 if s.kind == "mode" else d - 1 for s, d in space.subsystems]
        initial = qutip.basis(space.dims, idx)
    if not (isinstance(initial, qutip.Qobj) and initial.isket and initial.shape[0] == space.dim):
        raise TypeError(f"initial must be a ket Qobj of dimension {space.dim} (dims {space.dims})")
    t0 = time.perf_counter()
    ops = [model.to_qobj(op, space.nphot) for op in e_ops.values()]
    res = qutip.mcsolve(model.hamiltonian(space.nphot), initial, tlist, model.c_ops(space.nphot),
                        e_ops=ops, ntraj=ntraj,
                        options={"progress_bar": "text" if opts["progress"] else False,
                                 "store_states": False},
                        seeds=int(opts["seed"]))
    values, std = {}, {}
    for i, k in enumerate(e_ops):
        values[k] = np.asarray(res.expect[i])
        std[k] = np.asarray(res.std_expect[i]) / np.sqrt(ntraj)
    return TimeResult("trajectories", model, tlist, values, std=std, e_ops=e_ops,
                      stats={"dimension": space.dim, "ntraj": ntraj,
                             "time": time.perf_counter() - t0})
