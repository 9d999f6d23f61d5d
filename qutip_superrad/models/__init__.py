"""Physical models: one module (or package) per physical system."""
from .laser import SuperradiantLaser, BadCavityLaser

__all__ = ["SuperradiantLaser", "BadCavityLaser"]
