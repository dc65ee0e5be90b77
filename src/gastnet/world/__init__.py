"""People in the world: the lens (:mod:`.focal`), roots, floor and world frame (:mod:`.placement`),
one rigid skeleton per person posed to agree with the 2D (:mod:`.fit`), and the camera's motion
analysed from its background (:mod:`.camera_motion`). Numpy and scipy only; the pure camera and
rotation maths they share is in :mod:`gastnet.geometry`."""
