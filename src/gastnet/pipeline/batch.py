"""Lift many recordings: one result folder per input, failures reported, never a batch lost to one file.

:func:`lift_one` lifts one input into its own folder and returns a plain record of what happened
(it never raises for a bad input). :func:`lift_many` runs it over a list of inputs on ``workers``
spawned worker processes, each lifting one input at a time, or on any
:class:`concurrent.futures.Executor`. A worker that crashes (a segfault in a native library, the
out-of-memory killer) or runs past ``timeout`` fails only the input it was lifting: the record says
why, the worker is replaced and the batch goes on. A script that calls :func:`lift_many` needs the
usual ``if __name__ == "__main__":`` guard, as the workers import it.

A Dask cluster gives an executor with ``Client(...).get_executor()``, which spreads a large set
over machines::

    from dask.distributed import Client
    from gastnet.pipeline.batch import expand_inputs, lift_many

    client = Client("tcp://scheduler:8786")          # or Client() for a local cluster
    records = lift_many(expand_inputs(["/data/clips"]), "/data/out", executor=client.get_executor())

Every worker must see the inputs and the output folder at the same paths (a shared file system).
``batch_report.json`` in the output folder lists every input with its result folder or error; it
is written whatever happens, an interrupt (Ctrl-C) included.
"""

from __future__ import annotations

import collections
import concurrent.futures
import glob
import json
import math
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from ..fileio import atomic_path, folder_lock, matching_files, natural_key, output_set
from ..progress import progress_bar
from .options import LiftOptions, lift_options
from .recording import VIDEO_SUFFIXES, lift
from .results import OUTPUT_FILES
from .writers import require_formats

__all__ = ["DEFAULT_FORMATS", "REPORT_NAME", "expand_inputs", "lift_many", "lift_one", "output_folders"]

REPORT_NAME = "batch_report.json"
"""The batch's report, in the output folder."""

DEFAULT_FORMATS = ("npz",)
"""What is written per input unless asked otherwise."""

WORKER_GRACE_S = 5.0
"""Seconds a stopped worker has to exit before it is killed."""

TIMEOUT_GRACE_S = 2.0
"""Seconds a worker that ran past its input's time has to exit before it is killed."""


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
                raise ValueError(f"input {item} does not exist"
                                 + (" (the pattern matches nothing)" if glob.has_magic(item) else ""))
            found.extend(Path(m) for m in matches)
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return [Path(p) for p in unique]


def output_folders(inputs: list[Path], out_root: str | os.PathLike[str]) -> list[Path]:
    """One folder under ``out_root`` per input, never shared; returns them in the order of ``inputs``.

    An input's folder is its stem (a folder input: its name); inputs that share a stem get
    ``<stem>_<extension>`` (``walk.npy``, ``walk.npz`` -> ``walk_npy``, ``walk_npz``); a name that
    an earlier input already has gets ``_2``, ``_3``, ... Names are compared case-insensitively
    (``Walk`` and ``walk`` are one folder on macOS and Windows); none is :data:`REPORT_NAME`, and
    a stem that is no folder name (``..npy`` has the stem ``.``) becomes ``input``.
    """
    paths = [Path(p) for p in inputs]
    stems = [p.name if p.is_dir() else p.stem for p in paths]
    stems = [stem if stem not in ("", ".", "..") else "input" for stem in stems]
    sharing = collections.Counter(stem.casefold() for stem in stems)
    taken = {REPORT_NAME.casefold()}
    folders = []
    for path, stem in zip(paths, stems):
        extension = "" if path.is_dir() else path.suffix[1:]
        base = f"{stem}_{extension}" if sharing[stem.casefold()] > 1 and extension else stem
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name.casefold())
        folders.append(Path(out_root) / name)
    return folders


def _failed(source: str | os.PathLike[str], out_dir: str | os.PathLike[str], error: str | None) -> dict[str, Any]:
    """The record of an input that has not (yet) been lifted."""
    return {"input": str(source), "out": str(out_dir), "ok": False, "error": error,
            "people": 0, "frames": 0, "seconds": 0.0, "notes": []}


def lift_one(source: str | os.PathLike[str], out_dir: str | os.PathLike[str], formats: tuple[str, ...] = DEFAULT_FORMATS,
             overwrite: bool = False, threads: int | None = None, options: LiftOptions | None = None,
             **overrides: Any) -> dict[str, Any]:
    """Lift ``source`` with :func:`gastnet.lift` (``options``, :class:`~gastnet.pipeline.options.LiftOptions`,
    with ``overrides`` of its fields) and save it into ``out_dir``; a record of what happened.

    The record (plain types, JSON-ready): ``input``, ``out``, ``ok``, ``error`` (the message, or
    None), ``people``, ``frames``, ``seconds``, ``notes``. Nothing is raised for a bad input.
    ``out_dir`` is locked (:func:`gastnet.fileio.folder_lock`) from the check for earlier results
    to the last file written: another process writing there is refused at once, and this input
    fails with that message. ``threads``: torch threads for this call (a worker's share of the cores).
    """
    start = time.perf_counter()
    record = _failed(source, out_dir, None)
    try:
        if threads:
            import torch

            torch.set_num_threads(threads)
        with folder_lock(out_dir, "gastnet lift"):
            if matching_files(out_dir, OUTPUT_FILES) and not overwrite:
                raise ValueError(f"{out_dir} already holds results; pass overwrite=True (--overwrite) or another --out")
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the notes say the same
                result = lift(source, options=options, **overrides)
            with output_set(out_dir, OUTPUT_FILES, overwrite) as stage:  # the whole set, or nothing
                result.save(stage, formats)
        record.update(ok=True, people=len(result.people), frames=result.num_frames, notes=list(result.notes))
    except Exception as err:  # one bad input must not end the batch: report it and go on
        message = str(err) if isinstance(err, ValueError) else f"{type(err).__name__}: {err}"
        record["error"] = message
    record["seconds"] = round(time.perf_counter() - start, 3)
    return record


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _serve(conn: Connection, function: Callable[..., dict[str, Any]]) -> None:
    """A worker process: run ``function`` on each ``(args, kwargs)`` sent over ``conn``, send back its record."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent stops the workers
    signal.signal(signal.SIGTERM, _raise_interrupt)  # the parent's stop: unwind, so that a staging folder is removed
    try:
        conn.send(None)  # ready: the imports are done, so an input's time starts when it is sent
        while True:
            args, kwargs = conn.recv()
            conn.send(function(*args, **kwargs))
    except (EOFError, OSError, KeyboardInterrupt):  # the parent closed the pipe, went away, or stopped this worker
        pass


@dataclass
class _Worker:
    """A worker process, the parent's end of its pipe, and the input it is lifting (None: none)."""

    process: BaseProcess
    conn: Connection
    ready: bool = False
    task: int | None = None
    deadline: float = math.inf


def _start_worker(context: Any, function: Callable[..., dict[str, Any]]) -> _Worker:
    """A new worker process running :func:`_serve` (not yet ready: it is importing)."""
    parent_end, child_end = context.Pipe()
    process = context.Process(target=_serve, args=(child_end, function), name="gastnet-lift-worker")
    process.start()
    child_end.close()  # the worker holds the only other end: its death reads as end-of-file here
    return _Worker(process, parent_end)


def _stop_workers(workers: list[_Worker], grace: float = WORKER_GRACE_S) -> None:
    """End the workers' processes: an idle one reads end-of-file and exits, a busy or starting one
    gets SIGTERM (a busy one unwinds, removing its staging folder); any alive after ``grace`` s is killed."""
    for w in workers:
        w.conn.close()
        if w.task is not None or not w.ready:
            w.process.terminate()
    end = time.monotonic() + grace
    for w in workers:
        w.process.join(max(0.0, end - time.monotonic()))
        if w.process.exitcode is None:
            w.process.kill()
            w.process.join()


def _death(exitcode: int | None) -> str:
    """Why a worker ended, from its exit code (negative: the signal that killed it), in words."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "an unnamed signal"
        if name == "SIGKILL":
            return f"the worker lifting this input was killed (signal {-exitcode}: out of memory?)"
        return f"the worker lifting this input crashed (killed by signal {-exitcode}, {name})"
    return f"the worker lifting this input exited (code {exitcode}) without a result"


def _lift_isolated(function: Callable[..., dict[str, Any]], jobs: list[tuple[tuple[Any, ...], dict[str, Any]]], workers: int,
                   timeout: float | None, running: set[int], finished: Callable[[int, dict[str, Any]], None]) -> None:
    """Run ``function(*args, **kwargs)`` for each job, one at a time on each of up to ``workers``
    spawned processes; ``finished(i, record)`` for each job as it ends, a crash or timeout giving
    its failure record. ``running`` holds the jobs being run (for the caller, if this is interrupted)."""
    context = multiprocessing.get_context("spawn")
    pending = collections.deque(range(len(jobs)))
    pool: list[_Worker] = []
    try:
        while pending or running:
            free = sum(w.task is None for w in pool)
            pool.extend(_start_worker(context, function) for _ in range(min(workers - len(pool), len(pending) - free)))
            for w in pool:
                if w.ready and w.task is None and pending:
                    w.task = pending.popleft()
                    running.add(w.task)  # before sending: the worker may run at once, before this process goes on
                    w.deadline = time.monotonic() + timeout if timeout else math.inf
                    w.conn.send(jobs[w.task])
            soonest = min(w.deadline for w in pool)
            ready = wait([w.conn for w in pool] + [w.process.sentinel for w in pool],
                         None if soonest == math.inf else max(0.0, soonest - time.monotonic()))
            for w in list(pool):
                ended = False
                if w.conn in ready:
                    try:
                        message = w.conn.recv()
                    except (EOFError, OSError):  # its end closed: it died
                        ended = True
                    else:
                        if w.ready and w.task is not None:
                            running.discard(w.task)
                            finished(w.task, message)
                            w.task, w.deadline = None, math.inf
                        w.ready = True
                if ended or not w.process.is_alive():
                    _stop_workers([w])  # reaps it
                    reason = _death(w.process.exitcode)
                elif w.task is not None and time.monotonic() > w.deadline:
                    _stop_workers([w], grace=TIMEOUT_GRACE_S)
                    reason = f"timed out after {timeout:g} s; its worker was stopped"
                else:
                    continue
                pool.remove(w)
                if not w.ready:
                    raise ChildProcessError(f"a lift worker process ended (exit code {w.process.exitcode}) before it "
                                            "was ready; expected it to start (its error is printed above)")
                if w.task is not None:
                    source, out_dir = jobs[w.task][0][:2]
                    running.discard(w.task)
                    finished(w.task, _failed(source, out_dir, reason))
    finally:
        _stop_workers(pool)


def lift_many(inputs: Sequence[str | os.PathLike[str]], out_root: str | os.PathLike[str],
              options: LiftOptions | None = None, *, workers: int = 1,
              executor: concurrent.futures.Executor | None = None, formats: tuple[str, ...] = DEFAULT_FORMATS,
              overwrite: bool = False, progress: bool = False, timeout: float | None = None,
              lift_function: Callable[..., dict[str, Any]] = lift_one, **overrides: Any) -> list[dict[str, Any]]:
    """Lift every input into ``out_root/<name>/`` (:func:`output_folders`) and write ``out_root/batch_report.json``.

    Args:
        inputs: videos, image folders or keypoint files (see :func:`expand_inputs`).
        out_root: the folder of result folders.
        options: how to lift every input (:class:`~gastnet.pipeline.options.LiftOptions`; checked
            once, here, and sent to the workers as it is).
        workers: worker processes, each lifting one input at a time (with more than one, each gets
            an equal share of the CPU cores for torch). A worker that crashes or times out fails
            only its input and is replaced. Ignored when ``executor`` is given.
        executor: any :class:`concurrent.futures.Executor` (e.g. a Dask client's ``get_executor()``).
        formats, overwrite: as for ``gastnet lift``.
        progress: show a progress bar.
        timeout: seconds one input may take on a worker (None: no limit); not with ``executor``.
        lift_function: what lifts one input, called as :func:`lift_one` (the default) is; it must
            be importable by name, for the spawned workers.
        overrides: fields of ``options`` changed (``model``, ``fps``, ``image_size``, ...).

    Returns the records of :func:`lift_one`, in the order of ``inputs``. The report is written
    even when the batch is interrupted: inputs that did not run are recorded as not run, and the
    interrupt (KeyboardInterrupt) is raised again.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout}")
    if timeout is not None and executor is not None:
        raise ValueError("timeout limits the local workers; with an executor, set the time limits on the executor")
    opts = lift_options(options, **overrides)  # a bad option fails the call, not every input
    formats = require_formats(formats)  # so does an unknown format or a missing extra
    paths = [Path(p) for p in inputs]
    folders = output_folders(paths, out_root)
    threads = max(1, (os.cpu_count() or 1) // workers) if executor is None and workers > 1 else None
    jobs: list[tuple[tuple[Any, ...], dict[str, Any]]] = [((str(path), str(folder), formats, overwrite, threads),
                                                           {"options": opts})
            for path, folder in zip(paths, folders)]
    records: list[dict[str, Any] | None] = [None] * len(paths)
    running: set[int] = set()
    bar = progress_bar(total=len(paths), desc="lift", unit="input", disable=not progress)

    def finished(i: int, record: dict[str, Any]) -> None:
        records[i] = record
        bar.update(1)

    try:
        if executor is None:
            _lift_isolated(lift_function, jobs, workers, timeout, running, finished)
        else:
            futures = {executor.submit(lift_function, *args, **kwargs): i for i, (args, kwargs) in enumerate(jobs)}
            try:
                for future in concurrent.futures.as_completed(futures):
                    i = futures[future]
                    try:
                        finished(i, future.result())
                    except Exception as err:  # the worker itself failed (killed, out of memory, lost)
                        finished(i, _failed(paths[i], folders[i], f"the worker failed: {type(err).__name__}: {err}"))
            finally:
                for future in futures:
                    future.cancel()  # nothing more is started once the batch stops
    except BaseException as err:
        why = "the batch was interrupted" if isinstance(err, KeyboardInterrupt) else f"the batch stopped: {err}"
        for i, record in enumerate(records):
            if record is None:
                records[i] = _failed(paths[i], folders[i], f"{'not finished' if i in running else 'not run'}: {why}")
        raise
    finally:
        bar.close()
        done = [r for r in records if r is not None]
        with atomic_path(Path(out_root) / REPORT_NAME) as tmp:
            tmp.write_text(json.dumps({"inputs": len(done), "failed": sum(not r["ok"] for r in done), "results": done},
                                      indent=1))
    return done
