"""Physical models: one module per seed system."""
from .laser import SuperradiantLaser, BadCavityLaser

__all__ = ["SuperradiantLaser", "BadCavityLaser"]
