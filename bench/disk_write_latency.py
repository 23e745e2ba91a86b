"""Does this disk stall single writes? Times each `write` of a 4 KB block appended to a file
(the size of one SQLite write-ahead-log frame) at a fixed rate, optionally with an `fsync`
of the file every second from another thread (as a checkpoint does), and each store into a
shared memory map of a file in the same folder (as SQLite's log index is kept).

    python3 bench/disk_write_latency.py DIR [--rate 8000] [--seconds 6] [--fsync]

Prints the latency percentiles of the writes and of the stores, and how many writes took
over a millisecond. Compare a folder on the server's disk with one on tmpfs (`/dev/shm`).
"""

from __future__ import annotations

import argparse
import mmap
import os
import threading
import time

FRAME = 4096 + 24  # one write-ahead-log frame: a page and its header


def percentile(sorted_values: list[float], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", help="the folder to write in (on the disk under test)")
    ap.add_argument("--rate", type=int, default=8000, help="writes a second")
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--fsync", action="store_true", help="fsync the file every second")
    args = ap.parse_args()

    log_path = os.path.join(args.dir, "disk-write-latency.log")
    map_path = os.path.join(args.dir, "disk-write-latency.map")
    fd = os.open(log_path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o644)
    mfd = os.open(map_path, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o644)
    os.ftruncate(mfd, 32768)
    shared = mmap.mmap(mfd, 32768)
    frame = b"x" * FRAME
    writes: list[float] = []
    stores: list[float] = []
    syncs: list[float] = []
    done = threading.Event()

    def syncer() -> None:
        while not done.wait(1.0):
            t = time.perf_counter()
            os.fsync(fd)
            syncs.append(time.perf_counter() - t)

    if args.fsync:
        threading.Thread(target=syncer, daemon=True).start()
    per_ms = max(1, args.rate // 1000)
    t0 = time.perf_counter()
    tick = 0
    while time.perf_counter() - t0 < args.seconds:
        for _ in range(per_ms):
            t = time.perf_counter()
            os.write(fd, frame)
            writes.append(time.perf_counter() - t)
            t = time.perf_counter()
            shared[(len(stores) * 64) % 32768] = len(stores) & 255
            stores.append(time.perf_counter() - t)
        tick += 1
        due = t0 + tick / 1000
        while time.perf_counter() < due:
            pass
    done.set()
    shared.close()
    for f, path in ((fd, log_path), (mfd, map_path)):
        os.close(f)
        os.unlink(path)

    for name, values in (("write", writes), ("store", stores)):
        values.sort()
        print(f"{name}s: {len(values)}, p50 {percentile(values, 0.5) * 1e6:.0f} us, "
              f"p99 {percentile(values, 0.99) * 1e6:.0f} us, "
              f"p99.9 {percentile(values, 0.999) * 1e6:.0f} us, max {values[-1] * 1e3:.2f} ms, "
              f"over 1 ms: {sum(1 for v in values if v > 1e-3)}")
    if syncs:
        print(f"fsyncs: {len(syncs)}, max {max(syncs) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
