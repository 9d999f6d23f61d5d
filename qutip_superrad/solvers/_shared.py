"""Pieces every solver of the description uses: observables, truncation, uniqueness."""
from __future__ import annotations

import numpy as np

from ..cumulant.engine.solve import MomentNotReachedError
from ..exact._common import check_truncation

__all__ = ["real_if_close", "expect_values", "truncation_checks", "unique_or_raise"]


def real_if_close(v):
    """``v`` (scalar or array) as real where its imaginary part is rounding (≤ 1e-12 relative)."""
    a = np.asarray(v)
    if np.iscomplexobj(a) and np.all(np.abs(a.imag) <= 1e-12 * np.maximum(1.0, np.abs(a))):
        a = a.real
    return a.item() if a.ndim == 0 else a


def expect_values(fn, e_ops):
    """``{key: fn(op)}`` for the ``e_ops``, real where the value is real.

    An operator whose moments a cumulant closure never reached raises
    :class:`~qutip_superrad.cumulant.engine.solve.MomentNotReachedError` (a
    ``ValueError``) naming its key.
    """
    out = {}
    for k, op in e_ops.items():
        try:
            out[k] = real_if_close(fn(op))
        except MomentNotReachedError as err:
            raise MomentNotReachedError(f"e_ops[{k!r}]: {err}") from None
    return out


def truncation_checks(model, distributions, opts):
    """``{mode name: check}`` of the photon distributions (one per mode, model order)."""
    out = {}
    for m, pn in zip(model.modes, distributions):
        mean = float(np.sum(np.arange(pn.size) * pn))
        out[m.name] = check_truncation(pn, pn.size, opts["truncation_tol"], opts["strict"], mean)
    return out


def solve_unique(model, method, solve, *args, **kwargs):
    """``solve(*args, **kwargs)`` (:func:`~qutip_superrad.exact._common.solve_steady`), with a
    singular system explained by the model's rates that vanish."""
    from ..exact._common import NotUniqueError
    try:
        return solve(*args, **kwargs)
    except NotUniqueError as exc:
        zero = sorted(k for k, v in model.parameters.items() if np.all(np.asarray(v) == 0))
        raise NotUniqueError(f"method={method!r}: {exc}. A part of the system without "
                             "dissipation keeps its initial state; the parameters that are "
                             f"zero: {zero or 'none'} — make a rate > 0 or evolve from an "
                             "initial state") from None


def physical_or_raise(model, method, checks):
    """Refuse a steady state that is numerically meaningless (an eigenvalue below −1e-6):
    a near-singular system, typically from rates 10⁹ times smaller than the others."""
    worst = checks.get("min_eigenvalue", 0.0)
    if not np.isfinite(worst) or worst >= -1e-6:
        return
    size = {k: float(np.max(np.abs(np.asarray(v)))) for k, v in model.parameters.items()}
    scale = max(size.values(), default=0.0)
    tiny = sorted(k for k, v in size.items() if 0 < v < 1e-9 * scale)
    msg = (f"method={method!r}: the steady state is not positive (smallest eigenvalue "
           f"{worst:.3g}): the linear system is numerically singular")
    if tiny:
        raise ValueError(f"{msg}; the parameters {tiny} are below 1e-9 of the largest "
                         f"({scale:.3g}): set them to 0 or rescale")
    raise RuntimeError(msg)


def unique_or_raise(model, method):
    """Refuse a steady state that is not unique (collective operators only)."""
    if model.conserves_total_spin():
        raise ValueError(f"method={method!r}: the steady state is not unique — without local "
                         "processes the total spin of the atoms is conserved. Use "
                         "method='manifold' (the symmetric block j = N/2, reached from the ground "
                         "state) or evolve from a given initial state")
