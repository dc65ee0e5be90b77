"""The pipeline: a recording (video, photo, keypoint file, array) to people in 3D and the files written.

It composes the layers below: 2D from :mod:`gastnet.video` or :mod:`gastnet.keypoints`, the
network from :mod:`gastnet.runtime`, the world from :mod:`gastnet.world`. In the order the data
flows (docs/architecture.md draws it):

- :mod:`.recording`: :func:`gastnet.lift`, any input to 2D tracks (and a video's camera motion);
- :mod:`.tracks_to_3d`: :func:`lift_tracks`, tracks screened, filled and lifted;
- :mod:`.placing`: :func:`~.placing.place_people`, the lens, roots, kinematic fit, floor;
- :mod:`.checks`: lifted poses that no human body makes are refused;
- :mod:`.results` and :mod:`.writers`: :class:`LiftResult` and the registry of output formats;
- :mod:`.options`: :class:`LiftOptions`, the knobs; :mod:`.batch`: many inputs on worker processes.
"""

from .options import LiftOptions
from .results import CameraInfo, LiftedPerson, LiftResult
from .tracks_to_3d import lift_tracks
from .writers import WRITERS

__all__ = ["WRITERS", "CameraInfo", "LiftOptions", "LiftResult", "LiftedPerson", "lift_tracks"]
