"""Compiled Cython kernels (built from ``cython_ext/``); each has a NumPy oracle in the package."""
