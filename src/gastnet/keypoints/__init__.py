"""2D keypoint layouts of common detectors and their conversion to the Human3.6M-17 layout."""

from .convert import COCO_17, MEDIAPIPE_TO_COCO, coco_to_h36m, mediapipe_to_coco

__all__ = ["COCO_17", "MEDIAPIPE_TO_COCO", "coco_to_h36m", "mediapipe_to_coco"]
