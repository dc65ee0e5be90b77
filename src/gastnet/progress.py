"""Progress bars that follow the terminal: every tqdm bar of gastnet is made by :func:`progress_bar`.

On a terminal (or in a Jupyter kernel) the bar is tqdm's own, redrawn in place. Written to a file
or a pipe (CI logs, ``nohup``, ``2> log``) a redrawn bar would leave one carriage-return fragment
per update, thousands per run; there the bar writes whole lines instead, and few of them: one when
it starts, one each time another :data:`LOG_FRACTION` of the total is done or :data:`LOG_INTERVAL_S`
seconds have passed (whichever comes first), and one at the end.

>>> import io
>>> log = io.StringIO()                      # not a terminal
>>> for _ in progress_bar(range(1000), desc="detect 2D", file=log):
...     pass
>>> len(log.getvalue().splitlines()) <= 12, "\\r" in log.getvalue()
(True, False)
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable
from typing import IO, Any

from tqdm.auto import tqdm as live_tqdm
from tqdm.std import tqdm as plain_tqdm

__all__ = ["LOG_FRACTION", "LOG_INTERVAL_S", "is_terminal", "progress_bar"]

LOG_FRACTION = 0.1
"""Outside a terminal: a line each time this fraction of the total more is done."""

LOG_INTERVAL_S = 30.0
"""Outside a terminal: a line at least this often (seconds) while the bar moves, and for a bar without a total."""

_clock = time.monotonic  # the tests stand in for it


def is_terminal(stream: IO[str] | None) -> bool:
    """Whether ``stream`` (None: sys.stderr, tqdm's default) is shown live: a terminal, or a Jupyter kernel's output."""
    stream = sys.stderr if stream is None else stream
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        tty = False
    return tty or "ipykernel" in sys.modules


class _Lines:
    """A stream for tqdm that turns each redraw (``"\\r" + text + padding``) into one line of text, and drops empty ones."""

    def __init__(self, stream: IO[str]):
        self._stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").rstrip()
        if line:
            self._stream.write(line + "\n")

    def flush(self) -> None:
        self._stream.flush()


class _LogBar(plain_tqdm):
    """A tqdm bar that shows only the lines described in the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any):
        self._shown: tuple[float, float, float | None] | None = None  # (n, clock, total) of the last line written
        stream = kwargs.pop("file", None)
        # every update reaches display(), which decides; the monitor thread never forces a redraw
        kwargs.update(file=_Lines(sys.stderr if stream is None else stream), mininterval=0, maxinterval=math.inf,
                      miniters=1, dynamic_ncols=False, ascii=True)
        super().__init__(*args, **kwargs)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        if msg is None:
            now = _clock()
            if self._shown is not None:
                last_n, last_t, last_total = self._shown
                step = self.total * LOG_FRACTION if self.total else math.inf
                closing = self.disable  # close() sets it before its last display
                due = closing or self.n == self.total or self.n - last_n >= step or now - last_t >= LOG_INTERVAL_S
                if (self.n == last_n and self.total == last_total) or not due:  # a corrected total is shown
                    return True
            self._shown = (self.n, now, self.total)
        return bool(super().display(msg, pos))


def progress_bar(iterable: Iterable[Any] | None = None, *, file: IO[str] | None = None, **kwargs: Any) -> plain_tqdm:
    """A tqdm bar (same arguments: ``total``, ``desc``, ``unit``, ``disable``, ``leave``, ...) that
    follows where it is written (``file``, default sys.stderr): live on a terminal, a few whole
    lines in a file or a pipe (see the module docstring)."""
    if is_terminal(file):
        return live_tqdm(iterable, file=file, **kwargs)
    return _LogBar(iterable, file=file, **kwargs)
