#!/usr/bin/env python3
"""Interleaved A/B of store-ID helper builds on the replay lines.

    bench/ab.py [--runs N] CMD [CMD ...]

Each CMD is a helper command line (binary and arguments), e.g.
"target/release/s3squid-storeid --config bench/s3squid-bench.toml" for one build and the same
with a saved copy of another build, plus /usr/lib/squid/url_fake_rewrite for the floor. Every
command reads each of the two replay files (channel IDs, none) from stdin, stdout to
/dev/null, N times, in a rotating order so that load on a shared box falls on all of them
alike. Prints the median and minimum wall time and the median CPU time of each.
bench/run (or bench/gen-lines.py) makes the replay files first.
"""
import argparse
import os
import statistics

from replay import time_once  # the replay benchmark's own clock: the same measurement

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = {
    "channel IDs": os.path.join(ROOT, "target/bench/lines-seed42-n200000-channels.txt"),
    "no IDs": os.path.join(ROOT, "target/bench/lines-seed42-n200000.txt"),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("cmds", nargs="+")
    a = ap.parse_args()
    for f in FILES.values():
        if not os.path.exists(f):
            raise SystemExit(f"{f} is missing: run bench/run --replay-only once first")
    jobs = [(c, form) for c in a.cmds for form in FILES]
    wall = {j: [] for j in jobs}
    cpu = {j: [] for j in jobs}
    for i in range(a.runs):
        for c, form in jobs[i % len(jobs):] + jobs[: i % len(jobs)]:
            w, user, system = time_once(c.split(), FILES[form])
            wall[(c, form)].append(w)
            cpu[(c, form)].append(user + system)
    for j in jobs:
        c, form = j
        print(
            f"{form:12s} wall median {statistics.median(wall[j]):.4f} s"
            f"  min {min(wall[j]):.4f} s  cpu median {statistics.median(cpu[j]):.4f} s  {c}"
        )


if __name__ == "__main__":
    main()
