"""The lasers of :mod:`.laser` as model descriptions, solved by the generic exact solvers.

:func:`description` writes :class:`~.laser.SuperradiantLaser` and
:class:`~.laser.BadCavityLaser` as :class:`~qutip_superrad.Model` objects (one
symbolic structure per kind, re-bound to each laser's numbers); the functions
below call :mod:`qutip_superrad.solvers` and translate the generic results into
the laser's :class:`~qutip_superrad.SteadyStateResult` /
:class:`~qutip_superrad.EvolutionResult` fields (per-cluster populations and
pair correlations, photon flux, ``g⁽²⁾``, photon distribution).
"""
from __future__ import annotations

import functools

import numpy as np
import qutip

from .. import solvers
from ..cumulant.engine.algebra import Mode, parameters
from ..cumulant.engine.clusters import Clusters
from ..model import Model
from ..results import EvolutionResult, SteadyStateResult, normalise_e_ops
from ..solvers._shared import real_if_close
from ..solvers import dicke as _dicke
from ..solvers import full as _full

__all__ = ["description", "supports", "steadystate", "evolve", "spectrum", "liouvillian"]


@functools.lru_cache(maxsize=None)
def _template(has_mode):
    """The symbolic laser (built once, so that derived equations are shared)."""
    atoms = Clusters("s")
    s = atoms.atom
    Delta, g = atoms.parameters("detuning coupling")
    Gamma, R, nu = parameters("emission pumping dephasing")
    local = [(Gamma, atoms.each(s.sm)), (R, atoms.each(s.sp)), (nu, atoms.each(s.sp * s.sm))]
    if has_mode:
        a = Mode("a")
        kappa, xi, dc = parameters("kappa cavity_dephasing cavity_detuning")
        H = dc * a.num() + atoms.sum(-Delta * s.sp * s.sm + g * (a.a * s.sp + a.adag * s.sm))
        jumps = [(kappa, a.a), (xi, a.num())] + local
        values = dict(kappa=1.0, cavity_dephasing=0.0, cavity_detuning=0.0, coupling=[1.0])
        ops = {"n": a.num(), "nn": a.adag * a.adag * a.a * a.a}
    else:
        gc, chi = parameters("collective_emission collective_shift")
        Jp, Jm = atoms.sum(s.sp), atoms.sum(s.sm)
        H = atoms.sum(-Delta * s.sp * s.sm) - chi * (Jp * Jm)
        jumps = [(gc, Jm)] + local
        values = dict(collective_emission=1.0, collective_shift=0.0)
        ops = {"four": Jp * Jp * Jm * Jm}
    model = Model(H, jumps, parameters=dict(values, detuning=[0.0], emission=0.0, pumping=0.0,
                                            dephasing=0.0), N=1, name="superradiant laser"
                  if has_mode else "bad-cavity laser")
    ops.update(exc=atoms.sum(s.s(2, 2)), JpJm=atoms.sum(s.sp) * atoms.sum(s.sm),
               Jm=atoms.sum(s.sm))
    return model, ops


def description(laser):
    """``laser`` as a :class:`~qutip_superrad.Model` with its numbers."""
    ens = laser.ensemble
    template, _ = _template(laser.has_mode)
    values = dict(detuning=ens.detunings, emission=laser.emission, pumping=laser.pumping,
                  dephasing=laser.dephasing)
    if laser.has_mode:
        values.update(kappa=laser.kappa, cavity_dephasing=laser.cavity_dephasing,
                      cavity_detuning=laser.cavity_detuning, coupling=ens.couplings)
    else:
        values.update(collective_emission=laser.collective_emission,
                      collective_shift=laser.collective_shift)
    model = template.with_values(N=ens.counts, **values)
    if ens.distribution is not None:
        model = model.with_distribution(ens.distribution)
    return model


def supports(laser, method):
    """Raise ``ValueError`` if ``method`` ("full" or "dicke") does not fit the laser."""
    if method == "full" and not laser.has_mode:
        raise ValueError("method='full' is available for models with a cavity mode; "
                         "use method='dicke' for the bad-cavity limit")
    ens = laser.ensemble
    if not ens.is_integer:
        raise ValueError(f"method={method!r} needs an integer number of atoms per cluster, got "
                         f"N={ens.N:g} (counts={ens.counts})")
    if method == "dicke" and not ens.is_identical:
        if laser.has_mode:
            raise ValueError("method='dicke' needs identical atoms (one detuning and one "
                             "coupling); use method='full' for distinct atoms or "
                             "method='cumulant' for clusters")
        raise ValueError("method='dicke' needs identical atoms (one detuning and one coupling); "
                         "the bad-cavity model has no other method: for distinct atoms solve "
                         "its description, qsr.steadystate(laser.description(), 'full') or "
                         "'cumulant'")


def _dicke_description(laser):
    """One cluster: identical atoms (several equal clusters are merged)."""
    ens = laser.ensemble
    model = description(laser)
    if ens.n_clusters == 1:
        return model
    values = {k: (v[:1] if np.ndim(v) else v) for k, v in model.parameters.items()}
    return model.with_values(N=[float(np.sum(ens.counts))], **values)


def _options(options, method):
    opts = dict(options)
    opts.pop("check_positivity", None)          # accepted for compatibility
    return opts


# -- observables ---------------------------------------------------------------

def _cluster_observables(laser, rho, nphot):
    """Per-cluster populations and pair correlations (distinct atoms) from a Qobj."""
    _, _, cluster = laser.ensemble.atom_parameters()
    M = laser.ensemble.n_clusters
    sm = laser._operators(nphot)[1]
    n_atoms = len(sm)
    single = np.array([qutip.expect(s.dag() * s, rho) for s in sm])
    pair_atoms = np.zeros((n_atoms, n_atoms), complex)
    for i in range(n_atoms):
        for j in range(n_atoms):
            if i != j:
                pair_atoms[i, j] = qutip.expect(sm[i].dag() * sm[j], rho)
    pop = np.array([single[cluster == m].mean() for m in range(M)])
    pair = np.zeros((M, M), complex)
    for m in range(M):
        for j in range(M):
            mask = (cluster[:, None] == m) & (cluster[None, :] == j) & ~np.eye(n_atoms, dtype=bool)
            if mask.any():
                pair[m, j] = pair_atoms[mask].mean()
    return pop, pair


#: the flag of a bad-cavity laser built without κ (photon_number = photon_flux/κ is nan)
_NO_KAPPA = ("nan: the BadCavityLaser has no kappa (photon_number = photon_flux/kappa); give "
             "kappa=, or use photon_flux")


def _g2(second, first):
    """``⟨second⟩/⟨first⟩²``; ``nan`` for no light (a square that underflows counts as none)."""
    return second / first ** 2 if first ** 2 > 0 else float("nan")


def _checks(res):
    checks = dict(res.checks)
    trunc = checks.get("truncation") or {}
    if "a" in trunc:
        checks["truncation"] = trunc["a"]
    else:
        checks.pop("truncation", None)
    if "spin" in trunc:                          # option jmax of method="dicke"
        checks["spin_truncation"] = trunc["spin"]
    checks["dimension"] = res.stats.get("dimension")
    return checks


def _steady_result(laser, method, res, ops):
    checks = _checks(res)
    if method == "full":
        rho = res.state
        nphot = rho.dims[0][0]
        pn = np.real(rho.ptrace(0).diag())
        n = float(np.sum(np.arange(nphot) * pn))
        nn = float(np.sum(np.arange(nphot) * (np.arange(nphot) - 1) * pn))
        pop, pair = _cluster_observables(laser, rho, nphot)
        return SteadyStateResult(method="full", photon_number=n, excited_population=pop,
                                 pair_correlation=pair, photon_flux=laser.kappa * n,
                                 g2=_g2(nn, n), photon_distribution=pn,
                                 checks=checks, state=rho, model=laser)
    N = int(round(laser.ensemble.N))
    v = res.values
    exc = v["exc"]
    pair = (v["JpJm"] - exc) / (N * (N - 1)) if N > 1 else 0.0
    if laser.has_mode:
        n = v["n"]
        flux, g2 = laser.kappa * n, _g2(v["nn"], n)
        pn = res.state.photon_distribution(0)
    else:
        pn = None
        flux = laser.collective_emission * v["JpJm"]
        g2 = _g2(v["four"], v["JpJm"])
        n = flux / laser.kappa if laser.kappa else float("nan")
        if not laser.kappa:
            checks["photon_number"] = _NO_KAPPA
    return SteadyStateResult(method="dicke", photon_number=n, excited_population=np.array([exc / N]),
                             pair_correlation=np.array([[pair]], complex), photon_flux=flux,
                             g2=g2, photon_distribution=pn, checks=checks, state=res.state,
                             model=laser)


def _e_ops(laser, method):
    _, ops = _template(laser.has_mode)
    if method == "full":
        return {}
    keys = ("n", "nn", "exc", "JpJm") if laser.has_mode else ("four", "exc", "JpJm")
    return {k: ops[k] for k in keys}


def steadystate(laser, method, options):
    """Exact steady state by ``method`` ("full" or "dicke") as a SteadyStateResult."""
    model = description(laser) if method == "full" else _dicke_description(laser)
    res = solvers.steadystate(model, method, e_ops=_e_ops(laser, method),
                              options=_options(options, method))
    return _steady_result(laser, method, res, None)


def _user_e_ops(model, method, e_ops):
    """``({key: description operator}, {key: Qobj})`` of the user's ``e_ops``."""
    ops, qobjs = {}, {}
    for k, op in normalise_e_ops(e_ops).items():
        if isinstance(op, qutip.Qobj):
            if method != "full":
                raise TypeError(f"e_ops[{k!r}]: a Qobj acts on the tensor space of "
                                "method='full'; with method='dicke' give an operator of the "
                                "description (laser.description())")
            qobjs[k] = op
        else:
            model.check_operator(op, f"e_ops[{k!r}]")
            ops[k] = op
    return ops, qobjs


def evolve(laser, method, tlist, initial, options, e_ops=None):
    """Exact evolution from the ground state (or ``initial``) as an EvolutionResult."""
    model = description(laser) if method == "full" else _dicke_description(laser)
    user, qobjs = _user_e_ops(model, method, e_ops)
    e_ops = {**_e_ops(laser, method), **{("user", k): op for k, op in user.items()}}
    res = solvers.evolve(model, tlist, method, initial=initial, e_ops=e_ops,
                         options=_options(options, method))
    expect = {k: res.values[("user", k)] for k in user}
    for k, op in qobjs.items():
        if op.dims != res.states[0].dims:
            raise ValueError(f"e_ops[{k!r}] has dims {op.dims}; the states have "
                             f"{res.states[0].dims}")
        expect[k] = real_if_close(np.array([qutip.expect(op, r) for r in res.states]))
    expect = {k: expect[k] for k in list(user) + list(qobjs)}
    if method == "full":
        nphot = res.states[0].dims[0][0]
        a = laser._operators(nphot)[0]
        obs = [_cluster_observables(laser, r, nphot) for r in res.states]
        return EvolutionResult(times=res.times,
                               photon_number=np.array([qutip.expect(a.dag() * a, r) for r in res.states]),
                               excited_population=np.array([o[0] for o in obs]),
                               pair_correlation=np.array([o[1] for o in obs]), method="full",
                               states=res.states, expect=expect)
    N = int(round(laser.ensemble.N))
    exc = np.real(res.values["exc"]) / N
    jpjm = np.real(res.values["JpJm"])
    pair = (jpjm - exc * N) / (N * (N - 1)) if N > 1 else np.zeros_like(exc)
    photons = (np.real(res.values["n"]) if laser.has_mode
               else jpjm * laser.collective_emission / (laser.kappa or np.nan))
    checks = {} if laser.has_mode or laser.kappa else {"photon_number": _NO_KAPPA}
    return EvolutionResult(times=res.times, photon_number=photons, excited_population=exc[:, None],
                           pair_correlation=pair[:, None, None].astype(complex), method="dicke",
                           states=res.states, expect=expect, checks=checks)


def spectrum(laser, method, omega, options):
    """Exact emission spectrum: ``⟨a†(τ)a(0)⟩`` (``⟨J⁺(τ)J⁻(0)⟩`` without a mode)."""
    model = description(laser) if method == "full" else _dicke_description(laser)
    _, ops = _template(laser.has_mode)
    B = model.modes[0].a if laser.has_mode else ops["Jm"]
    opts = _options(options, method)
    res = solvers.spectrum(model, omega, method, operator=B, options=opts)
    ss = res.steady_state
    if method == "dicke":
        # the observables of the steady state, from the stored state
        ss.values = {k: ss.state.expect(op) for k, op in _e_ops(laser, method).items()}
        ss.values = {k: (v.real if abs(v.imag) <= 1e-12 * max(1.0, abs(v)) else v)
                     for k, v in ss.values.items()}
    res.steady_state = _steady_result(laser, method, ss, None)
    res.checks["steady_state"] = res.steady_state.checks
    return res


def liouvillian(laser, method, nphot, sector, max_memory):
    """The Liouvillian (or one sector block) as a Qobj."""
    from .. import _validate as V
    from ..exact._common import DEFAULT_MAX_MEMORY
    limit = DEFAULT_MAX_MEMORY if max_memory is None else max_memory
    opts = {"nphot": nphot, "max_memory": limit}
    if method == "full":
        model = description(laser)
        if sector is None:
            V.check_memory(_full.estimate(model, opts)["memory"], limit,
                           f"the full-space Liouvillian of {model.N} atoms")
            return model.liouvillian(nphot)
        space, L = _full._liouvillian(model, dict(_full._DEFAULTS, **opts))
        ket, bra = space.sector(V.check_int("sector", sector))
        Ls = _full._restrict(L, space, ket, bra)
        return qutip.Qobj(Ls, dims=[[Ls.shape[0]], [Ls.shape[0]]])
    model = _dicke_description(laser)
    est = _dicke.estimate(model, opts if laser.has_mode else {"max_memory": limit})
    V.check_memory(est["memory"], limit, f"the Dicke-basis Liouvillian ({est['size']} elements)")
    space = _dicke.DickeFockSpace(int(model.N), [nphot] if laser.has_mode else [],
                                  0 if sector is None else V.check_int("sector", sector))
    L = _dicke.liouvillian(model, space)
    return qutip.Qobj(L, dims=[[space.dim], [space.dim]])
