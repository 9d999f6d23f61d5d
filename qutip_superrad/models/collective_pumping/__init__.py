"""Collectively pumped superradiance (seed 003): model, closed forms, scans, metrology.

Master equation (ħ = 1, ``D[c]ρ = cρc† − ½{c†c, ρ}``)::

    dρ/dt = γ D[J⁻]ρ + w D[J⁺]ρ  (+ optional local terms, see below)

with ``γ = collective_emission`` and ``w = collective_pumping`` (the glossary
names of ``docs/model_description.md``; the old keywords ``gamma`` and
``pump`` still work, with a ``FutureWarning``).

``J⁻ = Σ_n |g_n⟩⟨e_n|``, ``J⁺ = (J⁻)†``, ``J_z = (J_ee − J_gg)/2``.  The
dynamics conserve ``j``; from the ground state they live on the ``N + 1`` Dicke
states ``|N/2, m⟩`` and are solved exactly there by
:mod:`qutip_superrad.exact.manifold` (sector-resolved, real tridiagonal
spectra, O(N) per eigenvalue).

QuTiP conventions: ``basis(2, 0)`` is the *excited* state of one atom and
``sigmam()`` lowers it; the ``(N+1)``-dimensional Qobj returned here use the
ordering of :func:`qutip.jmat` (index 0 is ``m = +N/2``, all atoms excited).

Contents
--------
* :class:`CollectivePumping` — the model: steady state, relaxation rate (exact
  or cumulant, eq. E5), sector spectra, time evolution with ``w(t)``,
  hysteresis under scanned pumping, Fisher information, sensitivity.
* Closed forms of the thermal steady state ``ρ ∝ e^{−βJ_z}``, ``β = −ln(w/γ)``
  (eqs. 3–4, D2, D5): :func:`thermal_jz`, :func:`thermal_jz_variance`.
* Scans: :func:`hysteresis_loop`, :func:`hysteresis_widths`,
  :func:`fit_power_law`, :func:`adiabatic_boundaries` (Figs 3, 4; eq. 8).
* Metrology: :func:`scan_sensitivity` (eq. 9).
* Appendix B: :func:`three_level_pumping`, the 3-level model of eq. (2) solved
  exactly on the symmetric subspace, for comparison with the
  effective rate ``w = γ_r (Ω/δ)²``.

Modules
-------
Every name below is re-exported here, so
``from qutip_superrad.models.collective_pumping import ...`` works for all of them.

* :mod:`.model` — :class:`CollectivePumping` (parameters, solver dispatch,
  metrology methods), ``_check_pump``, ``_diag_qobj``.
* :mod:`.closed_forms` — :func:`thermal_beta`, :func:`thermal_jz`,
  :func:`thermal_jz_variance`, :func:`cumulant_relaxation_rate`,
  :func:`fit_power_law`; ``_g``, ``_gprime``.
* :mod:`.results` — :class:`PumpingSteadyState`, :class:`PumpingEvolution`,
  :class:`HysteresisLoop`, :class:`ThreeLevelSteadyState`.
* :mod:`.scans` — :func:`linear_scan`, :func:`hysteresis_loop`,
  :func:`hysteresis_widths`, :func:`adiabatic_boundaries`,
  :func:`scan_sensitivity`; ``_zero_crossing``.
* :mod:`.three_level` — :func:`three_level_pumping`;
  ``_symmetric_three_level``, ``_full_three_level``.
* Old keyword/attribute names (``gamma`` →
  ``collective_emission``, ``pump`` → ``collective_pumping``) are accepted with a
  ``FutureWarning``.
"""
from .closed_forms import (_B2N, _GCOEF, _NSER, _g, _gprime, cumulant_relaxation_rate,
                           fit_power_law, thermal_beta, thermal_jz, thermal_jz_variance)
from .results import HysteresisLoop, PumpingEvolution, PumpingSteadyState, ThreeLevelSteadyState
from .scans import (_HYST_DEFAULTS, _zero_crossing, adiabatic_boundaries, hysteresis_loop,
                    hysteresis_widths, linear_scan, scan_sensitivity)
from .three_level import _full_three_level, _symmetric_three_level, three_level_pumping
from .model import CollectivePumping, _check_pump, _diag_qobj

__all__ = [
    "CollectivePumping", "PumpingSteadyState", "PumpingEvolution", "HysteresisLoop",
    "ThreeLevelSteadyState", "thermal_jz", "thermal_jz_variance", "thermal_beta",
    "cumulant_relaxation_rate", "hysteresis_loop", "hysteresis_widths", "fit_power_law",
    "adiabatic_boundaries", "scan_sensitivity", "three_level_pumping", "linear_scan",
]
