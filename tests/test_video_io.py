"""Video files as phones and browsers make them: PyAV reading (timestamps, variable frame rate,
rotation metadata, edited and damaged clips), H.264 writing, photos and image folders as input.

Every video here is written in ``tmp_path`` with PyAV directly (not with the code under test),
with known frame times, rotations and contents.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

av = pytest.importorskip("av", reason="video files need the video extra (PyAV)")
cv2 = pytest.importorskip("cv2", reason="images need the video extra (OpenCV)")

import gastnet  # noqa: E402
from gastnet.cli.main import main  # noqa: E402
from gastnet.video.detect import detect_video  # noqa: E402
from gastnet.video.detectors import Detection  # noqa: E402
from gastnet.video.reader import frame_rate_from_timestamps, open_source  # noqa: E402
from gastnet.video.writer import VideoWriter, write_video  # noqa: E402
from helpers import coco_person  # noqa: E402


def write_h264(path, frames, pts=None, time_base=Fraction(1, 30), rotation=None, hflip=False, options=None):
    """Encode RGB frames (H, W, 3) with libx264 at the given pts (ticks of ``time_base``, default 0, 1, 2 ...)."""
    container = av.open(str(path), "w", options=options or {})
    stream = container.add_stream("libx264", rate=30)
    stream.height, stream.width = frames[0].shape[:2]
    stream.pix_fmt = "yuv420p"
    stream.time_base = time_base
    if rotation is not None:
        stream.set_display_rotation(rotation, hflip=hflip)
    for i, rgb in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts = i if pts is None else pts[i]
        frame.time_base = time_base
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def greys(count, size=(64, 48)):
    """``count`` frames (H, W, 3), frame i a flat grey of 20 + 8 i (tells the frames apart after compression)."""
    return [np.full((size[1], size[0], 3), 20 + 8 * i, np.uint8) for i in range(count)]


class Walking:
    """A detector stand-in: one COCO-17 person per frame, walking 2 px per frame to the right."""

    def __init__(self):
        self.calls = 0

    def detect(self, frame):
        self.calls += 1
        return [Detection(coco_person(100)[:, :2] * 0.5 + [2.0 * self.calls, 0.0], np.full(17, 0.9))]


# --- writing -------------------------------------------------------------------------------------


def test_render_is_browser_h264_at_its_exact_frame_rate(tmp_path):
    pytest.importorskip("matplotlib")
    from gastnet.examples import synthetic_walk_2d
    from gastnet.visualization.render import render_animation

    frames, size = 3, (64, 48)
    keypoints = synthetic_walk_2d(frames, size)[None]
    path = render_animation(tmp_path / "r.mp4", keypoints, np.zeros((1, frames, 17, 3)), size, fps=30)
    assert [p.name for p in tmp_path.iterdir()] == ["r.mp4"]
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.codec_tag == "avc1"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.average_rate == 30 and stream.frames == frames
        times = [float(f.time) for f in container.decode(stream)]
        assert stream.width % 2 == 0 == stream.height % 2
    np.testing.assert_allclose(times, np.arange(frames) / 30, atol=1e-9)
    assert b"avc1" in path.read_bytes()[:200_000]  # the sample entry browsers look for


def test_writer_pads_odd_sizes_and_keeps_ntsc_rates_exact(tmp_path):
    rgb = np.zeros((49, 65, 3), np.uint8)
    rgb[:, -1] = (0, 200, 0)  # the last column green, the last row blue
    rgb[-1, :] = (0, 0, 200)
    path = write_video(tmp_path / "odd.mp4", [rgb] * 4, 30000 / 1001, quality=0)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (66, 50)
        assert stream.average_rate == Fraction(30000, 1001)
        pictures = list(container.decode(stream))
        decoded = [f.to_ndarray(format="rgb24") for f in pictures]
        times = [float(f.time) for f in pictures]
    assert len(decoded) == 4
    np.testing.assert_allclose(times, np.arange(len(times)) * 1001 / 30000, atol=1e-9)
    padded = decoded[0].astype(int)
    assert np.abs(padded[:48, 65] - padded[:48, 64]).max() < 12 and (padded[:48, 65, 1] > 150).all()  # green, repeated
    assert np.abs(padded[49, :64] - padded[48, :64]).max() < 12 and (padded[49, :64, 2] > 150).all()  # blue, repeated
    assert (padded[:48, :64].max(-1) < 40).all()  # the black inside stays black


def test_writer_leaves_nothing_on_error_or_without_frames(tmp_path):
    with pytest.raises(RuntimeError, match="stop"), VideoWriter(tmp_path / "a.mp4", 25) as video:
        video.write(np.zeros((48, 64, 3), np.uint8))
        raise RuntimeError("stop")
    with pytest.raises(ValueError, match="no frames to write"), VideoWriter(tmp_path / "b.mp4", 25):
        pass
    with pytest.raises(ValueError, match=r"frame 1 is 32 x 48 pixels; expected 64 x 48"), \
            VideoWriter(tmp_path / "c.mp4", 25) as video:
        video.write(np.zeros((48, 64, 3), np.uint8))
        video.write(np.zeros((48, 32, 3), np.uint8))
    with pytest.raises(ValueError, match=r"expected an RGB uint8 frame \(H, W, 3\), got float64"), \
            VideoWriter(tmp_path / "d.mp4", 25) as video:
        video.write(np.zeros((48, 64, 3)))
    with pytest.raises(ValueError, match="expected a frame rate"):
        VideoWriter(tmp_path / "e.mp4", 0)
    assert list(tmp_path.iterdir()) == []


# --- reading -------------------------------------------------------------------------------------


def upright_marker(width=48, height=80):
    """A portrait image (H, W, 3): dark, a white block in the top-left quarter, a grey bar along the bottom."""
    image = np.full((height, width, 3), 30, np.uint8)
    image[: height // 2, : width // 2] = 230
    image[-16:, :] = 130
    return image


@pytest.mark.parametrize("rotation, hflip", [(-90, False), (90, False), (180, False), (90, True)])
def test_rotation_metadata_gives_upright_frames(tmp_path, rotation, hflip):
    """Stored so that, shown as the metadata says (rotate counterclockwise, then mirror: PyAV's
    ``set_display_rotation``), the picture is ``upright_marker``; -90 is a phone held upright."""
    upright = upright_marker()
    stored = np.rot90(upright[:, ::-1] if hflip else upright, -(rotation // 90))
    path = write_h264(tmp_path / "phone.mp4", [np.ascontiguousarray(stored)] * 3, rotation=rotation, hflip=hflip)
    with open_source(path) as video:
        frames = list(video)
        assert (video.width, video.height) == (48, 80)
        assert video.rotation == rotation % 360 and video.mirrored == hflip
    assert len(frames) == 3 and frames[0].shape == (80, 48, 3)
    assert np.abs(frames[1].astype(int) - upright).mean() < 6
    data, _ = detect_video(path, detector=Walking())
    assert data.image_size == (48, 80)
    assert data.notes and "rotation metadata" in data.notes[0]


def test_variable_frame_rate_gives_timestamps_and_mean_rate(tmp_path):
    pts = [0, 1, 2, 4, 5, 7, 10, 11, 12, 15]  # ticks of 1/30 s: gaps of 1, 2 and 3 frames
    path = write_h264(tmp_path / "vfr.mp4", greys(len(pts)), pts)
    seen = []

    def on_frame(index, rgb, people):
        seen.append((index, int(rgb[20, 30, 1]), len(people), people[0][0].shape, people[0][1].shape))

    walking = Walking()
    data, fps = detect_video(path, detector=walking, on_frame=on_frame)
    assert fps == pytest.approx(9 / 0.5)  # 9 intervals over 15/30 s
    np.testing.assert_allclose(data.timestamps, np.array(pts) / 30, atol=1e-6)
    assert "variable frame rate: 10-30 fps, lifted at 18 fps" in data.notes
    assert [s[0] for s in seen] == list(range(len(pts)))
    assert all(abs(grey - (20 + 8 * i)) < 6 for i, grey, *_ in seen)  # each frame its own picture
    assert all(s[2:] == (1, (17, 2), (17,)) for s in seen)


def test_on_frame_gets_the_people_in_human36m_pixels(tmp_path):
    path = write_h264(tmp_path / "clip.mp4", greys(4))
    people_seen = []
    detect_video(path, detector=Walking(), on_frame=lambda i, rgb, people: people_seen.append(people))
    for t, people in enumerate(people_seen):
        coco = coco_person(100)[:, :2] * 0.5 + [2.0 * (t + 1), 0.0]
        keypoints, scores = people[0]
        np.testing.assert_allclose(keypoints[0], (coco[11] + coco[12]) / 2)  # pelvis: between the hips
        np.testing.assert_allclose(keypoints[[1, 4, 9]], coco[[12, 11, 0]])  # right hip, left hip, nose
        np.testing.assert_allclose(scores, 0.9)


def test_frame_rate_from_timestamps_by_hand():
    ntsc = np.round(np.arange(60) * 1001 / 30000 * 600) / 600  # 29.97 fps stored in ticks of 1/600 s
    assert frame_rate_from_timestamps(ntsc, 30000 / 1001, 1 / 600) == (30000 / 1001, None)
    fps, note = frame_rate_from_timestamps(np.arange(50) / 25, 30.0)
    assert fps == pytest.approx(25.0) and "timestamps give 25 fps, the file states 30 fps" in note
    dropped = np.delete(np.arange(31) / 30, 15)  # one frame missing: a gap of 2/30 s
    fps, note = frame_rate_from_timestamps(dropped, 30.0, 1 / 90000)
    assert fps == pytest.approx(29 / 1.0) and note == "variable frame rate: 15-30 fps, lifted at 29 fps"
    assert frame_rate_from_timestamps(np.array([0.0]), 30.0) == (30.0, None)


def test_an_edited_clip_is_not_called_damaged_but_a_cut_one_is(tmp_path):
    # pts from -5: the mp4 muxer writes an edit list that starts playback at the sixth frame,
    # so the file holds 30 frames and plays 25 (an edited phone clip)
    edited = write_h264(tmp_path / "edited.mp4", greys(30), pts=list(range(-5, 25)))
    with open_source(edited) as video:
        frames = list(video)
        assert video.frame_count == 30 and video.damage is None
    assert len(frames) == 25 and abs(int(frames[0][0, 0, 0]) - (20 + 8 * 5)) < 6  # the trimmed frames are not shown
    data, fps = detect_video(edited, detector=Walking())
    assert data.num_frames == 25 and fps == 30 and data.notes == []

    noise = [np.random.default_rng(i).integers(0, 255, (48, 64, 3), dtype=np.uint8) for i in range(40)]
    whole = write_h264(tmp_path / "whole.mp4", noise, options={"movflags": "+faststart"}).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) * 6 // 10])  # the index is whole, the data stops
    data, _ = detect_video(tmp_path / "cut.mp4", detector=Walking())
    assert 0 < data.num_frames < 40
    assert data.notes == [f"read {data.num_frames} of the 40 frames the file announces (a truncated or damaged "
                          "video): lifted what was read"]


def test_a_decode_error_part_way_lifts_what_was_read(tmp_path):
    noise = [np.random.default_rng(i).integers(0, 255, (48, 64, 3), dtype=np.uint8) for i in range(40)]
    whole = bytearray(write_h264(tmp_path / "whole.mp4", noise, options={"movflags": "+faststart"}).read_bytes())
    middle = len(whole) // 2
    whole[middle: middle + 3000] = np.random.default_rng(0).integers(0, 255, 3000, dtype=np.uint8).tobytes()
    (tmp_path / "garbled.mp4").write_bytes(bytes(whole))
    data, _ = detect_video(tmp_path / "garbled.mp4", detector=Walking())
    assert 0 < data.num_frames < 40
    assert len(data.notes) == 1 and "(a damaged video: decoding failed" in data.notes[0]


def test_a_file_that_is_no_video_is_refused_in_one_line(tmp_path):
    (tmp_path / "notes.mp4").write_text("not a video")
    with pytest.raises(ValueError, match=r"^cannot read any frame from .*notes.mp4: not a video, or an empty one$"):
        open_source(tmp_path / "notes.mp4")


@pytest.mark.data
def test_the_shared_video_reads_whole_with_its_timestamps():
    from helpers import shared_file

    path = shared_file("video", "walk_apart_2persons.avi")
    with open_source(path) as video:
        count = sum(1 for _ in video)
        assert (video.width, video.height, video.fps, video.frame_count) == (1920, 1080, 30.0, 87)
        np.testing.assert_allclose(video.timestamps, np.arange(87) / 30, atol=1e-9)
        assert video.damage is None and video.lifting_fps() == (30.0, None)
    assert count == 87


# --- photos and image folders ---------------------------------------------------------------------


def test_a_photo_lifts_as_one_frame(tmp_path):
    photo = tmp_path / "Person.JPG"  # upper-case suffixes are photos too
    assert cv2.imwrite(str(photo), np.full((240, 320, 3), 60, np.uint8))
    with open_source(photo) as video:
        assert (video.kind, video.frame_count, video.width, video.height) == ("photo", 1, 320, 240)
    result = gastnet.lift(photo, model="gastnet_rf9", detector=Walking())
    assert result.num_frames == 1 and len(result.people) == 1 and result.image_size == (320, 240)
    assert result.notes[0].startswith("input: photo (Walking), 1 frames, 1 tracks")


def test_a_photo_with_exif_gives_its_focal_length(tmp_path):
    image_module = pytest.importorskip("PIL.Image")
    photo = tmp_path / "exif.jpg"
    exif = image_module.Exif()
    exif.get_ifd(0x8769)[0xA405] = 26  # FocalLengthIn35mmFilm: a phone's main camera
    image_module.fromarray(np.full((240, 320, 3), 60, np.uint8)).save(photo, exif=exif)
    result = gastnet.lift(photo, model="gastnet_rf9", detector=Walking())
    assert result.camera.focal_length_px == pytest.approx(26 * 400 / 43.27)  # diagonal 400 px
    assert "photo's EXIF" in result.camera.focal_source


def test_a_corrupt_photo_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    assert main(["lift", str(tmp_path / "broken.jpg"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot read image" in err and "broken.jpg" in err
    assert not (tmp_path / "out").exists()


def test_an_image_folder_reads_in_natural_order(tmp_path):
    for i in (0, 2, 10):
        cv2.imwrite(str(tmp_path / f"f_{i}.png"), np.full((48, 64, 3), 20 + 8 * i, np.uint8))
    with open_source(tmp_path) as video:
        frames = list(video)
        assert video.kind == "images" and video.frame_count == 3
        np.testing.assert_allclose(video.timestamps, np.arange(3) / video.fps)
    assert [int(f[0, 0, 0]) for f in frames] == [20, 36, 100]
    data, fps = detect_video(tmp_path, detector=Walking())
    assert data.num_frames == 3 and data.notes == [] and fps == video.fps
    assert data.format == "video (Walking)"
