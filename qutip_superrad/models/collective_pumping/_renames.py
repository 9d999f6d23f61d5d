"""Old keyword and attribute names of the collective-pumping API (issue 9 item 7).

The rates follow the glossary of ``docs/model_description.md`` (names after
:mod:`qutip.piqs`): ``collective_emission`` (``γ D[J⁻]``, formerly ``gamma``)
and ``collective_pumping`` (``w D[J⁺]``, formerly ``pump``).  The old names
still work as keywords and attributes, with a :class:`FutureWarning` naming
the new one.
"""
import functools
import warnings

__all__ = ["renamed_keywords", "renamed_attribute"]


def _warn(where, old, new, stacklevel=3):
    warnings.warn(f"{where}: {old!r} is renamed to {new!r}; the old name will be removed",
                  FutureWarning, stacklevel=stacklevel)


def renamed_keywords(**renames):
    """Decorator: accept the old keyword names ``old=new`` with a ``FutureWarning``.

    The old keyword is passed on as the new one, so positional calls and
    every check of the function are unchanged (messages name the new
    keyword); giving both names raises ``TypeError`` (also when the new one
    is given by position).  Same messages as the laser's renames.
    """
    def deco(fn):
        where = fn.__qualname__.replace(".__init__", "") + "()"

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{where} got both {old!r} and its new name {new!r}; "
                                        f"give only {new!r}")
                    _warn(where, old, new)
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)
        wrapper.__renamed_keywords__ = dict(renames)
        return wrapper
    return deco


def renamed_attribute(old, new):
    """A read-only property ``old`` returning attribute ``new`` with a ``FutureWarning``."""
    def getter(self):
        _warn(type(self).__name__, old, new)
        return getattr(self, new)
    return property(getter, doc=f"Old name of :attr:`{new}` (deprecated; warns).")
