"""The :class:`CollectivePumping` model (seed 003): collective decay and pumping.

Master equation (ħ = 1, ``D[c]ρ = cρc† − ½{c†c, ρ}``)::

    dρ/dt = γ D[J⁻]ρ + w D[J⁺]ρ  (+ optional local terms)

with ``γ = collective_emission`` and ``w = collective_pumping`` (the glossary
names of ``docs/model_description.md``).  The class holds the parameters and
dispatches to the solvers: the exact manifold solver of
:mod:`qutip_superrad.exact.manifold`, the closed forms of :mod:`.closed_forms`,
the generic ``dicke`` solver of its model description (:meth:`description`,
local terms, permutation-invariant Dicke basis in double precision),
:mod:`qutip.piqs` (cross-check, and evolution with local terms), the
second-order cumulant equations, and the scans of :mod:`.scans`.
"""
import functools
import warnings

import numpy as np

from ..._progress import Monitor, Progress, check_progress_bar
from ..._threads import limited_blas

from ..._validate import (check_count, check_grid, check_options, check_rate, check_real,
                          check_array)
from ...exact import manifold as _mf
from ...exact._common import NotUniqueError
from ...states import dicke_index, parse_initial
from ..._validate import renamed_attribute, renamed_keywords
from .closed_forms import cumulant_relaxation_rate, thermal_jz, thermal_jz_variance
from .results import PumpingEvolution, PumpingSteadyState
from .scans import adiabatic_boundaries, hysteresis_loop

__all__ = ["CollectivePumping"]


def _check_pump(pump, name="collective_pumping"):
    """Validate a constant or time-dependent pump; return (value_or_None, callable_or_None)."""
    if callable(pump):
        return None, pump
    try:
        return check_rate(name, pump), None
    except TypeError:
        raise TypeError(f"{name} must be a rate >= 0, a function w(t) or a "
                        f"qutip.Coefficient, got {type(pump).__name__}") from None


@functools.lru_cache(maxsize=None)
def _template():
    """The symbolic model description, built once (numbers bound by ``with_values``).

    Returns ``(model, ops)`` with the observables ``ops`` (``J_z``, ``J_z²``,
    ``J⁺J⁻``) written in the same algebra.
    """
    from ...cumulant.engine.algebra import parameters
    from ...cumulant.engine.clusters import Clusters
    from ...model import Model
    atoms = Clusters("s")
    s = atoms.atom
    gc, wc, gl, gphi = parameters("collective_emission collective_pumping emission dephasing")
    Jm, Jp = atoms.sum(s.sm), atoms.sum(s.sp)
    # local dephasing γ_φ D[σ⁺σ⁻] = (γ_φ/4) D[σ_z]: the convention of piqs.Dicke(dephasing=γ_φ)
    jumps = [(gc, Jm), (wc, Jp), (gl, atoms.each(s.sm)), (gphi, atoms.each(s.sp * s.sm))]
    model = Model(0, jumps, parameters=dict(collective_emission=1.0, collective_pumping=1.0,
                                            emission=0.0, dephasing=0.0),
                  N=1, name="collective pumping")
    Jz = atoms.sum(0.5 * s.sz)
    return model, {"jz": Jz, "jz2": Jz * Jz, "jpjm": Jp * Jm}


class CollectivePumping:
    """Collective decay and collective pumping of ``N`` two-level atoms (seed 003).

    ``dρ/dt = γ D[J⁻]ρ + w D[J⁺]ρ + Σ_n (γ_loc D[σ⁻_n] + (γ_φ/4) D[σ^z_n]) ρ``

    Parameters
    ----------
    N : int
        Number of atoms, ``>= 1``.
    collective_emission : float
        Collective decay rate ``γ >= 0`` (``γ D[J⁻]``).  Formerly ``gamma``
        (still accepted as a keyword, with a ``FutureWarning``).
    collective_pumping : float, callable or qutip.Coefficient
        Collective pump rate ``w >= 0`` (``w D[J⁺]``), or a function ``w(t)``
        returning finite rates ``>= 0`` (checked whenever it is evaluated).
        Formerly ``pump`` (still accepted as a keyword, with a ``FutureWarning``).
    emission : float, optional
        Local decay ``γ_loc`` per atom (``D[σ⁻_n]``), default 0.
    dephasing : float, optional
        Local dephasing ``γ_φ`` with the convention of
        ``qutip.piqs.Dicke(dephasing=γ_φ)``: ``(γ_φ/4) D[σ^z_n] = γ_φ D[σ⁺_nσ⁻_n]``
        per atom (a single-atom coherence decays at ``γ_φ/2``), default 0.

    Attributes
    ----------
    N, collective_emission, collective_pumping, emission, dephasing
        The parameters (``collective_pumping`` is the function for a
        time-dependent pump).  ``gamma`` and ``pump`` are the old, deprecated
        names of the two collective rates.

    Notes
    -----
    Without local terms (the seed's model) every solver works on the exact
    ``N + 1``-dimensional manifold ``j = N/2``.  Local terms break ``j``
    conservation; the steady state is then solved exactly in the
    permutation-invariant Dicke basis by the generic ``dicke`` solver of
    :meth:`description` (``method="dicke"``), or through :mod:`qutip.piqs`
    (``method="piqs"``, single precision, also for the time evolution); the
    manifold methods raise ``ValueError``.

    Examples
    --------
    >>> from qutip_superrad.models.collective_pumping import CollectivePumping
    >>> model = CollectivePumping(100, collective_emission=1.0, collective_pumping=1.0)
    >>> ss = model.steadystate()
    >>> round(ss.jz_variance, 6)          # N(N+2)/12 at w = γ
    850.0
    >>> round(model.relaxation_rate(), 6)
    2.0
    """

    @renamed_keywords(gamma="collective_emission", pump="collective_pumping")
    def __init__(self, N, collective_emission, collective_pumping, *, emission=0.0,
                 dephasing=0.0):
        self.N = check_count("N", N)
        self.collective_emission = check_rate("collective_emission", collective_emission)
        self._w, self._wfun = _check_pump(collective_pumping)
        self.collective_pumping = collective_pumping if self._wfun is not None else self._w
        self.emission = check_rate("emission", emission)
        self.dephasing = check_rate("dephasing", dephasing)

    gamma = renamed_attribute("gamma", "collective_emission")
    pump = renamed_attribute("pump", "collective_pumping")

    # -- basic properties ---------------------------------------------------
    @property
    def j(self):
        """Total spin ``N/2`` of the symmetric manifold."""
        return self.N / 2

    @property
    def time_dependent(self):
        """True if the pump is a function of time."""
        return self._wfun is not None

    @property
    def has_local_terms(self):
        """True if local emission or dephasing break the ``j = N/2`` manifold."""
        return self.emission > 0 or self.dephasing > 0

    def __repr__(self):
        w = "w(t)" if self.time_dependent else f"{self._w:g}"
        extra = ""
        if self.has_local_terms:
            extra = f", emission={self.emission:g}, dephasing={self.dephasing:g}"
        return (f"CollectivePumping(N={self.N}, collective_emission={self.collective_emission:g}, "
                f"collective_pumping={w}{extra})")

    def pump_at(self, t=None):
        """Pump rate ``w`` (at time ``t`` for a time-dependent pump)."""
        if self._wfun is None:
            return self._w
        if t is None:
            raise ValueError("the pump is time dependent: give the time t at which "
                             "to evaluate it (e.g. steadystate(t=0.0))")
        t = check_real("t", t)
        return _mf._checked_pump(self._wfun)(t)

    def _manifold_only(self, what):
        if self.has_local_terms:
            raise ValueError(f"{what}: local emission/dephasing break the j = N/2 manifold; "
                             "use method='dicke' (permutation-invariant Dicke basis, double "
                             "precision), method='piqs' (cross-check) or set emission=dephasing=0")

    def _rate_args(self, w, t):
        if w is None:
            return self.pump_at(t)
        return check_rate("w", w)

    # -- QuTiP objects ------------------------------------------------------
    def spin_operators(self):
        """``(J⁻, J⁺, J_z)`` on the manifold (QuTiP ordering), see :func:`~qutip_superrad.exact.manifold.spin_operators`."""
        return _mf.spin_operators(self.N)

    def c_ops(self, t=None):
        """Collapse operators ``[√γ J⁻, √w J⁺]`` on the manifold (for ``qutip.mesolve``)."""
        self._manifold_only("c_ops")
        jm, jp, _ = self.spin_operators()
        return [np.sqrt(self.collective_emission) * jm, np.sqrt(self.pump_at(t)) * jp]

    def liouvillian(self, t=None):
        """Full ``(N+1)²``-dimensional Liouvillian superoperator (Qobj) at time ``t``."""
        self._manifold_only("liouvillian")
        return _mf.manifold_liouvillian(self.N, self.collective_emission, self.pump_at(t))

    # -- model description --------------------------------------------------
    def description(self, t=None, *, w=None):
        """The master equation as a :class:`qutip_superrad.Model` (for the generic solvers).

        One cluster of ``N`` identical two-level atoms with the jumps
        ``collective_emission · D[J⁻]``, ``collective_pumping · D[J⁺]``,
        ``emission · Σ_n D[σ⁻_n]`` and ``dephasing · Σ_n D[σ⁺_nσ⁻_n]``
        (``= (γ_φ/4) Σ_n D[σ^z_n]``, the ``qutip.piqs`` convention), no
        Hamiltonian.  The symbolic structure is built once and shared; only the
        numbers are bound here.

        Parameters
        ----------
        t : float, optional
            Time at which a time-dependent pump is evaluated (required then).
        w : float, optional
            Override the pump rate.

        Examples
        --------
        >>> import qutip_superrad as qsr
        >>> from qutip_superrad.models.collective_pumping import CollectivePumping
        >>> cp = CollectivePumping(6, collective_emission=1.0, collective_pumping=1.3,
        ...                        emission=0.05, dephasing=0.1)
        >>> model = cp.description()
        >>> sorted(model.parameters), model.N, model.symmetry
        (['collective_emission', 'collective_pumping', 'dephasing', 'emission'], 6, 'U(1)')
        >>> res = qsr.steadystate(model, "dicke", e_ops={"jz": cp.observables()["jz"]})
        >>> abs(res.values["jz"] - cp.steadystate("dicke").jz) < 1e-12
        True
        """
        template, _ = _template()
        return template.with_values(N=self.N, collective_emission=self.collective_emission,
                                    collective_pumping=self._rate_args(w, t),
                                    emission=self.emission, dephasing=self.dephasing)

    @staticmethod
    def observables():
        """``{"jz": J_z, "jz2": J_z², "jpjm": J⁺J⁻}`` as operators of :meth:`description`."""
        return dict(_template()[1])

    # -- steady state --------------------------------------------------------
    @limited_blas
    def steadystate(self, method="manifold", *, t=None, w=None, max_memory=None,
                    progress_bar=None):
        """Steady state.

        Parameters
        ----------
        method : {"manifold", "closed_form", "dicke", "piqs"}
            ``"manifold"``: exact solution of the population sector
            ``Diag⁽⁰⁾`` (detailed balance of the tridiagonal generator),
            ``O(N)``.  ``"closed_form"``: thermal state ``e^{−βJ_z}/Z`` with
            ``⟨J_z⟩``, ``Var`` from ``Z(β)`` (eqs. 3–4).  ``"dicke"``: the
            generic ``dicke`` solver of :mod:`qutip_superrad.solvers` on
            :meth:`description` (permutation-invariant Dicke basis in double
            precision, U(1) sector k = 0; the exact route with local terms;
            needs them, since without them every ``j`` block is conserved).
            ``"piqs"``: the Dicke-basis Liouvillian of :mod:`qutip.piqs`
            (single precision; a cross-check).
        t : float, optional
            Time at which a time-dependent pump is evaluated.
        w : float, optional
            Override the pump rate (convenient in scans).
        max_memory : float, optional
            Bytes the ``"piqs"`` Liouvillian may take (default 8 GiB; estimated
            ≈ 100 B × (number of Dicke states)² before building it).
        progress_bar : None, bool or str
            QuTiP's values (None/False/"" off, True/"text", "enhanced", "tqdm"); the
            ``"dicke"`` and ``"piqs"`` solves show their stages.

        Returns
        -------
        PumpingSteadyState
        """
        if method not in ("manifold", "closed_form", "dicke", "piqs"):
            raise ValueError(f"method must be 'manifold', 'closed_form', 'dicke' or 'piqs', "
                             f"got {method!r}")
        wv = self._rate_args(w, t)
        if method == "piqs":
            with Progress(1, "steadystate(method='piqs')", progress_bar) as bar:
                res = self._steadystate_piqs(wv, max_memory)
                bar.advance(1)
            return res
        if method == "dicke":
            return self._steadystate_dicke(wv, progress_bar)
        check_progress_bar(progress_bar)
        self._manifold_only(f"steadystate(method={method!r})")
        gc = self.collective_emission
        with np.errstate(divide="ignore"):
            beta = -np.log(wv / gc) if gc > 0 else -np.inf
        if method == "closed_form":
            if gc == 0 and wv == 0:
                raise ValueError("collective_emission and collective_pumping are both 0: "
                                 "steady state not unique")
            jz = thermal_jz(self.N, beta)
            var = thermal_jz_variance(self.N, beta)
            jpjm = self.j * (self.j + 1) - (var + jz ** 2) + jz
            return PumpingSteadyState(jz, var, jpjm, None, float(beta), wv, "closed_form")
        p = _mf.steady_populations(self.N, gc, wv)
        jz, var, jpjm = _mf.jz_moments(p)
        L0 = _mf.sector_liouvillian(self.N, gc, wv, 0)
        checks = {"residual": float(np.abs(L0 @ p).sum()), "trace": float(p.sum()),
                  "positive": bool(np.all(p >= 0))}
        return PumpingSteadyState(jz, var, float(jpjm), p, float(beta), wv, "manifold",
                                  checks, state=_diag_qobj(p))

    def _steadystate_dicke(self, wv, progress_bar=None):
        from ... import solvers
        if not self.has_local_terms:
            raise ValueError("steadystate(method='dicke') needs local emission or dephasing "
                             "(without them each j block is conserved); use method='manifold'")
        res = solvers.steadystate(self.description(w=wv), "dicke", e_ops=self.observables(),
                                  progress_bar=progress_bar)
        v = res.values
        jz = float(v["jz"])
        var = float(v["jz2"]) - jz ** 2
        state = res.state
        pop = state.vector[state.space.diagonal].real
        checks = dict(res.checks)
        checks.pop("truncation", None)               # no mode
        checks.update(positive=bool(np.all(pop >= -1e-12)), dimension=res.stats["dimension"])
        return PumpingSteadyState(jz, var, float(v["jpjm"]), None, float("nan"), wv, "dicke",
                                  checks, state=state)

    def _piqs_liouvillians(self, max_memory=None):
        from qutip import piqs
        from ...exact._common import DEFAULT_MAX_MEMORY
        from ..._validate import check_memory
        nds = piqs.num_dicke_states(self.N)
        # piqs indexes its Liouvillian by nds² rows; measured ≈ 95–110 B per row for the
        # build and the solve (N = 60, 100), ≈ 60 B at N = 200: 100 B is the estimate
        try:
            check_memory(100.0 * nds ** 2, DEFAULT_MAX_MEMORY if max_memory is None else max_memory,
                         f"the qutip.piqs Liouvillian (N = {self.N}, {nds}² rows)")
        except MemoryError as exc:
            raise type(exc)(f"{exc}; method='dicke' (double precision, the same physics) needs "
                            "far less") from None
        base = piqs.Dicke(self.N, emission=self.emission, dephasing=self.dephasing,
                          collective_emission=self.collective_emission).liouvillian()
        per_w = piqs.Dicke(self.N, collective_pumping=1.0).liouvillian()
        return base, per_w

    def _piqs_system(self, max_memory=None):
        """Block-diagonal part of the piqs Liouvillian, as sparse matrices.

        piqs density matrices are block diagonal in ``j`` (blocks ``j = N/2,
        N/2−1, …`` of size ``2j+1``, ``m`` descending); the other entries of
        the ``nds²`` superoperator are never populated (zero rows, hence a
        singular Liouvillian for :func:`qutip.steadystate`).  Without local
        terms each block is invariant and only ``j = N/2`` is kept.
        """
        from qutip import piqs
        base, per_w = self._piqs_liouvillians(max_memory)
        jz_op = piqs.jspin(self.N, "z")
        jp_op = piqs.jspin(self.N, "+")
        nds = jz_op.shape[0]
        sizes = [self.N + 1 - 2 * k for k in range(self.N // 2 + 1)]
        if not self.has_local_terms:
            sizes = sizes[:1]
        idx, start = [], 0
        for size in sizes:
            blk = range(start, start + size)
            idx += [r + c * nds for c in blk for r in blk]
            start += size
        idx = np.array(sorted(idx))
        diagpos = np.nonzero(idx % nds == idx // nds)[0]
        states = idx[diagpos] % nds
        return {
            "idx": idx, "nds": nds, "n": start, "diagpos": diagpos,
            "A": base.data_as("csr_matrix")[idx][:, idx].tocsc(),
            "B": per_w.data_as("csr_matrix")[idx][:, idx].tocsc(),
            "jz": np.real(jz_op.diag())[states],
            "jpjm": np.real((jp_op * jp_op.dag()).diag())[states],
        }

    @staticmethod
    def _piqs_moments(sys_, x):
        d = np.real(np.asarray(x)[..., sys_["diagpos"]])
        jz = d @ sys_["jz"]
        jz2 = d @ sys_["jz"] ** 2
        return jz, jz2 - jz ** 2, d @ sys_["jpjm"]

    def _piqs_matrix(self, sys_, x):
        import qutip
        full = np.zeros(sys_["nds"] ** 2, dtype=complex)
        full[sys_["idx"]] = x
        n, nds = sys_["n"], sys_["nds"]
        mat = full.reshape(nds, nds, order="F")[:n, :n]
        return qutip.Qobj(0.5 * (mat + mat.conj().T))

    def _steadystate_piqs(self, wv, max_memory=None):
        import scipy.sparse as sp
        import scipy.sparse.linalg as spla
        sys_ = self._piqs_system(max_memory)
        # solve L x = 0 with the trace condition replacing the first row
        A = (sys_["A"] + wv * sys_["B"]).tolil()
        A[0, :] = 0
        A[0, sys_["diagpos"]] = 1.0
        rhs = np.zeros(sys_["idx"].size, dtype=complex)
        rhs[0] = 1.0
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", spla.MatrixRankWarning)
                x = spla.spsolve(sp.csc_matrix(A), rhs)
        except (RuntimeError, spla.MatrixRankWarning):       # SuperLU: exactly singular
            x = np.full(rhs.size, np.nan)
        if not np.all(np.isfinite(x)):
            zero = [k for k, v in (("collective_emission", self.collective_emission),
                                   ("collective_pumping", wv), ("emission", self.emission),
                                   ("dephasing", self.dephasing)) if v == 0]
            raise NotUniqueError("steadystate(method='piqs'): the steady state is not unique "
                                 f"(the Liouvillian is singular); the rates that are zero: "
                                 f"{zero} — make a rate > 0")
        jz, var, jpjm = self._piqs_moments(sys_, x)
        rho = self._piqs_matrix(sys_, x)
        pops = None
        beta = float("nan")
        if not self.has_local_terms:
            pops = np.real(rho.full().diagonal())[::-1].copy()   # -> ascending m
            gc = self.collective_emission
            with np.errstate(divide="ignore"):
                beta = -np.log(wv / gc) if gc > 0 else -np.inf
        return PumpingSteadyState(float(jz), float(var), float(jpjm), pops, float(beta), wv,
                                  "piqs", {}, rho)

    # -- spectra -------------------------------------------------------------
    def relaxation_rate(self, method="exact", *, t=None, w=None):
        """Relaxation rate ``λ(w)``.

        Parameters
        ----------
        method : {"exact", "cumulant", "cumulant_large_n"}
            ``"exact"``: smallest non-zero ``|μ|`` of the population sector
            ``Diag⁽⁰⁾`` (App. C, E).  ``"cumulant"``: eq. E5,
            ``w + γ + 2(w − γ)⟨J_z⟩``.  ``"cumulant_large_n"``: eq. 7.
        t, w : float, optional
            Time of a time-dependent pump / explicit pump value.
        """
        self._manifold_only("relaxation_rate")
        wv = self._rate_args(w, t)
        if method == "exact":
            return _mf.relaxation_rate(self.N, self.collective_emission, wv)
        if method == "cumulant":
            return cumulant_relaxation_rate(self.N, self.collective_emission, wv, "E5")
        if method == "cumulant_large_n":
            return cumulant_relaxation_rate(self.N, self.collective_emission, wv, "eq7")
        raise ValueError("method must be 'exact', 'cumulant' or 'cumulant_large_n', "
                         f"got {method!r}")

    def sector_spectrum(self, k=0, *, t=None, w=None):
        """Eigenvalues of the sector ``Diag⁽ᵏ⁾`` (real, descending), see :func:`~qutip_superrad.exact.manifold.sector_spectrum`."""
        self._manifold_only("sector_spectrum")
        return _mf.sector_spectrum(self.N, self.collective_emission, self._rate_args(w, t), k)

    def sector_gap(self, k=0, *, t=None, w=None):
        """Smallest decay rate of sector ``k`` (``k = 0``: excluding the steady state)."""
        self._manifold_only("sector_gap")
        return _mf.sector_gap(self.N, self.collective_emission, self._rate_args(w, t), k)

    def spectrum(self, sectors=None, *, t=None, w=None):
        """``{k: eigenvalues}`` for the sectors ``k`` (default all ``0 … N``)."""
        self._manifold_only("spectrum")
        return _mf.liouvillian_spectrum(self.N, self.collective_emission, self._rate_args(w, t),
                                        sectors)

    # -- dynamics ------------------------------------------------------------
    _ACCEPTED = ("None, 'ground', 'excited', 'superradiant', 'steady', a Dicke state (N/2, m), "
                 "a Qobj of dimension N + 1 (QuTiP order, m = N/2 first) or populations")

    def _initial_populations(self, initial, t0):
        N = self.N
        if isinstance(initial, str) and initial == "steady":
            return _mf.steady_populations(N, self.collective_emission, self.pump_at(t0))
        spec = parse_initial(initial, N, accepted=self._ACCEPTED)
        if spec is not None:
            _, j, m = (("", N / 2, -N / 2 if spec[1] == "ground" else N / 2)
                       if spec[0] == "product" else spec)
            if j != N / 2:
                raise ValueError(f"initial={initial!r} has j = {j:g} < N/2, outside the "
                                 f"symmetric manifold; method='piqs' represents it")
            p0 = np.zeros(N + 1)
            p0[int(round(m + N / 2))] = 1.0                  # ascending m
            return p0
        import qutip
        if isinstance(initial, qutip.Qobj):
            if initial.shape[0] != N + 1:
                raise ValueError(f"initial state must have dimension N+1 = {N + 1}, "
                                 f"got {initial.shape}")
            rho = initial.proj() if initial.isket else initial
            p = np.real(rho.full().diagonal())[::-1].copy()   # QuTiP order -> ascending m
        else:
            p = check_array("initial populations", initial, size=N + 1, nonnegative=True)
        if abs(p.sum() - 1) > 1e-8:
            raise ValueError(f"initial state must have unit trace, got {p.sum()}")
        return p

    @limited_blas
    def evolve(self, tlist, method="manifold", *, initial=None, options=None, progress_bar=None):
        """Time evolution of ``⟨J_z⟩``, ``Var[J_z]`` and ``⟨J⁺J⁻⟩``.

        Parameters
        ----------
        tlist : array_like
            Strictly increasing times; evolution starts at ``tlist[0]``.
        method : {"manifold", "cumulant", "piqs"}
            ``"manifold"``: exact, population sector only (every function of
            ``J_z`` depends on nothing else; coherences of the initial state
            live in other sectors and are dropped).  ``"cumulant"``: the
            closed equations for ``⟨J_z⟩``, ``⟨J_z²⟩`` with vanishing third
            cumulant (see :meth:`cumulant_rhs`).  ``"piqs"``:
            :func:`qutip.mesolve` with the Dicke-basis Liouvillian of
            :mod:`qutip.piqs` (needed with local terms; starts from the
            ground state).  ``"manifold"`` with ``options={"store_states":
            True}`` also returns ``ρ(t)``, evolving every coherence sector
            present in ``initial``.
        initial : None, "ground", "excited", "superradiant", "steady", (j, m), Qobj or array
            Initial state: ground (default, all atoms in ``|g⟩`` = ``basis(2, 1)``;
            QuTiP's ``basis(2, 0)`` is excited), all excited, the Dicke state
            ``|N/2, m⟩`` of smallest ``|m|`` (``"superradiant"``), the steady state
            at ``w(tlist[0])``, a Dicke state ``(N/2, m)``, a Qobj of dimension
            ``N + 1`` (QuTiP ordering, ``m = N/2`` first) or populations on ascending
            ``m``.  ``"piqs"``: the named states (any ``(j, m)``) or a Qobj in the
            Dicke representation of :mod:`qutip.piqs` (``"steady"`` and arrays are
            not accepted there).
        options : dict, optional
            ``rtol``, ``atol``, ``max_step``, ``method`` of the ODE solver;
            ``store_states`` (``"manifold"`` only).
        progress_bar : None, bool or str
            QuTiP's values (None/False/"" off, True/"text", "enhanced", "tqdm"); the
            bar advances with the time reached (``"cumulant"``, ``"piqs"``).

        Returns
        -------
        PumpingEvolution
        """
        tlist = check_grid("tlist", tlist)
        if method not in ("manifold", "cumulant", "piqs"):
            raise ValueError(f"method must be 'manifold', 'cumulant' or 'piqs', got {method!r}")
        pumpfun = (_mf._checked_pump(self._wfun) if self.time_dependent
                   else (lambda t, w=self._w: w))
        wt = np.array([pumpfun(t) for t in tlist])
        progress_bar = check_progress_bar(progress_bar)
        if method == "piqs":
            return self._evolve_piqs(tlist, wt, initial, options, progress_bar)
        self._manifold_only(f"evolve(method={method!r})")
        p0 = self._initial_populations(initial, tlist[0])
        if method == "manifold":
            opts = dict(options) if isinstance(options, dict) else options
            store = bool(opts.pop("store_states", False)) if isinstance(opts, dict) else False
            P = _mf.evolve_populations(self.N, self.collective_emission, pumpfun, tlist, p0, opts)
            jz, var, jpjm = _mf.jz_moments(P)
            states = None
            if store:
                import qutip
                rho0 = initial if isinstance(initial, qutip.Qobj) else _diag_qobj(p0)
                states = _mf.evolve_density_matrix(self.N, self.collective_emission, pumpfun, tlist,
                                                   rho0, opts)
            return PumpingEvolution(tlist, wt, jz, var, jpjm, P, "manifold", states)
        opts = check_options(options, {"rtol": 1e-9, "atol": 1e-9, "max_step": np.inf,
                                       "method": "LSODA"}, "evolve(method='cumulant')")
        mz, _, _ = _mf.jz_moments(p0)
        m = np.arange(self.N + 1) - self.j
        y0 = [mz, float(p0 @ m ** 2)]
        with Monitor(lambda t, y: self.cumulant_rhs(y, pumpfun(t)), tlist, None, progress_bar,
                     "evolve(method='cumulant')") as rhs:
            jz, jz2 = rhs.solve(tlist, y0, rtol=opts["rtol"], atol=opts["atol"],
                                max_step=opts["max_step"], method=opts["method"]).T
        C = self.j * (self.j + 1)
        return PumpingEvolution(tlist, wt, jz, jz2 - jz ** 2, C - jz2 + jz, None, "cumulant")

    def cumulant_rhs(self, y, w):
        """Right-hand side of the second-order cumulant equations.

        Derived from the adjoint master equation (``C = j(j+1)``)::

            d⟨J_z⟩/dt  = (w − γ)(C − ⟨J_z²⟩) − (w + γ)⟨J_z⟩
            d⟨J_z²⟩/dt = (w + γ)(C − 3⟨J_z²⟩) + (w − γ)(2C − 1)⟨J_z⟩ − 2(w − γ)⟨J_z³⟩

        both *exact*; the only approximation is the closure
        ``⟨J_z³⟩ ≈ 3⟨J_z²⟩⟨J_z⟩ − 2⟨J_z⟩³`` (vanishing third cumulant).
        Linearising the first equation in ``⟨J_z⟩`` at fixed variance gives
        eq. E5.  At ``w = γ`` the fixed point ``⟨J_z⟩ = 0``,
        ``⟨J_z²⟩ = N(N+2)/12`` is exact.

        Parameters
        ----------
        y : array_like
            ``(⟨J_z⟩, ⟨J_z²⟩)``.
        w : float
            Pump rate.
        """
        mz, mz2 = y
        g = self.collective_emission
        C = self.j * (self.j + 1)
        mz3 = 3 * mz2 * mz - 2 * mz ** 3
        d1 = (w - g) * (C - mz2) - (w + g) * mz
        d2 = (w + g) * (C - 3 * mz2) + (w - g) * (2 * C - 1) * mz - 2 * (w - g) * mz3
        return np.array([d1, d2])

    def _evolve_piqs(self, tlist, wt, initial, options, progress_bar=None):
        import qutip
        if options:
            raise ValueError("method='piqs' takes no options")
        sys_ = self._piqs_system()
        x0 = self._piqs_initial(sys_, initial)
        wfun = _mf._checked_pump(self._wfun) if self.time_dependent else None
        if not self.has_local_terms:
            # the j = N/2 block is a full (N+1)² matrix space: use qutip.mesolve
            n = self.N + 1
            dims = [[[n], [n]], [[n], [n]]]
            A = qutip.Qobj(sys_["A"], dims=dims, superrep="super")
            B = qutip.Qobj(sys_["B"], dims=dims, superrep="super")
            L = qutip.QobjEvo([A, [B, wfun]]) if wfun else A + self._w * B
            rho0 = qutip.Qobj(x0.reshape(n, n, order="F"))
            res = qutip.mesolve(L, rho0, tlist, options={"store_states": True,
                                                          "atol": 1e-10, "rtol": 1e-8,
                                                          "progress_bar": progress_bar or False})
            X = np.array([r.full().ravel(order="F") for r in res.states])
        else:
            A, B = sys_["A"], sys_["B"]
            w_of = wfun if wfun else (lambda t: self._w)
            with Monitor(lambda t, y: A @ y + w_of(t) * (B @ y), tlist, None, progress_bar,
                         "evolve(method='piqs')") as rhs:
                X = rhs.solve(tlist, x0, method="BDF", rtol=1e-8, atol=1e-10,
                              jac=lambda t, y: A + w_of(t) * B)
        jz, var, jpjm = self._piqs_moments(sys_, X)
        return PumpingEvolution(tlist, wt, jz, var, jpjm, None, "piqs")

    def _piqs_initial(self, sys_, initial):
        """``initial`` on the kept elements of the piqs representation (column-stacked)."""
        import qutip
        N, nds, idx = self.N, sys_["nds"], sys_["idx"]
        accepted = ("None, 'ground', 'excited', 'superradiant', a Dicke state (j, m) or a Qobj "
                    f"in the Dicke representation of qutip.piqs (dimension {nds})")
        if isinstance(initial, qutip.Qobj):
            rho = initial.proj() if initial.isket else initial
            if rho.shape != (nds, nds):
                raise ValueError(f"initial must be {accepted}; got a Qobj of shape {rho.shape}")
            flat = rho.full().ravel(order="F")
        else:
            spec = parse_initial(initial, N, accepted=accepted)
            if spec is None:
                raise TypeError(f"initial must be {accepted}; got {type(initial).__name__}")
            _, j, m = (("", N / 2, -N / 2 if spec[1] == "ground" else N / 2)
                       if spec[0] == "product" else spec)
            pos = int(dicke_index(N, int(round(N / 2 - j)), int(round(m + N / 2))))
            flat = np.zeros(nds * nds, complex)
            flat[pos * (nds + 1)] = 1.0
        x0 = flat[idx].astype(complex)
        if np.abs(flat).sum() - np.abs(x0).sum() > 1e-12 * max(np.abs(flat).sum(), 1e-300):
            raise ValueError("initial has weight outside the blocks method='piqs' evolves (the "
                             "block-diagonal Dicke representation; only j = N/2 without local "
                             "terms)")
        return x0

    # -- metrology -----------------------------------------------------------
    def fisher_information(self, parameter="w", kind="classical", *, w=None, t=None,
                           step=1e-2):
        """Fisher information of the steady state about ``w`` or ``β``.

        Computed numerically from the exact steady state by a 5-point central
        finite difference in ``β`` (step ``step/√Var[J_z]``), *not* from the
        closed form, so
        it can be compared with ``Var[J_z]`` (App. D: ``I_β = Var[J_z]``,
        ``I_w = Var[J_z]/w²``).

        Parameters
        ----------
        parameter : {"w", "beta"}
        kind : {"classical", "quantum"}
            ``"classical"``: of the ``J_z`` measurement, ``Σ_m p_m (∂ ln p_m)²``.
            ``"quantum"``: SLD quantum Fisher information
            ``2 Σ_{kl} |⟨k|∂ρ|l⟩|²/(λ_k + λ_l)`` from the full density matrix
            in its eigenbasis (equal to the classical one here because
            ``ρ(w)`` is diagonal in the Dicke basis for every ``w``).
        """
        self._manifold_only("fisher_information")
        if parameter not in ("w", "beta"):
            raise ValueError(f"parameter must be 'w' or 'beta', got {parameter!r}")
        if kind not in ("classical", "quantum"):
            raise ValueError(f"kind must be 'classical' or 'quantum', got {kind!r}")
        wv = self._rate_args(w, t)
        if wv <= 0 or self.collective_emission <= 0:
            raise ValueError("Fisher information needs collective_emission > 0 and w > 0")
        step = check_real("step", step)
        if not 0 < step < 0.1:
            raise ValueError(f"step must be in (0, 0.1), got {step}")
        beta = -np.log(wv / self.collective_emission)
        p = _mf.steady_populations(self.N, self.collective_emission, wv)
        var = _mf.jz_moments(p)[1]
        # 5-point central stencil in β with a step on the natural scale 1/√Var[J_z]
        hb = step / np.sqrt(max(var, 1.0))
        stencil = ((-2, 1 / 12), (-1, -8 / 12), (1, 8 / 12), (2, -1 / 12))
        dp = sum(c * _mf.steady_populations(self.N, self.collective_emission,
                                            self.collective_emission * np.exp(-(beta + s * hb)))
                 for s, c in stencil) / hb
        if parameter == "w":
            dp = dp * (-1.0 / wv)          # dβ/dw = −1/w
        if kind == "classical":
            mask = p > 1e-300
            return float(np.sum(dp[mask] ** 2 / p[mask]))
        rho = np.diag(p)
        drho = np.diag(dp)
        lam, V = np.linalg.eigh(rho)
        D = V.T @ drho @ V
        den = lam[:, None] + lam[None, :]
        mask = den > 1e-300
        return float(2 * np.sum(np.abs(D[mask]) ** 2 / den[mask]))

    def sensitivity(self, *, w=None, t=None, step=1e-2):
        """Error-propagation sensitivity ``δw = √Var[J_z] / |∂_w⟨J_z⟩|`` (eq. 5).

        ``∂_w⟨J_z⟩`` is a 5-point central finite difference of the exact
        steady state (step ``step·w/√Var``).
        At ``w = γ``: ``δw = γ√(12/(N(N+2)))`` → ``√12 γ/N``.
        """
        self._manifold_only("sensitivity")
        wv = self._rate_args(w, t)
        if wv <= 0:
            raise ValueError("sensitivity needs w > 0")
        ss = self.steadystate(w=wv)
        h = step * wv / np.sqrt(max(ss.jz_variance, 1.0))
        gc = self.collective_emission
        jz = lambda x: _mf.jz_moments(_mf.steady_populations(self.N, gc, x))[0]  # noqa: E731
        deriv = (-jz(wv + 2 * h) + 8 * jz(wv + h) - 8 * jz(wv - h) + jz(wv - 2 * h)) / (12 * h)
        return float(np.sqrt(ss.jz_variance) / abs(deriv))

    # -- scans ---------------------------------------------------------------
    def hysteresis(self, r, **kwargs):
        """Hysteresis loop under a linear scan at rate ``r``; see :func:`hysteresis_loop`."""
        self._manifold_only("hysteresis")
        return hysteresis_loop(self.N, r, collective_emission=self.collective_emission, **kwargs)

    def adiabatic_boundaries(self, r, rate="cumulant_large_n"):
        """Freezing/thawing points ``w±(r)``; see :func:`adiabatic_boundaries`."""
        return adiabatic_boundaries(self.N, r, collective_emission=self.collective_emission,
                                    rate=rate)


def _diag_qobj(p):
    import qutip
    import scipy.sparse as sp
    n = p.size
    return qutip.Qobj(sp.diags(p[::-1], 0, format="csr"), dims=[[n], [n]])
