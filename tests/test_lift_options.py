"""LiftOptions: one object for the API and the command line; a bad field is a one-line ValueError."""

import dataclasses
import pickle

import pytest

from gastnet.cli.main import build_parser
from gastnet.cli.practice import lift_options_from_args
from gastnet.pipeline.options import DEFAULT_KEYPOINT_FPS, DEFAULT_MODELS, LiftOptions, lift_options


def test_cli_flags_and_api_give_the_same_options():
    flags = ["lift", "walk.json", "--layout", "coco", "--image-size", "1920x1080", "--fps", "25", "--model",
             "gastnet_rf9", "--no-flip", "--smooth", "savgol", "--smooth-3d", "one-euro", "--people", "2",
             "--fov", "70", "--person-height", "1.8"]
    from_cli = lift_options_from_args(build_parser().parse_args(flags))
    from_api = lift_options(layout="coco", image_size=(1920, 1080), fps=25, model="gastnet_rf9", flip=False,
                            smoothing="savgol", smoothing_3d="one-euro", max_people=2, fov=70, person_height=1.8)
    assert from_cli == from_api
    assert pickle.loads(pickle.dumps(from_cli)) == from_cli  # for the spawned batch workers
    defaults = lift_options_from_args(build_parser().parse_args(["lift", "walk.json"]))
    assert defaults == LiftOptions() and defaults.fps is None and defaults.flip and defaults.max_people == 4
    assert dataclasses.replace(defaults, fps=DEFAULT_KEYPOINT_FPS).fps == 30.0
    assert DEFAULT_MODELS[False] in build_parser()._subparsers._group_actions[0].choices["lift"].format_help()


@pytest.mark.parametrize("field, value, words", [
    ("fps", 0.0, "fps must be a frame rate above 0 and at most 10000, got 0.0"),
    ("fps", float("nan"), "fps must be a frame rate above 0"),
    ("fov", 180.0, "the field of view must be between 1 and 180 degrees, got 180.0"),
    ("focal_length", -5.0, "the focal length must be a positive number of pixels, got -5.0"),
    ("person_height", 3.0, "the person's height must be in metres between 0.5 and 2.6, got 3.0"),
    ("max_people", 0, "max_people must be a whole number of people, at least 1, got 0"),
    ("smoothing", "gauss", "unknown smoothing 'gauss'"),
    ("image_size", (640,), "image size must be (width, height) in pixels"),
])
def test_a_bad_field_is_a_one_line_value_error(field, value, words):
    with pytest.raises(ValueError, match="^" + words.replace("(", r"\(").replace(")", r"\)")) as err:
        LiftOptions(**{field: value})
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError):
        dataclasses.replace(LiftOptions(), **{field: value})


def test_unknown_override_names_the_fields():
    with pytest.raises(TypeError, match="unknown lift option"):
        lift_options(frame_rate=25)
    with pytest.raises(dataclasses.FrozenInstanceError):
        LiftOptions().fps = 25  # type: ignore[misc]
