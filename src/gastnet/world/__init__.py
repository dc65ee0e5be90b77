"""People in the world: the lens (:mod:`.focal`), roots, floor and world frame (:mod:`.placement`),
one rigid skeleton per person posed to agree with the 2D (:mod:`.fit`), the camera's motion
analysed from its background (:mod:`.camera_motion`), and bodies upside down off the others' floor,
things and not people (:mod:`.upside_down`). Numpy and scipy only; the pure camera and
rotation maths they share is in :mod:`gastnet.geometry`."""
