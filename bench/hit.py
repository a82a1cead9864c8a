#!/usr/bin/env python3
"""HIT-throughput benchmark: Squid 5.7 (accelerator, memory hit) with no store-ID helper,
with s3squid-storeid, and with Squid's bundled storeid_file_rewrite, under wrk.

Every variant uses the same squid.conf (bench/squid-hit.conf.in), the same helper settings
(`store_id_children C startup=C idle=1 concurrency=N`, `store_id_bypass off`) and the same
wrk load. Variants are interleaved: each round starts each variant's Squid afresh (in a
rotated order), checks the object is a hit and that the helper answers, runs one discarded
warm-up wrk, then one measured wrk. The result is the median over rounds.

Everything listens on 127.0.0.1 with ports the kernel picks; every process started here is
stopped by its PID. Writes a JSON summary (--out) and prints a table.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "img1.example.com"
PATH = "/photos/2024/06/IMG_1234.jpg"
VARIANTS = ["squid-alone", "s3squid-storeid", "storeid_file_rewrite"]
TICK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"hit: {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.pid} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def stop(proc, name, timeout=15.0):
    """SIGTERM one process we started, by PID; SIGKILL it if it does not go."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        log(f"{name} (pid {proc.pid}) ignored SIGTERM, killing it")
        proc.kill()
        proc.wait()


def children(pid):
    """PIDs whose parent is pid (Squid's helpers)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


def running(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cpu_seconds(pid):
    """utime + stime of one process, seconds (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def get(port, path, host=HOST):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", path, headers={"Host": host})
        r = c.getresponse()
        body = r.read()
        return r.status, dict(r.getheaders()), body
    finally:
        c.close()


def store_id_stats(port):
    """(requests sent, replies received) from cachemgr's store_id page."""
    status, _, body = get(port, "/squid-internal-mgr/store_id", host="localhost")
    text = body.decode(errors="replace")
    sent = re.search(r"requests sent:\s*(\d+)", text)
    got = re.search(r"replies received:\s*(\d+)", text)
    if status != 200 or not sent or not got:
        return None
    return int(sent.group(1)), int(got.group(1))


def parse_wrk(text):
    rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
    if not rps:
        raise RuntimeError(f"cannot read wrk output:\n{text}")
    res = {"rps": float(rps.group(1))}
    total = re.search(r"(\d+) requests in", text)
    res["requests"] = int(total.group(1)) if total else None
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if m:
            scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
            res[f"p{pct}_ms"] = float(m.group(1)) * scale
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    res["non2xx"] = int(bad.group(1)) if bad else 0
    errs = re.search(r"Socket errors:.*", text)
    res["socket_errors"] = errs.group(0) if errs else ""
    return res


class Bench:
    def __init__(self, a):
        self.a = a
        self.root = tempfile.mkdtemp(prefix="s3squid-hitbench.")
        os.chmod(self.root, 0o755)
        # Private copies: a rebuild elsewhere cannot change the binary mid-run, and the
        # `proxy` user Squid runs helpers as can read them.
        self.storeid = os.path.join(self.root, "s3squid-storeid")
        shutil.copy2(a.storeid_bin, self.storeid)
        self.config = os.path.join(self.root, "s3squid-bench.toml")
        shutil.copy2(a.config, self.config)
        self.rules = os.path.join(self.root, "storeid-rules.txt")
        shutil.copy2(a.rules, self.rules)
        with open(os.path.join(HERE, "squid-hit.conf.in")) as f:
            self.template = f.read()
        self.origin = None

    def start_origin(self):
        self.origin = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "origin.py")],
            stdout=subprocess.PIPE, stderr=open(os.path.join(self.root, "origin.log"), "w"),
            text=True)
        self.origin_port = int(self.origin.stdout.readline())
        log(f"origin pid {self.origin.pid} on 127.0.0.1:{self.origin_port}")

    def store_id_lines(self, variant):
        kids = f"store_id_children {self.a.children} startup={self.a.children} idle=1 concurrency={self.a.concurrency}"
        if variant == "squid-alone":
            return "# no store_id_program"
        if variant == "s3squid-storeid":
            prog = f"store_id_program {self.storeid} --config {self.config}"
        else:
            prog = f"store_id_program {self.a.perl_helper} {self.rules}"
        return f"{prog}\n{kids}\nstore_id_bypass off"

    def run_variant(self, variant, rnd):
        d = os.path.join(self.root, f"r{rnd}-{variant}")
        os.mkdir(d)
        port = free_port()
        conf = (self.template
                .replace("@PORT@", str(port))
                .replace("@ORIGIN_PORT@", str(self.origin_port))
                .replace("@DIR@", d)
                .replace("@USER@", "cache_effective_user proxy" if os.geteuid() == 0 else "")
                .replace("@STORE_ID@", self.store_id_lines(variant)))
        conf_path = os.path.join(d, "squid.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        if os.geteuid() == 0:
            shutil.chown(d, "proxy", "proxy")
        squid = self.a.squid
        subprocess.run([squid, "-N", "-f", conf_path, "-z"], check=True, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proc = subprocess.Popen([squid, "-N", "-f", conf_path],
                                stdout=open(os.path.join(d, "squid.out"), "w"),
                                stderr=subprocess.STDOUT)
        try:
            wait_port(port, proc)
            return self.measure(variant, port, proc)
        except Exception:
            log(f"{variant}: failed; Squid's logs are in {d}")
            raise
        finally:
            helpers = children(proc.pid)
            stop(proc, "squid")
            # Helpers exit on EOF once Squid is gone; stop any that does not, by PID.
            end = time.monotonic() + 5
            while (left := [h for h in helpers if running(h)]) and time.monotonic() < end:
                time.sleep(0.1)
            for h in left:
                log(f"child pid {h} outlived Squid by 5 s, stopping it")
                os.kill(h, signal.SIGTERM)

    def wrk(self, port, seconds):
        cmd = ["wrk", f"-t{self.a.threads}", f"-c{self.a.connections}", f"-d{seconds}s",
               "--latency", "-H", f"Host: {HOST}", f"http://127.0.0.1:{port}{PATH}"]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                             timeout=seconds + 30).stdout
        return parse_wrk(out)

    def measure(self, variant, port, proc):
        # Warm: first request is a miss, then it must be a hit.
        hit = False
        for _ in range(20):
            status, headers, body = get(port, PATH)
            if status != 200 or body != b"hello\n":
                raise RuntimeError(f"{variant}: GET answered {status} {body[:80]!r}")
            # Squid 5: X-Cache: HIT ...; Squid 6 and later: Cache-Status: NAME;hit (RFC 9211).
            status_items = headers.get("Cache-Status", "").split(";")[1:]
            if headers.get("X-Cache", "").startswith("HIT") or "hit" in [i.strip() for i in status_items]:
                hit = True
                break
            time.sleep(0.1)
        if not hit:
            raise RuntimeError(f"{variant}: the object never became a cache hit")
        self.wrk(port, self.a.warmup)
        helpers = children(proc.pid)
        stats0 = store_id_stats(port)
        cpu0 = (cpu_seconds(proc.pid), sum(cpu_seconds(h) for h in helpers))
        res = self.wrk(port, self.a.duration)
        cpu1 = (cpu_seconds(proc.pid), sum(cpu_seconds(h) for h in helpers))
        stats1 = store_id_stats(port)
        if res["non2xx"] or res["socket_errors"]:
            raise RuntimeError(f"{variant}: wrk saw errors: {res}")
        n = res["requests"] or 1
        res["squid_cpu_us"] = (cpu1[0] - cpu0[0]) / n * 1e6
        res["helper_cpu_us"] = (cpu1[1] - cpu0[1]) / n * 1e6
        res["helpers"] = len(helpers)
        if variant != "squid-alone":
            if not stats0 or not stats1:
                raise RuntimeError(f"{variant}: cannot read mgr:store_id")
            # Replies counted between two cache-manager reads; allow 1% slack for lookups
            # that are not wrk requests.
            res["helper_lookups"] = stats1[1] - stats0[1]
            if res["helper_lookups"] < 0.99 * n:
                raise RuntimeError(f"{variant}: only {res['helper_lookups']} helper replies for {n} requests")
        return res

    def run(self):
        self.start_origin()
        results = {v: [] for v in VARIANTS}
        try:
            for rnd in range(self.a.rounds):
                order = VARIANTS[rnd % 3:] + VARIANTS[:rnd % 3]
                for v in order:
                    r = self.run_variant(v, rnd)
                    results[v].append(r)
                    log(f"round {rnd + 1}/{self.a.rounds} {v}: {r['rps']:.0f} req/s "
                        f"(Squid {r['squid_cpu_us']:.1f} µs CPU/req, helpers {r['helper_cpu_us']:.1f})")
        finally:
            stop(self.origin, "origin")
        if not self.a.keep:
            shutil.rmtree(self.root, ignore_errors=True)
        return results


def summarize(results, a):
    out = {"settings": {k: getattr(a, k) for k in
                        ("rounds", "duration", "warmup", "threads", "connections", "children", "concurrency")},
           "variants": {}}
    for v, runs in results.items():
        med = lambda k: statistics.median(r[k] for r in runs if r.get(k) is not None)
        out["variants"][v] = {
            "rps": [r["rps"] for r in runs],
            "median_rps": med("rps"),
            "median_p50_ms": med("p50_ms"),
            "median_p99_ms": med("p99_ms"),
            "median_squid_cpu_us": med("squid_cpu_us"),
            "median_helper_cpu_us": med("helper_cpu_us"),
        }
    alone = out["variants"]["squid-alone"]["median_rps"]
    perl = out["variants"]["storeid_file_rewrite"]["median_rps"]
    ours = out["variants"]["s3squid-storeid"]["median_rps"]
    out["ratio_s3squid_vs_perl"] = ours / perl
    out["ratio_s3squid_vs_alone"] = ours / alone
    out["ratio_perl_vs_alone"] = perl / alone
    return out


def table(s):
    st = s["settings"]
    lines = [f"HIT throughput: wrk -t{st['threads']} -c{st['connections']} -d{st['duration']}s, "
             f"store_id_children {st['children']} startup={st['children']} idle=1 concurrency={st['concurrency']}, "
             f"median of {st['rounds']} interleaved rounds",
             f"{'variant':<22} {'median req/s':>12} {'p50 ms':>7} {'p99 ms':>7} {'Squid µs/req':>13} {'helper µs/req':>14}  runs"]
    for v, r in s["variants"].items():
        runs = " ".join(f"{x:.0f}" for x in r["rps"])
        lines.append(f"{v:<22} {r['median_rps']:>12.0f} {r['median_p50_ms']:>7.2f} {r['median_p99_ms']:>7.2f} "
                     f"{r['median_squid_cpu_us']:>13.1f} {r['median_helper_cpu_us']:>14.1f}  {runs}")
    lines.append(f"s3squid-storeid / storeid_file_rewrite = {s['ratio_s3squid_vs_perl']:.2f}x; "
                 f"s3squid-storeid / Squid alone = {s['ratio_s3squid_vs_alone']:.2f}; "
                 f"storeid_file_rewrite / Squid alone = {s['ratio_perl_vs_alone']:.2f}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--storeid-bin", required=True)
    ap.add_argument("--config", default=os.path.join(HERE, "s3squid-bench.toml"))
    ap.add_argument("--rules", default=os.path.join(HERE, "storeid-rules.txt"))
    ap.add_argument("--perl-helper", default="/usr/lib/squid/storeid_file_rewrite")
    ap.add_argument("--squid", default="/usr/sbin/squid")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of discarded wrk per Squid start")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--children", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--out", help="write the JSON summary here")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (Squid logs)")
    a = ap.parse_args()
    s = summarize(Bench(a).run(), a)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(s, f, indent=2)
    print(table(s))


if __name__ == "__main__":
    main()
