"""One model description that every solver reads.

A :class:`Model` is a Lindblad master equation written once with the
operator algebra of the cumulant engine — bosonic :class:`Mode`\\ s, explicit
N-level :class:`Atom`\\ s and identical atoms in :class:`Clusters` — together
with the numbers of its parameters and the sizes of its clusters::

    dρ/dt = −i[H, ρ] + Σ_c γ_c (c ρ c† − ½{c†c, ρ})

The solvers of :mod:`qutip_superrad.solvers` (``full``, ``dicke``,
``manifold``, ``meanfield``, ``cumulant``, ``trajectories``) read only this
description; each says by ``supports(model)`` whether it fits.  The
description keeps the engine's symbolic :class:`~.cumulant.engine.Model`
(:attr:`Model.symbolic`), so that cumulant equations are derived once and
re-bound for new numbers, and adds what the exact methods need: the numbers,
the atom counts, the U(1) or parity symmetry and an explicit (unrolled) form.

Examples
--------
The driven Dicke model with collective decay and local dephasing:

>>> import qutip_superrad as qsr
>>> atoms = qsr.Clusters("s"); s = atoms.atom
>>> Omega, gc, nu = qsr.parameters("Omega gamma_c nu")
>>> model = qsr.Model(Omega * atoms.sum(0.5 * (s.sp + s.sm)),
...                   [(gc, atoms.sum(s.sm)), (nu, atoms.each(s.s(2, 2)))],
...                   parameters=dict(Omega=1.0, gamma_c=0.5, nu=0.1), N=4)
>>> model.N, model.symmetry
(4, 'none')
"""
from __future__ import annotations

import itertools
import math
import numbers
import re
from typing import Mapping

import numpy as np

from .cumulant.engine.algebra import Atom, Coeff, Mode, Operator, to_qobj
from .cumulant.engine.clusters import (ClusterAtom, Clusters, Each, IndexedOperator,
                                       Modes, is_site, substitute_atoms)
from .cumulant.engine.derive import Model as SymbolicModel
from ._validate import real_array

__all__ = ["Model", "pair_sum", "correlated_decay", "cluster_pair_sum",
           "cluster_correlated_decay"]


def pair_sum(atoms, matrix, op_a, op_b=None, include_diagonal=False, symmetric=True):
    """``Σ_{a≠b} M_ab op_a(a) op_b(b)`` over explicit atoms (per-pair parameters).

    Parameters
    ----------
    atoms : sequence of Atom
        The atoms ``1 … n``.
    matrix : array_like, shape (n, n)
        Real per-pair coefficients ``M_ab`` (e.g. the elastic dipole coupling
        ``g_ab`` of a dipole array, ``Σ g_ab σ⁺_a σ⁻_b``).
    op_a, op_b : callable
        ``op_a(atom)`` returns an :class:`Operator` of that atom (for example
        ``lambda at: at.sp``); ``op_b`` defaults to ``op_a``.
    include_diagonal : bool, default False
        Also add the terms ``a = b`` (``M_aa op_a(a) op_b(a)``).
    symmetric : bool, default True
        Require ``M_ab = M_ba`` (what makes ``Σ g_ab σ⁺_a σ⁻_b`` Hermitian).

    Returns
    -------
    Operator

    Raises
    ------
    ValueError
        If ``matrix`` is not ``(n, n)``, not finite, not real, or not symmetric.
    """
    atoms = list(atoms)
    m = _pair_matrix(matrix, len(atoms), "matrix", symmetric)
    op_b = op_a if op_b is None else op_b
    out = Operator()
    for i, ai in enumerate(atoms):
        for j, aj in enumerate(atoms):
            if (i != j or include_diagonal) and m[i, j] != 0:
                out = out + op_a(ai) * op_b(aj) * float(m[i, j])
    return out


def correlated_decay(atoms, matrix, op=None):
    """Jumps of a correlated (collective) decay with a per-pair rate matrix ``f_ab``.

    ``Σ_ab f_ab (c_b ρ c_a† − ½{c_a† c_b, ρ})`` with ``c = op(atom)`` (default ``σ⁻``)
    is ``Σ_k λ_k D[Σ_b v_kb c_b]`` for the eigen-decomposition ``f = Σ_k λ_k v_k v_kᵀ``:
    the dipole–dipole decay of atoms in free space (``f_ab ∝`` the imaginary part of the
    dipole Green's tensor, ``f_aa = Γ``), or ``f_ab = f`` all-to-all.

    Parameters
    ----------
    atoms : sequence of Atom
    matrix : array_like, shape (n, n)
        Real, symmetric and positive semidefinite (a decay matrix).
    op : callable, optional
        ``op(atom)`` — the lowering operator of each atom (default ``atom.sm``).

    Returns
    -------
    list of (float, Operator)
        Jumps for :class:`Model` (eigenvalues below ``1e-12·max λ`` dropped).

    Raises
    ------
    ValueError
        Wrong shape, not finite, not real, not symmetric, or not positive semidefinite.
    """
    atoms = list(atoms)
    n = len(atoms)
    f = _pair_matrix(matrix, n, "matrix", symmetric=True)
    lam, V = np.linalg.eigh(f)
    top = max(float(np.max(np.abs(lam))), 1e-300)
    if lam[0] < -1e-10 * top:
        raise ValueError("matrix must be positive semidefinite (a decay matrix); its smallest "
                         f"eigenvalue is {lam[0]:.3g} (largest {lam[-1]:.3g})")
    op = (lambda at: at.sm) if op is None else op
    out = []
    for k in range(n):
        if lam[k] > 1e-12 * top:
            c = Operator()
            for b, at in enumerate(atoms):
                if V[b, k] != 0:
                    c = c + op(at) * float(V[b, k])
            out.append((float(lam[k]), c))
    return out


def _cluster_modes(clusters, matrix, name, prefix):
    """Eigen-decomposition ``m = Σ_k λ_k v_k v_kᵀ`` of a symmetric per-cluster-pair matrix:
    ``(m, all eigenvalues, [(λ_k, parameter name, Coeff, v_k), …])`` for the non-negligible
    ``λ_k``, the per-cluster parameters ``prefix0, prefix1, …`` holding the ``v_k``."""
    if not isinstance(clusters, Clusters):
        raise TypeError(f"clusters must be a Clusters object, got {type(clusters).__name__}")
    if not isinstance(prefix, str) or not prefix.isidentifier():
        raise ValueError(f"prefix must be an identifier, got {prefix!r}")
    shape = np.shape(matrix)
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
        raise ValueError(f"{name} must be a square (M, M) matrix, one row and column per "
                         f"cluster, got shape {shape}")
    m = _pair_matrix(matrix, shape[0], name, symmetric=True)
    lam, V = np.linalg.eigh(m)
    top = max(float(np.max(np.abs(lam))), 1e-300)
    keep = [k for k in range(lam.size) if abs(lam[k]) > 1e-12 * top]
    modes = [(float(lam[k]), f"{prefix}{i}", V[:, k]) for i, k in enumerate(keep)]
    return m, lam, [(mu, n, clusters.parameter(n), v) for mu, n, v in modes]


def cluster_pair_sum(clusters, matrix, op_a, op_b=None, include_diagonal=False, prefix="pair"):
    """``Σ_{a≠b} M_{c(a)c(b)} op_a(a) op_b(b)`` with a per-cluster-pair matrix (every method).

    The pairs of atoms ``a ∈`` cluster ``c``, ``b ∈`` cluster ``c′`` share the coefficient
    ``M_cc′`` (e.g. the elastic coupling ``g`` between two separated clouds).  Written with
    per-cluster parameters through ``M = Σ_k μ_k w_k w_kᵀ``:
    ``Σ_k μ_k (Σ_a w_k op_a)(Σ_b w_k op_b) − Σ_a M_cc op_a op_b``, so that the exact, the
    Dicke and the cumulant methods all read it.

    Parameters
    ----------
    clusters : Clusters
    matrix : array_like, shape (M, M)
        Real and symmetric (``M`` clusters).
    op_a, op_b : Operator
        Single-atom operators written with ``clusters.atom``; ``op_b`` defaults to ``op_a``.
    include_diagonal : bool, default False
        Keep the terms ``a = b``.
    prefix : str, default "pair"
        Names of the per-cluster parameters created (``pair0, pair1, …``, ``pair_diag``).

    Returns
    -------
    operator : IndexedOperator
    parameters : dict
        Their values, to merge into the model's ``parameters``.
    """
    m, _, modes = _cluster_modes(clusters, matrix, "matrix", prefix)
    op_b = op_a if op_b is None else op_b
    out, params = IndexedOperator([]), {}
    for mu, name, w, vec in modes:
        out = out + mu * clusters.sum(w * op_a) * clusters.sum(w * op_b)
        params[name] = vec
    if not include_diagonal:
        d = clusters.parameter(f"{prefix}_diag")
        out = out - clusters.sum(d * (op_a * op_b))
        params[f"{prefix}_diag"] = np.diag(m).copy()
    return out, params


def cluster_correlated_decay(clusters, matrix, op=None, prefix="decay"):
    """Correlated decay ``Σ_ab F_{c(a)c(b)} (c_b ρ c_a† − ½{c_a† c_b, ρ})`` between clusters.

    The per-cluster-pair analogue of :func:`correlated_decay` (``F_cc`` includes each atom's
    own decay): ``Σ_k λ_k D[Σ_b v_k c_b]`` for ``F = Σ_k λ_k v_k v_kᵀ``, with the ``v_k``
    as per-cluster parameters, so every method reads it.

    Parameters
    ----------
    clusters : Clusters
    matrix : array_like, shape (M, M)
        Real, symmetric, positive semidefinite.
    op : Operator, optional
        The single-atom jump written with ``clusters.atom`` (default ``σ⁻``).
    prefix : str, default "decay"
        Names of the per-cluster parameters created (``decay0, decay1, …``).

    Returns
    -------
    jumps : list of (float, IndexedOperator)
    parameters : dict
    """
    _, lam, modes = _cluster_modes(clusters, matrix, "matrix", prefix)
    op = clusters.atom.sm if op is None else op
    if lam[0] < -1e-10 * max(float(np.max(np.abs(lam))), 1e-300):
        raise ValueError("matrix must be positive semidefinite (a decay matrix); its smallest "
                         f"eigenvalue is {lam[0]:.3g} (largest {lam[-1]:.3g})")
    jumps, params = [], {}
    for lam_k, name, v, vec in modes:
        if lam_k > 0:
            jumps.append((lam_k, clusters.sum(v * op)))
            params[name] = vec
    return jumps, params


def _pair_matrix(matrix, n, name, symmetric):
    m = np.asarray(matrix)
    if m.shape != (n, n):
        raise ValueError(f"{name} must have shape ({n}, {n}) (one row and column per atom), "
                         f"got {m.shape}")
    if np.iscomplexobj(m) and np.any(m.imag != 0):
        raise ValueError(f"{name} must be real (per-pair rates and couplings are real)")
    m = m.real.astype(float)
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{name} must be finite")
    if symmetric and np.max(np.abs(m - m.T), initial=0.0) > 1e-12 * max(np.max(np.abs(m)), 1e-300):
        raise ValueError(f"{name} must be symmetric (m_ab = m_ba); largest asymmetry "
                         f"{np.max(np.abs(m - m.T)):.3g}")
    return m


def _excitation_charges(subsystems, clusters):
    """Excitation number: 1 per photon, ``i − 1`` for atom level ``i``."""
    q = {}
    for s in subsystems:
        if s.kind == "mode":
            q[s] = 1
        elif not isinstance(s, ClusterAtom):
            q[s] = tuple(range(s.levels))
    for c in clusters:
        q[c] = 1 if isinstance(c, Modes) else tuple(range(c.levels))
    return q


class Model:
    """A collective light–matter model: H, jumps, parameter values, atom counts.

    Parameters
    ----------
    H : Operator or IndexedOperator
        Hamiltonian, written with :class:`Mode`, :class:`Atom` and
        ``Clusters.sum``; coefficients may be numbers or named parameters
        (:func:`parameters`).  It must be Hermitian (see ``check_hermitian``).
    jumps : sequence of (rate, operator)
        Jump operators ``c`` with rates ``γ ≥ 0``: an :class:`Operator` (on
        modes or explicit atoms), a collective ``Clusters.sum(op)`` (``D[Σ_i
        op_i]``, also products such as ``atoms.sum(s.sm) ** 2``) or a local
        ``Clusters.each(op)`` (``Σ_i D[op_i]``).
    parameters : dict, optional
        Values of every named parameter, ``{"kappa": 1.0, ...}``; a
        per-cluster parameter (``Clusters.parameter``) takes one value per
        cluster.
    N : int, sequence of int or dict, optional
        Atoms per cluster of the model's :class:`Clusters` (a number for one
        cluster).  Non-integer counts are allowed for the cumulant methods.
        With several indexed families (several :class:`Clusters` — species of
        atoms — or :class:`Modes`) a dict by family name: ``{"A": [N_1, …],
        "B": N_B, "b": M}`` (``M`` modes); every :class:`Clusters` needs its
        entry, a :class:`Modes` family whose size is not given takes it from its
        per-mode parameters.
    check_hermitian : bool, default True
        Refuse a non-Hermitian ``H`` (checked on a small explicit instance).
    name : str, optional
        Label used in reports.
    distribution : ClusterDistribution or Ensemble, optional
        The continuous distribution the clusters discretise (an
        :class:`~qutip_superrad.Ensemble` gives its
        :attr:`~qutip_superrad.Ensemble.distribution`).  Cumulant and mean-field
        results of such a model carry ``checks["clusters"]`` (convergence in the number
        of clusters not checked at fixed ``M``; see
        :func:`~qutip_superrad.convergence.converge_clusters`).

    Attributes
    ----------
    symbolic : qutip_superrad.cumulant.engine.Model
        The engine's symbolic model (H and jumps with named parameters).
    modes : list of Mode
    atoms : list of Atom
        Explicit atoms (not in clusters).
    clusters : Clusters or None
        The model's :class:`Clusters` (``None`` without); with several species
        reading it raises ``ValueError`` (use :attr:`cluster_counts`).
    cluster_counts : dict
        ``{Clusters: atoms per cluster (ndarray)}`` of every species, in name order.
    counts : ndarray or None
        Atoms per cluster; with several species those of every species in the
        order of :attr:`cluster_counts` (the *global* cluster index of
        :meth:`cluster_atoms` and of the Dicke basis).
    mode_families : dict
        ``{Modes: number of modes}`` of the indexed mode families; the exact methods
        unroll each into explicit modes ``b1 … bM`` (in :attr:`modes`).
    N : int or float
        Total number of atoms (explicit plus clustered).
    charges : dict or None
        Excitation-number charges of the subsystems (photon 1, level ``i`` →
        ``i − 1``) when they make the model U(1) or parity symmetric.
    symmetry : {"U(1)", "parity", "none"}
        Conservation of the excitation difference ``k`` between ket and bra:
        exactly (``"U(1)"``: incoherent pumps, no drive), modulo 2
        (``"parity"``: e.g. Rabi-type couplings), or not at all.

    Notes
    -----
    Levels are numbered ``1 … n`` with 1 the ground state; in QuTiP objects
    level ``i`` of an ``n``-level atom is ``basis(n, n − i)``, so that for two
    levels ``basis(2, 0)`` is the excited state and ``σ⁻ = qutip.sigmam()``.
    """

    def __init__(self, H, jumps=(), *, parameters: Mapping | None = None, N=None,
                 check_hermitian: bool = True, name: str | None = None,
                 distribution=None):
        if isinstance(H, (Model, SymbolicModel)):
            raise TypeError("H must be an Operator or a Clusters sum; to change a model's "
                            "numbers use model.with_values(...)")
        if isinstance(H, numbers.Number) and H == 0:
            H = Operator()
        if not isinstance(H, (Operator, IndexedOperator)):
            raise TypeError(f"H must be an Operator or a Clusters sum (IndexedOperator), "
                            f"got {type(H).__name__}")
        if isinstance(jumps, (Operator, IndexedOperator, Each)) or not hasattr(jumps, "__iter__"):
            raise TypeError("jumps must be a list of (rate, operator) pairs")
        jumps = list(jumps)
        for entry in jumps:
            if not (isinstance(entry, (tuple, list)) and len(entry) == 2):
                raise TypeError(f"jumps must be (rate, operator) pairs, got {entry!r}")
            if not isinstance(entry[1], (Operator, IndexedOperator, Each)):
                raise TypeError("a jump operator must be an Operator, Clusters.sum(...) or "
                                f"Clusters.each(...), got {type(entry[1]).__name__}")
        self.symbolic = SymbolicModel(H, jumps, check_hermitian=False)   # checked below, with values
        self._check_subsystems()
        self.name = name or "model"
        self._check_hermitian = bool(check_hermitian)
        self.atoms = [s for s in self.symbolic.subsystems
                      if s.kind == "atom" and not isinstance(s, ClusterAtom)]
        self._plain_modes = [s for s in self.symbolic.subsystems
                             if s.kind == "mode" and not is_site(s)]
        sets = self.symbolic.index_sets
        self._species = [f for f in sets if isinstance(f, Clusters)]      # by name
        self._mode_sets = [f for f in sets if isinstance(f, Modes)]
        self._set_values(parameters, N)
        clash = {m.name for m in self._plain_modes} & {m.name for _, m, _ in self._family_modes()}
        if clash:
            raise ValueError(f"the unrolled modes {sorted(clash)} of a Modes family have the "
                             "names of plain modes; rename the Mode or the Modes family")
        self.distribution = None
        if distribution is not None:
            self.distribution = self._check_distribution(distribution)
        self.charges, self.symmetry, self.sector_modulus = self._find_symmetry()
        if self._check_hermitian:
            self._hermiticity()

    def _check_subsystems(self):
        """Template atoms only inside ``sum``/``each``; ``each`` acts on its own atoms only."""
        for kind, _, factors, used in self.symbolic._pieces():
            for f in factors:
                for sub in f.subsystems:
                    template = is_site(sub) and sub.var == sub.clusters.tvar
                    if kind == "each":
                        (cl,) = used
                        if sub is not cl.template:
                            what = cl._what
                            raise ValueError(f"{cl.name}.each(op): op must act on the template {what} "
                                             f"{cl.name}.{what} only (one jump per {what}), but it "
                                             f"acts on {sub!r}")
                    elif template:
                        kind_ = type(sub.clusters).__name__
                        raise ValueError(f"the template {sub.clusters._what} of {kind_} "
                                         f"{sub.clusters.name!r} appears outside {kind_}.sum()/"
                                         "each(); wrap the operator in .sum(...) (collective) or "
                                         ".each(...) (local jump)")

    # -- values -----------------------------------------------------------
    def _set_values(self, parameters, N):
        if parameters is None:
            parameters = {}
        if not isinstance(parameters, Mapping):
            raise TypeError(f"parameters must be a dict, got {type(parameters).__name__}")
        names = set(self.symbolic.parameter_names)
        indexed = self._indexed_names()
        unknown = set(parameters) - names - indexed
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}; the model has "
                             f"{sorted(names | indexed) or 'none'}")
        missing = (names | indexed) - set(parameters)
        if missing:
            raise ValueError(f"parameters {sorted(missing)} need values")
        sizes = self._sizes_by_family(N)
        self.mode_families = self._mode_sizes(
            {f: v for f, v in sizes.items() if isinstance(f, Modes)}, parameters)
        several = len(self._species) > 1
        self.cluster_counts = {}
        for fam in self._species:
            what = f"N[{fam.name!r}]" if several else "N"
            if sizes.get(fam) is None:
                every = ", ".join(f"{f.name!r}: …" for f in self._species)
                raise ValueError(
                    "N (atoms per cluster) is required for a model with Clusters" if not several
                    else f"N has no entry for Clusters {fam.name!r}: give the atoms per cluster "
                    f"of every species, N={{{every}}}")
            n = sizes[fam]
            counts = np.atleast_1d(np.asarray(n, dtype=float))
            if counts.ndim != 1 or counts.size == 0:
                raise ValueError(f"{what} must be a number or a 1-D sequence, got {n!r}")
            if not np.all(np.isfinite(counts)) or np.any(counts < 1):
                raise ValueError(f"{what} must be >= 1 atom per cluster, got {n!r}")
            self.cluster_counts[fam] = counts
        owner = self.symbolic.index_parameters
        values = {}
        for k, v in parameters.items():
            if k in indexed:
                arr = np.atleast_1d(real_array(f"parameter {k!r}", v))
                fam = owner.get(k)
                if isinstance(fam, Modes):
                    m = self.mode_families[fam]
                    if arr.shape != (m,):
                        raise ValueError(f"per-mode parameter {k!r} of Modes {fam.name!r} needs "
                                         f"{m} values (one per mode), got shape {arr.shape}")
                else:
                    fam = fam if fam is not None else next(iter(self._species), None)
                    M = self.cluster_counts[fam].size if fam is not None else 1
                    of = f" of Clusters {fam.name!r}" if several else ""
                    if arr.shape != (M,):
                        raise ValueError(f"per-cluster parameter {k!r}{of} needs {M} values "
                                         f"(one per cluster), got shape {arr.shape}")
                if not np.all(np.isfinite(arr)):
                    raise ValueError(f"parameter {k!r} must be finite, got {v!r}")
                values[k] = arr
            else:
                if isinstance(v, bool) or not isinstance(v, numbers.Real):
                    raise TypeError(f"parameter {k!r} must be a real number, got {v!r}")
                if not math.isfinite(v):
                    raise ValueError(f"parameter {k!r} must be finite, got {v!r}")
                values[k] = float(v)
        self.parameters = values
        self._check_rates()
        for _, _, placeholders in self.symbolic.sum_terms():
            self._check_cluster_index(placeholders, "H or a jump")

    def _sizes_by_family(self, N):
        """``{family: N entry}`` from the ``N`` argument: a dict by family name, or (one
        Clusters) its counts."""
        families = {f.name: f for f in self.symbolic.index_sets}
        if isinstance(N, Mapping):
            unknown = set(N) - set(families)
            if unknown:
                raise ValueError(f"N: unknown families {sorted(unknown)}; the model's indexed "
                                 f"families are {sorted(families) or 'none'}")
            return {families[k]: v for k, v in N.items()}
        if N is None:
            return {}
        if not self._species:
            raise ValueError("N is the number of atoms per cluster, but the model has no "
                             "Clusters (explicit atoms are counted by themselves)")
        if len(self._species) > 1:
            names = [f.name for f in self._species]
            raise ValueError(f"N must be a dict by family name for a model with several "
                             f"Clusters {names}: N={{{', '.join(repr(n) + ': …' for n in names)}}}")
        return {self._species[0]: N}

    def _mode_sizes(self, sizes, parameters):
        """``{Modes: M}`` from ``N`` (``sizes``) or the lengths of the per-mode parameters."""
        from ._validate import check_int
        owner = self.symbolic.index_parameters
        out = {}
        for fam in self._mode_sets:
            lengths = {k: int(np.size(v)) for k, v in parameters.items() if owner.get(k) is fam}
            if fam in sizes:
                out[fam] = check_int(f"N[{fam.name!r}] (number of modes)", sizes[fam], minimum=1)
            elif lengths:
                if len(set(lengths.values())) > 1:
                    raise ValueError(f"the per-mode parameters of Modes {fam.name!r} have "
                                     f"different lengths {lengths}; give one value per mode")
                out[fam] = next(iter(lengths.values()))
            else:
                raise ValueError(f"Modes {fam.name!r} has no per-mode parameter to count its "
                                 f"modes: give N={{{fam.name!r}: M}}")
        return out

    def family_size(self, family: Clusters | Modes) -> int:
        """Number of indices of an indexed family: clusters of :class:`Clusters`, modes of
        :class:`Modes`.

        Raises
        ------
        ValueError
            If ``family`` is not one of the model's indexed families.
        """
        if isinstance(family, Modes) and family in self.mode_families:
            return self.mode_families[family]
        if not isinstance(family, Clusters) or family not in self.cluster_counts:
            raise ValueError(f"{family!r} is not an indexed family of the model")
        return int(self.cluster_counts[family].size)

    def _check_cluster_index(self, placeholders, what):
        for p in placeholders:
            if p.clusters not in self.symbolic.index_sets:
                continue                  # a foreign family: reported by check_operator
            M = self.family_size(p.clusters)
            if getattr(p, "cluster", None) is not None and p.cluster >= M:
                unit = "mode" if isinstance(p.clusters, Modes) else "cluster"
                kind = type(p.clusters).__name__
                raise ValueError(f"{what} sums over {unit} {p.cluster} ({kind}.sum(..., "
                                 f"cluster={p.cluster})), but the model has {M} {unit}"
                                 f"{'s' if M != 1 else ''} (0 … {M - 1})")

    def _indexed_names(self):
        out = set()
        for _, c, factors, _ in self.symbolic._pieces():
            for coeff in [c] + [v for f in factors for v in f.terms.values()]:
                for mono in coeff.terms:
                    for name, _ in mono:
                        if name.endswith("]") and "[" in name:
                            out.add(name.partition("[")[0])
        return out - {"N"}

    def _bind(self, coeff, cluster=0):
        """Numeric value of a coefficient; per-cluster parameters from ``cluster``."""
        vals = {}
        for mono in coeff.terms:
            for name, _ in mono:
                base = name.partition("[")[0]
                vals[name] = (self.parameters[base][cluster] if "[" in name
                              else self.parameters[name])
        return coeff.evaluate(vals)

    def _check_rates(self):
        for rate, kind, c in self.symbolic.jump_list:
            for m in range(self.family_size(c.clusters) if kind == "each" else 1):
                v = self._bind(rate, m)
                if abs(v.imag) > 0 or not np.isfinite(v.real) or v.real < 0:
                    # a per-cluster rate: name its cluster and family, not the template index
                    shown = re.sub(r"\[@\w*\]", "", str(rate))
                    where = (f" in cluster {m} of {c.clusters.name!r}"
                             if kind == "each" and shown != str(rate) else "")
                    raise ValueError(f"jump rate {shown} must be a real number >= 0, got "
                                     f"{v}{where}")

    def _check_distribution(self, distribution):
        from .ensemble import ClusterDistribution, Ensemble
        if isinstance(distribution, Ensemble):
            distribution = distribution.distribution
            if distribution is None:
                raise ValueError("distribution: the Ensemble was given cluster by cluster and "
                                 "records no distribution")
        if not isinstance(distribution, ClusterDistribution):
            raise TypeError(f"distribution must be a ClusterDistribution or an Ensemble that "
                            f"records one, got {type(distribution).__name__}")
        if not self._species:
            raise ValueError("distribution: the model has no Clusters to discretise it")
        if len(self._species) > 1:
            raise ValueError("distribution: the model has several Clusters "
                             f"{[f.name for f in self._species]}; one recorded distribution "
                             "would not say which species it discretises")
        return distribution

    def with_distribution(self, distribution):
        """A copy recording the distribution its clusters discretise (None: forget it).

        Parameters
        ----------
        distribution : ClusterDistribution, Ensemble or None
            As the ``distribution`` argument of :class:`Model`.
        """
        new = object.__new__(Model)
        new.__dict__.update(self.__dict__)
        new.distribution = (None if distribution is None
                            else self._check_distribution(distribution))
        return new

    def with_values(self, N=None, **parameters):
        """A copy with some parameter values (and optionally the counts) replaced.

        >>> bigger = model.with_values(N=100, nu=0.0)       # doctest: +SKIP
        """
        new = object.__new__(Model)
        new.__dict__.update(self.__dict__)
        if N is not None and not isinstance(N, Mapping):
            N = {f.name: n for f, n in self._sizes_by_family(N).items()}
        # every family keeps its size unless N gives another (a Modes family also takes a
        # new size from new per-mode values)
        owner = self.symbolic.index_parameters
        given = {owner.get(k) for k in parameters}
        N = {**{f.name: m for f, m in self.mode_families.items() if f not in given},
             **{f.name: c for f, c in self.cluster_counts.items()}, **(N or {})}
        new._set_values(dict(self.parameters, **parameters), N)
        if new.n_clusters != self.n_clusters:      # other clusters: not that discretisation
            new.distribution = None
        return new

    def same_structure(self, other) -> bool:
        """True if ``other`` differs from this model in its numbers only.

        The same symbolic structure (H and jumps: :meth:`with_values` of this model, or a
        description built from one shared template), the same number of clusters in
        every :class:`Clusters` family (species) and of modes in every :class:`Modes` family: what one bound solver
        (:class:`~qutip_superrad.solvers.BoundSolver`) serves by rebinding coefficients.
        """
        return (isinstance(other, Model) and other.symbolic is self.symbolic
                and {f: len(c) for f, c in other.cluster_counts.items()}
                == {f: len(c) for f, c in self.cluster_counts.items()}
                and other.mode_families == self.mode_families)

    @property
    def clusters(self):
        """The model's :class:`Clusters` (``None`` without one).

        Raises
        ------
        ValueError
            With several species (:class:`Clusters` families): read
            :attr:`cluster_counts` instead.
        """
        if len(self._species) > 1:
            raise ValueError(f"the model has several Clusters {[f.name for f in self._species]}"
                             " (species); read model.cluster_counts ({Clusters: counts}) "
                             "instead of model.clusters")
        return self._species[0] if self._species else None

    @property
    def counts(self):
        """Atoms per cluster (``None`` without Clusters); with several species, those of
        every species in name order (the global cluster index of :meth:`cluster_atoms`)."""
        if len(self.cluster_counts) < 2:
            return next(iter(self.cluster_counts.values()), None)
        return np.concatenate(list(self.cluster_counts.values()))

    @property
    def N(self):
        """Total number of atoms (explicit atoms plus all clusters of every species)."""
        counts = self.counts
        total = len(self.atoms) + (0 if counts is None else float(np.sum(counts)))
        return int(total) if float(total).is_integer() else total

    @property
    def is_integer(self):
        """True if every cluster holds an integer number of atoms."""
        counts = self.counts
        return counts is None or bool(np.all(counts == np.round(counts)))

    @property
    def n_clusters(self):
        """Number of clusters ``M`` (0 without Clusters; all species together)."""
        return sum(int(c.size) for c in self.cluster_counts.values())

    @property
    def modes(self):
        """Modes of the explicit form: the plain modes, then every :class:`Modes` family
        unrolled into ``b1 … bM``."""
        return self._plain_modes + [m for _, m, _ in self._family_modes()]

    def _family_modes(self):
        """``[(Modes, explicit Mode, index), ...]`` of the unrolled mode families."""
        return [(f, Mode(f"{f.name}{k + 1}"), k) for f, m in self.mode_families.items()
                for k in range(m)]

    def sites(self, family: Clusters | Modes) -> list:
        """Explicit subsystems standing for an indexed family: ``[(subsystem, index), ...]``
        (atoms with their cluster for :class:`Clusters`, modes ``b1 … bM`` for
        :class:`Modes`).

        Raises
        ------
        ValueError
            If ``family`` is not one of the model's indexed families.
        """
        if isinstance(family, Modes):
            return [(m, k) for f, m, k in self._family_modes() if f is family]
        self.family_size(family)                 # raises for a foreign family
        return [(a, m) for f, a, m, _ in self._species_atoms() if f is family]

    def has_local_jumps(self):
        """True if a jump of non-zero rate acts on each atom separately (``Clusters.each``)."""
        return any(kind == "each" and isinstance(c.clusters, Clusters)
                   and any(self._bind(rate, m) != 0 for m in range(self.family_size(c.clusters)))
                   for rate, kind, c in self.symbolic.jump_list)

    def conserves_total_spin(self):
        """True if only collective operators act on the atoms (no local jumps, no explicit
        atoms): the total spin of every permutation sector is conserved and the steady
        state depends on the initial state (the symmetric manifold holds the one reached
        from the ground state)."""
        return (bool(self.cluster_counts) and not self.atoms and not self.has_local_jumps()
                and float(np.sum(self.counts)) >= 2)

    # -- symmetry ---------------------------------------------------------
    def _find_symmetry(self):
        """Excitation charges and the modulus ``K`` with ``k mod K`` conserved (0: U(1))."""
        from .cumulant.engine.closure import _charge

        charges = _excitation_charges(self._plain_modes + self.atoms, self.symbolic.index_sets)

        def charges_of(factors):
            qs = {0}
            for f in factors:
                qs = {q + _charge(k, charges) for q in qs for k in f.terms}
            return qs

        diffs = set()
        for _, fs, _ in self.symbolic.H_indexed.terms:
            diffs |= charges_of(fs)
        for _, kind, c in self.symbolic.jump_list:
            terms = [[c.op]] if kind == "each" else [t[1] for t in c.terms]
            qs = sorted(set().union(*(charges_of(fs) for fs in terms)))
            diffs |= {q - qs[0] for q in qs}
        mod = 0
        for d in diffs:
            mod = math.gcd(mod, int(round(d)))
        if mod == 0:
            return charges, "U(1)", 0
        if mod == 2:
            return charges, "parity", 2
        return None, "none", 1

    def check_operator(self, op, what="operator"):
        """Raise ``TypeError``/``ValueError`` unless ``op`` is an operator on this model's
        subsystems (modes, explicit atoms, the atoms of its Clusters)."""
        if not isinstance(op, (Operator, IndexedOperator)):
            raise TypeError(f"{what} must be an Operator or a Clusters sum of the model's algebra, "
                            f"got {type(op).__name__}")
        terms = ([f for f in [op]] if isinstance(op, Operator) else
                 [f for _, fs, _ in op.terms for f in fs])
        if isinstance(op, Operator) and any(is_site(s) for s in op.subsystems):
            raise ValueError(f"{what}: an operator on one atom of the Clusters (or one mode of a "
                             "Modes family) is ambiguous: write Clusters.sum(...) (and divide "
                             "by N for a per-atom mean), Modes.sum(...) or .sum(op, cluster=k)")
        if isinstance(op, IndexedOperator):
            for _, _, ph in op.terms:
                self._check_cluster_index(ph, what)
        known = set(self._plain_modes) | set(self.atoms)
        for f in terms:
            for s in f.subsystems:
                if is_site(s):
                    if s.clusters not in self.symbolic.index_sets:
                        raise ValueError(f"{what} acts on the {s.clusters._what}s of "
                                         f"{s.clusters!r}, which is not the model's Clusters or "
                                         "Modes (the model's indexed families: "
                                         f"{[f.name for f in self.symbolic.index_sets]})")
                elif s not in known:
                    raise ValueError(f"{what} acts on {s!r}, which is not part of the model "
                                     f"(modes {[m.name for m in self.modes]}, atoms "
                                     f"{[a.name for a in self.atoms]})")

    # -- explicit form ------------------------------------------------------
    def cluster_atoms(self):
        """Explicit atoms standing for the clusters: ``[(Atom, cluster index), ...]``.

        The atoms of a :class:`Clusters` named ``s`` are ``s1, s2, …``; with several
        species they come species by species (name order) and the cluster index is
        global (the position in :attr:`counts`).  Raises ``ValueError`` for non-integer
        counts.
        """
        return [(a, g) for _, a, _, g in self._species_atoms()]

    def _species_atoms(self):
        """``[(Clusters, Atom, cluster index in its species, global cluster index), ...]``."""
        if not self.cluster_counts:
            return []
        if not self.is_integer:
            raise ValueError(f"an explicit form needs integer atoms per cluster, got N={self.counts}")
        out, g = [], 0
        for fam, counts in self.cluster_counts.items():
            k = 0
            for m, n in enumerate(counts.astype(int)):
                for _ in range(n):
                    k += 1
                    out.append((fam, Atom(f"{fam.name}{k}", fam.levels), m, g + m))
            g += counts.size
        return out

    def subsystems(self):
        """Tensor factors of the explicit form in QuTiP order: modes, explicit atoms, cluster atoms."""
        return self.modes + self.atoms + [a for a, _ in self.cluster_atoms()]

    def explicit(self, op):
        """An operator of the description as a plain :class:`Operator` on explicit atoms.

        Sums over clusters are unrolled over :meth:`cluster_atoms` and every
        parameter is bound to its value.
        """
        if isinstance(op, Operator):
            return self._subs_scalar(op)
        if not isinstance(op, IndexedOperator):
            raise TypeError(f"expected an Operator or a Clusters sum, got {type(op).__name__}")
        out = Operator()
        for c, factors, phs in op.terms:
            if any(p.clusters not in self.symbolic.index_sets for p in phs):
                raise ValueError("the operator sums over Clusters that are not the model's")
            ranges = [self.sites(p.clusters) for p in phs]
            for choice in itertools.product(*ranges):
                if any(p.cluster is not None and site[1] != p.cluster
                       for p, site in zip(phs, choice)):
                    continue                     # a sum restricted to another cluster
                atommap = {p: site[0] for p, site in zip(phs, choice)}
                pvals = {p.var: site[1] for p, site in zip(phs, choice)}
                term = Operator({(): Coeff(self._bind_indexed(c, pvals))})
                for f in factors:
                    g = substitute_atoms(f, atommap, {})
                    term = term * Operator({k: Coeff(self._bind_indexed(v, pvals))
                                            for k, v in g.terms.items()})
                out = out + term
        return out

    def _bind_indexed(self, coeff, cluster_of_var):
        vals = {}
        for mono in coeff.terms:
            for name, _ in mono:
                if "[" in name:
                    base, _, var = name[:-1].partition("[")
                    vals[name] = self.parameters[base][cluster_of_var[var]]
                else:
                    vals[name] = self.parameters[name]
        return coeff.evaluate(vals)

    def _subs_scalar(self, op):
        return Operator({k: Coeff(self._bind_indexed(v, {})) for k, v in op.terms.items()})

    def explicit_jumps(self):
        """``[(rate, Operator), ...]`` on explicit atoms (``each`` jumps unrolled per atom)."""
        out = []
        for rate, kind, c in self.symbolic.jump_list:
            if kind == "each":
                out += self.each_jumps(rate, c)
            else:
                op = self.explicit(c)
                out.append((self._bind(rate).real, op))
        return [(r, c) for r, c in out if r != 0 and not c.is_zero()]

    def each_jumps(self, rate: Coeff, each: Each) -> list:
        """``[(rate, Operator), ...]``: a ``Clusters.each``/``Modes.each`` jump unrolled over
        the explicit atoms or modes of its family, numbers bound."""
        fam = each.clusters
        out = []
        for site, m in self.sites(fam):
            r = self._bind(rate, m).real
            op = substitute_atoms(each.op, {fam.template: site}, {})
            out.append((r, Operator({k: Coeff(self._bind_indexed(v, {fam.tvar: m}))
                                     for k, v in op.terms.items()})))
        return out

    def hamiltonian_explicit(self):
        """H as a plain :class:`Operator` on explicit atoms, numbers bound."""
        return self.explicit(self.symbolic.H_indexed)

    def _hermiticity(self):
        small = self
        if self.cluster_counts:
            small = self.with_values(N={f.name: np.minimum(np.ceil(c), 2)
                                        for f, c in self.cluster_counts.items()})
            small._check_hermitian = False
            small.mode_families = self.mode_families
        H = small.hamiltonian_explicit()
        diff = H - H.dag()
        worst = max((abs(v.evaluate()) for v in diff.terms.values()), default=0.0)
        scale = max((abs(v.evaluate()) for v in H.terms.values()), default=1.0)
        if worst > 1e-12 * max(scale, 1.0):
            raise ValueError("H is not Hermitian (H − H† has a coefficient of size "
                             f"{worst:.3g}); add the Hermitian conjugate terms, or pass "
                             "check_hermitian=False to keep a non-Hermitian H on purpose")

    # -- QuTiP objects -------------------------------------------------------
    def dims(self, nphot):
        """``[(subsystem, dimension), ...]`` of the explicit tensor space."""
        cut = _cutoffs(self.modes, nphot)
        return [(m, cut[m]) for m in self.modes] + [(a, a.levels) for a in
                                                   self.atoms + [x for x, _ in self.cluster_atoms()]]

    def to_qobj(self, op, nphot=None):
        """Any operator of the description as a ``qutip.Qobj`` of the explicit tensor space."""
        return to_qobj(self.explicit(op), self.dims(nphot))

    def hamiltonian(self, nphot=None):
        """Hamiltonian as a Qobj (modes first, then atoms; ``nphot`` Fock states per mode)."""
        return to_qobj(self.hamiltonian_explicit(), self.dims(nphot))

    def c_ops(self, nphot=None):
        """Collapse operators ``√γ c`` as Qobj (zero rates omitted)."""
        dims = self.dims(nphot)
        return [math.sqrt(r) * to_qobj(c, dims) for r, c in self.explicit_jumps()]

    def liouvillian(self, nphot=None):
        """The full-space Liouvillian as a Qobj superoperator."""
        import qutip
        return qutip.liouvillian(self.hamiltonian(nphot), self.c_ops(nphot))

    def __repr__(self):
        pars = ", ".join(f"{k}={v:g}" if np.ndim(v) == 0 else f"{k}={list(v)}"
                         for k, v in sorted(self.parameters.items()))
        n = "".join(f", N={c.astype(float).tolist()}" if len(self.cluster_counts) == 1 else
                    f", {f.name}: N={c.astype(float).tolist()}"
                    for f, c in self.cluster_counts.items())
        n += "".join(f", {f.name}: {m} modes" for f, m in self.mode_families.items())
        return (f"Model({self.name!r}, modes={[m.name for m in self._plain_modes]}, "
                f"atoms={len(self.atoms)}{n}, {pars}, symmetry={self.symmetry})")


def _product(n, k):
    """All ``k``-tuples of ``range(n)``."""
    import itertools
    return itertools.product(range(n), repeat=k)


def _cutoffs(modes, nphot):
    """``{mode: Fock cutoff}`` from an int (all modes) or a dict by mode or name."""
    if not modes:
        return {}
    if nphot is None:
        raise ValueError("nphot (Fock states per mode) is required for a model with modes")
    if isinstance(nphot, Mapping):
        out = {}
        for m in modes:
            v = nphot.get(m, nphot.get(m.name))
            if v is None:
                raise ValueError(f"nphot has no entry for mode {m.name!r}")
            out[m] = v
    else:
        out = {m: nphot for m in modes}
    from ._validate import check_int
    for m, v in out.items():
        out[m] = check_int("nphot" if len(out) == 1 else f"nphot[{m.name!r}]", v, minimum=2)
    return out
