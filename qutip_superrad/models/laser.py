"""The superradiant laser with inhomogeneous broadening and its bad-cavity limit.

The model of A. Bychek, C. Hotter, D. Plankensteiner and H. Ritsch,
*Superradiant lasing in inhomogeneously broadened ensembles with spatially
varying coupling*, Open Research Europe 1, 73 (2021), eqs 1–3.

Master equation (ħ = 1, rotating frame of the nominal cavity frequency)::

    H = δ_c a†a − Σ_i Δ_i σ⁺_i σ⁻_i + Σ_i g_i (a σ⁺_i + a† σ⁻_i)
    dρ/dt = −i[H, ρ] + κ D[a]ρ + ξ D[a†a]ρ
            + Σ_i (Γ D[σ⁻_i] + R D[σ⁺_i] + ν D[σ⁺_i σ⁻_i]) ρ

with ``D[c]ρ = cρc† − ½{c†c, ρ}``.  The paper writes the cavity loss as
``(κ/2)(2aρa† − a†aρ − ρa†a)``, which is ``κ D[a]``: the rates map one to
one.  ``δ_c`` (``cavity_detuning``) is zero in the paper.

Parameter names follow :mod:`qutip.piqs` (see the glossary in
``docs/model_description.md``): ``emission`` = Γ, ``pumping`` = R,
``dephasing`` = ν, ``collective_emission`` = Γ_c.  The laser writes its
dephasing as ``ν D[σ⁺σ⁻] = (ν/4) D[σ_z]`` (coherences decay at ``ν/2``), not
as a rate of ``D[σ_z]``; this is the same rate as ``qutip.piqs.Dicke(...,
dephasing=ν)``, whose ``(γ_D/2) ℒ[σ_z/2]`` with ``ℒ[A] = 2AρA† − A†Aρ − ρA†A``
is ``γ_D D[σ⁺σ⁻]`` (one atom: identical Liouvillians).  The former
names ``gamma``, ``pump``, ``atom_dephasing`` and ``collective_decay`` are
still accepted as keywords and read as attributes, with a ``FutureWarning``.

QuTiP conventions: the mode comes first in tensor products, then the atoms;
``basis(2, 0)`` is the *excited* state ``|e⟩`` and ``σ⁻ = qutip.sigmam()``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._threads import limited_blas
import qutip

from .._validate import (check_int, check_rate, check_real, renamed_attribute,
                         renamed_keywords)
from ..ensemble import Ensemble

if TYPE_CHECKING:                                   # pragma: no cover
    from numpy.typing import ArrayLike

    from ..model import Model
    from ..results import EvolutionResult, SpectrumResult, SteadyStateResult

__all__ = ["SuperradiantLaser", "BadCavityLaser"]

_METHODS = ("full", "dicke", "cumulant")
#: observables of a cumulant SteadyStateResult that a generic result gives (generic_call)
_GENERIC = ("photon_number", "photon_flux", "excited_population", "inversion")

#: former keyword / attribute names -> names after qutip.piqs
_RENAMED = {"gamma": "emission", "pump": "pumping", "atom_dephasing": "dephasing"}
_RENAMED_BAD_CAVITY = dict(_RENAMED, collective_decay="collective_emission")


def _merge(options, kwargs):
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")
    merged = dict(options or {})
    merged.update(kwargs)
    return merged


class _Model:
    """Dispatch of ``steadystate``/``evolve``/``spectrum``: ``full`` and ``dicke`` go through
    the generic solvers of the model description (:meth:`description`), ``cumulant`` through
    the hand-derived cluster cumulants (:mod:`qutip_superrad.cumulant.laser`, a fast path
    tested against the cumulant engine)."""

    _methods = _METHODS

    def _check_method(self, method):
        if not isinstance(method, str) or method not in self._methods:
            raise ValueError(f"method must be one of {self._methods}, got {method!r}")
        if method == "cumulant":
            from ..cumulant import laser as mod
            mod.supports(self)
            return mod
        from . import _laser_exact
        _laser_exact.supports(self, method)
        return _laser_exact

    def description(self) -> Model:
        """The model as a :class:`~qutip_superrad.Model` (solvable by every method)."""
        from . import _laser_exact
        return _laser_exact.description(self)

    @limited_blas
    def steadystate(self, method: str = "dicke", *, options: dict | None = None,
                    **kwargs: Any) -> SteadyStateResult:
        """Steady state by the chosen method.

        Parameters
        ----------
        method : {"full", "dicke", "cumulant"}
            ``"full"``: tensor-product space, any per-atom parameters, solved
            in the excitation-difference sector k=0.  ``"dicke"``: permutation-
            invariant Dicke basis (identical atoms), per U(1) sector.
            ``"cumulant"``: second-order cluster cumulants (any N).
        options : dict, optional
            Method options, also accepted as keywords; unknown keys raise
            ``ValueError``.  ``"full"`` and ``"dicke"``:

            - ``nphot`` (int, default 10): Fock states of the mode;
            - ``max_memory`` (bytes, default 8 GiB): refuse before building
              (``MemoryLimitError`` with the estimate);
            - ``strict`` (bool, default False): raise instead of warning when the
              photon space is truncated; ``truncation_tol`` (default 1e-6): allowed
              population of the top Fock state;
            - ``jmax`` (``"dicke"`` only; default all ``j ≤ N/2``): largest total spin
              kept — the weight sits near ``j ~ √N`` with local pumping, so ``jmax ≈
              N/3`` reaches N = 200 with the cavity; the weight of the top kept block is
              in ``checks["spin_truncation"]`` and checked against ``truncation_tol``;
            - ``max_time`` (s, default 600): limit of the iterative (GMRES) solve of
              large sectors (``TimeLimitError`` with iterations and residual);
            - ``progress_bar``: QuTiP's values (None/False/"" off, True/"text",
              "enhanced", "tqdm").

            ``"cumulant"``: ``order`` (2, or 1), ``backend`` ("cython"/"numpy"),
            ``tol`` (1e-11), ``maxiter`` (200), ``initial`` (start vector), ``n_seeds``,
            ``check_stability``, ``strict``, ``residual_tol``, ``enforce_bounds``,
            ``seed_time``, ``progress_bar``.

        Returns
        -------
        SteadyStateResult
        """
        mod = self._check_method(method)
        if method == "cumulant":
            return mod.steadystate(self, _merge(options, kwargs))
        return mod.steadystate(self, method, _merge(options, kwargs))

    @limited_blas
    def evolve(self, tlist: ArrayLike, method: str = "dicke", *, initial: Any = None,
               e_ops: Any = None, options: dict | None = None, **kwargs: Any) -> EvolutionResult:
        """Time evolution of the observables.

        Parameters
        ----------
        tlist : array_like
            Strictly increasing output times; the evolution starts at ``tlist[0]``.
        method : {"full", "dicke", "cumulant"}
        initial : optional
            ``None``/``"ground"`` (vacuum, every atom in level 1, the ground state
            ``basis(2, 1)``: QuTiP's ``basis(2, 0)`` is the *excited* state),
            ``"excited"``, ``"superradiant"`` (Dicke ``|N/2, m⟩`` of smallest ``|m|``),
            a Dicke state ``(j, m)`` (``"full"``, ``"dicke"``), or a Qobj: the tensor
            space (``"full"``; ``"dicke"`` if permutation invariant) or the Dicke
            representation of :meth:`DickeFockState.to_qobj`.  ``"cumulant"``: the
            product states ``"ground"``/``"excited"``, a state vector or a cumulant
            ``SteadyStateResult``.  Anything else raises ``ValueError``/``TypeError``
            naming ``initial`` and the accepted values.
        e_ops : operator, list or dict, optional
            Extra expectation values (``"full"``, ``"dicke"``): operators of
            :meth:`description` (e.g. ``m.modes[0].num()``,
            ``m.clusters.sum(s.sp) * m.clusters.sum(s.sm)``), or Qobj of the tensor
            space for ``"full"``; returned in ``result.expect`` (QuTiP's meaning).
        options : dict, optional
            Also accepted as keywords; unknown keys raise ``ValueError``.
            ``"full"``/``"dicke"``: ``nphot`` (10), ``max_memory`` (8 GiB),
            ``atol``, ``rtol``, ``nsteps`` (QuTiP's: given any of them the equation is
            integrated by the Adams method with QuTiP's defaults 1e-8, 1e-6, 2500
            instead of the exact propagator ``exp(Lt)``; more than ``nsteps`` steps
            between output times raise ``TimeLimitError``), ``max_time`` (s, wall-time
            limit), ``progress_bar`` (QuTiP's values).  ``"cumulant"``: ``order``,
            ``backend``, ``integrator``, ``rtol``, ``atol``, ``store_pairs``,
            ``store_states``, ``max_time``, ``progress_bar``.

        Returns
        -------
        EvolutionResult
        """
        mod = self._check_method(method)
        if method == "cumulant":
            if e_ops is not None:
                raise ValueError("e_ops needs method='full' or 'dicke'; the cumulant result "
                                 "holds photon_number, excited_population, pair_correlation")
            return mod.evolve(self, tlist, initial, _merge(options, kwargs))
        return mod.evolve(self, method, tlist, initial, _merge(options, kwargs), e_ops=e_ops)

    @limited_blas
    def spectrum(self, omega: ArrayLike, method: str = "dicke", *, options: dict | None = None,
                 **kwargs: Any) -> SpectrumResult:
        """Emission spectrum ``S(ω)`` with FWHM and peak position.

        ``S(ω) = 2 Re ∫₀^∞ e^{−iωτ} g⁽¹⁾(τ) dτ``, ``g⁽¹⁾(τ) = ⟨a†(τ)a(0)⟩`` in the
        steady state (``⟨J⁺(τ)J⁻(0)⟩`` in the bad-cavity limit), by the
        quantum regression theorem.

        Parameters
        ----------
        omega : array_like
            Strictly increasing frequencies (rotating frame of the cavity).
        method : {"full", "dicke", "cumulant"}
        options : dict, optional
            Also accepted as keywords; unknown keys raise ``ValueError``.
            ``"full"``/``"dicke"``: the steady-state options (``nphot``,
            ``max_memory``, ``strict``, ``truncation_tol``, ``max_time``; ``jmax`` for
            ``"dicke"``),
            ``prominence`` and ``progress_bar`` (QuTiP's values).  ``"cumulant"``:
            ``order``, ``backend``, ``steadystate`` (options of the steady state),
            ``state`` (a steady state to reuse), ``n_hints``, ``poles``,
            ``prominence``, ``progress_bar``.  Every method: ``prominence`` is the
            relative prominence threshold of ``n_peaks`` (default 1e-3 of the
            maximum, :func:`~qutip_superrad.spectrum.count_peaks`).

        Returns
        -------
        SpectrumResult
            A system that emits nothing gives ``S = 0``, ``linewidth = nan`` and
            ``checks["dark"] = True``; ``checks["peak_prominence"]`` records the
            threshold of ``n_peaks``.
        """
        mod = self._check_method(method)
        if method == "cumulant":
            return mod.spectrum(self, omega, _merge(options, kwargs))
        return mod.spectrum(self, method, omega, _merge(options, kwargs))


class SuperradiantLaser(_Model):
    """Incoherently pumped two-level atoms in a single-mode cavity.

    The superradiant laser of Bychek, Hotter, Plankensteiner and Ritsch,
    Open Research Europe 1, 73 (2021).

    Parameters
    ----------
    ensemble : Ensemble
        Atoms in clusters (counts, detunings ``Δ_m = ω_c − ω_m``, couplings ``g_m``).
    kappa : float
        Cavity loss rate ``κ`` (``κ D[a]``), > 0.
    emission : float
        Spontaneous emission rate ``Γ`` of each atom (``Γ D[σ⁻]``; formerly ``gamma``).
    pumping : float
        Incoherent pump rate ``R`` of each atom (``R D[σ⁺]``; formerly ``pump``).
    dephasing : float
        ``ν`` in ``ν D[σ⁺σ⁻]`` per atom (coherences decay at ``ν/2``; formerly
        ``atom_dephasing``).  Note the operator: ``D[σ⁺σ⁻]``, not ``D[σ_z]``
        (``ν D[σ⁺σ⁻] = (ν/4) D[σ_z]``); the rate equals ``dephasing`` of
        :class:`qutip.piqs.Dicke`.
    cavity_dephasing : float
        ``ξ`` in ``ξ D[a†a]``.
    cavity_detuning : float
        ``δ_c``: cavity frequency relative to the rotating frame, ``δ_c a†a``.

    The former keyword names ``gamma``, ``pump`` and ``atom_dephasing`` are
    accepted with a ``FutureWarning`` (also as read-only attributes).

    Examples
    --------
    >>> import qutip_superrad as qsr
    >>> laser = qsr.SuperradiantLaser(qsr.Ensemble.identical(4, g=1), kappa=10, emission=0.1,
    ...                               pumping=1)
    >>> ss = laser.steadystate(method="dicke", nphot=8)
    """

    @renamed_keywords(_RENAMED)
    def __init__(self, ensemble: Ensemble, kappa: float, emission: float, pumping: float,
                 dephasing: float = 0.0, cavity_dephasing: float = 0.0,
                 cavity_detuning: float = 0.0) -> None:
        if not isinstance(ensemble, Ensemble):
            raise TypeError(f"ensemble must be an Ensemble, got {type(ensemble).__name__}")
        self.ensemble = ensemble
        self.kappa = check_rate("kappa", kappa)
        if self.kappa == 0:
            raise ValueError("kappa must be > 0 (a lossless cavity has no steady state)")
        self.emission = check_rate("emission", emission)
        self.pumping = check_rate("pumping", pumping)
        self.dephasing = check_rate("dephasing", dephasing)
        self.cavity_dephasing = check_rate("cavity_dephasing", cavity_dephasing)
        self.cavity_detuning = check_real("cavity_detuning", cavity_detuning)

    has_mode = True
    gamma = renamed_attribute("gamma", "emission")
    pump = renamed_attribute("pump", "pumping")
    atom_dephasing = renamed_attribute("atom_dephasing", "dephasing")

    def with_ensemble(self, ensemble: Ensemble) -> SuperradiantLaser:
        """A copy of the model with another ensemble (same rates)."""
        return type(self)(ensemble, **self.parameters())

    def parameters(self) -> dict[str, float]:
        """The rates as a dict (keyword arguments of the constructor, without the ensemble)."""
        return dict(kappa=self.kappa, emission=self.emission, pumping=self.pumping,
                    dephasing=self.dephasing, cavity_dephasing=self.cavity_dephasing,
                    cavity_detuning=self.cavity_detuning)

    # -- full-space operators (plain QuTiP) ---------------------------------
    def _operators(self, nphot):
        """``(a, [σ⁻_i], Δ_i, g_i, dims)`` in the tensor space, built directly with QuTiP."""
        nphot = check_int("nphot", nphot, minimum=2)
        delta, g, _ = self.ensemble.atom_parameters()
        n = delta.size
        dims = [nphot] + [2] * n

        def site(op, k):
            ops = [qutip.qeye(nphot)] + [qutip.qeye(2)] * n
            ops[k + 1] = op
            return qutip.tensor(ops)

        a = qutip.tensor([qutip.destroy(nphot)] + [qutip.qeye(2)] * n)
        sm = [site(qutip.sigmam(), k) for k in range(n)]
        return a, sm, delta, g, dims

    def hamiltonian(self, nphot: int) -> qutip.Qobj:
        """Hamiltonian in the full tensor space (mode ⊗ atoms) as a Qobj.

        Parameters
        ----------
        nphot : int
            Number of Fock states of the mode (>= 2).
        """
        return self.description().hamiltonian(check_int("nphot", nphot, minimum=2))

    def c_ops(self, nphot: int) -> list[qutip.Qobj]:
        """Collapse operators ``sqrt(rate)·c`` in the full space (zero rates omitted)."""
        return self.description().c_ops(check_int("nphot", nphot, minimum=2))

    def liouvillian(self, method: str = "full", nphot: int = 8, sector: int | None = None,
                    max_memory: float | None = None) -> qutip.Qobj:
        """Liouvillian as a Qobj.

        Parameters
        ----------
        method : {"full", "dicke"}
            ``"full"``: the superoperator of the tensor space (all sectors if
            ``sector`` is None).  ``"dicke"``: the Liouvillian on the
            block-diagonal Dicke elements of one excitation-difference sector
            (default ``sector=0``), an operator on that sector's vector of
            degeneracy-weighted elements (see
            :class:`~qutip_superrad.solvers.dicke.DickeFockSpace`).
        nphot : int
            Fock states of the mode.
        sector : int, optional
            Excitation difference ``k`` between ket and bra.
        max_memory : float, optional
            Limit in bytes (default: see the method's options).
        """
        if method not in ("full", "dicke"):
            raise ValueError(f"method must be 'full' or 'dicke' for a Liouvillian, got {method!r}")
        from . import _laser_exact
        self._check_method(method)
        return _laser_exact.liouvillian(self, method, check_int("nphot", nphot, minimum=2),
                                        sector, max_memory)

    def generic_call(self, method: str = "cumulant", observables: Any = None,
                     options: dict | None = None):
        """:meth:`steadystate` of the cumulant method as a call of the generic solvers.

        The hand-derived cluster cumulants (:mod:`qutip_superrad.cumulant.laser`) are
        the engine's second-order equations of :meth:`description` (equal to 1e-10, tested),
        so the engine's steady state gives the same ``photon_number`` (``⟨a†a⟩``),
        ``photon_flux`` (``κ⟨a†a⟩``), ``excited_population`` (``⟨σ⁺σ⁻⟩`` of one atom per
        cluster) and ``inversion``.  What a sweep's grid path runs (decision 39 of
        ``docs/architecture.md``).

        Parameters
        ----------
        method : {"cumulant"}
        observables : sequence of str, optional
            Default ``photon_number``, ``photon_flux``, ``excited_population``.
        options : dict, optional
            ``order`` and ``progress_bar`` (the options of the generic method).

        Returns
        -------
        qutip_superrad.solvers.GenericCall

        Raises
        ------
        ValueError
            Another method; an observable without a generic counterpart (``g2`` is not
            computed at second order, ``pair_correlation``, ``photon_distribution``); an
            option of the hand-derived solver (``tol``, ``backend``, ``n_seeds``, …).
        """
        from ..solvers import GenericCall
        if method != "cumulant":
            raise ValueError(f"SuperradiantLaser.steadystate(method={method!r}) is not a call "
                             "of the generic solvers here (only method='cumulant')")
        names = (_GENERIC[:3] if observables is None else
                 (observables,) if isinstance(observables, str) else tuple(observables))
        other = [n for n in names if n not in _GENERIC]
        if other:
            raise ValueError(f"the observables {other} of the cumulant SuperradiantLaser have no "
                             f"counterpart in a generic result (those that do: {list(_GENERIC)}; "
                             "g2 is not computed at second order)")
        opts = dict(options or {})
        extra = sorted(set(opts) - {"order", "progress_bar"})
        if extra:
            raise ValueError(f"the options {extra} of the hand-derived cumulant solver have no "
                             "generic counterpart (those that do: order, progress_bar)")
        model = self.description()
        a, atoms = model.modes[0], model.clusters
        e_ops = {"photon_number": a.num()}
        per_cluster = {"excited_population", "inversion"} & set(names)
        if per_cluster:
            # ⟨σ⁺σ⁻⟩ summed over the atoms of cluster k, divided by N_k below
            e_ops.update({f"excited[{k}]": atoms.sum(atoms.atom.s(2, 2), cluster=k)
                          for k in range(model.n_clusters)})
        kappa, counts = self.kappa, model.counts

        def finish(res):
            v = res.values
            v["photon_flux"] = kappa * v["photon_number"]
            if per_cluster:
                p = np.real([v.pop(f"excited[{k}]") for k in range(counts.size)]) / counts
                v["excited_population"], v["inversion"] = p, 2 * p - 1
            return res

        return GenericCall(model, e_ops, opts, finish)

    # -- limits --------------------------------------------------------------
    def eliminate_cavity(self) -> BadCavityLaser:
        """Bad-cavity limit: adiabatically eliminate the mode.

        Returns a :class:`BadCavityLaser` with collective emission
        ``Γ_c = κ g² / (δ_c² + κ²/4)`` (``= 4g²/κ`` on resonance) and the
        collective level shift ``H = −χ J⁺J⁻``, ``χ = δ_c g² / (δ_c² + κ²/4)``,
        plus the local emission, pumping and dephasing.  Needs identical couplings.
        Cavity dephasing ``ξ`` only enters through the broadened mode and is
        folded into ``κ → κ + ξ`` (valid for ``κ ≫ g√N``).
        """
        ens = self.ensemble
        if np.ptp(ens.couplings) != 0:
            raise ValueError("eliminate_cavity needs identical couplings g_m")
        g = float(ens.couplings[0])
        k = self.kappa + self.cavity_dephasing
        den = self.cavity_detuning ** 2 + k ** 2 / 4
        return BadCavityLaser(ens, collective_emission=k * g ** 2 / den, emission=self.emission,
                              pumping=self.pumping, dephasing=self.dephasing,
                              collective_shift=self.cavity_detuning * g ** 2 / den,
                              kappa=self.kappa, parent=self)

    def __repr__(self) -> str:
        return (f"SuperradiantLaser({self.ensemble!r}, kappa={self.kappa:g}, "
                f"emission={self.emission:g}, pumping={self.pumping:g}, "
                f"dephasing={self.dephasing:g}, cavity_dephasing={self.cavity_dephasing:g}, "
                f"cavity_detuning={self.cavity_detuning:g})")


class BadCavityLaser(_Model):
    """Spins with collective emission: the superradiant laser with the cavity eliminated.

    ``dρ/dt = −i[H, ρ] + Γ_c D[J⁻]ρ + Σ_i (Γ D[σ⁻_i] + R D[σ⁺_i] + ν D[σ⁺_iσ⁻_i])ρ``,
    ``H = −Σ_i Δ σ⁺_iσ⁻_i − χ J⁺J⁻``.

    Parameters
    ----------
    ensemble : Ensemble
        Identical atoms (one detuning).
    collective_emission : float
        ``Γ_c`` of ``Γ_c D[J⁻]`` (``4g²/κ`` for a resonant cavity; formerly
        ``collective_decay``).
    emission, pumping, dephasing : float
        Local rates ``Γ D[σ⁻]``, ``R D[σ⁺]``, ``ν D[σ⁺σ⁻]`` as in
        :class:`SuperradiantLaser` (formerly ``gamma``, ``pump``,
        ``atom_dephasing``; ``dephasing`` multiplies ``D[σ⁺σ⁻]``, not ``D[σ_z]``).
    collective_shift : float
        ``χ`` of ``−χ J⁺J⁻``.
    kappa : float, optional
        Loss rate ``κ`` of the eliminated mode, only used to quote the
        intracavity ``photon_number = flux/κ`` (every emitted photon leaves
        through ``κ``; cavity dephasing does not destroy photons).
    parent : SuperradiantLaser, optional
        The cavity model this limit was derived from.

    The former keyword names ``collective_decay``, ``gamma``, ``pump`` and
    ``atom_dephasing`` are accepted with a ``FutureWarning`` (also as
    read-only attributes).
    """

    _methods = ("dicke",)
    has_mode = False

    @renamed_keywords(_RENAMED_BAD_CAVITY)
    def __init__(self, ensemble: Ensemble, collective_emission: float, emission: float,
                 pumping: float, dephasing: float = 0.0, collective_shift: float = 0.0,
                 kappa: float | None = None, parent: SuperradiantLaser | None = None) -> None:
        if not isinstance(ensemble, Ensemble):
            raise TypeError(f"ensemble must be an Ensemble, got {type(ensemble).__name__}")
        self.ensemble = ensemble
        self.collective_emission = check_rate("collective_emission", collective_emission)
        self.emission = check_rate("emission", emission)
        self.pumping = check_rate("pumping", pumping)
        self.dephasing = check_rate("dephasing", dephasing)
        self.collective_shift = check_real("collective_shift", collective_shift)
        self.kappa = None if kappa is None else check_rate("kappa", kappa)
        self.parent = parent

    gamma = renamed_attribute("gamma", "emission")
    pump = renamed_attribute("pump", "pumping")
    atom_dephasing = renamed_attribute("atom_dephasing", "dephasing")
    collective_decay = renamed_attribute("collective_decay", "collective_emission")

    def __repr__(self) -> str:
        return (f"BadCavityLaser({self.ensemble!r}, "
                f"collective_emission={self.collective_emission:g}, "
                f"emission={self.emission:g}, pumping={self.pumping:g}, "
                f"dephasing={self.dephasing:g}, collective_shift={self.collective_shift:g})")
