"""Registered models: the package's systems by name, with flat keyword parameters.

Sweeps (:func:`qutip_superrad.sweep`) and the command line
(``python -m qutip_superrad sweep --model NAME``) build a model from a point of a
parameter grid, so every system needs a constructor whose arguments are plain
numbers.  This module gives each one a name, such a constructor, its default
method and the observables a sweep records by default.

>>> from qutip_superrad.models.registry import MODELS, registered
>>> sorted(MODELS)
['bad-cavity', 'collective-pumping', 'dipoles', 'laser', 'laser-gaussian', 'spin-cats', 'vlevel']
>>> registered("laser").parameters[:3]
('N', 'coupling', 'kappa')
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

__all__ = ["RegisteredModel", "MODELS", "registered"]


@dataclass(frozen=True)
class RegisteredModel:
    """A model the sweep layer and the command line know by name.

    Attributes
    ----------
    name : str
        Registry key (``--model NAME``).
    factory : callable
        Builds the model from keyword parameters (plain numbers).
    method : str
        Default solver method.
    methods : tuple of str
        Methods the model's ``steadystate`` accepts (``--method``, ``--help-model``).
    exact_methods : tuple of str
        Methods with the options of the exact solvers (``max_memory``, ``--max-memory``;
        :attr:`call_kwargs` such as ``nphot`` apply to these methods only).
    observables : tuple of str
        Observables recorded by default (attributes or ``values`` keys of the result).
    defaults : dict
        Parameter values used when a sweep does not set them (the command line's defaults).
    call_kwargs : dict
        Keyword arguments of the ``steadystate`` call by an exact method (e.g. the photon
        cut-off); see :meth:`kwargs_for`.
    description : str
        One line for ``--help`` and ``info``.
    """

    name: str
    factory: object
    method: str
    observables: tuple
    methods: tuple = ()
    exact_methods: tuple = ()
    defaults: dict = field(default_factory=dict)
    call_kwargs: dict = field(default_factory=dict)
    description: str = ""

    def kwargs_for(self, method):
        """The default keyword arguments of ``steadystate(method=method)``."""
        return dict(self.call_kwargs) if method in self.exact_methods else {}

    @property
    def parameters(self):
        """Names of the factory's parameters, in signature order."""
        return tuple(inspect.signature(self.factory).parameters)


def laser(N=4, coupling=1.0, kappa=10.0, emission=0.1, pumping=1.0, dephasing=0.0,
          cavity_dephasing=0.0, cavity_detuning=0.0, detuning=0.0):
    """Superradiant laser of ``N`` identical atoms (seed 000), piqs-style rate names."""
    from ..ensemble import Ensemble
    from .laser import SuperradiantLaser
    ens = Ensemble.identical(N, g=coupling, detuning=detuning)
    return SuperradiantLaser(ens, kappa=kappa, emission=emission, pumping=pumping,
                             dephasing=dephasing, cavity_dephasing=cavity_dephasing,
                             cavity_detuning=cavity_detuning)


def laser_gaussian(N=1e4, sigma=0.1, n_clusters=31, width=3.0, coupling=1e-3, kappa=1.0,
                   emission=1e-3, pumping=0.01, dephasing=0.0):
    """Superradiant laser with Gaussian inhomogeneous broadening ``sigma`` resolved by
    ``n_clusters`` frequency clusters over ``±width·sigma`` (seed 000, Sec. III)."""
    from ..ensemble import Ensemble
    from .laser import SuperradiantLaser
    ens = Ensemble.gaussian(N, sigma, int(n_clusters), width=width, g=coupling)
    return SuperradiantLaser(ens, kappa=kappa, emission=emission, pumping=pumping,
                             dephasing=dephasing)


def bad_cavity(N=10, collective_emission=0.4, emission=0.1, pumping=1.0, dephasing=0.0):
    """Bad-cavity laser of ``N`` identical atoms: ``Γ_c D[J⁻]`` + local rates."""
    from ..ensemble import Ensemble
    from .laser import BadCavityLaser
    return BadCavityLaser(Ensemble.identical(N), collective_emission=collective_emission,
                          emission=emission, pumping=pumping, dephasing=dephasing)


def collective_pumping(N=10, collective_emission=1.0, collective_pumping=0.5, emission=0.0,
                       dephasing=0.0):
    """Collective emission and collective pumping (seed 003)."""
    from .collective_pumping import CollectivePumping
    return CollectivePumping(N, collective_emission, collective_pumping, emission=emission,
                             dephasing=dephasing)


def dipoles(N=10, collective_emission=1.5, pumping=2.0, emission=1.0, elastic=0.0,
            detuning=0.0):
    """All-to-all quantum dipoles with incoherent repump (seed 001, ``f_eff = N f``)."""
    from .dipoles import DipoleArray
    return DipoleArray.all_to_all(N, collective_emission, pumping, emission=emission,
                                  elastic=elastic, detuning=detuning)


def vlevel(N=20000, g=0.01, kappa=1.0, Delta2=5.0, Delta3=-1.0, Omega2=0.5, Omega3=0.5,
           nu2=0.0, nu3=0.0):
    """V-level narrowband laser (seed 002), strontium ratio ``Γ3/Γ2``."""
    from .vlevel import VLevelLaser
    return VLevelLaser(N, g=g, kappa=kappa, Delta2=Delta2, Delta3=Delta3, Omega2=Omega2,
                       Omega3=Omega3, nu2=nu2, nu3=nu3)


def spin_cats(N=6, eta=0.5, Gamma2=1.0, phase=0.0, detuning=0.0):
    """Spin cats: squeezing drive and two-body loss of N spins (seed 004)."""
    from .spin_cats import TwoBodyLossSpins
    return TwoBodyLossSpins(N, eta, Gamma2, phase=phase, detunings=detuning)


def _entry(name, factory, method, observables, methods, exact_methods=(), call_kwargs=None):
    defaults = {k: p.default for k, p in inspect.signature(factory).parameters.items()}
    return RegisteredModel(name, factory, method, tuple(observables), tuple(methods),
                           tuple(exact_methods), defaults, dict(call_kwargs or {}),
                           (factory.__doc__ or "").split("\n")[0])


#: name -> :class:`RegisteredModel`
MODELS = {e.name: e for e in (
    _entry("laser", laser, "dicke", ("photon_number", "excited_population", "g2"),
           ("dicke", "full", "cumulant"), ("dicke", "full"), {"nphot": 10}),
    _entry("laser-gaussian", laser_gaussian, "cumulant", ("photon_number", "photon_flux"),
           ("cumulant", "full"), ("full",)),
    _entry("bad-cavity", bad_cavity, "dicke", ("photon_flux", "excited_population", "g2"),
           ("dicke",), ("dicke",)),
    _entry("collective-pumping", collective_pumping, "manifold", ("jz", "jz_variance",
                                                                "jplus_jminus"),
           ("manifold", "closed_form", "dicke", "piqs"),
           ("manifold", "closed_form", "dicke", "piqs")),
    _entry("dipoles", dipoles, "dicke", ("order_parameter", "inversion", "pair_coherence"),
           ("dicke", "full", "meanfield", "cumulant"), ("dicke", "full")),
    _entry("vlevel", vlevel, "cumulant", ("photon_number", "inversion", "coherent_photons"),
           ("cumulant", "meanfield", "full"), ("full",)),
    _entry("spin-cats", spin_cats, "manifold", ("Sz", "SpSm"),
           ("manifold", "meanfield", "cumulant"), ("manifold",)),
)}


def registered(name):
    """The :class:`RegisteredModel` called ``name``; a clear error lists the known ones."""
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        raise ValueError(f"model {name!r} is not registered; known models: "
                         f"{', '.join(sorted(MODELS))}") from None
