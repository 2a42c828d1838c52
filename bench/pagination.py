#!/usr/bin/env python3
"""Pagination depth benchmark: does a page at the end of 1,000,000 patients cost what the
first page costs?

Seeds N patients (default 1,000,000) into a fresh SQLite database (or PostgreSQL with
--postgres URL), starts the release build of `chartd serve`, and times GET /api/patients
pages of 250, one request at a time:
  - the first page,
  - a page deep in the table reached the way `next` links reach it (after=<id>),
  - for comparison, the same depth by hand-built page number (page=N, offset).
It prints the median and p95 latency and the server's CPU time per request, and the
deep/first ratio (the target is at most 2x).

Usage: python3 bench/pagination.py [--rows 1000000] [--requests 40] [--postgres URL]
Needs: cargo (builds target/release/chartd), python3 (stdlib only), psql for --postgres.
"""

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "chartd")


def run(args, env):
    out = subprocess.run([BIN] + args, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def fetch(url, token):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req) as res:
        body = res.read()
    return time.perf_counter() - t0, json.loads(body)


def measure(name, url, token, n, pid):
    fetch(url, token)  # warm up
    times = []
    cpu0 = cpu_seconds(pid)
    for _ in range(n):
        dt, body = fetch(url, token)
        times.append(dt)
    cpu = (cpu_seconds(pid) - cpu0) / n
    assert len(body["results"]) == 250, f"{name}: {len(body['results'])} results"
    times.sort()
    med = statistics.median(times) * 1000
    p95 = times[int(len(times) * 0.95) - 1] * 1000
    print(f"{name:<44} median {med:7.2f} ms  p95 {p95:7.2f} ms  server CPU {cpu*1000:6.2f} ms/request")
    return med, cpu


def seed_sqlite(path, practice, doctor, rows):
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    now = "2026-01-01 00:00:00"
    db.execute(
        """INSERT INTO patients (practice_group_id, doctor, gender, first_name, last_name, chart_id,
               email, city, state, date_of_birth, created_at, updated_at)
           WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
           SELECT ?, ?, CASE i % 3 WHEN 0 THEN 'Male' WHEN 1 THEN 'Female' ELSE 'Other' END,
                  'First' || i, 'Last' || i, 'CHART' || i, 'p' || i || '@example.com',
                  'Springfield', 'IL', '1980-01-01', ?, ?
           FROM n""",
        (rows, practice, doctor, now, now),
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()


def seed_postgres(url, practice, doctor, rows):
    sql = f"""INSERT INTO patients (practice_group_id, doctor, gender, first_name, last_name, chart_id,
               email, city, state, date_of_birth, created_at, updated_at)
           SELECT {practice}, {doctor}, (ARRAY['Male','Female','Other'])[i % 3 + 1],
                  'First' || i, 'Last' || i, 'CHART' || i, 'p' || i || '@example.com',
                  'Springfield', 'IL', DATE '1980-01-01', TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01'
           FROM generate_series(1, {rows}) AS i; ANALYZE patients;"""
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--postgres", help="an empty PostgreSQL database URL (default: SQLite)")
    ap.add_argument("--port", type=int, default=18181)
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="chartd-bench-")
    env = dict(os.environ, CHARTD_LOG="warn", CHARTD_BIND=f"127.0.0.1:{args.port}")
    env["CHARTD_DATABASE_URL"] = args.postgres or f"sqlite://{tmp}/bench.db"
    server = None
    try:
        practice = run(["practice", "create", "--name", "Bench"], env)["id"]
        user = run(["user", "create", "--practice", str(practice), "--username", f"bench{os.getpid()}",
                    "--password", "benchpassword", "--role", "doctor"], env)
        app = run(["app", "create", "--name", "Bench", "--redirect-uri", "http://127.0.0.1/cb"], env)
        token = run(["token", "create", "--client-id", app["client_id"], "--user", str(user["id"]),
                     "--scope", "patients"], env)["access_token"]
        t0 = time.time()
        if args.postgres:
            seed_postgres(args.postgres, practice, user["doctor"], args.rows)
        else:
            seed_sqlite(f"{tmp}/bench.db", practice, user["doctor"], args.rows)
        print(f"seeded {args.rows} patients in {time.time() - t0:.1f} s "
              f"({'PostgreSQL' if args.postgres else 'SQLite'})")

        server = subprocess.Popen([BIN, "serve"], env=env, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{args.port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz")
                break
            except OSError:
                time.sleep(0.1)

        # The deep page is reached the way clients reach it: by a `next` link's cursor.
        _, first = fetch(f"{base}/api/patients?page_size=250", token)
        first_id = first["results"][0]["id"]
        deep_after = first_id + args.rows - 250 * 5 - 1
        deep_page = (args.rows // 250) - 4
        m1, c1 = measure("first page", f"{base}/api/patients?page_size=250", token, args.requests, server.pid)
        m2, c2 = measure(f"page {deep_page} via next link (after={deep_after})",
                         f"{base}/api/patients?page_size=250&page={deep_page}&after={deep_after}",
                         token, args.requests, server.pid)
        m3, c3 = measure(f"page {deep_page} by hand (offset)",
                         f"{base}/api/patients?page_size=250&page={deep_page}",
                         token, max(3, args.requests // 10), server.pid)
        print(f"deep/first via next: latency {m2 / m1:.2f}x, server CPU {c2 / c1:.2f}x (target <= 2x)")
        print(f"deep/first by offset: latency {m3 / m1:.2f}x, server CPU {c3 / c1:.2f}x (for comparison)")
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
