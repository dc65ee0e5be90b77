"""Animation formats: BVH reading, forward kinematics and writing; glTF 2.0 binary (.glb) writing."""

from .bvh import BvhMotion, forward_kinematics, read_bvh, write_rig_bvh
from .gltf import GlbPerson, write_glb

__all__ = ["BvhMotion", "GlbPerson", "forward_kinematics", "read_bvh", "write_rig_bvh", "write_glb"]
