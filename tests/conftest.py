"""Shared test configuration.

``tests/systems`` holds the reference systems the tests compare against
(``laser_reference``, ``vlevel_laser``, ``engine_models``, ...); it is put on
``sys.path`` once here, so test modules import them as top-level modules.
"""
import sys
from pathlib import Path

_SYSTEMS = str(Path(__file__).resolve().parent / "systems")
if _SYSTEMS not in sys.path:
    sys.path.insert(0, _SYSTEMS)
