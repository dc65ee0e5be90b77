"""Lift many recordings: one result folder per input, failures reported, never a batch lost to one file.

:func:`lift_one` lifts one input into its own folder and returns a plain record of what happened
(it never raises for a bad input). :func:`lift_many` runs it over a list of inputs, in this process,
in ``workers`` local processes, or on any :class:`concurrent.futures.Executor`; a Dask cluster
gives one with ``Client(...).get_executor()``, which spreads a large set over machines::

    from dask.distributed import Client
    from gastnet.inference.batch import expand_inputs, lift_many

    client = Client("tcp://scheduler:8786")          # or Client() for a local cluster
    records = lift_many(expand_inputs(["/data/clips"]), "/data/out", executor=client.get_executor())

Every worker must see the inputs and the output folder at the same paths (a shared file system).
``batch_report.json`` in the output folder lists every input with its result folder or error.
"""

from __future__ import annotations

import concurrent.futures
import glob
import json
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..fileio import atomic_path, matching_files, natural_key, output_set
from .pipeline import VIDEO_SUFFIXES, lift
from .results import OUTPUT_FILES

__all__ = ["expand_inputs", "lift_many", "lift_one", "output_folders"]


def expand_inputs(items: list[str]) -> list[Path]:
    """Inputs from command-line items: a file, a folder of videos (each video one input; any other
    folder is one input: images or keypoint files), or a glob pattern. Sorted naturally within an
    item, without duplicates; ValueError naming an item that matches nothing."""
    found: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            videos = [p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()]
            found.extend(sorted(videos, key=natural_key) if videos else [path])
        elif path.exists():
            found.append(path)
        else:
            matches = sorted(glob.glob(item), key=natural_key) if glob.has_magic(item) else []
            if not matches:
                raise ValueError(f"input {item} does not exist" + (" (the pattern matches nothing)" if glob.has_magic(item) else ""))
            found.extend(Path(m) for m in matches)
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return [Path(p) for p in unique]


def output_folders(inputs: list[Path], out_root: str | os.PathLike[str]) -> list[Path]:
    """One folder per input under ``out_root``, named after the input (``name_2``... when names repeat)."""
    used: dict[str, int] = {}
    folders = []
    for path in inputs:
        stem = path.stem if path.suffix else path.name
        used[stem] = used.get(stem, 0) + 1
        folders.append(Path(out_root) / (stem if used[stem] == 1 else f"{stem}_{used[stem]}"))
    return folders


def _failed(source: str | os.PathLike[str], out_dir: str | os.PathLike[str], error: str | None) -> dict[str, Any]:
    """The record of an input that has not (yet) been lifted."""
    return {"input": str(source), "out": str(out_dir), "ok": False, "error": error,
            "people": 0, "frames": 0, "seconds": 0.0, "notes": []}


def lift_one(source: str | os.PathLike[str], out_dir: str | os.PathLike[str], formats: tuple[str, ...] = ("npz",),
             overwrite: bool = False, threads: int | None = None, **lift_options: Any) -> dict[str, Any]:
    """Lift ``source`` with :func:`gastnet.lift` and save it into ``out_dir``; a record of what happened.

    The record (plain types, JSON-ready): ``input``, ``out``, ``ok``, ``error`` (the message, or
    None), ``people``, ``frames``, ``seconds``, ``notes``. Nothing is raised for a bad input.
    ``threads``: torch threads for this call (a worker's share of the cores).
    """
    start = time.perf_counter()
    record = _failed(source, out_dir, None)
    try:
        if threads:
            import torch

            torch.set_num_threads(threads)
        if matching_files(out_dir, OUTPUT_FILES) and not overwrite:
            raise ValueError(f"{out_dir} already holds results; pass overwrite=True (--overwrite) or another --out")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the notes say the same
            result = lift(source, **lift_options)
        with output_set(out_dir, OUTPUT_FILES, overwrite) as stage:  # the whole set, or nothing
            result.save(stage, formats)
        record.update(ok=True, people=len(result.people), frames=result.num_frames, notes=list(result.notes))
    except Exception as err:  # one bad input must not end the batch: report it and go on
        message = str(err) if isinstance(err, ValueError) else f"{type(err).__name__}: {err}"
        record["error"] = message
    record["seconds"] = round(time.perf_counter() - start, 3)
    return record


def lift_many(inputs: list[str | os.PathLike[str]], out_root: str | os.PathLike[str], *, workers: int = 1,
              executor: concurrent.futures.Executor | None = None, formats: tuple[str, ...] = ("npz",),
              overwrite: bool = False, progress: bool = False, **lift_options: Any) -> list[dict[str, Any]]:
    """Lift every input into ``out_root/<name>/`` and write ``out_root/batch_report.json``.

    Args:
        inputs: videos, image folders or keypoint files (see :func:`expand_inputs`).
        out_root: the folder of result folders.
        workers: local processes (each gets an equal share of the CPU cores for torch); 1 runs
            in this process. Ignored when ``executor`` is given.
        executor: any :class:`concurrent.futures.Executor` (e.g. a Dask client's ``get_executor()``).
        formats, overwrite: as for ``gastnet lift``.
        lift_options: passed to :func:`gastnet.lift` (``model``, ``fps``, ``image_size``, ...).

    Returns the records of :func:`lift_one`, in the order of ``inputs``.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    paths = [Path(p) for p in inputs]
    folders = output_folders(paths, out_root)
    threads = max(1, (os.cpu_count() or 1) // workers) if executor is None and workers > 1 else None
    records: list[dict[str, Any] | None] = [None] * len(paths)
    bar = tqdm(total=len(paths), desc="lift", unit="input", disable=not progress)
    if executor is None and workers == 1:
        for i, (path, folder) in enumerate(zip(paths, folders)):
            records[i] = lift_one(path, folder, formats, overwrite, **lift_options)
            bar.update(1)
    else:
        own = executor is None
        pool = executor or concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        try:
            futures = {pool.submit(lift_one, str(path), str(folder), formats, overwrite, threads, **lift_options): i
                       for i, (path, folder) in enumerate(zip(paths, folders))}
            for future in concurrent.futures.as_completed(futures):
                i = futures[future]
                try:
                    records[i] = future.result()
                except Exception as err:  # the worker itself died (killed, out of memory)
                    records[i] = _failed(paths[i], folders[i], f"the worker failed: {type(err).__name__}: {err}")
                bar.update(1)
        finally:
            if own:
                pool.shutdown()
    bar.close()
    done = [r for r in records if r is not None]
    with atomic_path(Path(out_root) / "batch_report.json") as tmp:
        tmp.write_text(json.dumps({"inputs": len(done), "failed": sum(not r["ok"] for r in done), "results": done}, indent=1))
    return done
