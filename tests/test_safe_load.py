"""Files from strangers (gastnet.safe_load): crafted npz, npy and JSON files cannot corrupt memory,
run anything or take more memory than the budget; each is refused with one line naming the file."""

import gc
import io
import pickle
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gastnet.safe_load import LoadLimits, load_npy, load_npz, read_json


def npy_member(obj, descr="|O", shape=(1,)) -> bytes:
    """An .npy member as numpy writes one: a header, then the pickle of ``obj`` for object dtypes."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    pickle.dump(obj, buf, protocol=3)
    return buf.getvalue()


def write_npz(path, members: dict, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)
    return path


class CraftedDtype:
    """Pickles as numpy.dtype('V8') with a state that declares a field of Python objects while its
    flags say it holds none: numpy then reads the file's bytes as an object pointer."""

    def __init__(self, spec="V8"):
        self.spec = spec

    def __reduce__(self):
        return (np.dtype, (self.spec, False, True), (3, "|", None, ("a",), {"a": (np.dtype("O"), 0)}, 8, 1, 0))


class CraftedArray:
    def __init__(self, dtype, data, shape=(1,)):
        self.dtype, self.data, self.shape = dtype, data, shape

    def __reduce__(self):
        return (np.core.multiarray._reconstruct, (np.ndarray, (0,), b"b"), (1, self.shape, self.dtype, False, self.data))


POINTER = (0x4141414141414141).to_bytes(8, "little")


def test_a_crafted_dtype_state_is_refused_not_a_segfault(tmp_path):
    """Before: ``gastnet lift w.npz`` died with exit 139 (a pointer chosen by the file)."""
    path = write_npz(tmp_path / "w.npz", {"keypoints": npy_member(CraftedArray(CraftedDtype(), POINTER))})
    run = subprocess.run([sys.executable, "-m", "gastnet.cli.main", "lift", str(path), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr[-2000:]
    assert run.stderr.count("\n") == 1 and "refusing dtype |V8" in run.stderr
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


@pytest.mark.parametrize("dtype, match", [
    (CraftedDtype("f8"), "refusing a crafted state for dtype"),            # fields smuggled into a plain dtype
    (CraftedDtype("V8"), "refusing dtype"),                                # raw records
    (np.dtype([("a", "O")]), "refusing dtype"),                            # a record of objects, honestly flagged
])
def test_dtypes_with_fields_or_crafted_state_are_refused(tmp_path, dtype, match):
    path = write_npz(tmp_path / "d.npz", {"x": npy_member([CraftedArray(dtype, POINTER)])})
    with pytest.raises(ValueError, match=match):
        load_npz(path)


@pytest.mark.parametrize("payload, match", [
    (CraftedArray(np.dtype("f8"), b"", shape=(2**47,)), "whose data is not"),        # 1 PiB declared, nothing given
    (CraftedArray(np.dtype("O"), [], shape=(2**40,)), "object array of shape"),
    (CraftedArray(np.dtype("f8"), POINTER, shape=(-1,)), "refusing an array of shape"),
])
def test_array_states_must_match_their_data(tmp_path, payload, match):
    path = write_npz(tmp_path / "a.npz", {"x": npy_member(payload)})
    with pytest.raises(ValueError, match=match):
        load_npz(path)


class Call:
    """Pickles as a call of ``func(*args)``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


@pytest.mark.parametrize("payload", [
    Call(np.ndarray, (2**47,)),                                     # numpy.ndarray called directly: 1 PiB
    Call(np.core.multiarray._reconstruct, np.ndarray, (2**47,), b"b"),
    Call(np.core.multiarray.scalar, np.dtype("f8"), b"\x00"),      # a scalar of the wrong size
    Call(np.dtype, "V8", False, True),
])
def test_numpy_constructors_are_called_only_as_numpy_pickles_them(tmp_path, payload):
    path = write_npz(tmp_path / "c.npz", {"x": npy_member(payload)})
    with pytest.raises(ValueError, match="refusing"):
        load_npz(path)


def test_dotted_names_and_other_globals_are_refused_in_one_line(tmp_path):
    # protocol 4 resolves dotted names attribute by attribute; this one used to end in a traceback
    module, name = b"numpy.dtypes", b"Float64DType.__init__.DType"
    data = b"\x80\x04\x8c" + bytes([len(module)]) + module + b"\x8c" + bytes([len(name)]) + name + b"\x93."
    path = write_npz(tmp_path / "p4.npz", {"x": npy_member(None)[:-len(pickle.dumps(None, protocol=3))] + data})
    with pytest.raises(ValueError, match=r"refusing to load numpy\.dtypes\.Float64DType\.__init__\.DType") as err:
        load_npz(path)
    assert "\n" not in str(err.value)


def object_array(value) -> np.ndarray:
    """A one-element object array holding ``value`` as it is (np.array would expand nested lists)."""
    array = np.empty(1, dtype=object)
    array[0] = value
    return array


def test_shared_references_cannot_expand_past_the_budget(tmp_path):
    """Before: a 1 KB npz of nested shared lists reached 5.4 GB when converted to an array."""
    nested: list = [0.0] * 16
    for _ in range(8):
        nested = [nested] * 16  # 16**9 numbers once expanded; a few hundred bytes pickled
    path = tmp_path / "bomb.npz"
    np.savez(path, keypoints=object_array(nested))
    assert path.stat().st_size < 4096
    with pytest.raises(ValueError, match="shared references expand to more than"):
        load_npz(path)
    cyclic: list = []
    cyclic.append(cyclic)
    np.savez(tmp_path / "cycle.npz", keypoints=object_array(cyclic))
    with pytest.raises(ValueError, match="contains itself"):
        load_npz(tmp_path / "cycle.npz")


def test_a_zip_bomb_is_refused_before_it_inflates(tmp_path):
    """Before: a 2 MB npz inflated to 3.6 GB in 36 s before it was refused. Here the cap is 64 MiB
    (the default, 2 GiB, would take long to compress); the bomb is just over it."""
    limits = LoadLimits(max_bytes=2**26)
    zeros = np.lib.format.header_data_from_array_1_0(np.zeros(0))
    header = io.BytesIO()
    count = limits.max_bytes // 8 + 1
    np.lib.format.write_array_header_1_0(header, {**zeros, "shape": (count,)})
    path = tmp_path / "zip_bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("x.npy", "w", force_zip64=True) as f:
        f.write(header.getvalue())
        block = bytes(2**24)
        for _ in range(count * 8 // len(block) + 1):
            f.write(block)
    assert path.stat().st_size < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"its arrays declare 83,886,208 bytes; gastnet reads at most 67,108,864"):
            load_npz(path, limits)
        assert tracemalloc.get_traced_memory()[1] < 2**20
    finally:
        tracemalloc.stop()


def test_a_member_that_inflates_past_its_declared_size_is_cut_off(tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.zeros(2**20))
    path = write_npz(tmp_path / "liar.npz", {"x": buf.getvalue()}, zipfile.ZIP_DEFLATED)
    raw = bytearray(path.read_bytes())
    entry = raw.index(b"PK\x01\x02")  # the central directory's record of the member
    raw[entry + 24: entry + 28] = (300).to_bytes(4, "little")  # declares 300 bytes; inflates to 8 MB
    path.write_bytes(bytes(raw))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"liar\.npz: a damaged npz archive \(Bad CRC-32"):
            load_npz(path)
        assert tracemalloc.get_traced_memory()[1] < 4 * 2**20
    finally:
        tracemalloc.stop()


def test_a_zip_of_an_unknown_version_is_one_error(tmp_path):
    """zipfile raises NotImplementedError for a central directory asking for a newer zip version
    (found by the fuzz test below: byte 6 of an entry set to 64)."""
    path = tmp_path / "a.npz"
    np.savez(path, x=np.zeros(3))
    data = bytearray(path.read_bytes())
    entry = data.rfind(b"PK\x01\x02")  # the central directory's entry; its 'version needed' is at offset 6
    data[entry + 6] = 64
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not an npz archive .zip file version 6.4"):
        load_npz(path)


def test_a_huge_header_in_an_npy_file_is_refused_before_allocating(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (2**47,)})
    (tmp_path / "big.npy").write_bytes(header.getvalue() + bytes(64))
    with pytest.raises(ValueError, match=r"declares 1,125,899,906,842,624 bytes of data"):
        load_npy(tmp_path / "big.npy")


def test_the_fields_files_still_load_the_same(tmp_path):
    rng = np.random.default_rng(0)
    positions = {"S1": {"Walking": [rng.normal(size=(5, 17, 2)).astype(np.float32), np.arange(3)]},
                 "S9": {"Eating 1": [np.zeros((0, 17, 2)), np.asfortranarray(rng.normal(size=(3, 4)))]}}
    meta = {"layout_name": "coco", "num_joints": 17, "video_metadata": {"v": {"w": 1000, "h": 1002}},
            "scalars": [np.float64(2.5), np.int64(-3), np.str_("x"), np.bool_(True), "text", None, b"raw", (1, 2.0)]}
    np.savez_compressed(tmp_path / "vp3d.npz", positions_2d=positions, metadata=meta, big_endian=np.arange(4, dtype=">i4"),
                        fortran=np.asfortranarray(np.arange(6.0).reshape(2, 3)), text=np.array(["ab", "c"]))
    loaded = load_npz(tmp_path / "vp3d.npz")
    reference = np.load(tmp_path / "vp3d.npz", allow_pickle=True)
    assert sorted(loaded) == sorted(reference.files)
    for key in ("big_endian", "fortran", "text"):
        np.testing.assert_array_equal(loaded[key], reference[key])
        assert loaded[key].dtype == reference[key].dtype
    assert loaded["fortran"].flags.f_contiguous
    got, want = loaded["positions_2d"].item(), reference["positions_2d"].item()
    for subject in want:
        for action in want[subject]:
            for a, b in zip(got[subject][action], want[subject][action]):
                np.testing.assert_array_equal(a, b)
                assert a.dtype == b.dtype and a.flags.writeable
    assert loaded["metadata"].item() == reference["metadata"].item()


def traced_peak(load, *args):
    """``load(*args)`` and the peak of traced memory it took (numpy reports its buffers to tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        result = load(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def zeros_bomb(path, nbytes: int):
    """A small npz whose one deflated member inflates to ``nbytes`` of zeros (an .npy header, then float64 zeros)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {**np.lib.format.header_data_from_array_1_0(np.zeros(0)),
                                                  "shape": ((nbytes - 128) // 8,)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("x.npy", "w", force_zip64=True) as f:
        f.write(header.getvalue())
        f.write(bytes((nbytes - 128) // 8 * 8))
    return path


def test_a_member_that_inflates_to_the_cap_is_read_once_into_its_array(tmp_path):
    """Before: the array's bytes were joined from 1 MiB pieces and then copied into the array: a 2 MB npz
    inflating to 2 GB took 4.3 GB at its peak (benchmarks/bench_load_memory.py). Here the cap is 64 MiB."""
    limits = LoadLimits(max_bytes=2**26)
    path = zeros_bomb(tmp_path / "zeros.npz", limits.max_bytes)
    assert path.stat().st_size < 2**18
    loaded, peak = traced_peak(load_npz, path, limits)
    assert loaded["x"].nbytes > 0.99 * limits.max_bytes and not loaded["x"].any() and loaded["x"].flags.writeable
    assert peak <= loaded["x"].nbytes + 2**22, f"{peak:,} bytes at the peak for {loaded['x'].nbytes:,} of data"
    np.save(tmp_path / "zeros.npy", loaded["x"])
    del loaded
    array, peak = traced_peak(load_npy, tmp_path / "zeros.npy", limits)
    assert peak <= array.nbytes + 2**22


def test_pickled_arrays_are_read_once_and_keep_their_shared_references(tmp_path):
    """VideoPose3D's files are pickled dicts of arrays: each array's data is read straight into it."""
    walk = np.arange(2**21, dtype=">f8")  # 16 MiB, big-endian
    turn = np.asfortranarray(np.arange(2**21, dtype=np.float32).reshape(2**11, 2**10))  # 8 MiB, Fortran order
    np.savez(tmp_path / "vp3d.npz", positions_3d=object_array({"S1": {"Walk": walk, "Turn": turn, "Walk again": walk}}))
    loaded, peak = traced_peak(load_npz, tmp_path / "vp3d.npz")
    got = loaded["positions_3d"][0]["S1"]
    np.testing.assert_array_equal(got["Walk"], walk)
    np.testing.assert_array_equal(got["Turn"], turn)
    assert got["Walk"].dtype == walk.dtype and got["Turn"].flags.f_contiguous and got["Walk"].flags.writeable
    assert got["Walk again"] is got["Walk"]  # one array, referenced twice, as it was pickled
    assert peak <= walk.nbytes + turn.nbytes + 2**22, f"{peak:,} bytes at the peak"


@pytest.mark.parametrize("text", [
    "[" + ",".join(["1.5"] * 50_000) + "]",  # numbers
    "[" + ",".join(["1073741824"] * 50_000) + "]",  # ints past the small ones
    "[" + ",".join(f'{{"k{i}": {i}}}' for i in range(50_000)) + "]",  # dicts of one distinct key
    "[" + ",".join(["{}"] * 50_000) + "]",  # empty dicts
    "[" + ",".join(["[1]"] * 50_000) + "]",  # short lists
    "[" + ",".join(f'"s{i}"' for i in range(50_000)) + "]",  # distinct strings
    '["' + "x" * 10**6 + '\\ud83d\\ude00"]',  # an escape that makes a text of 1 byte a character 4 bytes
    '["' + "x" * 10**6 + '\\u00e9"]',
    '["' + "x" * 10**6 + '😀"]',  # the document itself 4 bytes a character
    '["' + "x\\n" * 10**6 + '"]',
    '[{"image_id": 1, "keypoints": [' + ",".join(["123.45"] * 51) + '], "score": 0.9}' + ',{"image_id": 2}' * 3000 + "]",
], ids=["floats", "ints", "dicts", "empty dicts", "lists", "strings", "astral escape", "latin escape", "astral",
        "escapes", "coco"])
def test_json_memory_is_estimated_above_what_parsing_takes(tmp_path, text):
    path = tmp_path / "doc.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"parsing it would take about [\d,]+ bytes of memory; gastnet takes at most 1 "):
        read_json(path, LoadLimits(max_memory=1))
    try:
        read_json(path, LoadLimits(max_memory=1))
    except ValueError as err:
        estimate = int(str(err).split("about ")[1].split(" bytes")[0].replace(",", ""))
    _, peak = traced_peak(read_json, path)
    assert peak <= estimate
    assert estimate <= 12 * peak + 2**21  # a bound, not a refusal of everything


def test_what_a_pickle_builds_is_counted_against_the_memory_budget(tmp_path):
    np.savez(tmp_path / "dicts.npz", x=object_array([{} for _ in range(20_000)]))
    with pytest.raises(ValueError, match=r"dicts\.npz: a pickle that would take more than 5,000,000 bytes of memory"):
        load_npz(tmp_path / "dicts.npz", LoadLimits(max_memory=5_000_000))
    loaded, peak = traced_peak(load_npz, tmp_path / "dicts.npz", LoadLimits(max_memory=25_000_000))
    assert len(loaded["x"][0]) == 20_000 and peak < 25_000_000


@pytest.mark.parametrize(("value", "match"), [
    ("x" * 2**21, "refusing a pickled text of 2,097,152 bytes"),
    ([b"x" * 2**21], "holds a byte string of 2,097,152 bytes outside an array"),
])
def test_long_strings_outside_arrays_are_refused(tmp_path, value, match):
    path = write_npz(tmp_path / "s.npz", {"x": npy_member(object_array(value))})
    with pytest.raises(ValueError, match=match):
        load_npz(path)


def test_a_full_disk_is_one_error_and_nothing_left(tmp_path, monkeypatch):
    """Before: the error was followed by a zipfile 'Exception ignored' traceback from the garbage collector."""
    from gastnet.fileio import save_npz

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    monkeypatch.setattr(np.lib.format, "write_array", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_npz(tmp_path / "poses.npz", x=np.zeros(10))
    gc.collect()
    assert unraisable == [] and list(tmp_path.iterdir()) == []


def test_json_past_the_limits_is_refused_before_parsing(tmp_path):
    (tmp_path / "many.json").write_text("[" + ",".join(["1"] * 1001) + "]")
    with pytest.raises(ValueError, match=r"about 1,001 JSON values; gastnet reads at most 1,000"):
        read_json(tmp_path / "many.json", LoadLimits(max_objects=1000))
    with pytest.raises(ValueError, match=r"2,003 bytes of JSON; gastnet reads at most 2,000"):
        read_json(tmp_path / "many.json", LoadLimits(max_bytes=2000))
    (tmp_path / "deep.json").write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(ValueError, match="not a JSON document gastnet can read"):
        read_json(tmp_path / "deep.json")


# --- fuzzing: whatever the bytes, a result or one line, within a memory cap -----------------------

MEMORY_CAP = 200 * 2**20


def only_results_or_one_line(load, path):
    """``load(path)`` returns, or raises a ValueError of one line; peak traced memory under the cap."""
    tracemalloc.start()
    try:
        try:
            load(path)
        except ValueError as err:
            assert "\n" not in str(err), str(err)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_CAP, f"{peak:,} bytes"


def valid_npz_bytes(values) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, keypoints=np.asarray(values, dtype=np.float32),
             metadata=np.array({"layout_name": "coco", "video": [values[:1], 1.5]}, dtype=object))
    return buf.getvalue()


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.floats(width=32), min_size=1, max_size=12),
       edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
       cut=st.none() | st.integers(0, 10**6))
def test_fuzzed_npz_files_give_a_result_or_one_line(tmp_path, values, edits, cut):
    data = bytearray(valid_npz_bytes(values))
    for position, byte in edits:  # flipped bytes anywhere: headers, pickles, sizes, the central directory
        data[position % len(data)] = byte
    if cut is not None:
        data = data[: cut % len(data)]
    path = tmp_path / "fuzz.npz"
    path.write_bytes(bytes(data))
    only_results_or_one_line(load_npz, path)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(opcodes=st.lists(st.sampled_from([op.code.encode("latin1") for op in __import__("pickletools").opcodes]),
                        max_size=40),
       args=st.binary(max_size=64))
def test_fuzzed_pickles_give_a_result_or_one_line(tmp_path, opcodes, args):
    pickled = b"\x80\x03" + b"".join(op + args[: i % 9] for i, op in enumerate(opcodes)) + b"."
    path = write_npz(tmp_path / "pickle.npz", {"x": npy_member(None)[: -len(pickle.dumps(None, protocol=3))] + pickled})
    only_results_or_one_line(load_npz, path)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(-2, 2**40), max_size=4), descr=st.sampled_from(["<f8", "|O", "<U3", "|V8", "<m8", "xx"]),
       body=st.binary(max_size=256))
def test_fuzzed_npy_headers_give_a_result_or_one_line(tmp_path, shape, descr, body):
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple(shape)!r}, }}".encode("latin1")
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    path = tmp_path / "fuzz.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + body)
    only_results_or_one_line(load_npy, path)
