"""Build script: compiles every ``cython_ext/*.pyx`` into ``qutip_superrad._kernels``.

A failing compilation aborts the install (no silent pure-Python fallback).
"""
import glob
import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

here = os.path.dirname(os.path.abspath(__file__))
sources = sorted(glob.glob(os.path.join("cython_ext", "*.pyx")))
headers = sorted(glob.glob(os.path.join("cython_ext", "*.h")))   # C inner loops of some kernels
extensions = [
    Extension(
        "qutip_superrad._kernels." + os.path.splitext(os.path.basename(src))[0],
        [src],
        depends=headers,
        include_dirs=[np.get_include(), "cython_ext"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"],
    )
    for src in sources
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": 3, "boundscheck": False, "wraparound": False,
                             "cdivision": True, "initializedcheck": False},
    ),
)
