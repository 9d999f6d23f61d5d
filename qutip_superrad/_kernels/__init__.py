"""Compiled Cython kernels (built from ``cython_ext/``); each has a NumPy oracle in the package.

Policy (``docs/architecture.md``, "Compiled kernels"): the install compiles
every kernel, so a missing one is an installation error.  :func:`load` turns
it into an ``ImportError`` that names the fix; there is no silent fallback.
"""
import importlib

__all__ = ["load"]


def load(name):
    """Import the compiled kernel ``qutip_superrad._kernels.<name>``.

    Raises
    ------
    ImportError
        If the kernel was not built, with a message naming the fix
        (reinstall with a C compiler, ``python -m pip install -e .``).
    """
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ImportError as exc:
        raise ImportError(
            f"the compiled kernel qutip_superrad._kernels.{name} is missing or broken ({exc}); "
            f"the kernels in cython_ext/ are compiled by the install: reinstall with a C "
            f"compiler available, e.g. `python -m pip install -e .` in the source tree"
        ) from exc
