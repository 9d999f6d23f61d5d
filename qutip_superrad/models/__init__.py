"""Physical models: one module (or package) per physical system."""
from .laser import SuperradiantLaser, BadCavityLaser
from .vlevel import VLevelLaser

__all__ = ["SuperradiantLaser", "BadCavityLaser", "VLevelLaser"]
