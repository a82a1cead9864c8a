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
reply with its channel ID). Then hyperfine times the six commands in interleaved rounds; the
result per command is the median over all runs of all rounds.
"""

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def log(msg):
    print(f"replay: {msg}", file=sys.stderr, flush=True)


def commands(a, storeid, lines):
    """{name: shell command} for one line file."""
    q = shlex.quote
    return {
        "s3squid-storeid": f"{q(storeid)} --config {q(a.config)} < {q(lines)} > /dev/null",
        "storeid_file_rewrite": f"{q(a.perl_helper)} {q(a.rules)} < {q(lines)} > /dev/null",
        "url_fake_rewrite": f"{q(a.fake_helper)} < {q(lines)} > /dev/null",
    }


def check(name, cmd, lines, count, channels):
    """Runs cmd once with its replies captured; fails unless every line got the right reply."""
    out_cmd = cmd.replace("> /dev/null", "")
    r = subprocess.run(out_cmd, shell=True, capture_output=True, check=True)
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
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3, help="hyperfine runs per command per round")
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
            for name, cmd in commands(a, storeid, lines).items():
                first = check(name, cmd, lines, a.count, form == "channel IDs")
                cmds[(name, form)] = (cmd, first)
        times = {k: [] for k in cmds}
        cpu = {k: [] for k in cmds}  # (user, system) means of each round
        keys = list(cmds)
        for rnd in range(a.rounds):
            order = keys[rnd % len(keys):] + keys[:rnd % len(keys)]
            js = os.path.join(tmp, f"round{rnd}.json")
            subprocess.run(["hyperfine", "--style", "none", "--warmup", "1", "--runs", str(a.runs),
                            "--export-json", js] + [cmds[k][0] for k in order],
                           check=True, stdout=subprocess.DEVNULL)
            with open(js) as f:
                for k, res in zip(order, json.load(f)["results"]):
                    times[k].extend(res["times"])
                    cpu[k].append((res["user"], res["system"]))
            log(f"round {rnd + 1}/{a.rounds} done")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    summary = {"count": a.count, "rounds": a.rounds, "runs_per_round": a.runs, "forms": {}}
    for form in forms:
        f = {}
        for name in ("s3squid-storeid", "storeid_file_rewrite", "url_fake_rewrite"):
            t = times[(name, form)]
            med = statistics.median(t)
            f[name] = {"median_s": med, "min_s": min(t), "max_s": max(t), "n": len(t),
                       "lines_per_s": a.count / med,
                       "median_user_s": statistics.median(u for u, _ in cpu[(name, form)]),
                       "median_sys_s": statistics.median(y for _, y in cpu[(name, form)]),
                       "first_reply": cmds[(name, form)][1]}
        ours = f["s3squid-storeid"]["median_s"]
        f["speedup_vs_perl"] = f["storeid_file_rewrite"]["median_s"] / ours
        f["speed_vs_c"] = f["url_fake_rewrite"]["median_s"] / ours
        summary["forms"][form] = f
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(summary, fh, indent=2)
    print(table(summary))


def table(s):
    lines = [f"Replay: {s['count']} lines, stdin from a file, stdout to /dev/null; wall clock, "
             f"median of {s['rounds']}x{s['runs_per_round']} interleaved hyperfine runs"]
    for form, f in s["forms"].items():
        lines.append(f"  {form}:")
        lines.append(f"    {'helper':<22} {'median s':>9} {'min s':>7} {'max s':>7} {'lines/s':>10} {'user s':>7} {'sys s':>6}")
        for name in ("s3squid-storeid", "storeid_file_rewrite", "url_fake_rewrite"):
            r = f[name]
            lines.append(f"    {name:<22} {r['median_s']:>9.3f} {r['min_s']:>7.3f} {r['max_s']:>7.3f} "
                         f"{r['lines_per_s']:>10.0f} {r['median_user_s']:>7.3f} {r['median_sys_s']:>6.3f}")
        vp, vc = f["speedup_vs_perl"], f["speed_vs_c"]
        lines.append(f"    s3squid-storeid vs Perl: {vp:.2f}x (target >= 4x: {'met' if vp >= 4 else 'MISSED'}); "
                     f"vs C do-nothing: {vc:.2f}x (target >= 0.9x: {'met' if vc >= 0.9 else 'MISSED'})")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
