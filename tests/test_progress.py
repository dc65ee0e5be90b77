"""Progress bars follow the terminal: redrawn live on a TTY, a few whole lines in a file or a pipe."""

import ast
import io
from pathlib import Path

import gastnet.progress
from gastnet.progress import LOG_INTERVAL_S, progress_bar

SRC = Path(gastnet.progress.__file__).resolve().parent


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_line_per_tenth_not_per_update():
    log = io.StringIO()
    for _ in progress_bar(range(10_000), desc="detect 2D", unit="frame", file=log):
        pass
    text = log.getvalue()
    assert "\r" not in text and text.endswith("\n")
    lines = text.splitlines()
    percents = [int(line.split("%")[0].split()[-1]) for line in lines]
    assert percents == list(range(0, 101, 10))  # a line at the start, at each tenth and none twice
    assert all(line.startswith("detect 2D:") for line in lines)


def test_a_terminal_gets_the_live_bar():
    screen = Terminal()
    bar = progress_bar(total=1000, desc="detect 2D", file=screen, mininterval=0)
    for _ in range(1000):
        bar.update(1)
    bar.close()
    assert screen.getvalue().count("\r") > 100  # redrawn in place, update after update


def test_without_a_total_a_log_gets_a_line_every_interval(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(gastnet.progress, "_clock", lambda: now[0])
    log = io.StringIO()
    bar = progress_bar(desc="read", unit="frame", file=log)
    for _ in range(1000):  # 1000 updates within one interval: no line
        bar.update(1)
    assert len(log.getvalue().splitlines()) == 1  # the start
    for _ in range(3):
        now[0] += LOG_INTERVAL_S
        bar.update(1)
    bar.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 4  # the start and one per interval; the close repeats none (1003 was shown)
    assert lines[-1].startswith("read: 1003frame")


def test_an_interrupted_bar_ends_its_log_with_where_it_stopped():
    log = io.StringIO()
    bar = progress_bar(total=1000, desc="lift", file=log)
    for _ in range(517):
        bar.update(1)
    assert log.getvalue().splitlines()[-1].split("|")[-1].startswith(" 500/1000")  # the last tenth
    bar.close()
    assert log.getvalue().splitlines()[-1].split("|")[-1].startswith(" 517/1000")


def test_a_disabled_bar_writes_nothing():
    log = io.StringIO()
    for _ in progress_bar(range(100), file=log, disable=True):
        pass
    assert log.getvalue() == ""


def test_every_bar_of_the_package_goes_through_progress_bar():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "progress.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if any(n == "tqdm" or n.startswith("tqdm.") for n in names):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == [], "these import tqdm; use gastnet.progress.progress_bar"
