"""Physical models: one module (or package) per physical system."""
from .laser import SuperradiantLaser, BadCavityLaser
from .vlevel import VLevelLaser
from .dipoles import DipoleArray
from .spin_cats import TwoBodyLossSpins
from .vlevel_motion import MotionResult, motion_trajectories, strontium_recoil

__all__ = ["SuperradiantLaser", "BadCavityLaser", "VLevelLaser", "DipoleArray", "TwoBodyLossSpins", "motion_trajectories",
           "MotionResult", "strontium_recoil"]
