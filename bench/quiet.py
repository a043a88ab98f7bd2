#!/usr/bin/python3
"""quiet.py — is the machine quiet? Wait for it, or watch it during a measurement.

As a module (bench/suite.py):
    wait_quiet(threshold, quiet_for, timeout, root)   -> dict
    Monitor(threshold, root).start() ... .stop()      -> dict
As a command:
    quiet.py wait [--threshold 15] [--quiet-for 4] [--timeout 300] [--exclude-tree PID]

A process is "foreign" unless it is in the process tree under `root` (the suite and the
programs it runs) or is this process. CPU use per process comes from /proc/PID/stat
(utime + stime) sampled every 0.5 s; 100 % = one core. Quiet = no foreign process above
`threshold` % for `quiet_for` seconds in a row (measurement hygiene of
shared/research/c_anchors.md §1.1: a co-tenant on a 2-core machine distorts every number).
"""
import argparse
import json
import os
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")
PERIOD = 0.5


def read_stat():
    """{pid: (ppid, name, cpu ticks)} of every process."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                data = f.read()
        except OSError:
            continue
        lp, rp = data.index("("), data.rindex(")")  # the name may contain spaces
        fields = data[rp + 2:].split()
        out[int(entry)] = (int(fields[1]), data[lp + 1:rp], int(fields[11]) + int(fields[12]))
    return out


def own_tree(stat, root):
    keep = {os.getpid(), root} if root else {os.getpid()}
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _, _) in stat.items():
            if ppid in keep and pid not in keep:
                keep.add(pid)
                changed = True
    return keep


def busiest(prev, cur, dt, root):
    """(name, % of a core) of the busiest foreign process between two samples."""
    skip = own_tree(cur, root)
    best = ("", 0.0)
    for pid, (_, name, ticks) in cur.items():
        if pid in skip or pid not in prev:
            continue
        pct = 100.0 * (ticks - prev[pid][2]) / TICK / dt
        if pct > best[1]:
            best = (name, pct)
    return best


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def wait_quiet(threshold=15.0, quiet_for=4.0, timeout=300.0, root=0):
    start = time.monotonic()
    quiet_since = None
    prev, t_prev = read_stat(), time.monotonic()
    last = ("", 0.0)
    while True:
        time.sleep(PERIOD)
        cur, t_cur = read_stat(), time.monotonic()
        last = busiest(prev, cur, t_cur - t_prev, root)
        prev, t_prev = cur, t_cur
        if last[1] > threshold:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = t_cur
        quiet = quiet_since is not None and t_cur - quiet_since >= quiet_for
        if quiet or t_cur - start >= timeout:
            return {"quiet": quiet, "waited_s": round(t_cur - start, 1), "loadavg": loadavg(),
                    "busiest": [last[0], round(last[1], 1)]}


class Monitor:
    """Samples in a thread until stop(); reports the largest foreign CPU % seen."""

    def __init__(self, threshold=15.0, root=0):
        self.threshold, self.root = threshold, root
        self.worst = ("", 0.0)
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        prev, t_prev = read_stat(), time.monotonic()
        while not self._stop.wait(PERIOD):
            cur, t_cur = read_stat(), time.monotonic()
            b = busiest(prev, cur, t_cur - t_prev, self.root)
            self.samples += 1
            if b[1] > self.worst[1]:
                self.worst = b
            prev, t_prev = cur, t_cur

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()
        return {"max_foreign_pct": round(self.worst[1], 1), "process": self.worst[0], "samples": self.samples,
                "loadavg": loadavg(), "contaminated": self.worst[1] > self.threshold}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["wait"])
    ap.add_argument("--threshold", type=float, default=15.0)
    ap.add_argument("--quiet-for", type=float, default=4.0)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--exclude-tree", type=int, default=0)
    args = ap.parse_args()
    print(json.dumps(wait_quiet(args.threshold, args.quiet_for, args.timeout, args.exclude_tree)))


if __name__ == "__main__":
    main()
