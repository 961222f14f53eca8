"""How ``anet-tui serve`` holds up when a whole class connects at once: time from connecting to
each student's first screen of the app (median, max), and memory per student.

    python benchmarks/serve_bench.py              # 30 students at once, the full-screen app
    python benchmarks/serve_bench.py --quick      # 3 students (the smoke test uses this)
    python benchmarks/serve_bench.py --plain      # the plain REPL instead

A real server on 127.0.0.1 (a free port, a temporary state folder, Landlock where available),
asyncssh clients at 80×24; a first screen is the app drawn with its prompt and its help key.
The clock stops when the bytes that draw it have arrived; each screen is then read with pyte
(not while the others are still coming: see ``Screen``).
Memory is each session's process group: RSS, and PSS (shared library pages divided among the
processes sharing them: what each student really adds). Targets (issue 16): every first screen
within 5 s on 2 cores, at most 150 MB per student. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import pyte

ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (its reaped children included)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def group_members(pgid: int) -> list[int]:
    """The pids of every process in group ``pgid`` (those that end meanwhile are left out)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                pids.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def group_cpu(pgid: int) -> float:
    """CPU seconds of every process in group ``pgid``."""
    total = 0.0
    for pid in group_members(pgid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += cpu_seconds(pid)
    return total


def machine_cpu() -> dict[str, float]:
    """Seconds the machine's CPUs spent busy, idle and stolen (by other guests of the host)."""
    with open("/proc/stat", encoding="ascii") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    user, nice, system, idle, iowait, irq, softirq, steal = (ticks + [0] * 8)[:8]
    return {
        "busy": (user + nice + system + irq + softirq) / hz,
        "idle": (idle + iowait) / hz,
        "steal": steal / hz,
    }


def group_memory(pgid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes of every process in group ``pgid``."""
    rss = pss = 0
    for pid in group_members(pgid):
        with (
            contextlib.suppress(OSError, ValueError, IndexError),
            open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f,
        ):
            for line in f:
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) << 10
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) << 10
    return rss, pss


def session_pid(log_path: Path, name: str) -> int | None:
    match = re.search(rf"\n\S+ {name} from \S+: .* started \(pid (\d+)", log_path.read_text())
    return int(match.group(1)) if match else None


@dataclass
class Result:
    start: float  # time.perf_counter() when the student connected
    elapsed: float  # seconds from then to the first screen
    cpu: float  # the session's CPU seconds by then
    screen: Screen
    late: bool = False  # the bytes of the first screen were not enough: read on until shown

    async def confirm(self) -> None:
        """Read the first screen with pyte; while it does not show, read on (the time is then
        when it does: later than the screen came, never sooner)."""
        while not self.screen.shows():
            await self.screen.read()
            self.elapsed, self.late = time.perf_counter() - self.start, True


async def student(port: int, name: str, key, command: str, ready: str, log_path: Path) -> Result:
    """Connect, and wait for the bytes of the first screen (see :class:`Screen`)."""
    start = time.perf_counter()
    conn = await asyncssh.connect(
        "127.0.0.1", port, username=name, client_keys=[key], known_hosts=None, agent_path=None
    )
    process = await conn.create_process(
        command, term_type="xterm-256color", term_size=(80, 24), encoding=None
    )
    screen = Screen(process, ready)
    while not screen.has_marks():
        await screen.read()
    elapsed = time.perf_counter() - start
    pid = session_pid(log_path, name)
    cpu = group_cpu(pid) if pid is not None else float("nan")
    STUDENTS.append((conn, process))
    return Result(start, elapsed, cpu, screen)


class Screen:
    """One client's terminal: the bytes received, fed to pyte only when needed. The emulator
    costs CPU on these two cores (about as much as the clients' SSH), which a class's clients
    spend on their own machines: so the clock stops when the bytes of a first screen have
    arrived (both marks in them), and the screen is read with pyte after every student has
    one. The plain REPL asks where the cursor is: that is answered at once, from pyte."""

    def __init__(self, process, ready: str) -> None:
        self.process = process
        self.ready = ready
        self.screen = pyte.Screen(80, 24)
        self.stream = pyte.ByteStream(self.screen)
        self.seen = self.pending = b""  # all bytes so far; those not yet given to the emulator
        self.marks = (b">>>", ready.split()[-1].encode())

    async def read(self) -> None:
        data = await asyncio.wait_for(self.process.stdout.read(1 << 16), 300)
        if not data:
            raise RuntimeError("the session ended before its first screen")
        self.seen, self.pending = self.seen + data, self.pending + data
        if b"\x1b[6n" in data:
            self.feed()
            cursor = self.screen.cursor
            self.process.stdin.write(f"\x1b[{cursor.y + 1};{cursor.x + 1}R".encode())

    def has_marks(self) -> bool:
        return all(mark in self.seen for mark in self.marks)

    def feed(self) -> None:
        self.stream.feed(self.pending)
        self.pending = b""

    def shows(self) -> bool:
        """Whether the screen, as received so far, shows the prompt and the ready text."""
        self.feed()
        text = "\n".join(self.screen.display)
        return ">>>" in text and self.ready in text


STUDENTS: list = []


async def main_async(args: argparse.Namespace, folder: Path) -> None:
    keys_dir = folder / "keys"
    keys_dir.mkdir()
    keys = {}
    for i in range(1, args.students + 1):
        name = f"student{i}"
        keys[name] = asyncssh.generate_private_key("ssh-ed25519")
        (keys_dir / f"{name}.pub").write_bytes(keys[name].export_public_key())
    log_path = folder / "server.log"
    with open(log_path, "wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "anet_tui.cli", "serve", "--port", "0", "--keys",
             str(keys_dir), "--state", str(folder / "state"), "--headless", *args.serve],
            stdout=subprocess.PIPE, stderr=log_file, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    try:
        banner = server.stdout.readline().decode()
        port = int(re.search(r":(\d+) ", banner).group(1))
        print(banner.strip())
        load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
        command, ready = ("plain", "REPL") if args.plain else ("", "F1 help")
        server_cpu_before = cpu_seconds(server.pid)
        machine_before = machine_cpu()
        before = resource.getrusage(resource.RUSAGE_SELF)
        client_before = before.ru_utime + before.ru_stime
        started = time.perf_counter()
        results = await asyncio.gather(
            *(student(port, name, key, command, ready, log_path) for name, key in keys.items())
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        machine = {k: v - machine_before[k] for k, v in machine_cpu().items()}
        pids = [int(p) for p in re.findall(r"started \(pid (\d+)", log_path.read_text())]
        cpu = [group_cpu(pid) for pid in pids]
        server_cpu = cpu_seconds(server.pid) - server_cpu_before
        client_cpu = after.ru_utime + after.ru_stime - client_before
        for result in results:  # every screen read with pyte, now that all have come
            await result.confirm()
        times = [r.elapsed for r in results]
        first_cpu = [r.cpu for r in results]
        late = sum(r.late for r in results)
        wall = max(wall, *times)
        await asyncio.sleep(2)  # let the apps settle before measuring memory
        memory = [group_memory(pid) for pid in pids]
        with open(f"/proc/{server.pid}/status", encoding="ascii") as f:
            server_rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) << 10
        mb = 1 << 20
        front = "plain REPL" if args.plain else "app"
        print(f"{args.students} students at once ({front}, 80×24, {os.cpu_count()} cores)")
        print(
            f"first screen: median {statistics.median(times):.2f} s, max {max(times):.2f} s, "
            f"all {wall:.2f} s (target: every one within 5 s)"
        )
        if late:
            print(f"({late} screens showed only after more bytes: timed from when they did)")
        rss = [m[0] for m in memory]
        pss = [m[1] for m in memory]
        print(
            f"memory per student: RSS median {statistics.median(rss) / mb:.0f} MB, max "
            f"{max(rss) / mb:.0f} MB; PSS median {statistics.median(pss) / mb:.0f} MB, max "
            f"{max(pss) / mb:.0f} MB (target: at most 150 MB)"
        )
        print(
            f"CPU per student: {statistics.median(first_cpu):.2f} s median (max "
            f"{max(first_cpu):.2f} s) by its first screen, {statistics.median(cpu):.2f} s by the "
            f"last one; server {server_cpu:.2f} s, the benchmark's clients {client_cpu:.2f} s; "
            f"load average before: {load_before}"
        )
        print(
            f"the machine meanwhile: {machine['busy']:.1f} CPU-s busy (all processes), "
            f"{machine['idle']:.1f} idle, {machine['steal']:.1f} stolen by other guests"
        )
        print(f"server: RSS {server_rss / mb:.0f} MB")
    finally:
        for conn, _ in STUDENTS:
            conn.close()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="3 students")
    parser.add_argument("--plain", action="store_true", help="the plain REPL, not the app")
    parser.add_argument(
        "serve", nargs="*", metavar="-- SERVE-OPTIONS", help="more options for anet-tui serve"
    )
    args = parser.parse_args()
    if args.quick:
        args.students = 3
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(main_async(args, Path(folder)))


if __name__ == "__main__":
    main()
