#!/usr/bin/env python3
"""Load benchmark (issues 4 and 8): requests/s and p50/p99 latency of the main endpoints under
loopback load, with authentication, rate limiting and the audit trail on.

Seeds N patients and N appointments (default 1,000,000 each) into a fresh SQLite database (or
an empty PostgreSQL database with --postgres URL), starts the release build of `chartd serve`
and drives it with wrk (installed from Debian's packages when missing), c=32, 2 threads:
  GET /api/patients?page_size=250, ?page_size=50, the last page via a `next` cursor,
  GET /api/patients/:id (limiter on and off — CHARTD_RATE_LIMIT_ENABLED=false — alternating),
  GET /api/appointments?date=..., POST /api/patients, and a bulk POST of 100 patients.

Usage: python3 bench/load.py [--rows 1000000] [--seconds 10] [--postgres URL]
"""

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "chartd")


def sh(args, env=None, **kw):
    return subprocess.run(args, env=env, check=True, capture_output=True, text=True, **kw)


def cli(args, env):
    return json.loads(sh([BIN] + args, env).stdout)


def ensure_wrk():
    if shutil.which("wrk"):
        return
    print("installing wrk (Debian package)...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)


def seed_sqlite(path, practice, doctor, office, rows):
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    now = "2026-01-01 00:00:00"
    t0 = time.time()
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
    t_patients = time.time() - t0
    # One appointment per patient, 30 minutes each, 16 a day per exam room over 1000 rooms'
    # worth of days: spread over dates so a day holds ~1,000.
    db.execute(
        """INSERT INTO appointments (practice_group_id, doctor, patient, office, exam_room,
               scheduled_time, duration, ends_at, allow_overlapping, created_at, updated_at)
           SELECT ?, ?, id, ?, 1,
                  datetime('2020-01-01 08:00:00', '+' || (id / 1000) || ' days', '+' || ((id % 1000) * 30) || ' seconds'),
                  30,
                  datetime('2020-01-01 08:30:00', '+' || (id / 1000) || ' days', '+' || ((id % 1000) * 30) || ' seconds'),
                  1, ?, ?
           FROM patients WHERE practice_group_id = ?""",
        (practice, doctor, office, now, now, practice),
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return t_patients, time.time() - t0


def seed_postgres(url, practice, doctor, office, rows):
    t0 = time.time()
    sh(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", f"""
        INSERT INTO patients (practice_group_id, doctor, gender, first_name, last_name, chart_id,
               email, city, state, date_of_birth, created_at, updated_at)
        SELECT {practice}, {doctor}, (ARRAY['Male','Female','Other'])[i % 3 + 1],
               'First' || i, 'Last' || i, 'CHART' || i, 'p' || i || '@example.com',
               'Springfield', 'IL', DATE '1980-01-01', TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01'
        FROM generate_series(1, {rows}) AS i"""])
    t_patients = time.time() - t0
    sh(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", f"""
        INSERT INTO appointments (practice_group_id, doctor, patient, office, exam_room,
               scheduled_time, duration, ends_at, allow_overlapping, created_at, updated_at)
        SELECT {practice}, {doctor}, id, {office}, 1,
               TIMESTAMP '2020-01-01 08:00:00' + (id / 1000) * INTERVAL '1 day' + (id % 1000) * INTERVAL '30 seconds',
               30,
               TIMESTAMP '2020-01-01 08:30:00' + (id / 1000) * INTERVAL '1 day' + (id % 1000) * INTERVAL '30 seconds',
               TRUE, TIMESTAMP '2026-01-01', TIMESTAMP '2026-01-01'
        FROM patients WHERE practice_group_id = {practice}; ANALYZE;"""])
    return t_patients, time.time() - t0


LUA_POST = """
wrk.method = "POST"
wrk.body = '%s'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %s"
"""


def wrk(name, url, token, seconds, lua=None, conns=32):
    args = ["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency", "-H", f"Authorization: Bearer {token}"]
    path = None
    if lua:
        fd, path = tempfile.mkstemp(suffix=".lua")
        with os.fdopen(fd, "w") as f:
            f.write(lua)
        args += ["-s", path]
    out = sh(args + [url]).stdout
    if path:
        os.unlink(path)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = int(non2xx.group(1)) if non2xx else 0
    print(f"| {name} | {rps:,.0f} | {pct(50):.2f} ms | {pct(99):.2f} ms |" + (f" {bad} non-2xx!" if bad else ""), flush=True)
    return rps


def start(env, port):
    proc = subprocess.Popen([BIN, "serve"], env=dict(env, CHARTD_BIND=f"127.0.0.1:{port}"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz")
            return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--postgres")
    ap.add_argument("--port", type=int, default=18282)
    args = ap.parse_args()

    ensure_wrk()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp(prefix="chartd-load-")
    env = dict(os.environ, CHARTD_LOG="error", CHARTD_SECRET_KEY="bench-secret-key-0123456789abcdef0123456789",
               CHARTD_FILES_DIR=f"{tmp}/files")
    env["CHARTD_DATABASE_URL"] = args.postgres or f"sqlite://{tmp}/bench.db"
    procs = []
    try:
        practice = cli(["practice", "create", "--name", "Bench"], env)["id"]
        user = cli(["user", "create", "--practice", str(practice), "--username", f"bench{os.getpid()}",
                    "--password", "benchpassword", "--role", "doctor"], env)
        office = cli(["office", "create", "--practice", str(practice), "--doctor", str(user["doctor"]),
                      "--name", "Main"], env)["id"]
        app = cli(["app", "create", "--name", "Bench", "--redirect-uri", "http://127.0.0.1/cb",
                   "--rate-limit", "1000000000"], env)
        token = cli(["token", "create", "--client-id", app["client_id"], "--user", str(user["id"]),
                     "--scope", "patients calendar clinical"], env)["access_token"]
        seed = seed_postgres if args.postgres else seed_sqlite
        where = args.postgres or f"{tmp}/bench.db"
        t_pat, t_all = seed(where, practice, user["doctor"], office, args.rows)
        kind = "PostgreSQL" if args.postgres else "SQLite"
        print(f"seeded {args.rows:,} patients in {t_pat:.1f} s and as many appointments "
              f"({t_all:.1f} s in all) on {kind}", flush=True)

        base = f"http://127.0.0.1:{args.port}"
        procs.append(start(env, args.port))
        req = urllib.request.Request(f"{base}/api/patients?page_size=1", headers={"Authorization": f"Bearer {token}"})
        first = json.load(urllib.request.urlopen(req))["results"][0]["id"]
        last_after = first + args.rows - 251
        one = first + args.rows // 2
        day = "2020-06-01"

        print(f"\n{kind}, {args.rows:,} rows, wrk c=32 t=2 {args.seconds}s\n")
        print("| endpoint | requests/s | p50 | p99 |\n|---|---|---|---|")
        wrk("GET /api/patients?page_size=250", f"{base}/api/patients?page_size=250", token, args.seconds)
        wrk("GET /api/patients?page_size=50", f"{base}/api/patients?page_size=50", token, args.seconds)
        wrk("last page via next (page_size=250)", f"{base}/api/patients?page_size=250&after={last_after}", token, args.seconds)
        wrk(f"GET /api/appointments?date={day}", f"{base}/api/appointments?date={day}", token, args.seconds)
        body = json.dumps({"doctor": user["doctor"], "gender": "Female", "first_name": "Load", "last_name": "Test"})
        wrk("POST /api/patients", f"{base}/api/patients", token, args.seconds, LUA_POST % (body, token))
        bulk = json.dumps([json.loads(body)] * 100)
        wrk("POST /api/patients, bulk of 100 (c=4)", f"{base}/api/patients", token, args.seconds, LUA_POST % (bulk, token), conns=4)
        # The limiter's cost: the same server with the limiter off, alternating runs against
        # both so that whatever else the machine does weighs on both alike.
        procs.append(start(dict(env, CHARTD_RATE_LIMIT_ENABLED="false"), args.port + 1))
        off_base = f"http://127.0.0.1:{args.port + 1}"
        ons, offs = [], []
        for _ in range(3):
            ons.append(wrk("GET /api/patients/:id (rate limiter on)", f"{base}/api/patients/{one}", token, args.seconds))
            offs.append(wrk("GET /api/patients/:id (rate limiter off)", f"{off_base}/api/patients/{one}", token, args.seconds))
        on, off = sorted(ons)[1], sorted(offs)[1]
        print(f"\nrate limiter cost on GET /api/patients/:id (medians of 3 alternating runs): "
              f"{on:,.0f}/s on vs {off:,.0f}/s off, {100 * (off - on) / off:+.1f}% (target within 10%)")
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
