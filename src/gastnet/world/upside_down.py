"""The lifted 3D's sign that a track is a thing and not a person: upside down, and off the floor.

A punching bag hangs from its hook by what the detector takes for feet: lifted, it is a body upside
down (head below the pelvis, both ankles above it) whose lowest joint stays far above the floor the
people beside it stand on. A person's reflection in a shiny floor is a body upside down under that
floor. A real person upside down rests on the floor: the hands in a handstand lie on it, and a
cartwheel is upside down only part of the time. So a track is dropped (:func:`hanging_or_under`)
when, judged against the floor that the others stand on (:func:`~gastnet.world.placement.fit_floor`
of the other people who are not upside down),

- it is upside down in at least :data:`UPSIDE_DOWN_SHARE` of its frames, and
- the lowest of its joints the detector saw lies more than :data:`OFF_FLOOR_M` off that floor
  (median over frames): above it (hanging) or below it (under the floor).

A track without people beside it who are not upside down is never judged: with nobody to define
the floor, a body upside down off the floor cannot be told from a handstand on a floor nobody else
shows. Measured (``python benchmarks/bench_upside_down.py``: Human3.6M mocap through a virtual
camera, one detector's joint definitions, detector noise 1-2% of the height, lifted by the default
model, fitted, next to a boxer): the bag hangs 0.83 m above the boxer's floor, upside down in every
frame; a reflection lies 0.87-0.90 m under it; a handstand's hands lie 0.27 m above it (upside down
in every frame: an upside-down image lifts less surely); a cartwheel is upside down in 45% of its
frames; people sitting, waiting, lying, a child and a person cut by the frame are never upside down.

Bones no body has are not a sign after lifting: the fitted skeleton takes the lifted poses' bone
lengths, and the network gives whatever it lifts its training subjects' proportions (the bag's legs,
hip to ankle, come out 1.94 times its spine, pelvis to thorax; people's 1.65-2.10 times, the handstand's
the most).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..skeleton import H36M_17
from .placement import body_up, fit_floor

__all__ = ["OFF_FLOOR_M", "UPSIDE_DOWN_SHARE", "FloorSigns", "floor_signs", "hanging_or_under", "upside_down"]

UPSIDE_DOWN_SHARE = 0.8
"""Share of its frames in which a body must be upside down to be judged: a cartwheel is upside down in
45% of its frames; a thing hanging, a reflection and a handstand in all of them."""

OFF_FLOOR_M = 0.5
"""How far (metres) the lowest joint of a body upside down must lie off the others' floor (median over
frames) for it to be a thing: a handstand's hands, lifted and placed, come out 0.27 m above the
floor, a bag hangs 0.83 m above it, a reflection lies 0.87 m under it (``benchmarks/bench_upside_down.py``)."""

HEAD, PELVIS = H36M_17.index("head"), H36M_17.root
ANKLES = [ankle for _, _, ankle in H36M_17.legs()]


def upside_down(poses: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Per frame (T,) whether a body (T, 17, 3) metres is upside down along ``up`` (3,): its head below
    its pelvis and both ankles above it.

    >>> pose = np.zeros((1, 17, 3)); pose[0, HEAD, 2] = 0.6; pose[0, ANKLES, 2] = -0.9
    >>> upside_down(np.concatenate([pose, -pose]), np.array([0.0, 0.0, 1.0])).tolist()
    [False, True]
    """
    heights = poses @ up  # (T, 17)
    pelvis = heights[:, PELVIS]
    return (heights[:, HEAD] < pelvis) & (heights[:, ANKLES].min(1) > pelvis)


@dataclass(frozen=True)
class FloorSigns:
    """One track against the floor the upright others stand on: the share of its frames upside down
    (``upside_down``) and the median height (metres) above that floor of its lowest joint the
    detector saw (``lowest_m``; negative: below it; NaN when no joint was seen)."""

    upside_down: float
    lowest_m: float


def floor_signs(people: list[np.ndarray], scores: list[np.ndarray], fps: float) -> list[FloorSigns | None]:
    """Per person (camera-frame absolute poses (T_i, 17, 3) metres, one frame for all; detector
    confidences (T_i, 17), 0 where the joint was not seen) their :class:`FloorSigns` against the floor
    (:func:`~gastnet.world.placement.fit_floor`) of the others who are not upside down (in under half
    their frames along everybody's :func:`~gastnet.world.placement.body_up`); None for a person
    without such others."""
    up = body_up(people)
    right_way_up = [float(upside_down(p, up).mean()) < 0.5 for p in people]
    signs: list[FloorSigns | None] = []
    for i, (poses, confidence) in enumerate(zip(people, scores)):
        others = [p for j, p in enumerate(people) if j != i and right_way_up[j]]
        if not others:
            signs.append(None)
            continue
        floor = fit_floor(others, fps)
        heights = np.where(np.asarray(confidence) > 0, poses @ floor.normal - floor.offset, np.inf).min(1)  # (T,)
        heights = heights[np.isfinite(heights)]
        signs.append(FloorSigns(float(upside_down(poses, floor.normal).mean()),
                                float(np.median(heights)) if len(heights) else float("nan")))
    return signs


def hanging_or_under(people: list[np.ndarray], scores: list[np.ndarray], fps: float) -> list[str | None]:
    """Per person (as :func:`floor_signs`) why their body is a thing and not a person (see the module),
    or None; never a reason for everybody (then the floor is nobody's)."""
    reasons: list[str | None] = []
    for signs in floor_signs(people, scores, fps):
        if signs is None or signs.upside_down < UPSIDE_DOWN_SHARE or not abs(signs.lowest_m) > OFF_FLOOR_M:
            reasons.append(None)
            continue
        where = "above" if signs.lowest_m > 0 else "under"
        reasons.append(f"upside down in {100 * signs.upside_down:.0f}% of its frames with nothing on the floor the "
                       f"others stand on (its lowest joint {abs(signs.lowest_m):.2f} m {where} it, more than "
                       f"{OFF_FLOOR_M:g} m): a thing hanging, or a reflection, not a person")
    if all(reason is not None for reason in reasons):  # nobody left to stand on the floor: it says nothing
        return [None] * len(reasons)
    return reasons
