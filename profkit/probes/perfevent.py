"""perf_event_open through ctypes: this process's event counters, read in-process.

One counter group per thread that exists when counting starts (`/proc/self/task`), each event
opened with `inherit` so threads those threads create later are counted too. The counters run
from open() to close(); a reading is one read(2) per thread group (PERF_FORMAT_GROUP), so
attributing counts to phases costs a few microseconds per boundary instead of a round trip to
a `perf stat` process. Events the kernel refuses (no PMU in a VM: ENOENT, EOPNOTSUPP) are
left out with the reason, to be reported as NA, never as zero.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

# (perf type, config) of perf's event names. Types: 0 hardware, 1 software, 3 hardware cache
# (config = cache | op << 8 | result << 16; L1D 0, LL 2; op read 0; result miss 1).
EVENTS: dict[str, tuple[int, int]] = {
    "cycles": (0, 0), "instructions": (0, 1), "cache-references": (0, 2),
    "cache-misses": (0, 3), "branches": (0, 4), "branch-misses": (0, 5),
    "cpu-clock": (1, 0), "task-clock": (1, 1), "page-faults": (1, 2),
    "context-switches": (1, 3), "cpu-migrations": (1, 4), "minor-faults": (1, 5),
    "major-faults": (1, 6),
    "L1-dcache-load-misses": (3, 0 | 0 << 8 | 1 << 16),
    "LLC-load-misses": (3, 2 | 0 << 8 | 1 << 16),
}
UNITS = {"task-clock": "msec", "cpu-clock": "msec"}  # ns counts shown in perf stat's unit
_SYSCALL = {"x86_64": 298, "aarch64": 241, "armv7l": 364, "ppc64le": 319, "s390x": 331}
_DISABLED, _INHERIT, _EXCLUDE_KERNEL, _EXCLUDE_HV = 1 << 0, 1 << 1, 1 << 5, 1 << 6
_FORMAT_TIMES, _FORMAT_GROUP = (1 << 0) | (1 << 1), 1 << 3  # time enabled/running; group
_IOC_ENABLE, _IOC_DISABLE, _IOC_RESET, _IOC_FLAG_GROUP = 0x2400, 0x2401, 0x2403, 1
_FD_CLOEXEC = 1 << 3


class PerfAttr(ctypes.Structure):
    """struct perf_event_attr up to config1 (PERF_ATTR_SIZE_VER0, 64 bytes: every kernel
    accepts it; the bit fields after read_format are one u64 of flags)."""

    _fields_ = [("type", ctypes.c_uint32), ("size", ctypes.c_uint32),
                ("config", ctypes.c_uint64), ("sample_period", ctypes.c_uint64),
                ("sample_type", ctypes.c_uint64), ("read_format", ctypes.c_uint64),
                ("flags", ctypes.c_uint64), ("wakeup_events", ctypes.c_uint32),
                ("bp_type", ctypes.c_uint32), ("config1", ctypes.c_uint64)]


class EventOpenError(OSError):
    """perf_event_open refused an event; `reason` says why in words."""

    def __init__(self, event: str, err: int, reason: str):
        super().__init__(err, reason)
        self.event, self.reason = event, reason


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.ioctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong)
    return libc


def _reason(event: str, err: int) -> str:
    if err in (errno.ENOENT, errno.EOPNOTSUPP, errno.ENODEV):
        return (f"perf_event_open: {event} <not supported> ({errno.errorcode[err]}: no "
                "hardware PMU access here, e.g. a VM)")
    if err in (errno.EACCES, errno.EPERM):
        return (f"perf_event_open: {event} not permitted ({errno.errorcode[err]}): lower "
                "/proc/sys/kernel/perf_event_paranoid or run with CAP_PERFMON")
    return f"perf_event_open: {event} failed ({errno.errorcode.get(err, err)}: {os.strerror(err)})"


def open_event(event: str, tid: int, group_fd: int = -1, exclude_kernel: bool = False) -> int:
    """A counting fd for `event` on thread `tid` (inherited by its future threads), enabled."""
    nr = _SYSCALL.get(platform.machine())
    if nr is None:
        raise EventOpenError(event, errno.ENOSYS, f"perf_event_open: no syscall number known "
                             f"for {platform.machine()}")
    kind, config = EVENTS[event]
    attr = PerfAttr(type=kind, size=ctypes.sizeof(PerfAttr), config=config,
                    read_format=_FORMAT_GROUP | _FORMAT_TIMES,
                    flags=_INHERIT | _EXCLUDE_HV | (_EXCLUDE_KERNEL if exclude_kernel else 0))
    fd = _libc().syscall(nr, ctypes.byref(attr), tid, -1, group_fd, _FD_CLOEXEC)
    if fd < 0:
        err = ctypes.get_errno()
        raise EventOpenError(event, err, _reason(event, err))
    return int(fd)


class ThreadCounters:
    """Every supported event on every current thread of this process, summed per event."""

    def __init__(self, events: tuple[str, ...]):
        unknown = [e for e in events if e not in EVENTS]
        if unknown:
            raise ValueError(f"unknown perf event(s) {unknown}; in-process counting knows: "
                             f"{', '.join(EVENTS)}")
        self.missing: dict[str, str] = {}  # event -> why it is not counted
        self.events = self._probe_events(events)
        self.groups: list[int] = []  # one leader fd per thread; members read through it
        self._fds: list[int] = []
        for tid in sorted(int(t) for t in os.listdir("/proc/self/task")):
            self._open_thread(tid)
        self._fmt = struct.Struct(f"{3 + len(self.events)}Q")  # nr, enabled, running, values
        self.multiplexed = False

    def _probe_events(self, events: tuple[str, ...]) -> tuple[str, ...]:
        """The events the kernel accepts here (others go to `missing` with their reason)."""
        self._exclude_kernel = False
        ok = []
        for e in events:
            try:
                os.close(self._open_one(e, 0, -1))
                ok.append(e)
            except EventOpenError as err:
                self.missing[e] = err.reason
        return tuple(ok)

    def _open_one(self, event: str, tid: int, group: int) -> int:
        try:
            return open_event(event, tid, group, self._exclude_kernel)
        except EventOpenError as err:
            if err.errno not in (errno.EACCES, errno.EPERM) or self._exclude_kernel:
                raise
            self._exclude_kernel = True  # paranoid >= 2 allows user-space counting only
            return open_event(event, tid, group, True)

    def _open_thread(self, tid: int) -> None:
        leader = -1
        for e in self.events:
            try:
                fd = self._open_one(e, tid, leader)
            except EventOpenError:
                if leader == -1:
                    return  # the thread exited meanwhile
                raise
            self._fds.append(fd)
            leader = fd if leader == -1 else leader
        if leader != -1:
            self.groups.append(leader)

    def read(self) -> list[float]:
        """Current counts per event (ns for the clocks), summed over threads; a group that
        shared the PMU with others (running < enabled) is scaled up as perf stat does."""
        total = [0.0] * len(self.events)
        unpack, size = self._fmt.unpack, self._fmt.size
        for fd in self.groups:
            _, enabled, running, *vals = unpack(os.read(fd, size))
            scale = 1.0
            if running < enabled:
                self.multiplexed = True
                scale = enabled / running if running else 0.0
            for i, v in enumerate(vals):
                total[i] += v * scale
        return total

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds, self.groups = [], []
