"""Where the server's time goes: py-spy's raw (collapsed) stacks, summed by function.

`python -m benchmarks --profile` records every gunicorn worker with
`py-spy record --subprocesses --format raw` during each service phase and prints the summary of
each; `python -m benchmarks.profile FILE.txt` summarizes a recording made by hand. py-spy samples
only threads that are not idle, so a worker waiting in accept() does not count, but one waiting
for the database does: read the shares as wall time of busy workers, not as pure CPU.
"""

import contextlib
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>.*?):(?P<line>\d+)\)$")

# Stages of a request, for the one-screen answer to "where does the time go?". A sample goes to
# the first stage whose needle is in one of its frames, so more specific stages come first.
STAGES = [
    ("connection health check (SELECT 1)", ("is_usable",)),
    ("token authentication", ("authenticate_credentials",)),
    ("product cache", ("django/core/cache/",)),
    ("pagination COUNT(*)", ("Paginator.count",)),
    ("stock UPDATE (stock_take)", ("stock_take",)),
    ("COMMIT", ("BaseDatabaseWrapper.commit",)),
    ("order INSERTs and product read (order_place)", ("order_place",)),
    ("order pay/cancel", ("order_pay", "order_cancel", "_end_hold")),
    ("response serialization", ("Serializer.data", "to_representation", "product_data")),
    ("queries of list/detail views", ("paginate_queryset", "product_get", "order_get")),
    ("JSON rendering", ("render (core/json.py",)),
    ("request body parsing", ("StrictJSONParser", "Request.data")),
    ("socket write and graceful close (gunicorn)", ("close_graceful", "write (gunicorn")),
    ("rest of Django/DRF (middleware, dispatch)", ("WSGIHandler.__call__",)),
    ("gunicorn request parsing", ("gunicorn/http/",)),
]
# The same samples by layer: time in the database driver is mostly waiting for PostgreSQL.
LAYERS = [
    ("database driver and waits (psycopg)", ("psycopg/",)),
    ("Django ORM", ("django/db/",)),
    ("DRF serializers and fields", ("rest_framework/serializers.py", "rest_framework/fields.py")),
    ("gunicorn", ("gunicorn/",)),
]


def short_frame(frame: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    path = re.sub(r".*/site-packages/", "", match["file"])
    path = re.sub(r".*/(shop|inventory|orders|accounts|benchmarks)/", r"\1/", path)
    return f"{match['function']} ({path})"


@dataclass
class ProfileSummary:
    samples: int
    self_time: list[tuple[str, float]]
    inclusive: list[tuple[str, float]]
    stages: list[tuple[str, float]]
    layers: list[tuple[str, float]]

    def format(self, top: int = 15) -> str:
        lines = [f"{self.samples} samples"]
        lines.append("  by stage of the request:")
        lines += [f"    {share * 100:5.1f} %  {name}" for name, share in self.stages if share]
        lines.append("  by layer (innermost frame):")
        lines += [f"    {share * 100:5.1f} %  {name}" for name, share in self.layers if share]
        lines.append("  top functions (self):")
        lines += [f"    {share * 100:5.1f} %  {name}" for name, share in self.self_time[:top]]
        lines.append("  shop code and the calls that matter (inclusive):")
        lines += [f"    {share * 100:5.1f} %  {name}" for name, share in self.inclusive[:top]]
        return "\n".join(lines)


def _first_match(table: list[tuple[str, tuple[str, ...]]], frames: list[str], default: str) -> str:
    for name, needles in table:
        if any(needle in frame for frame in frames for needle in needles):
            return name
    return default


def summarize(lines: Iterable[str], top: int = 25) -> ProfileSummary:
    self_counts: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        raw = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        frames = [short_frame(f) for f in raw]
        if frames:
            self_counts[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
        stages[_first_match(STAGES, frames, "other (gunicorn loop, interpreter)")] += samples
        layers[_first_match(LAYERS, raw[-1:], "everything else")] += samples
    if not total:
        return ProfileSummary(0, [], [], [], [])
    interesting = [
        (name, count / total)
        for name, count in inclusive.most_common()
        if any(
            part in name
            for part in (
                "(shop/",
                "(core/",
                "(inventory/",
                "(orders/",
                "(accounts/",
                "Paginator.count",
                "Serializer.data",
                "authenticate_credentials",
                "is_usable",
                "close_graceful",
                "execute_sql",
                "commit",
            )
        )
    ]
    return ProfileSummary(
        samples=total,
        self_time=[(name, count / total) for name, count in self_counts.most_common(top)],
        inclusive=interesting[:top],
        stages=[(name, count / total) for name, count in stages.most_common()],
        layers=[(name, count / total) for name, count in layers.most_common()],
    )


@dataclass
class Recording:
    """What one phase's py-spy left: the summary, or why there is none."""

    raw: Path
    summary: str | None = None
    error: str | None = None


@contextlib.contextmanager
def recording(pid: int, *, mode: str, raw: Path, duration: int) -> Iterator[Recording]:
    """py-spy on a gunicorn master and its workers while the block runs (a phase's load);
    mode "cpu" samples only threads holding the GIL, "wall" every busy thread."""
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raw.parent.mkdir(parents=True, exist_ok=True)
    command = [pyspy, "record", "--pid", str(pid), "--subprocesses", "--nonblocking"]
    if mode == "cpu":
        command.append("--gil")
    command += ["--rate", "100", "--format", "raw", "--output", str(raw)]
    command += ["--duration", str(duration)]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    result = Recording(raw)
    try:
        yield result
    finally:
        try:
            recorder.wait(timeout=30)
        except subprocess.TimeoutExpired:
            recorder.kill()
            recorder.wait()
    if raw.exists():
        with open(raw) as handle:
            result.summary = summarize(handle).format()
    else:
        result.error = recorder.stderr.read().decode(errors="replace")[-200:]


class Profiler:
    """--profile for a run: one py-spy recording per phase, summaries kept by phase name."""

    def __init__(self, mode: str | None, json_out: Path, duration: int):
        self.mode = mode
        self.json_out = json_out
        self.duration = duration
        self.summaries: dict[str, str] = {}

    @contextlib.contextmanager
    def phase(self, name: str, pid: int | None) -> Iterator[None]:
        """Record the server during the block when profiling was asked for and pid is known."""
        if not self.mode or pid is None:
            yield
            return
        raw = self.json_out.with_name(f"{self.json_out.stem}_{name}.pyspy.txt")
        with recording(pid, mode=self.mode, raw=raw, duration=self.duration) as recorded:
            yield
        if recorded.summary is None:
            print(f"   py-spy recorded nothing: {recorded.error}", flush=True)
            return
        self.summaries[name] = recorded.summary
        print(f"{recorded.summary}\n   raw stacks: {raw}", flush=True)


if __name__ == "__main__":
    for path in sys.argv[1:]:
        with open(path) as handle:
            print(path)
            print(summarize(handle).format())
