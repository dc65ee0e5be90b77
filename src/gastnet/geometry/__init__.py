"""Geometry with no knowledge of people or files: cameras (:mod:`.camera`: projection, screen
normalisation, lenses), rotations and quaternions (:mod:`.rotations`) and array shape checks
(:mod:`.shapes`). The bottom layer: numpy, torch and scipy only."""
