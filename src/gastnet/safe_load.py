"""Reading files from strangers: nothing in them runs, and what they may cost is capped before it
is allocated.

- :func:`load_npz` and :func:`load_npy` read numpy archives. Numeric arrays are read only after
  their header's size has been checked against the bytes the file holds and the budget. Object
  arrays (VideoPose3D's pickled dicts of arrays) go through an unpickler that builds plain data
  only: dicts, lists, tuples, strings, numbers and plain numeric arrays. It calls nothing but its
  own checked constructors of arrays, dtypes and numpy scalars; every dtype's and array's pickled
  state is checked against what numpy itself would write before numpy sees it (numpy trusts that
  state: a crafted one can make it read file bytes as pointers).
- :func:`read_json` reads a JSON document within the same budget.

:data:`LIMITS` is the budget; a file that asks for more is refused with a one-line ValueError that
says what it asked for and what the cap is. Every refusal is a ValueError naming the file.

Memory: an array is read once, straight into its own buffer (a zip member inflates 1 MiB at a
time into it), so a numeric ``.npy`` or ``.npz`` costs its arrays' bytes plus 1 MiB at its peak,
at most ``max_bytes`` + 1 MiB. Pickled arrays are read the same way; what else a pickle builds,
and what parsing a JSON document builds, is estimated before it is built (an upper bound measured
per kind of value, :data:`PICKLE_OBJECT_BYTES`, :data:`JSON_VALUE_BYTES`) and refused past
``max_memory``.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import struct
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

import numpy as np

__all__ = ["LIMITS", "LoadLimits", "load_npy", "load_npz", "read_json"]


@dataclass(frozen=True)
class LoadLimits:
    """What one file from outside may cost when it is read.

    ``max_bytes``: decoded bytes of one file (all npz members together, each array's data, a JSON
    text). ``max_objects``: Python objects built from a pickle or a JSON document, every shared
    reference counted as often as it is reached (what converting the data to arrays would build;
    a JSON number or a pickle opcode counts one). ``max_depth``: nesting of containers in a pickle.
    ``max_memory``: bytes that reading one file may take at its peak, estimated before they are
    taken (see the module docstring). The defaults admit the field's largest files (Human3.6M's 3D
    file decodes to ~0.3 GB; COCO results JSON of four people in 50 minutes at 30 fps, 360,000
    detections and 18 million numbers, is estimated at 1.43 GB) and keep the reading of any file
    under 1.5 GB of memory.
    """

    max_bytes: int = 2**30
    max_objects: int = 25_000_000
    max_depth: int = 64
    max_memory: int = 1_500_000_000


LIMITS = LoadLimits()

_CHUNK = 2**20  # bytes asked of a compressed stream at a time, so a zip bomb never inflates past the cap

PICKLE_OBJECT_BYTES = 512
"""Memory charged per pickle opcode against ``max_memory``: above the most any opcode builds (an empty
dict, 64 bytes, and its slot) together with what checking the result takes per object."""

JSON_VALUE_BYTES = 40
"""Memory charged per JSON separator against ``max_memory`` (a ``,`` or ``:``, each ``"``, ``[``
twice and ``{`` four times): above the most each builds (measured: 36 bytes, an int past 2**30 and its slot)."""


class _BoundedReader:
    """A read-only stream over ``raw`` that refuses to deliver more than ``limit`` bytes in all and
    asks ``raw`` for at most :data:`_CHUNK` bytes at a time."""

    def __init__(self, raw: IO[bytes], limit: int, what: str):
        self._raw, self._left, self._what = raw, limit, what

    def _take(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            raise ValueError(f"{self._what} inflates past its declared size or the byte cap of gastnet.safe_load.LIMITS")
        return data

    def read(self, n: int = -1) -> bytes:
        want = self._left + 1 if n is None or n < 0 or n > self._left else n  # one byte more reveals an overrun
        parts = []
        while want > 0:
            part = self._raw.read(min(want, _CHUNK))
            if not part:
                break
            parts.append(self._take(part))
            want -= len(part)
        return b"".join(parts)

    @property
    def left(self) -> int:
        """Bytes the stream may still deliver."""
        return self._left

    def readinto(self, buffer: np.ndarray) -> int:
        """Fill ``buffer`` (a contiguous uint8 array) from the stream, :data:`_CHUNK` bytes at a time;
        the bytes it took (fewer at the end of the stream)."""
        if len(buffer) > self._left:
            raise ValueError(f"{self._what} inflates past its declared size or the byte cap of gastnet.safe_load.LIMITS")
        done = 0
        while done < len(buffer):
            part = self._raw.read(min(len(buffer) - done, _CHUNK))
            if not part:
                break
            buffer[done:done + len(part)] = np.frombuffer(part, np.uint8)
            done += len(part)
        self._left -= done
        return done

    def readline(self, size: int = -1) -> bytes:
        """One line of at most :data:`_CHUNK` bytes (the pickle opcodes that read lines read short numbers and names)."""
        limit = min(self._left + 1, _CHUNK) if size is None or size < 0 else min(size, self._left + 1, _CHUNK)
        return self._take(self._raw.readline(limit))


def _refuse(message: str) -> ValueError:
    return ValueError(message)


_PLAIN_KINDS = "biufcSU"  # bool, integers, floats, complex, bytes and text: no objects, no raw records


class _ArrayToken:
    """What ``numpy.ndarray`` unpickles to: a name that only the checked ``_reconstruct`` accepts."""

    def __repr__(self) -> str:
        return "numpy.ndarray"


_ARRAY_TOKEN = _ArrayToken()


class _Payload:
    """A pickled byte string of :data:`_CHUNK` bytes or more, read straight into a uint8 array: an
    array's data (where numpy's pickles put it), which BUILD turns into the array without a copy."""

    __slots__ = ("data",)

    def __init__(self, data: np.ndarray):
        self.data = data


class _Memo(dict):
    """The unpickler's memo, which also remembers under which keys each empty array that
    ``_reconstruct`` made was stored, so that BUILD can put the built array there instead."""

    def __init__(self) -> None:
        super().__init__()
        self.keys_of: dict[int, list[Any]] = {}

    def __setitem__(self, key: Any, value: Any) -> None:
        if type(value) is np.ndarray and value.size == 0:
            self.keys_of.setdefault(id(value), []).append(key)
        super().__setitem__(key, value)


def _plain_dtype(dtype: Any, objects: bool) -> np.dtype:
    """``dtype`` if it is a plain numeric or text dtype (or ``object`` where ``objects``), else refused."""
    if not isinstance(dtype, np.dtype) or dtype.fields is not None or dtype.subdtype is not None:
        raise _refuse(f"refusing a dtype {dtype!r}: only plain numeric, text and object dtypes are read")
    if dtype.kind not in _PLAIN_KINDS and not (objects and dtype.kind == "O"):
        raise _refuse(f"refusing dtype {dtype}: only plain numeric, text and object dtypes are read")
    return dtype


class _DataUnpickler(pickle._Unpickler):  # the Python implementation, whose opcodes can be checked one by one
    """Builds plain data only (see the module docstring); counts what it builds against ``limits``."""

    dispatch: ClassVar[dict[int, Callable[[Any], None]]] = dict(pickle._Unpickler.dispatch)
    stack: list[Any]  # the Python implementation's value stack (set by load())
    append: Callable[[Any], None]  # stack.append (set by load())
    read: Callable[[int], bytes]  # reads through the frames (set by load())
    memo: Any
    _unframer: Any  # reads the pickle's frames (set by load())
    _decode_string: Callable[[bytes], Any]  # a Python 2 byte string as the encoding given asks

    def __init__(self, file: _BoundedReader, limits: LoadLimits):
        super().__init__(file, encoding="latin1")  # latin1: Python 2 pickles' byte strings, as numpy reads them
        self._source = file
        self._limits = limits
        self._built = 0
        self._array_bytes = 0  # arrays' data, counted against max_bytes
        self._read_bytes = 0  # byte and text strings read (array data included), counted against max_memory
        self.memo = _Memo()
        self._safe = (self._dtype, self._reconstruct, self._scalar)

    # -- the only globals: checked stand-ins for what numpy's pickles name ---------------------------
    def find_class(self, module: str, name: str) -> Any:
        core = module in ("numpy.core.multiarray", "numpy._core.multiarray")
        found = {("numpy", "dtype"): self._dtype, ("numpy", "ndarray"): _ARRAY_TOKEN}.get((module, name))
        if found is None and core:
            found = {"_reconstruct": self._reconstruct, "scalar": self._scalar}.get(name)
        if found is None:
            raise _refuse(f"refusing to load {module}.{name}: only numpy arrays, dicts, lists and plain values are "
                          "read from npz files")
        return found

    def _dtype(self, spec: Any, align: Any = False, copy: Any = True) -> np.dtype:
        if not isinstance(spec, str) or not isinstance(align, bool) or not isinstance(copy, bool):
            raise _refuse(f"refusing dtype({spec!r}, {align!r}, {copy!r}): expected a type code such as 'f4'")
        try:
            dtype = np.dtype(spec, align=False, copy=True)  # a copy: its pickled state must never touch numpy's own
        except (TypeError, ValueError):
            raise _refuse(f"refusing dtype {spec!r}: not a numpy type code") from None
        return _plain_dtype(dtype, objects=True)

    def _reconstruct(self, token: Any, shape: Any, typecode: Any) -> np.ndarray:
        if token is not _ARRAY_TOKEN or shape != (0,) or typecode != b"b":  # how numpy pickles every array
            raise _refuse("refusing an array built other than as numpy pickles arrays")
        return np.empty(0, np.int8)

    def _scalar(self, dtype: Any, data: Any) -> Any:
        dtype = _plain_dtype(dtype, objects=True)
        if dtype.kind == "O":
            return data
        if not isinstance(data, bytes) or len(data) != dtype.itemsize:
            raise _refuse(f"refusing a {dtype} scalar of {len(data) if isinstance(data, bytes) else type(data).__name__} "
                          f"bytes; expected {dtype.itemsize}")
        return np.frombuffer(data, dtype)[0]

    # -- opcodes that call something: only the stand-ins above, with checked state -------------------
    def _load_reduce(self) -> None:
        args = self.stack.pop()
        func = self.stack[-1]
        if func not in self._safe or not isinstance(args, tuple):
            raise _refuse(f"refusing to call {func!r}: only numpy arrays, dicts, lists and plain values are read")
        self.stack[-1] = func(*args)

    def _load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, np.dtype):
            self._check_dtype_state(inst, state)
        elif type(inst) is np.ndarray:
            self._check_array_state(state)
            if isinstance(state[4], _Payload):  # the data read into its own buffer: the array is a view of it
                _, shape, dtype, fortran, payload = state
                built = _shaped(payload.data, dtype, math.prod(shape), shape, fortran)
                self.stack[-1] = built
                for key in self.memo.keys_of.pop(id(inst), []):
                    if self.memo.get(key) is inst:
                        dict.__setitem__(self.memo, key, built)
                return
        else:
            raise _refuse(f"refusing to set the state of a {type(inst).__name__}")
        inst.__setstate__(state)

    def _refused_opcode(self) -> None:
        raise _refuse("refusing a pickle that builds objects other than plain data")

    # -- opcodes that read sized data: large byte strings straight into a buffer, text within a bound --
    def _sized(self, header: str) -> int:
        (size,) = struct.unpack(header, self.read(struct.calcsize(header)))
        if size < 0:
            raise _refuse("refusing a pickled string of negative length")
        return size

    def _payload(self, size: int) -> _Payload:
        """``size`` bytes of the pickle read into a new uint8 array (from the current frame, which is
        at most :data:`_CHUNK` bytes, or else straight from the file)."""
        self._read_bytes += size
        self._check_memory()
        frame = self._unframer.current_frame
        head = frame.read(size) if frame else b""
        if head:
            if len(head) < size:
                raise _refuse("a pickle exhausted before the end of its frame")
            return _Payload(np.frombuffer(head, np.uint8).copy())
        self._unframer.current_frame = None
        if size > self._source.left:  # checked before the buffer is allocated
            raise _refuse(f"truncated: a pickled string of {size:,} bytes where {self._source.left:,} are left")
        data = np.empty(size, np.uint8)
        if self._source.readinto(data) != size:
            raise _refuse(f"truncated: a pickled string of {size:,} bytes ends early")
        return _Payload(data)

    def _small(self, size: int) -> bytes:
        self._read_bytes += size
        self._check_memory()
        return self.read(size)

    def _check_memory(self) -> None:
        if self._built * PICKLE_OBJECT_BYTES + self._read_bytes > self._limits.max_memory:
            raise ValueError(f"a pickle that would take more than {self._limits.max_memory:,} bytes of memory "
                             "(gastnet.safe_load.LIMITS)")

    def _load_bytes(self, header: str) -> None:
        size = self._sized(header)
        self.append(self._payload(size) if size >= _CHUNK else self._small(size))

    def _load_binstring(self) -> None:  # Python 2's byte strings: array data in numpy's Python 2 pickles
        size = self._sized("<i")
        self.append(self._payload(size) if size >= _CHUNK else self._decode_string(self._small(size)))

    def _load_text(self, header: str) -> None:
        size = self._sized(header)
        if size >= _CHUNK:
            raise _refuse(f"refusing a pickled text of {size:,} bytes; expected arrays, dicts, lists and short strings")
        self.append(str(self._small(size), "utf-8", "surrogatepass"))

    def _load_frame(self) -> None:
        size = self._sized("<Q")
        if size > _CHUNK:  # pickle writes frames of about 64 KiB, and large strings outside them
            raise _refuse(f"refusing a pickle frame of {size:,} bytes")
        self._unframer.load_frame(size)

    @staticmethod
    def _check_dtype_state(dtype: np.dtype, state: Any) -> None:
        """Only the state numpy writes for this plain dtype, in either byte order (no fields, flags, sizes)."""
        own = dtype.__reduce__()[2]
        orders = ("|",) if own[1] == "|" else ("<", ">", "=")
        if not (isinstance(state, tuple) and len(state) == len(own) and state[0] == own[0] and state[1] in orders
                and state[2:] == own[2:]):
            raise _refuse(f"refusing a crafted state for dtype {dtype}")

    def _check_array_state(self, state: Any) -> None:
        """(1, shape, dtype, fortran, data) with data that fills exactly that shape, within the budget."""
        if not (isinstance(state, tuple) and len(state) == 5 and state[0] == 1 and isinstance(state[1], tuple)
                and isinstance(state[3], bool)):
            raise _refuse("refusing an array state numpy does not write")
        _, shape, dtype, _, data = state
        dtype = _plain_dtype(dtype, objects=True)
        if len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
            raise _refuse(f"refusing an array of shape {shape!r}")
        count = math.prod(shape)
        if dtype.kind == "O":
            if not isinstance(data, list) or len(data) != count:
                raise _refuse(f"refusing an object array of shape {shape} with {type(data).__name__} contents")
            return
        size = count * dtype.itemsize
        found = data.data.size if isinstance(data, _Payload) else len(data) if isinstance(data, (bytes, str)) else -1
        if found != size:
            raise _refuse(f"refusing an array of shape {shape} and dtype {dtype} whose data is not {size} bytes")
        self._array_bytes += size
        if self._array_bytes > self._limits.max_bytes:
            raise ValueError(f"arrays of more than {self._limits.max_bytes:,} bytes (gastnet.safe_load.LIMITS)")



def _counted(handler: Callable[[Any], None]) -> Callable[[Any], None]:
    """``handler`` of one opcode, after counting the opcode against ``max_objects``."""
    def counted(unpickler: _DataUnpickler) -> None:
        unpickler._built += 1
        if unpickler._built > unpickler._limits.max_objects:
            raise ValueError(f"more than {unpickler._limits.max_objects:,} pickled objects (gastnet.safe_load.LIMITS)")
        unpickler._check_memory()
        handler(unpickler)
    return counted


_CHECKED: dict[bytes, Callable[[Any], None]] = {
    pickle.REDUCE: _DataUnpickler._load_reduce, pickle.BUILD: _DataUnpickler._load_build,
    pickle.BINBYTES: lambda u: u._load_bytes("<I"), pickle.BINBYTES8: lambda u: u._load_bytes("<Q"),
    pickle.BINSTRING: _DataUnpickler._load_binstring, pickle.BINUNICODE: lambda u: u._load_text("<I"),
    pickle.BINUNICODE8: lambda u: u._load_text("<Q"), pickle.FRAME: _DataUnpickler._load_frame,
}
_REFUSED = ("INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "EXT1", "EXT2", "EXT4", "PERSID", "BINPERSID", "NEXT_BUFFER",
            "READONLY_BUFFER", "BYTEARRAY8")  # opcodes that build instances, look up registries or take outside buffers;
# a bytearray (protocol 5) is no plain data
_CHECKED.update({getattr(pickle, name): _DataUnpickler._refused_opcode for name in _REFUSED})
_DataUnpickler.dispatch = {code: _counted(_CHECKED.get(bytes([code]), handler))
                           for code, handler in _DataUnpickler.dispatch.items()}


def _check_plain(root: Any, limits: LoadLimits) -> None:
    """ValueError unless ``root`` is plain data (containers of strings, numbers and plain arrays)
    whose expansion, every shared reference counted each time it is reached, stays within
    ``limits`` and that holds no reference cycle."""
    cost: dict[int, tuple[int, int]] = {}  # id -> (objects, array bytes) of the expanded subtree
    on_path: set[int] = set()
    stack: list[tuple[Any, int, list[Any] | None]] = [(root, 0, None)]  # children once the object was entered
    while stack:
        obj, depth, children = stack.pop()
        key = id(obj)  # every object stays alive (reachable from root), so ids stay unique
        if children is not None:  # all its children are costed: cost the object
            on_path.discard(key)
            objects = 1 + sum(cost[id(c)][0] for c in children)
            nbytes = (obj.nbytes if isinstance(obj, np.ndarray) and obj.dtype.kind != "O" else 0) + sum(
                cost[id(c)][1] for c in children)
            if objects > limits.max_objects or nbytes > limits.max_bytes:
                raise ValueError(f"its shared references expand to more than {limits.max_objects:,} objects or "
                                 f"{limits.max_bytes:,} bytes (gastnet.safe_load.LIMITS)")
            cost[key] = (objects, nbytes)
            continue
        if key in cost:
            continue
        if key in on_path:
            raise ValueError("it holds a container that contains itself")
        if depth > limits.max_depth:
            raise ValueError(f"it nests containers more than {limits.max_depth} deep")
        on_path.add(key)
        children = _children(obj)
        stack.append((obj, depth, children))
        stack.extend((child, depth + 1, None) for child in children)


_SCALARS = (str, bytes, int, float, complex, bool, type(None), np.generic, np.dtype)


def _children(obj: Any) -> list[Any]:
    if isinstance(obj, dict):
        return [*obj.keys(), *obj.values()]
    if isinstance(obj, (list, tuple)):
        return list(obj)
    if isinstance(obj, np.ndarray):
        return list(obj.ravel()) if obj.dtype.kind == "O" else []
    if isinstance(obj, _SCALARS):
        return []
    if isinstance(obj, _Payload):
        raise ValueError(f"it holds a byte string of {obj.data.size:,} bytes outside an array; expected short strings")
    raise ValueError(f"it holds a {type(obj).__name__}, which is not plain data")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, limits: LoadLimits) -> np.ndarray:
    """One ``.npy`` member, its declared size already counted in ``budget``."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):  # what numpy writes
        raise ValueError(f"member {info.filename} is compressed with method {info.compress_type}; "
                         "expected stored or deflated, as numpy writes")
    with archive.open(info) as raw:
        return _read_npy(_BoundedReader(raw, min(info.file_size, budget), f"member {info.filename}"), info.file_size, limits)


def _read_npy(f: _BoundedReader, size: int, limits: LoadLimits) -> np.ndarray:
    """An array in the ``.npy`` format from ``f``, which holds ``size`` bytes in all."""
    version = np.lib.format.read_magic(f)  # type: ignore[arg-type]
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise ValueError(f"an .npy format version {version} numpy does not write")
    # 3.0 differs from 2.0 only in a UTF-8 header, which matters only for structured field names (refused here)
    reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, fortran, dtype = reader(f)  # type: ignore[arg-type]
    if dtype.hasobject:
        if dtype.kind != "O":
            raise ValueError(f"records with Python objects ({dtype}); expected plain arrays or object arrays")
        try:
            value = _DataUnpickler(f, limits).load()
        except ValueError:
            raise
        except Exception as err:  # a damaged or hand-made pickle: any of the opcodes' own errors
            raise ValueError(f"a damaged pickle ({type(err).__name__}: {err})") from None
        _check_plain(value, limits)
        return value
    dtype = _plain_dtype(dtype, objects=False)
    count = math.prod(shape)
    if count * dtype.itemsize > min(size, limits.max_bytes):
        raise ValueError(f"its header declares {count * dtype.itemsize:,} bytes of data ({shape}, {dtype}) "
                         f"but the file holds {size:,} (and gastnet reads at most {limits.max_bytes:,})")
    array = _read_data(f, count * dtype.itemsize)
    return _shaped(array, dtype, count, shape, fortran)


def _read_data(f: _BoundedReader, size: int) -> np.ndarray:
    """``size`` bytes of ``f`` as a new uint8 array (read once, straight into it); ValueError if ``f`` ends sooner."""
    data = np.empty(size, np.uint8)
    got = f.readinto(data) if size else 0
    if got != size:
        raise ValueError(f"truncated: {got:,} of {size:,} bytes of data")
    return data


def _shaped(data: np.ndarray, dtype: np.dtype, count: int, shape: tuple[int, ...], fortran: bool) -> np.ndarray:
    """The bytes ``data`` (uint8) seen as ``count`` values of ``dtype`` in ``shape`` (Fortran order if ``fortran``), no copy."""
    array = data.view(dtype) if data.size else np.empty(count, dtype)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def load_npz(path: str | os.PathLike[str], limits: LoadLimits | None = None) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file, read within ``limits`` without running anything (see the
    module docstring); object arrays (VideoPose3D's pickled dicts) come back as numpy object arrays.

    Raises ValueError, one line naming the file, for anything else: not an npz archive, a pickle
    that asks for more than plain data, a size past the limits, a damaged member.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "d.npz"
    >>> np.savez(path, positions=np.array({"S1": {"Walk": np.zeros(2)}}, dtype=object), x=np.arange(3))
    >>> data = load_npz(path)
    >>> data["positions"].item()["S1"]["Walk"].tolist(), data["x"].tolist()
    ([0.0, 0.0], [0, 1, 2])
    """
    limits = limits or LIMITS
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as err:
        raise ValueError(f"{path}: not an npz archive ({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None
    arrays: dict[str, np.ndarray] = {}
    with archive:
        members = [info for info in archive.infolist() if info.filename.endswith(".npy")]
        declared = sum(info.file_size for info in members)
        if declared > limits.max_bytes:
            raise ValueError(f"{path}: its arrays declare {declared:,} bytes; gastnet reads at most "
                             f"{limits.max_bytes:,} (gastnet.safe_load.LIMITS)")
        budget = limits.max_bytes
        for info in members:
            try:
                arrays[info.filename[:-4]] = _read_member(archive, info, budget, limits)
            except ValueError as err:
                raise ValueError(f"{path}: {err}") from None
            except (zipfile.BadZipFile, OSError, EOFError, KeyError, RuntimeError, NotImplementedError) as err:
                detail = str(err).splitlines()[0] if str(err) else type(err).__name__
                raise ValueError(f"{path}: a damaged npz archive ({detail})") from None
            budget -= info.file_size
    return arrays


def load_npy(path: str | os.PathLike[str], limits: LoadLimits | None = None) -> np.ndarray:
    """The numeric array in an ``.npy`` file (no object arrays), its size checked against the file
    and ``limits`` before it is read; ValueError, one line naming the file, for anything else.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.npy"
    >>> np.save(path, np.arange(6).reshape(2, 3))
    >>> load_npy(path).tolist()
    [[0, 1, 2], [3, 4, 5]]
    """
    limits = limits or LIMITS
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as raw:
            array = _read_npy(_BoundedReader(raw, min(size, limits.max_bytes), "the file"), size, limits)
    except (ValueError, OSError, EOFError) as err:
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"{path}: not a readable .npy array ({detail}); expected an array saved by numpy.save") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind == "O":
        raise ValueError(f"{path}: holds Python objects; expected a numeric array saved by numpy.save")
    return array


_WIDENING_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u[0-9a-fA-F]{4}")  # a \uXXXX escape (after an even run of backslashes)


def _json_memory(raw: bytes, text: str, separators: int) -> int:
    """Bytes that parsing the JSON ``text`` (decoded from ``raw``) may take at its peak: the text (1-4 bytes a
    character) beside the file's bytes, then beside what the parse builds: its strings, copies of the text's
    characters (but a \\u escape in a text of one byte a character may make a string of four, and building
    it may take as much again) and :data:`JSON_VALUE_BYTES` per weighted separator; and 1 MiB for the rest."""
    size = sys.getsizeof(text)
    strings = 8 * len(text) if _WIDENING_ESCAPE.search(raw) else size
    return size + max(len(raw), strings + JSON_VALUE_BYTES * separators) + 2**20


def read_json(path: str | os.PathLike[str], limits: LoadLimits | None = None) -> Any:
    """The JSON document in ``path``, read within ``limits``: its size and its number of values
    (a cheap count of separators and brackets) are checked before it is parsed. ValueError, one
    line naming the file, for anything that is not a JSON document within the limits (nesting too
    deep for the parser and integers of thousands of digits included).

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "k.json"
    >>> _ = path.write_text('[{"image_id": 1, "keypoints": [1, 2, 1]}]')
    >>> read_json(path)[0]["keypoints"]
    [1, 2, 1]
    """
    limits = limits or LIMITS
    path = Path(path)
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise ValueError(f"{path}: {size:,} bytes of JSON; gastnet reads at most {limits.max_bytes:,} "
                         "(gastnet.safe_load.LIMITS)")
    raw = path.read_bytes()
    commas, colons, lists, dicts = (raw.count(c) for c in (b",", b":", b"[", b"{"))
    values = commas + colons + lists + dicts
    if values > limits.max_objects:
        raise ValueError(f"{path}: about {values:,} JSON values; gastnet reads at most {limits.max_objects:,} "
                         "(gastnet.safe_load.LIMITS)")
    try:
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    memory = _json_memory(raw, text, commas + colons + raw.count(b'"') + 2 * lists + 4 * dicts)
    if memory > limits.max_memory:
        raise ValueError(f"{path}: parsing it would take about {memory:,} bytes of memory; gastnet takes at most "
                         f"{limits.max_memory:,} (gastnet.safe_load.LIMITS)")
    del raw
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    except (RecursionError, ValueError) as err:  # ValueError: an integer of more than 4300 digits
        first = (str(err).splitlines() or [type(err).__name__])[0]
        raise ValueError(f"{path}: not a JSON document gastnet can read ({first})") from None
