#!/usr/bin/env python3
"""The hourly rate limiter's cost (issue 12): GET /api/patients/:id with the limiter on and off
(CHARTD_RATE_LIMIT_ENABLED=false), in one run, on the same data.

SQLite: one `chartd serve` process per setting, wrk -t2 -c32. PostgreSQL (--postgres URL, an
empty database): two processes per setting on the one database, driven at the same time by two
wrk -t1 -c16 (one per process), so every call's count is shared through the database. Runs
alternate on/off three times; the medians are reported, with the servers' CPU per request
(user + system time from /proc over the run) and the machine's load average.

Usage: python3 bench/ratelimit.py [--postgres URL] [--seconds 10] [--rows 10000]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load import BIN, ROOT, cli, ensure_wrk, seed_postgres, seed_sqlite, start  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_secs(proc):
    with open(f"/proc/{proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def drive(urls, token, seconds):
    """Runs one wrk per URL at once; answers total requests/s and non-2xx count."""
    conns = 32 // len(urls)
    threads = 2 // len(urls) or 1
    runs = [subprocess.Popen(["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "-H",
                              f"Authorization: Bearer {token}", u],
                             stdout=subprocess.PIPE, text=True) for u in urls]
    rps, bad = 0.0, 0
    for r in runs:
        out = r.communicate()[0]
        rps += float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        bad += int(m.group(1)) if m else 0
    return rps, bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--postgres")
    ap.add_argument("--port", type=int, default=18382)
    args = ap.parse_args()

    ensure_wrk()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="chartd-rl-")
    env = dict(os.environ, CHARTD_LOG="error",
               CHARTD_SECRET_KEY="bench-secret-key-0123456789abcdef0123456789",
               CHARTD_FILES_DIR=f"{tmp}/files")
    env["CHARTD_DATABASE_URL"] = args.postgres or f"sqlite://{tmp}/bench.db"
    procs = {}
    try:
        practice = cli(["practice", "create", "--name", "Bench"], env)["id"]
        user = cli(["user", "create", "--practice", str(practice), "--username",
                    f"rl{os.getpid()}", "--password", "benchpassword", "--role", "doctor"], env)
        office = cli(["office", "create", "--practice", str(practice), "--doctor",
                      str(user["doctor"]), "--name", "Main"], env)["id"]
        app = cli(["app", "create", "--name", "Bench", "--redirect-uri", "http://127.0.0.1/cb",
                   "--rate-limit", "1000000000"], env)
        token = cli(["token", "create", "--client-id", app["client_id"], "--user",
                     str(user["id"]), "--scope", "patients"], env)["access_token"]
        seed = seed_postgres if args.postgres else seed_sqlite
        seed(args.postgres or f"{tmp}/bench.db", practice, user["doctor"], office, args.rows)
        n = 2 if args.postgres else 1
        port = args.port
        for setting in ("on", "off"):
            e = dict(env) if setting == "on" else dict(env, CHARTD_RATE_LIMIT_ENABLED="false")
            procs[setting] = []
            for _ in range(n):
                procs[setting].append((start(e, port), f"http://127.0.0.1:{port}"))
                port += 1
        import json
        import urllib.request
        req = urllib.request.Request(f"{procs['on'][0][1]}/api/patients?page_size=1",
                                     headers={"Authorization": f"Bearer {token}"})
        one = json.load(urllib.request.urlopen(req))["results"][0]["id"] + args.rows // 2
        kind = "PostgreSQL, two processes per setting" if args.postgres else "SQLite, one process"
        print(f"{kind}; GET /api/patients/{{id}}, wrk c=32 in all, {args.seconds} s per run\n")
        print("| run | limiter | requests/s | server CPU µs/request | load (1 min) |")
        print("|---|---|---|---|---|")
        results = {"on": [], "off": []}
        for i in range(3):
            for setting in ("on", "off"):
                ps = procs[setting]
                before = sum(cpu_secs(p) for p, _ in ps)
                rps, bad = drive([f"{u}/api/patients/{one}" for _, u in ps], token, args.seconds)
                used = sum(cpu_secs(p) for p, _ in ps) - before
                us = used / (rps * args.seconds) * 1e6
                load = os.getloadavg()[0]
                results[setting].append((rps, us))
                print(f"| {i + 1} | {setting} | {rps:,.0f} | {us:.1f} | {load:.2f} |"
                      + (f" {bad} non-2xx!" if bad else ""), flush=True)
        med = {k: (sorted(r[0] for r in v)[1], sorted(r[1] for r in v)[1])
               for k, v in results.items()}
        (on_rps, on_us), (off_rps, off_us) = med["on"], med["off"]
        print(f"\nmedians: {on_rps:,.0f}/s and {on_us:.1f} µs CPU/request with the limiter, "
              f"{off_rps:,.0f}/s and {off_us:.1f} µs without: throughput "
              f"{100 * (off_rps - on_rps) / off_rps:+.1f}%, CPU per request "
              f"{100 * (on_us - off_us) / off_us:+.1f}% (target: within 10%)")
    finally:
        for ps in procs.values():
            for p, _ in ps:
                p.terminate()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
