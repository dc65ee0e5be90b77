"""Animation formats: BVH reading, forward kinematics and writing."""

from .bvh import BvhMotion, forward_kinematics, read_bvh, write_bvh

__all__ = ["BvhMotion", "forward_kinematics", "read_bvh", "write_bvh"]
