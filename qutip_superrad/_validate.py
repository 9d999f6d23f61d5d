"""Input validation shared by every public entry point.

Every check raises *before* any large allocation and names the offending
parameter together with the allowed range, so that a user sees at once what
to change.
"""
import functools
import numbers
import warnings

import numpy as np

__all__ = [
    "check_rate", "check_real", "check_count", "check_int", "check_array", "real_array",
    "check_options", "check_grid", "MemoryLimitError", "check_memory", "TimeLimitError",
    "NoSteadyStateError",
    "check_time_limit",
    "renamed_keywords", "rename_keywords", "renamed_attribute", "PROGRESS_RENAMES",
]

#: former names of ``progress_bar`` (one name everywhere, QuTiP's)
PROGRESS_RENAMES = {"show_progress": "progress_bar", "progress": "progress_bar"}


class MemoryLimitError(MemoryError):
    """Raised when a representation would exceed the configured memory limit."""


class ConvergenceError(RuntimeError):
    """Raised when a solver stops without converging; the message carries the diagnostics
    (residual, iterations, what was tried) and what to try next.  A physical outcome such
    as a limit cycle (no stable steady state) ends here too."""


class TimeLimitError(RuntimeError):
    """Raised when an iterative or integrating solver exceeds its ``max_time`` or step
    limit; the message says where it stopped (time reached, iterations, residual)."""


class NoSteadyStateError(ConvergenceError, ValueError):
    """Raised when the equations have no stable fixed point: the relaxation does not settle
    and every fixed point Newton finds is unstable (a limit cycle or chaos, e.g. the
    Lorenz–Haken instability of a mean-field laser in a bad cavity).  A property of the
    parameters, hence a ``ValueError``; a :class:`ConvergenceError` (``RuntimeError``) as
    the "did not converge" error it refines."""


def check_time_limit(value, name="max_time"):
    """``None`` (no limit) or ``value`` as a positive number of seconds (or steps)."""
    if value is None:
        return None
    value = check_real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0 (or None for no limit), got {value}")
    return value


def check_real(name, value):
    """Return ``value`` as a finite float or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_rate(name, value):
    """Return ``value`` as a finite, non-negative float (a decay/pump rate)."""
    value = check_real(name, value)
    if value < 0:
        raise ValueError(f"{name} must be a rate >= 0, got {value}")
    return value


def check_int(name, value, minimum=None, maximum=None):
    """Return ``value`` as an int within ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_count(name, value):
    """Return an atom number ``N >= 1`` as an int (exact methods need integers)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
        if not float(value).is_integer():
            raise ValueError(f"{name} must be an integer number of atoms, got {value}")
    return check_int(name, value, minimum=1)


def _has_text(values):
    """True if ``values`` is or holds a string (NumPy would convert ``"1"`` to 1.0)."""
    if isinstance(values, (str, bytes)):
        return True
    if isinstance(values, np.ndarray):
        if values.dtype.kind in "USa":
            return True
        return values.dtype == object and any(_has_text(v) for v in values.ravel())
    if isinstance(values, (list, tuple)):
        return any(_has_text(v) for v in values)
    return False


def real_array(name, values, dtype=float):
    """``np.asarray(values, dtype)`` that refuses strings and non-numbers with a
    ``TypeError`` naming ``name`` (NumPy alone accepts ``["1", "2"]``)."""
    if _has_text(values):
        raise TypeError(f"{name} must be real numbers, got text ({values!r:.60})")
    try:
        return np.asarray(values, dtype=dtype)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of real numbers") from None


def check_array(name, values, size=None, nonnegative=False, positive=False):
    """Return ``values`` as a finite 1-D float array of optional length ``size``."""
    arr = real_array(name, values)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if size is not None and arr.size != size:
        raise ValueError(f"{name} must have length {size} (one entry per cluster), "
                         f"got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr}")
    if positive and np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got {arr}")
    if nonnegative and np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {arr}")
    return arr


def check_grid(name, values):
    """Return a finite, strictly increasing 1-D grid (time or frequency)."""
    arr = check_array(name, values)
    if arr.size < 1:
        raise ValueError(f"{name} must not be empty")
    if np.any(np.diff(arr) <= 0):
        raise ValueError(f"{name} must be strictly increasing")
    return arr


def check_options(options, defaults, where):
    """Merge user ``options`` into ``defaults``; unknown keys are an error.

    Parameters
    ----------
    options : dict or None
        User options.
    defaults : dict
        Allowed keys and their default values.
    where : str
        Name of the solver, quoted in the error message.
    """
    options = {} if options is None else options
    if not isinstance(options, dict):
        raise TypeError(f"options for {where} must be a dict, got {type(options).__name__}")
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for {where}; "
                         f"allowed: {sorted(defaults)}")
    merged = dict(defaults)
    merged.update(options)
    return merged


def _bytes(n):
    for unit, size in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def check_memory(estimate_bytes, limit_bytes, what):
    """Refuse to build ``what`` when ``estimate_bytes`` exceeds ``limit_bytes``.

    ``limit_bytes`` (the ``max_memory`` option) must be a positive number or
    None (no limit).
    """
    if limit_bytes is None:
        return
    limit_bytes = check_real("max_memory", limit_bytes)
    if limit_bytes <= 0:
        raise ValueError(f"max_memory must be > 0 bytes (or None for no limit), got {limit_bytes}")
    if estimate_bytes > limit_bytes:
        raise MemoryLimitError(
            f"{what} needs an estimated {_bytes(estimate_bytes)}, above the limit "
            f"max_memory={_bytes(limit_bytes)}; reduce N or nphot, use a symmetry-aware "
            f"method, or raise the max_memory option (--max-memory on the command line)")


def _warn_renamed(where, old, new, stacklevel, category=FutureWarning):
    warnings.warn(f"{where}: {old!r} is renamed to {new!r}; the old name will be removed",
                  category, stacklevel=stacklevel + 1)


def rename_keywords(kwargs, renames, where, stacklevel=3, category=FutureWarning):
    """Map the old keyword names in ``kwargs`` to the new ones, in place.

    Every old name found emits ``FutureWarning("<where>: 'old' is renamed to
    'new'")``; giving both the old and the new name raises ``TypeError``.

    Parameters
    ----------
    kwargs : dict
        Keyword arguments (modified in place and returned).
    renames : dict
        ``{old_name: new_name}``.
    where : str
        The callable, quoted in the messages.
    stacklevel : int
        Passed to :func:`warnings.warn` (the default points at the caller of
        the function that calls this one).
    category : Warning subclass, default FutureWarning
        ``DeprecationWarning`` for names that only developers see.
    """
    for old, new in renames.items():
        if old not in kwargs:
            continue
        if new in kwargs:
            raise TypeError(f"{where} got both {old!r} and its new name {new!r}; "
                            f"give only {new!r}")
        _warn_renamed(where, old, new, stacklevel, category)
        kwargs[new] = kwargs.pop(old)
    return kwargs


def renamed_keywords(renames=None, category=FutureWarning, **more):
    """Decorator: accept the old keyword names ``{old: new}`` of a function.

    The renames are given as a dict, as keywords ``old=new``, or both;
    ``category`` is the warning (``FutureWarning``, or ``DeprecationWarning``).

    The decorated function keeps its signature (new names only); an old name
    given as a keyword is passed on under its new name with a
    ``FutureWarning``, old and new together raise ``TypeError``.  Positional
    calls are unaffected.
    """
    renames = dict(renames or {}, **more)

    def decorate(func):
        name = func.__qualname__.replace(".__init__", "")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if kwargs:
                rename_keywords(kwargs, renames, f"{name}()", stacklevel=3, category=category)
            return func(*args, **kwargs)
        wrapper.__renamed_keywords__ = dict(renames)
        return wrapper
    return decorate


def renamed_attribute(old, new):
    """A read-only property ``old`` that returns the attribute ``new`` with a ``FutureWarning``."""
    def getter(self):
        _warn_renamed(type(self).__name__, old, new, stacklevel=2)
        return getattr(self, new)
    return property(getter, doc=f"Former name of :attr:`{new}` (read-only, deprecated: warns).")
