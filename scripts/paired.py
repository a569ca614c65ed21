#!/usr/bin/env python3
"""Whole-process timings of several commands taken in turns, for ratios that hold on a
noisy machine.

Usage: scripts/paired.py RUNS 'CMD 1' 'CMD 2' ... 'REFERENCE'

Each round runs every command once, in a new random order, each started with
posix_spawn (no shell, output to /dev/null) and timed from spawn to exit. Prints, for each
command, its median wall time and the median (and quartiles) of its time divided by the
last command's time in the same round: a ratio taken round by round, so a machine whose
speed drifts moves both sides of it.
"""
import os
import random
import shlex
import statistics
import sys
import time


def which(argv):
    if "/" in argv[0]:
        return argv[0]
    for d in os.environ.get("PATH", "").split(":"):
        p = os.path.join(d, argv[0])
        if os.access(p, os.X_OK):
            return p
    sys.exit(f"not found: {argv[0]}")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rounds = int(sys.argv[1])
    commands = [shlex.split(c) for c in sys.argv[2:]]
    paths = [which(c) for c in commands]
    quiet = [
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]

    def run(i):
        start = time.perf_counter()
        pid = os.posix_spawn(paths[i], commands[i], os.environ, file_actions=quiet)
        os.waitpid(pid, 0)
        return time.perf_counter() - start

    for _ in range(max(3, rounds // 20)):  # warm the page cache and the CPU
        for i in range(len(commands)):
            run(i)
    times = [[] for _ in commands]
    for _ in range(rounds):
        order = list(range(len(commands)))
        random.shuffle(order)
        for i in order:
            times[i].append(run(i))
    reference = times[-1]
    for i, text in enumerate(sys.argv[2:]):
        ratios = [a / b for a, b in zip(times[i], reference)]
        q = statistics.quantiles(ratios, n=4)
        print(
            f"| {text} | {statistics.median(times[i]) * 1e3:.3f} ms "
            f"| {statistics.median(ratios):.3f} ({q[0]:.3f}-{q[2]:.3f}) |"
        )


if __name__ == "__main__":
    main()
