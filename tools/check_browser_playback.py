"""Check that a real browser plays gastnet's renders: load a video in a ``<video>`` element of headless Chromium.

Run by hand (not in CI: it needs a browser; on Debian ``apt-get install chromium``)::

    python tools/check_browser_playback.py out/render.mp4 [more.mp4 ...] [--browser chromium]

Each file is copied into a temporary folder beside a page that plays it muted (autoplay allowed)
and reports what the browser's media element says: whether it played past one second or to its
end, or the error it gave (an MPEG-4 Part 2 ``mp4v`` file, which OpenCV writes by default, is
refused with "no supported source"). The page runs on Chromium's virtual time, so a check takes
about a second whatever the video's length. Prints one line of JSON per file; exit code 0 when every
file played, 1 otherwise.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PAGE = """<!doctype html><html><body>
<video id="v" src="SOURCE" muted autoplay playsinline></video>
<pre id="out">{"state": "pending"}</pre>
<script>
const v = document.getElementById("v"), out = document.getElementById("out");
function report(state) {
  out.textContent = JSON.stringify({state, readyState: v.readyState, error: v.error && v.error.code,
    duration: v.duration, width: v.videoWidth, height: v.videoHeight, currentTime: v.currentTime});
}
v.addEventListener("error", () => report("error"));
v.addEventListener("timeupdate", () => { if (v.currentTime > 1.0 && !v.ended) report("playing"); });
v.addEventListener("ended", () => report("ended"));
v.play().catch(e => { out.textContent = JSON.stringify({state: "refused", message: String(e)}); });
</script></body></html>
"""

PLAYED = ("playing", "ended")


def check(video: Path, browser: str, budget_ms: int) -> dict:
    """What the browser's media element said about ``video`` (a dict with ``state`` and its fields)."""
    with tempfile.TemporaryDirectory(prefix="gastnet-browser-") as folder:
        name = "video" + video.suffix.lower()
        shutil.copyfile(video, Path(folder) / name)
        page = Path(folder) / "page.html"
        page.write_text(PAGE.replace("SOURCE", name), encoding="utf-8")
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--mute-audio",
                   "--autoplay-policy=no-user-gesture-required", "--allow-file-access-from-files",
                   f"--user-data-dir={Path(folder) / 'profile'}", f"--virtual-time-budget={budget_ms}",
                   "--dump-dom", page.as_uri()]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, re.S)
    if found is None:
        return {"state": "no page", "returncode": done.returncode, "stderr": done.stderr.strip()[-300:]}
    return json.loads(html.unescape(found.group(1)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("videos", nargs="+", type=Path)
    parser.add_argument("--browser", default="chromium", help="a Chromium or Chrome executable")
    parser.add_argument("--budget-s", type=float, default=30.0, help="virtual seconds the page may run")
    args = parser.parse_args()
    if shutil.which(args.browser) is None:
        print(f"no browser {args.browser!r} on PATH (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    played = True
    for video in args.videos:
        result = check(video, args.browser, int(1000 * args.budget_s))
        played &= result.get("state") in PLAYED
        print(json.dumps({"file": str(video), **result}))
    return 0 if played else 1


if __name__ == "__main__":
    sys.exit(main())
