#!/usr/bin/env python3
"""Replay benchmark: whole-process wall clock of three store-ID helpers reading the same
request lines from a file on stdin and writing their replies to /dev/null.

- s3squid-storeid --config bench/s3squid-bench.toml
- Squid's storeid_file_rewrite (Perl) with bench/storeid-rules.txt
- Squid's url_fake_rewrite (C; answers ERR to everything: the floor for "read a line,
  write a reply")

Both line forms are replayed: with channel IDs (what Squid sends with concurrency=N) and
without (concurrency=0). First every helper's output is checked (s3squid-storeid and the Perl
helper must answer `OK store-id=` to every line, url_fake_rewrite must answer every line, each
reply with its channel ID). Then the six commands run once each per round, in an order rotated
every round, for R rounds: on a shared machine whose speed drifts over seconds, every helper
sees the same drift, and the runs of one round can be compared pairwise. Reported per command:
the median (and min, max) wall time over the R runs and the median user and system CPU time;
per form: the ratios of the medians, and the median of the R paired ratios (each round's
url_fake_rewrite time over s3squid-storeid's), which cancels drift slower than a round.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def log(msg):
    print(f"replay: {msg}", file=sys.stderr, flush=True)


def commands(a, storeid):
    """{name: argv}."""
    return {
        "s3squid-storeid": [storeid, "--config", a.config],
        "storeid_file_rewrite": [a.perl_helper, a.rules],
        "url_fake_rewrite": [a.fake_helper],
    }


def time_once(argv, lines):
    """Runs argv once with `lines` (a path) on stdin and stdout to /dev/null:
    (wall s, user s, system s). The clock includes process start and exit."""
    with open(lines, "rb") as inp, open(os.devnull, "wb") as devnull:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(argv, stdin=inp, stdout=devnull, check=True)
        wall = time.perf_counter() - t
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime


def check(name, argv, lines, count, channels):
    """Runs argv once with its replies captured; fails unless every line got the right reply."""
    with open(lines, "rb") as inp:
        r = subprocess.run(argv, stdin=inp, capture_output=True, check=True)
    replies = r.stdout.decode().splitlines()
    if len(replies) != count:
        raise SystemExit(f"replay: {name}: {len(replies)} replies for {count} lines")
    want = "ERR" if name == "url_fake_rewrite" else "OK store-id="
    ok = 0
    for i, rep in enumerate(replies, 1):
        if channels:
            chan, _, rep = rep.partition(" ")
            if chan != str(i):
                raise SystemExit(f"replay: {name}: reply {i} has channel {chan!r}")
        ok += rep.startswith(want)
    if ok != count:
        raise SystemExit(f"replay: {name}: {ok} of {count} replies start with {want!r}")
    if r.stderr:
        log(f"{name} wrote to stderr: {r.stderr[:200]!r}")
    log(f"check {name} ({'channel IDs' if channels else 'no channel IDs'}): {ok}/{count} {want.strip('=')}")
    return replies[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--storeid-bin", required=True)
    ap.add_argument("--lines", required=True, help="line file without channel IDs")
    ap.add_argument("--lines-channels", required=True, help="the same lines with channel IDs")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--config", default=os.path.join(HERE, "s3squid-bench.toml"))
    ap.add_argument("--rules", default=os.path.join(HERE, "storeid-rules.txt"))
    ap.add_argument("--perl-helper", default="/usr/lib/squid/storeid_file_rewrite")
    ap.add_argument("--fake-helper", default="/usr/lib/squid/url_fake_rewrite")
    ap.add_argument("--rounds", type=int, default=21, help="interleaved rounds (one run of each command)")
    ap.add_argument("--out", help="write the JSON summary here")
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="s3squid-replay.")
    try:
        # A private copy: a rebuild elsewhere cannot change the binary mid-run.
        storeid = os.path.join(tmp, "s3squid-storeid")
        shutil.copy2(a.storeid_bin, storeid)
        forms = {"channel IDs": a.lines_channels, "no channel IDs": a.lines}
        cmds = {}
        for form, lines in forms.items():
            for name, argv in commands(a, storeid).items():
                first = check(name, argv, lines, a.count, form == "channel IDs")
                cmds[(name, form)] = (argv, lines, first)
        # One unmeasured run of each: page cache and binaries warm.
        for argv, lines, _ in cmds.values():
            time_once(argv, lines)
        runs = {k: [] for k in cmds}  # (wall, user, sys) per round
        keys = list(cmds)
        for rnd in range(a.rounds):
            for k in keys[rnd % len(keys):] + keys[:rnd % len(keys)]:
                runs[k].append(time_once(*cmds[k][:2]))
            if (rnd + 1) % 5 == 0 or rnd + 1 == a.rounds:
                log(f"round {rnd + 1}/{a.rounds} done")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    summary = {"count": a.count, "rounds": a.rounds, "forms": {}}
    for form in forms:
        f = {}
        for name in ("s3squid-storeid", "storeid_file_rewrite", "url_fake_rewrite"):
            r = runs[(name, form)]
            wall = [w for w, _, _ in r]
            med = statistics.median(wall)
            f[name] = {"median_s": med, "min_s": min(wall), "max_s": max(wall), "n": len(wall),
                       "lines_per_s": a.count / med,
                       "median_user_s": statistics.median(u for _, u, _ in r),
                       "median_sys_s": statistics.median(y for _, _, y in r),
                       "wall_s": wall,
                       "first_reply": cmds[(name, form)][2]}
        ours = f["s3squid-storeid"]["median_s"]
        f["speedup_vs_perl"] = f["storeid_file_rewrite"]["median_s"] / ours
        f["speed_vs_c"] = f["url_fake_rewrite"]["median_s"] / ours
        f["paired_speed_vs_c"] = statistics.median(
            c / s for c, s in zip(f["url_fake_rewrite"]["wall_s"], f["s3squid-storeid"]["wall_s"]))
        summary["forms"][form] = f
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(summary, fh, indent=2)
    print(table(summary))


def table(s):
    lines = [f"Replay: {s['count']} lines, stdin from a file, stdout to /dev/null; wall clock, "
             f"median of {s['rounds']} interleaved rounds (one run of each helper per round)"]
    for form, f in s["forms"].items():
        lines.append(f"  {form}:")
        lines.append(f"    {'helper':<22} {'median s':>9} {'min s':>7} {'max s':>7} {'lines/s':>10} {'user s':>7} {'sys s':>6}")
        for name in ("s3squid-storeid", "storeid_file_rewrite", "url_fake_rewrite"):
            r = f[name]
            lines.append(f"    {name:<22} {r['median_s']:>9.3f} {r['min_s']:>7.3f} {r['max_s']:>7.3f} "
                         f"{r['lines_per_s']:>10.0f} {r['median_user_s']:>7.3f} {r['median_sys_s']:>6.3f}")
        vp, vc, pc = f["speedup_vs_perl"], f["speed_vs_c"], f["paired_speed_vs_c"]
        lines.append(f"    s3squid-storeid vs Perl: {vp:.2f}x (target >= 4x: {'met' if vp >= 4 else 'MISSED'}); "
                     f"vs C do-nothing: {vc:.2f}x (target >= 0.9x: {'met' if vc >= 0.9 else 'MISSED'}; "
                     f"median of paired rounds {pc:.2f}x)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
