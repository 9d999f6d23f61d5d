"""QuTiP family entry point: lets ``qutip.about()`` list qutip-superrad."""
from . import __version__


def version():
    """Return ``(package name, version)`` for :func:`qutip.about`."""
    return "qutip-superrad", __version__
