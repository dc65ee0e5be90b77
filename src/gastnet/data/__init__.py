"""Datasets in the field's standard layout (VideoPose3D's npz files), cameras and training windows."""

from .cameras import Camera, dataset_cameras
from .keypoints2d import Keypoints2D, load_keypoints_2d, match_mocap, project_mocap, save_keypoints_2d
from .mocap import DATASETS, DatasetSpec, MocapDataset, action_group, get_dataset_spec, load_mocap, resolve_data_dir
from .sources import load_pose_data
from .windows import PoseSequence, WindowLoader, build_sequences, flip_poses

__all__ = [
    "Camera", "dataset_cameras",
    "Keypoints2D", "load_keypoints_2d", "match_mocap", "project_mocap", "save_keypoints_2d",
    "DATASETS", "DatasetSpec", "MocapDataset", "action_group", "get_dataset_spec", "load_mocap", "resolve_data_dir",
    "load_pose_data",
    "PoseSequence", "WindowLoader", "build_sequences", "flip_poses",
]
