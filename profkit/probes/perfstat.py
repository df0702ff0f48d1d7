"""PerfProbe: per-phase event counts, counted in-process (perf_event_open) or by `perf stat`.

In-process (the default when the kernel lets this process open any of the events): counters
opened with perf_event_open (profkit.probes.perfevent) run for the whole probe lifetime and are
read at every phase boundary; the difference between two readings belongs to the phase that
just ended, or to `outside`. A boundary costs one read(2) per thread, a few microseconds, so
the probe fits short batch-1 steps. Events the kernel refuses are NA with the errno's reason.
PROFKIT_PERF_BACKEND=fifo forces the `perf stat` path below (`syscall` forbids it; default
`auto`: in-process, else perf stat).

How counts are attributed by `perf stat` (checked on perf 6.1; see `evlist__ctlfd_process` in
perf's evlist.c):
perf is started on this very process (`perf stat -p <pid> -D -1 --control fifo:CTL,ACK`), with
every event opened once per phase and named after the phase (`task-clock/name=forward/`). The
control command `enable forward` enables every event whose name is exactly `forward`, so one
command switches a whole phase's events. At a phase boundary the trainer's listener writes
`disable outside` + `enable forward` (or the reverse on exit) and waits for both `ack`s, so the
phase's own work runs only after its counters are on: each phase's counts are its own.
`outside` counts everything outside named phases between the probe's start and stop (the step's
bookkeeping, evaluation, writing results); a `total` copy of every event stays on throughout,
so coverage can be checked (phases + outside = total). perf prints same-named events in the
order given, so a phase's k-th line is its k-th event.

perf attaches to the process rather than launching it: the same probe works from the CLI, from
the Python API and in a sweep, and threads created later (torch's pool) inherit the counters.
Counts are whole-run (epoch -1): perf stat only reports when it exits, and one copy of each
event per epoch and phase would need thousands of file descriptors on a 50-epoch run.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
from pathlib import Path

import pandas as pd

from profkit import schema
from profkit.probes.base import Probe, RunContext
from profkit.probes.perfevent import EVENTS, UNITS, ThreadCounters

BACKENDS = ("auto", "syscall", "fifo")

DEFAULT_EVENTS = ("cache-references", "cache-misses", "L1-dcache-load-misses",
                  "LLC-load-misses", "instructions", "cycles", "task-clock")
OUTSIDE, TOTAL = "outside", "total"  # pseudo-phases: outside named phases; the whole run
ACK_TIMEOUT_S = 30.0  # perf attaching to a busy process can take a few seconds
_COLS = tuple(schema.table("counters").column_names)  # the rows this probe writes


class PerfUnavailable(RuntimeError):
    """perf cannot run here; the message says why and how to fix it."""


def parse_perf_csv(text: str) -> list[dict]:
    """Lines of `perf stat -x,` output as dicts: value (None when missing), unit, name, percent."""
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split(",")
        if len(f) < 5:
            continue  # a message line, not a count
        raw, unit, name, pct = f[0].strip(), f[1].strip(), f[2].strip(), f[4].strip()
        missing = raw.startswith("<")
        rows.append({"name": name, "value": None if missing else float(raw),
                     "unit": unit or "count", "percent_running": _float(pct),
                     "status": raw if missing else "ok"})
    return rows


def _float(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


def na_reason(status: str, event: str) -> str | None:
    if status == "ok":
        return None
    if status == "<not supported>":
        return (f"perf: {event} <not supported> on this machine (no hardware PMU access, "
                "e.g. a VM)")
    if status == "<not counted>":
        return f"perf: {event} <not counted> (never enabled, e.g. the phase never ran, or " \
               "could not be scheduled)"
    return f"perf: {event} {status}"


def counter_rows(parsed: list[dict], events: tuple[str, ...], labels: dict[str, str]
                 ) -> pd.DataFrame:
    """Map perf's lines back to (phase, event): the k-th line named after a phase is event k."""
    seen: dict[str, int] = {}
    out = []
    for r in parsed:
        if r["name"] not in labels:
            continue
        k = seen.get(r["name"], 0)
        seen[r["name"]] = k + 1
        if k >= len(events):
            raise ValueError(f"perf printed more lines for {r['name']!r} than events asked "
                             f"for ({len(events)}): a hybrid CPU splitting events per PMU?")
        pct = r["percent_running"]
        out.append({"epoch": -1, "phase": labels[r["name"]], "event": events[k],
                    "value": r["value"], "unit": r["unit"], "percent_running": pct,
                    "multiplexed": r["value"] is not None and pct is not None and pct < 100.0,
                    "backend": "perf", "simulated": False,
                    "na_reason": na_reason(r["status"], events[k])})
    return pd.DataFrame(out, columns=list(_COLS))


def phase_labels(phases: tuple[str, ...]) -> dict[str, str]:
    """perf-safe event name -> phase name (perf's `name=` term takes [A-Za-z0-9_])."""
    out: dict[str, str] = {}
    for p in (*phases, OUTSIDE, TOTAL):
        safe = re.sub(r"\W", "_", p)
        while safe in out:
            safe += "_"
        out[safe] = p
    return out


def event_spec(events: tuple[str, ...], labels: dict[str, str]) -> str:
    return ",".join(f"{e}/name={safe}/" for safe in labels for e in events)


class _Control:
    """The two FIFOs: send a batch of commands, wait for as many acks (with a timeout)."""

    def __init__(self, ctl: Path, ack: Path):
        for p in (ctl, ack):
            p.unlink(missing_ok=True)
            os.mkfifo(p)
        # O_RDWR on a FIFO never blocks, whether or not perf has opened its end yet.
        self.ctl, self.ack = os.open(ctl, os.O_RDWR), os.open(ack, os.O_RDWR)

    def send(self, *cmds: str, timeout: float = ACK_TIMEOUT_S) -> None:
        os.write(self.ctl, "".join(f"{c}\n" for c in cmds).encode())
        need = len(cmds)
        while need > 0:
            ready, _, _ = select.select([self.ack], [], [], timeout)
            if not ready:
                raise PerfUnavailable(f"perf did not acknowledge {cmds} within {timeout:.0f} s")
            need -= os.read(self.ack, 4096).count(b"ack")  # perf sends b"ack\n\0"

    def close(self) -> None:
        os.close(self.ctl)
        os.close(self.ack)


class _Switch:
    """Listener: move counting from `outside` to the phase and back (either backend)."""

    def __init__(self, probe: PerfProbe):
        self.probe = probe

    def enter(self, name: str) -> None:
        if self.probe.inproc is not None:
            self.probe.inproc.take(OUTSIDE)
        else:
            self.probe.switch(f"disable {OUTSIDE}", f"enable {self.probe.safe[name]}")

    def exit(self, name: str) -> None:
        if self.probe.inproc is not None:
            self.probe.inproc.take(name)
        else:
            self.probe.switch(f"disable {self.probe.safe[name]}", f"enable {OUTSIDE}")


class _InProcess:
    """Counters read at each boundary; the delta since the previous reading goes to `into`."""

    def __init__(self, counters: ThreadCounters, phases: tuple[str, ...]):
        self.c = counters
        self.acc = {p: [0.0] * len(counters.events) for p in (*phases, OUTSIDE)}
        self.last = counters.read()

    def take(self, into: str) -> None:
        now = self.c.read()
        acc = self.acc[into]
        for i, (a, b) in enumerate(zip(now, self.last, strict=True)):
            acc[i] += a - b
        self.last = now

    def rows(self, events: tuple[str, ...]) -> pd.DataFrame:
        """One row per (phase, asked event): counted values, or NA with the kernel's reason."""
        self.take(OUTSIDE)
        index = {e: i for i, e in enumerate(self.c.events)}
        out = []
        for phase, acc in self.acc.items():
            for e in events:
                i = index.get(e)
                value = None if i is None else acc[i] / (1e6 if e in UNITS else 1.0)
                out.append({"epoch": -1, "phase": phase, "event": e, "value": value,
                            "unit": UNITS.get(e, "count"),
                            "percent_running": None if i is None else 100.0,
                            "multiplexed": i is not None and self.c.multiplexed,
                            "backend": "perf", "simulated": False,
                            "na_reason": self.c.missing.get(e) if i is None else None})
        return pd.DataFrame(out, columns=list(_COLS))


class PerfProbe(Probe):
    """Counts perf events per phase (whole run, epoch -1) into the `counters` table."""

    name = "perf"
    # in-process: a read(2) per thread at each boundary; perf stat: two acks, 0.1-0.4 ms
    clean = False

    def __init__(self, events: tuple[str, ...] = DEFAULT_EVENTS, perf: str = "perf"):
        if not events:
            raise ValueError("PerfProbe needs at least one event, e.g. task-clock")
        self.events, self.perf = tuple(events), perf
        self.listener = _Switch(self)
        self.inproc: _InProcess | None = None
        self.control: _Control | None = None
        self.proc: subprocess.Popen | None = None
        self._notes: list[str] = []
        self.failure: str | None = None

    def start(self, ctx: RunContext) -> None:
        self.dir = Path(ctx.run_dir.path) / "profiles" / "perf"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.labels = phase_labels(tuple(ctx.timer.names))
        self.safe = {p: s for s, p in self.labels.items()}
        if self._start_in_process(tuple(ctx.timer.names)):
            return
        try:
            self._launch()
        except (PerfUnavailable, OSError) as e:
            self._fail(str(e))

    def _start_in_process(self, phases: tuple[str, ...]) -> bool:
        """Count with perf_event_open when allowed; False: use the perf stat FIFO path."""
        backend = os.environ.get("PROFKIT_PERF_BACKEND", "auto")
        if backend not in BACKENDS:
            raise ValueError(f"PROFKIT_PERF_BACKEND must be one of {', '.join(BACKENDS)}; "
                             f"got {backend!r}")
        if backend == "fifo" or not set(self.events) <= set(EVENTS):
            return False  # an event only perf stat knows by name: let perf parse it
        try:
            counters = ThreadCounters(self.events)
        except OSError as e:
            counters, why = None, str(e)
        if counters is not None and counters.events:
            self.inproc = _InProcess(counters, phases)
            (self.dir / "backend.txt").write_text("perf_event_open (in-process)\n")
            return True
        if counters is not None:
            why = "; ".join(counters.missing.values())
        if backend == "syscall":
            self._fail(f"perf_event_open counts none of the events here ({why})")
            return True
        return False

    def _launch(self) -> None:
        perf = shutil.which(self.perf)
        if perf is None:
            raise PerfUnavailable("perf not found on PATH: install it (Debian: apt-get install "
                                  "linux-perf) or drop `perf` from --probe")
        self.control = _Control(self.dir / "ctl.fifo", self.dir / "ack.fifo")
        cmd = [perf, "stat", "-x,", "-o", str(self.dir / "perf-stat.csv"),
               "--control", f"fifo:{self.dir / 'ctl.fifo'},{self.dir / 'ack.fifo'}",
               "-D", "-1", "-e", event_spec(self.events, self.labels), "-p", str(os.getpid())]
        (self.dir / "command.txt").write_text(" ".join(cmd) + "\n")
        self.log = open(self.dir / "perf.log", "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        try:
            self.control.send(f"enable {TOTAL}", f"enable {OUTSIDE}")
        except PerfUnavailable:
            raise PerfUnavailable(f"perf stat did not start: {self._log_tail()}") from None

    def switch(self, *cmds: str) -> None:
        if self.control is None:
            return
        try:
            self.control.send(*cmds)
        except (PerfUnavailable, OSError) as e:  # perf died mid-run: keep training, say so
            self._fail(f"lost perf during the run ({e}); its counts are dropped")

    def _log_tail(self) -> str:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.flush()
        text = (self.dir / "perf.log").read_text().strip()
        return text.splitlines()[-1] if text else "no output"

    def _fail(self, why: str) -> None:
        self.failure = why
        self._notes.append(f"perf probe disabled: {why}")
        if self.control is not None:
            self.control.close()
            self.control = None

    def stop(self) -> dict[str, pd.DataFrame]:
        if self.failure is not None:
            return {"counters": self._missing_rows()}
        if self.inproc is not None:
            df = self.inproc.rows(self.events)
            self.inproc.c.close()
            self.inproc = None
            self._note_missing(df)
            return {"counters": df}
        self.switch(f"disable {OUTSIDE}", f"disable {TOTAL}")
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        finally:
            self.log.close()
            if self.control is not None:
                self.control.close()
                self.control = None
        if self.failure is not None:
            return {"counters": self._missing_rows()}
        text = (self.dir / "perf-stat.csv").read_text()
        df = counter_rows(parse_perf_csv(text), self.events, self.labels)
        self._check_coverage(df)
        return {"counters": df[df.phase != TOTAL].reset_index(drop=True)}

    def _missing_rows(self) -> pd.DataFrame:
        rows = [{"epoch": -1, "phase": p, "event": e, "value": None, "unit": "count",
                 "percent_running": None, "multiplexed": False, "backend": "perf",
                 "simulated": False, "na_reason": f"perf unavailable: {self.failure}"}
                for p in (*self.labels.values(),) if p != TOTAL for e in self.events]
        return pd.DataFrame(rows, columns=list(_COLS))

    def _check_coverage(self, df: pd.DataFrame) -> None:
        """Note when phases + outside do not add up to the total (e.g. a lost command)."""
        ok = df.dropna(subset=["value"])
        if ok.empty:
            self._notes.append("perf: no event could be counted here (" +
                               "; ".join(sorted(set(df.na_reason.dropna()))) + ")")
            return
        for event, g in ok.groupby("event"):
            total = g[g.phase == TOTAL].value.sum()
            parts = g[g.phase != TOTAL].value.sum()
            if total > 0 and abs(parts - total) > 0.05 * total:
                self._notes.append(f"perf: {event} per-phase counts sum to {parts:.4g}, "
                                   f"whole-run count is {total:.4g}")
        self._note_missing(df)

    def _note_missing(self, df: pd.DataFrame) -> None:
        missing = sorted(set(df[df.value.isna()].event))
        if missing:
            self._notes.append(f"perf: not counted here: {', '.join(missing)} (NA, see "
                               "counters.na_reason)")

    def notes(self) -> list[str]:
        return list(self._notes)

