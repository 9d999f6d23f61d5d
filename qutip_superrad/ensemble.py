"""Ensembles of two-level atoms grouped into clusters.

A cluster is a group of atoms that share one detuning and one coupling to the
cavity mode.  Exact methods expand clusters into atoms (integer counts);
cumulant methods work with the clusters directly (counts may be non-integer).
The frequency and coupling distributions follow A. Bychek, C. Hotter,
D. Plankensteiner and H. Ritsch, *Superradiant lasing in inhomogeneously
broadened ensembles with spatially varying coupling*, Open Research Europe 1,
73 (2021).
"""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from ._validate import check_array, check_count, check_int, check_real

if TYPE_CHECKING:                                   # pragma: no cover
    from numpy.typing import ArrayLike

__all__ = ["Ensemble", "ClusterDistribution", "PLACEMENTS", "PLACEMENTS_BY_KIND"]

#: cluster placements of :meth:`Ensemble.gaussian`: ``"bins"`` (equally spaced
#: detunings in ``[−width·σ, width·σ]``, counts ∝ the Gaussian density, as in the
#: seed), ``"hermite"`` (Gauss–Hermite nodes and weights of the untruncated Gaussian;
#: ``width`` is ignored) and ``"legendre"`` (Gauss–Legendre nodes in
#: ``[−width·σ, width·σ]`` with weights × density: the truncated Gaussian of the bins;
#: ``"quadrature"`` is accepted as a synonym of ``"legendre"``)
PLACEMENTS = ("bins", "hermite", "legendre")

#: placements of each kind of :class:`ClusterDistribution` (``"quadrature"`` means
#: ``"legendre"`` for the Gaussian and the uniform distribution, ``"quantiles"`` for samples)
PLACEMENTS_BY_KIND = {"gaussian": PLACEMENTS, "uniform": ("bins", "legendre"),
                      "samples": ("bins", "quantiles"), "standing_wave": ("bins",)}


class Ensemble:
    """Atoms in ``M`` clusters with counts ``N_m``, detunings ``Δ_m`` and couplings ``g_m``.

    Parameters
    ----------
    counts : array_like of float
        Number of atoms ``N_m > 0`` in each cluster (may be non-integer for the
        cumulant method; exact methods require integers).
    detunings : array_like of float, optional
        Cavity–atom detunings ``Δ_m = ω_c − ω_m`` (eq. 1 of Bychek et al. 2021).
        Default 0.
    couplings : array_like of float, optional
        Atom–cavity couplings ``g_m``.  Default 1.

    Examples
    --------
    >>> ens = Ensemble(counts=[4, 3], detunings=[0.0, 0.1], couplings=[1.5, 1.5])
    >>> ens.N, ens.n_clusters
    (7.0, 2)
    """

    def __init__(self, counts: ArrayLike, detunings: ArrayLike | None = None,
                 couplings: ArrayLike | None = None) -> None:
        counts = check_array("counts", counts, positive=True)
        if counts.size == 0:
            raise ValueError("counts must contain at least one cluster (M >= 1)")
        M = counts.size
        detunings = np.zeros(M) if detunings is None else check_array("detunings", detunings, size=M)
        couplings = np.ones(M) if couplings is None else check_array("couplings", couplings, size=M)
        self._counts, self._detunings, self._couplings = counts, detunings, couplings
        self._distribution = None
        for arr in (counts, detunings, couplings):
            arr.setflags(write=False)

    def _with_distribution(self, distribution):
        self._distribution = distribution
        return self

    @property
    def distribution(self):
        """The :class:`ClusterDistribution` these clusters discretise, or None.

        Set by :meth:`gaussian`, :meth:`standing_wave` and :meth:`product` (when its
        factors have one); None for clusters given explicitly.  It rebuilds the
        ensemble with another number of clusters (:meth:`refine`), which is what
        :func:`qutip_superrad.convergence.converge_clusters` needs.
        """
        return self._distribution

    def refine(self, n_clusters, placement=None):
        """The same distribution (same range) discretised into ``n_clusters`` clusters.

        Parameters
        ----------
        n_clusters : int
            Number of clusters of the new ensemble (for a :meth:`product`, of its
            frequency factor; the positions are kept).
        placement : str, optional
            Cluster placement (:data:`PLACEMENTS`); default: the current one.

        Raises
        ------
        ValueError
            If the ensemble does not record the distribution it discretises.
        """
        if self._distribution is None:
            raise ValueError("this Ensemble was given cluster by cluster and records no "
                             "distribution to refine; build it with Ensemble.gaussian, "
                             "Ensemble.standing_wave or Ensemble.product, or pass a factory "
                             "M -> model")
        return self._distribution.discretise(n_clusters, placement)

    # -- constructors -----------------------------------------------------
    @classmethod
    def identical(cls, N: float, g: float = 1.0, detuning: float = 0.0) -> Ensemble:
        """``N`` identical atoms in one cluster.

        Parameters
        ----------
        N : float
            Number of atoms (> 0; an integer for the exact methods).
        g : float
            Coupling to the cavity mode.
        detuning : float
            Cavity–atom detuning ``Δ``.
        """
        N = check_real("N", N)
        if N < 1:
            raise ValueError(f"N must be >= 1, got {N}")
        return cls([N], [check_real("detuning", detuning)], [check_real("g", g)])

    @classmethod
    def atoms(cls, detunings: ArrayLike, couplings: ArrayLike | None = None) -> Ensemble:
        """One atom per cluster, with per-atom detunings and couplings."""
        detunings = check_array("detunings", detunings)
        if detunings.size == 0:
            raise ValueError("detunings must describe at least one atom (N >= 1)")
        couplings = (np.ones(detunings.size) if couplings is None
                     else check_array("couplings", couplings, size=detunings.size))
        return cls(np.ones(detunings.size), detunings, couplings)

    @classmethod
    def gaussian(cls, N: float, sigma: float, n_clusters: int, width: float = 3.0,
                 g: float = 1.0, integer: bool = True, placement: str = "bins") -> Ensemble:
        """Gaussian inhomogeneous broadening resolved by frequency clusters.

        As in Sec. III of Bychek, Hotter, Plankensteiner and Ritsch, Open Res.
        Europe 1, 73 (2021).

        With ``placement="bins"`` (default, as in the seed) the detunings ``Δ_m``
        are ``n_clusters`` equidistant points in ``[−width·σ, width·σ]``; the
        counts are ``N_m ∝ exp(−Δ_m²/2σ²)`` normalised to ``Σ N_m = N``.  The
        quadrature placements put the clusters at the nodes of a Gauss quadrature
        rule and give them the atom fractions of its weights, so that sums over
        clusters are the quadrature of the continuum:

        * ``"hermite"``: Gauss–Hermite nodes ``Δ_m = σ x_m`` and weights of the
          *untruncated* Gaussian (``width`` is ignored; far nodes whose weight
          underflows to 0, for ``n_clusters`` ≳ 500, are dropped);
        * ``"legendre"``: Gauss–Legendre nodes in ``[−width·σ, width·σ]``, counts
          ∝ weight × density — the same truncated Gaussian as the bins.

        ``"quadrature"`` is a synonym of ``"legendre"``: it has the continuum limit
        of the bins and converges fastest in ``M`` for integrated quantities
        (photon number, linewidth; ``docs/cluster_convergence.md``).  Gauss–Hermite
        converges to the untruncated Gaussian (a different continuum when
        ``width`` is finite), and its widely spaced outer nodes resolve as
        separate lines in the spectrum.

        The returned ensemble records its :attr:`distribution`, so that
        :meth:`refine` rebuilds it with another ``n_clusters``.

        Parameters
        ----------
        N : float
            Total number of atoms.
        sigma : float
            Standard deviation of the detuning distribution (> 0).
        n_clusters : int
            Number of clusters ``M`` (>= 1; with ``M = 1`` all atoms sit at Δ = 0).
        width : float
            Half-width of the detuning range in units of ``sigma``.
        g : float
            Coupling of every cluster.
        integer : bool
            If True (default) the counts are rounded to integers by the
            largest-remainder method (floor every ``N_m``, then give the
            remaining atoms to the clusters with the largest fractional parts),
            so that they sum exactly to ``N``; clusters left empty are dropped.
            If False the counts are the exact Gaussian weights (for cumulants).
        placement : {"bins", "hermite", "legendre", "quadrature"}
            Where the clusters sit (see above; :data:`PLACEMENTS`).
        """
        N = check_real("N", N)
        if N < 1:
            raise ValueError(f"N must be >= 1, got {N}")
        sigma = check_real("sigma", sigma)
        if sigma <= 0:
            raise ValueError(f"sigma must be > 0, got {sigma}")
        M = check_int("n_clusters", n_clusters, minimum=1)
        width = check_real("width", width)
        if width <= 0:
            raise ValueError(f"width must be > 0, got {width}")
        placement = _check_placement(placement)
        if placement == "bins":
            delta = np.linspace(-width * sigma, width * sigma, M) if M > 1 else np.zeros(1)
            weights = np.exp(-0.5 * (delta / sigma) ** 2)
        elif placement == "hermite":
            x, weights = special.roots_hermitenorm(M)
            delta = sigma * x
        else:
            x, weights = special.roots_legendre(M)
            delta = width * sigma * x
            weights = weights * np.exp(-0.5 * (width * x) ** 2)
        delta = np.where(np.abs(delta) < 1e-15 * sigma, 0.0, delta)     # exact centre node
        positive = weights > 0      # far Gauss–Hermite nodes (M ≳ 500) underflow to 0: dropped
        delta, weights = delta[positive], weights[positive]
        counts, keep = _rounded(N * weights / weights.sum(), N, integer, M, "Ensemble.gaussian")
        delta = delta[keep]
        g = check_real("g", g)
        dist = ClusterDistribution("gaussian", dict(N=N, sigma=sigma, width=width, g=g,
                                                    integer=integer),
                                   placement, M, spread=sigma)
        return cls(counts, delta, np.full(counts.size, g))._with_distribution(dist)

    @classmethod
    def uniform(cls, N: float, half_width: float, n_clusters: int, g: float = 1.0,
                integer: bool = True, placement: str = "bins") -> Ensemble:
        """Detunings uniformly distributed in ``[−half_width, half_width]``, in clusters.

        ``placement="bins"`` (default): ``n_clusters`` equal bins of the interval, each
        cluster at the centre of its bin with ``N/M`` atoms (the midpoint rule);
        ``"legendre"`` (or ``"quadrature"``): Gauss–Legendre nodes ``half_width·x_m`` with
        counts ``∝`` the weights, so that sums over clusters are the Gauss quadrature of
        the continuum (exact for polynomials of degree ``2M − 1``).  The ensemble records
        its :attr:`distribution` (:meth:`refine`).

        Parameters
        ----------
        N : float
            Total number of atoms (>= 1).
        half_width : float
            Half-width of the detuning interval (> 0).
        n_clusters : int
            Number of clusters ``M`` (>= 1).
        g : float
            Coupling of every cluster.
        integer : bool
            Round the counts to integers summing to ``N`` (largest remainder, empty
            clusters dropped with a warning); False keeps the exact weights (cumulants).
        placement : {"bins", "legendre", "quadrature"}
            Where the clusters sit (see above).
        """
        N = check_real("N", N)
        if N < 1:
            raise ValueError(f"N must be >= 1, got {N}")
        half_width = check_real("half_width", half_width)
        if half_width <= 0:
            raise ValueError(f"half_width must be > 0 (a distribution with no spread is one "
                             f"cluster: Ensemble.identical), got {half_width}")
        M = check_int("n_clusters", n_clusters, minimum=1)
        placement = _check_placement(placement, "uniform")
        if placement == "bins":
            delta = half_width * (2 * (np.arange(M) + 0.5) / M - 1)
            weights = np.ones(M)
        else:
            x, weights = special.roots_legendre(M)
            delta = half_width * x
        delta = np.where(np.abs(delta) < 1e-15 * half_width, 0.0, delta)
        counts, keep = _rounded(N * weights / weights.sum(), N, integer, M, "Ensemble.uniform")
        g = check_real("g", g)
        dist = ClusterDistribution("uniform", dict(N=N, half_width=half_width, g=g,
                                                   integer=integer), placement, M,
                                   spread=half_width / np.sqrt(3))
        return cls(counts, delta[keep], np.full(counts.size, g))._with_distribution(dist)

    @classmethod
    def from_samples(cls, detunings: ArrayLike, n_clusters: int, g: float = 1.0,
                     N: float | None = None, placement: str = "bins") -> Ensemble:
        """Clusters of an empirical distribution: measured or sampled detunings.

        ``placement="bins"`` (default): a histogram of ``n_clusters`` equal bins over
        ``[min, max]`` of the samples, each cluster at its bin centre with the atoms of
        its bin (empty bins dropped); ``"quantiles"`` (or ``"quadrature"``): the sorted
        samples cut into ``n_clusters`` groups of (nearly) equal size, each cluster at
        the mean detuning of its group — it keeps the mean exactly and converges faster
        in ``M`` for integrated quantities.  The ensemble records its
        :attr:`distribution` (:meth:`refine`).

        Parameters
        ----------
        detunings : array_like
            The samples ``Δ_i`` (one per atom, or a sample representing ``N`` atoms).
        n_clusters : int
            Number of clusters ``M`` (>= 1, at most the number of samples).
        g : float
            Coupling of every cluster.
        N : float, optional
            Total number of atoms (default: the number of samples, integer counts);
            otherwise the counts are scaled to ``N`` (non-integer: cumulants).
        placement : {"bins", "quantiles", "quadrature"}
        """
        samples = check_array("detunings", detunings)
        if samples.size == 0:
            raise ValueError("detunings must hold at least one sample")
        M = check_int("n_clusters", n_clusters, minimum=1, maximum=samples.size)
        placement = _check_placement(placement, "samples")
        total = float(samples.size) if N is None else check_real("N", N)
        if total < 1:
            raise ValueError(f"N must be >= 1, got {total}")
        x = np.sort(samples)
        lo, hi = x[0], x[-1]
        if placement == "bins" or hi == lo:
            if hi == lo:
                centres, counts = np.array([lo]), np.array([float(x.size)])
            else:
                counts, edges = np.histogram(x, bins=M, range=(lo, hi))
                centres = 0.5 * (edges[:-1] + edges[1:])
                keep = counts > 0
                centres, counts = centres[keep], counts[keep].astype(float)
        else:
            groups = np.array_split(x, M)
            centres = np.array([grp.mean() for grp in groups])
            counts = np.array([float(grp.size) for grp in groups])
        counts = counts * (total / x.size)
        g = check_real("g", g)
        dist = ClusterDistribution("samples", dict(detunings=x, N=N, g=g), placement, M,
                                   spread=float(np.std(x)) or None)
        return cls(counts, centres, np.full(counts.size, g))._with_distribution(dist)

    @classmethod
    def standing_wave(cls, N: float, g0: float, n_positions: int, detuning: float = 0.0,
                      integer: bool = True) -> Ensemble:
        """Atoms spread over a standing wave, ``g(x) = g0 cos(kx)``.

        As in Sec. IV of Bychek, Hotter, Plankensteiner and Ritsch, Open Res.
        Europe 1, 73 (2021).

        ``K = n_positions`` equidistant positions ``x_m = m λ/(4K)``,
        ``m = 0…K−1``, in ``[0, λ/4)`` hold ``N/K`` atoms each, so that
        ``g_m = g0 cos(π m / 2K)``.  The effective coupling is
        :attr:`g_eff` ``= sqrt(Σ_m g_m²/K)`` (``≈ 0.775 g0`` for ``K = 5``).
        """
        N = check_real("N", N)
        if N < 1:
            raise ValueError(f"N must be >= 1, got {N}")
        K = check_int("n_positions", n_positions, minimum=1)
        g = check_real("g0", g0) * np.cos(0.5 * np.pi * np.arange(K) / K)
        counts = np.full(K, N / K)
        if integer:
            if not float(N).is_integer():
                raise ValueError(f"N must be an integer when integer=True, got {N}")
            counts = _largest_remainder(counts, int(N))
        keep = counts > 0
        detuning = check_real("detuning", detuning)
        dist = ClusterDistribution("standing_wave", dict(N=N, g0=float(g0), detuning=detuning,
                                                         integer=integer), "bins", K,
                                   spread=None)
        return cls(counts[keep], np.full(keep.sum(), detuning),
                   g[keep])._with_distribution(dist)

    @classmethod
    def product(cls, frequencies: Ensemble, positions: Ensemble) -> Ensemble:
        """Product of a frequency and a coupling distribution (``M × K`` clusters).

        Cluster ``(m, k)`` holds ``N_m · K_k / N_K`` atoms with detuning of
        frequency cluster ``m`` and coupling of position cluster ``k``, where
        ``N_K`` is the total count of ``positions``; the total atom number is
        that of ``frequencies``.  Counts are generally non-integer.
        """
        if not isinstance(frequencies, Ensemble) or not isinstance(positions, Ensemble):
            raise TypeError("frequencies and positions must be Ensemble instances")
        share = positions.counts / positions.counts.sum()
        counts = np.outer(frequencies.counts, share).ravel()
        detunings = np.repeat(frequencies.detunings, positions.n_clusters)
        couplings = np.tile(positions.couplings, frequencies.n_clusters)
        out = cls(counts, detunings, couplings)
        if frequencies.distribution is not None:
            fd = frequencies.distribution
            dist = ClusterDistribution("product", dict(frequencies=fd, positions=positions),
                                       fd.placement, fd.n_clusters, spread=fd.spread)
            out._with_distribution(dist)
        return out

    # -- properties --------------------------------------------------------
    counts = property(lambda self: self._counts, doc="Atoms per cluster ``N_m``.")
    detunings = property(lambda self: self._detunings, doc="Detunings ``Δ_m``.")
    couplings = property(lambda self: self._couplings, doc="Couplings ``g_m``.")

    @property
    def n_clusters(self):
        """Number of clusters ``M``."""
        return self._counts.size

    @property
    def N(self):
        """Total atom number ``Σ N_m``."""
        return float(self._counts.sum())

    @property
    def g_eff(self):
        """Effective coupling ``sqrt(Σ_m N_m g_m² / N)``."""
        return float(np.sqrt(np.sum(self._counts * self._couplings ** 2) / self.N))

    @property
    def is_integer(self):
        """True if every count is an integer (required by the exact methods)."""
        return bool(np.all(self._counts == np.round(self._counts)))

    @property
    def is_identical(self):
        """True if all atoms share one detuning and one coupling."""
        return bool(np.ptp(self._detunings) == 0 and np.ptp(self._couplings) == 0)

    def atom_parameters(self):
        """Per-atom ``(detunings, couplings, cluster_index)`` for exact methods.

        Raises
        ------
        ValueError
            If a count is not an integer.
        """
        if not self.is_integer:
            raise ValueError("exact methods need integer counts per cluster; got "
                             f"counts={self._counts}")
        reps = self._counts.astype(int)
        return (np.repeat(self._detunings, reps), np.repeat(self._couplings, reps),
                np.repeat(np.arange(self.n_clusters), reps))

    def __len__(self):
        return self.n_clusters

    def __eq__(self, other):
        return (isinstance(other, Ensemble) and np.array_equal(self.counts, other.counts)
                and np.array_equal(self.detunings, other.detunings)
                and np.array_equal(self.couplings, other.couplings))

    def __repr__(self):
        if self.n_clusters <= 4:
            return (f"Ensemble(counts={self.counts.tolist()}, detunings={self.detunings.tolist()}, "
                    f"couplings={self.couplings.tolist()})")
        return (f"Ensemble(N={self.N:g}, M={self.n_clusters}, detunings in "
                f"[{self.detunings.min():g}, {self.detunings.max():g}], g_eff={self.g_eff:g})")


def _check_placement(placement, kind="gaussian"):
    allowed = PLACEMENTS_BY_KIND[kind]
    quadrature = "quantiles" if kind == "samples" else "legendre"
    if placement == "quadrature":
        placement = quadrature
    if placement not in allowed:
        raise ValueError(f"placement must be one of {allowed} (or 'quadrature' = "
                         f"{quadrature!r}) for a {kind} distribution, got {placement!r}")
    return placement


def _rounded(counts, N, integer, M, where):
    """Counts rounded to integers summing to ``N`` (largest remainder) when ``integer``;
    clusters left empty are dropped with a warning.  Returns ``(counts, keep)``."""
    if not integer:
        return counts, np.ones(counts.size, bool)
    if not float(N).is_integer():
        raise ValueError(f"N must be an integer when integer=True, got {N}")
    counts = _largest_remainder(counts, int(N))
    keep = counts > 0
    if not np.all(keep):
        warnings.warn(f"{where}: {np.count_nonzero(~keep)} of {M} clusters would hold no atom "
                      f"after rounding N = {int(N)} to integers; they are dropped "
                      f"({np.count_nonzero(keep)} clusters remain). Use integer=False for "
                      "fractional cluster sizes (cumulants)", UserWarning, stacklevel=3)
    return counts[keep], keep


class ClusterDistribution:
    """A continuous distribution of atoms and how it was cut into clusters.

    Recorded by the constructors of :class:`Ensemble` (:attr:`Ensemble.distribution`);
    :meth:`discretise` rebuilds the ensemble with another number of clusters (same
    distribution, same range).

    Attributes
    ----------
    kind : str
        ``"gaussian"``, ``"uniform"``, ``"samples"`` (an empirical distribution),
        ``"standing_wave"`` or ``"product"`` (a frequency distribution times fixed
        position clusters).
    parameters : dict
        Arguments of the constructor besides the number of clusters.
    placement : str
        Cluster placement (:data:`PLACEMENTS_BY_KIND`).
    n_clusters : int
        Number of clusters of the discretisation (of the frequency factor for a product).
    spread : float or None
        Width of the detuning distribution (``σ``), the scale against which peak
        positions are compared; None for a distribution of couplings.
    """

    def __init__(self, kind, parameters, placement, n_clusters, spread=None):
        self.kind = kind
        self.parameters = dict(parameters)
        self.placement = placement
        self.n_clusters = int(n_clusters)
        self.spread = spread

    def check_placement(self, placement):
        """``placement`` if this distribution has it (``"quadrature"`` resolved), else a
        ``ValueError`` listing the placements of its kind."""
        kind = (self.parameters["frequencies"].kind if self.kind == "product" else self.kind)
        return _check_placement(placement, kind)

    def discretise(self, n_clusters, placement=None):
        """The :class:`Ensemble` of this distribution with ``n_clusters`` clusters."""
        placement = self.placement if placement is None else placement
        p = self.parameters
        if self.kind == "gaussian":
            return Ensemble.gaussian(p["N"], p["sigma"], n_clusters, width=p["width"], g=p["g"],
                                     integer=p["integer"], placement=placement)
        if self.kind == "uniform":
            return Ensemble.uniform(p["N"], p["half_width"], n_clusters, g=p["g"],
                                    integer=p["integer"], placement=placement)
        if self.kind == "samples":
            return Ensemble.from_samples(p["detunings"], n_clusters, g=p["g"], N=p["N"],
                                         placement=placement)
        if self.kind == "standing_wave":
            if placement != "bins":
                raise ValueError("the standing wave has only the 'bins' placement")
            return Ensemble.standing_wave(p["N"], p["g0"], n_clusters, detuning=p["detuning"],
                                          integer=p["integer"])
        freq = p["frequencies"].discretise(n_clusters, placement)
        return Ensemble.product(freq, p["positions"])

    def __repr__(self):
        items = {k: v for k, v in self.parameters.items()
                 if k not in ("frequencies", "positions", "detunings")}
        if self.kind == "samples":
            items["samples"] = self.parameters["detunings"].size
        if self.kind == "product":
            items["frequencies"] = self.parameters["frequencies"]
            items["positions"] = f"{self.parameters['positions'].n_clusters} clusters"
        args = ", ".join(f"{k}={v!r}" if not isinstance(v, float) else f"{k}={v:g}"
                         for k, v in items.items())
        return (f"ClusterDistribution({self.kind!r}, M={self.n_clusters}, "
                f"placement={self.placement!r}, {args})")


def _largest_remainder(weights, total):
    """Round non-negative ``weights`` (summing to ``total``) to integers summing to ``total``."""
    floor = np.floor(weights)
    rest = int(round(total - floor.sum()))
    order = np.argsort(-(weights - floor), kind="stable")
    floor[order[:rest]] += 1
    return floor
