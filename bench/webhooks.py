#!/usr/bin/env python3
"""Webhook delivery benchmark (issue 7): deliveries per second to a loopback receiver with one
server process, and event-to-delivery latency at a steady event rate.

1. Throughput: with the dispatcher off (CHARTD_WEBHOOK_CONCURRENCY=0), N patient creations
   (bulk POSTs of 500) queue N deliveries to one verified webhook. Then one `chartd serve`
   with the dispatcher on sends them; the receiver times the first to the last arrival.
2. Latency: with that server running, one patient is created every 1/RATE seconds for SECONDS
   seconds; each delivery's latency is its arrival at the receiver minus the moment the
   creating POST was answered (the commit). Prints p50, p95, p99 and max.

The receiver is a minimal asyncio HTTP/1.1 server (keep-alive, answers 200 at once) in its
own process; it answers the verification handshake. The server's CPU time is read from /proc.

Usage: python3 bench/webhooks.py [--binary PATH] [--events 10000] [--rate 100] [--seconds 20]
                                 [--concurrency 64] [--per-receiver 32] [--postgres URL]
Needs: a built chartd (default target/release/chartd; CARGO_TARGET_DIR is honoured),
python3 (stdlib only); for --postgres an empty database at URL. BENCH_STDERR=FILE keeps the
servers' logs, BENCH_LOG sets their CHARTD_LOG (default error).
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"


# ---------------------------------------------------------------- the receiver (own process)

def receiver_main(port, ready):
    arrivals = {}  # object id -> arrival time (first arrival)
    state = {"count": 0, "first": None, "last": None}

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                now = time.time()
                if method == "GET" and target.startswith("/stats"):
                    out = json.dumps({**state, "arrivals": arrivals}).encode()
                elif method == "GET":
                    msg = target.split("msg=", 1)[1].split("&", 1)[0]
                    answer = hmac.new(SECRET.encode(), msg.encode(), hashlib.sha256).hexdigest()
                    out = json.dumps({"secret_token": answer}).encode()
                else:
                    state["count"] += 1
                    state["first"] = state["first"] or now
                    state["last"] = now
                    try:
                        oid = json.loads(body)["object"]["id"]
                        arrivals.setdefault(str(oid), now)
                    except (ValueError, KeyError, TypeError):
                        pass
                    out = b""
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(out)).encode() + b"\r\n\r\n" + out
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# ---------------------------------------------------------------- driving chartd

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(binary, env, *args):
    out = subprocess.run([binary, *args], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def request(method, url, body=None, token=None, basic=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if basic:
        creds = base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {creds}")
    with urllib.request.urlopen(req, timeout=60) as res:
        text = res.read()
        return json.loads(text) if text else None


def start_server(binary, env, extra):
    port = free_port()
    proc = subprocess.Popen(
        [binary, "serve", "--bind", f"127.0.0.1:{port}"],
        env={**env, **extra},
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ["BENCH_STDERR"], "a") if os.environ.get("BENCH_STDERR") else subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).read()
            return proc, url
        except OSError:
            time.sleep(0.05)
    raise SystemExit("chartd did not start")


def stop(proc):
    proc.terminate()
    proc.wait(timeout=60)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stats(rx):
    return request("GET", rx + "/stats")


def main():
    p = argparse.ArgumentParser()
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    p.add_argument("--binary", default=os.path.join(target, "release", "chartd"))
    p.add_argument("--events", type=int, default=10000)
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--per-receiver", type=int, default=32)
    p.add_argument("--postgres")
    a = p.parse_args()

    tmp = tempfile.mkdtemp(prefix="chartd-bench-")
    env = {
        **os.environ,
        "CHARTD_DATABASE_URL": a.postgres or f"sqlite://{tmp}/chartd.db",
        "CHARTD_SECRET_KEY": "bench-secret-key-0123456789abcdef0123456789",
        "CHARTD_FILES_DIR": f"{tmp}/files",
        "CHARTD_LOG": os.environ.get("BENCH_LOG", "error"),
        "CHARTD_RATE_LIMIT_PER_HOUR": "100000000",
        "CHARTD_WEBHOOK_ALLOW_PRIVATE": "true",
        "CHARTD_WEBHOOK_PER_RECEIVER": str(a.per_receiver),
        "CHARTD_WEBHOOK_CONCURRENCY": str(a.concurrency),
    }
    rx_port = free_port()
    ready = multiprocessing.Event()
    rx_proc = multiprocessing.Process(target=receiver_main, args=(rx_port, ready), daemon=True)
    rx_proc.start()
    ready.wait(10)
    rx = f"http://127.0.0.1:{rx_port}"

    try:
        cli(a.binary, env, "migrate")
        practice = cli(a.binary, env, "practice", "create", "--name", "Bench")["id"]
        user = cli(a.binary, env, "user", "create", "--practice", str(practice), "--username",
                   "bench", "--password", "bench-password", "--role", "doctor")
        app = cli(a.binary, env, "app", "create", "--name", "Bench", "--redirect-uri",
                  "http://127.0.0.1:9/cb")
        token = cli(a.binary, env, "token", "create", "--client-id", app["client_id"], "--user",
                    str(user["id"]), "--scope", "patients")["access_token"]
        creds = (app["client_id"], app["client_secret"])
        doctor = user["doctor"]

        # 1. Throughput: queue N deliveries with the dispatcher off, then time them out.
        proc, url = start_server(a.binary, env, {"CHARTD_WEBHOOK_CONCURRENCY": "0"})
        hook = request("POST", url + "/api/webhooks", {
            "callback_url": rx + "/hook", "secret_token": SECRET, "events": ["PATIENT_CREATE"],
        }, basic=creds)
        verified = request("POST", url + f"/api/webhooks/{hook['id']}/verify", basic=creds)
        assert verified["verified"], verified
        t0 = time.time()
        left = a.events
        while left > 0:
            n = min(500, left)
            body = [{"doctor": doctor, "gender": "Female", "first_name": f"B{i}"} for i in range(n)]
            request("POST", url + "/api/patients", body, token=token)
            left -= n
        print(f"queued {a.events} deliveries in {time.time() - t0:.1f} s")
        stop(proc)

        proc, url = start_server(a.binary, env, {})
        cpu0 = cpu_seconds(proc.pid)
        deadline = time.time() + 600
        while stats(rx)["count"] < a.events and time.time() < deadline:
            time.sleep(0.2)
        s = stats(rx)
        cpu = cpu_seconds(proc.pid) - cpu0
        span = s["last"] - s["first"]
        print(f"throughput: {s['count']} deliveries in {span:.2f} s = "
              f"{s['count'] / span:,.0f}/s (server CPU {cpu:.1f} s, "
              f"{cpu / max(s['count'], 1) * 1e6:.0f} µs/delivery)")

        # 2. Latency at a steady rate, same server.
        answered = {}
        interval = 1.0 / a.rate
        start = time.time()
        i = 0
        while time.time() - start < a.seconds:
            due = start + i * interval
            pause = due - time.time()
            if pause > 0:
                time.sleep(pause)
            p_ = request("POST", url + "/api/patients",
                         {"doctor": doctor, "gender": "Male", "first_name": f"L{i}"}, token=token)
            answered[str(p_["id"])] = time.time()
            i += 1
        achieved = i / (time.time() - start)
        time.sleep(2)
        arrivals = stats(rx)["arrivals"]
        lat = sorted((arrivals[k] - t) * 1000 for k, t in answered.items() if k in arrivals)
        missing = len(answered) - len(lat)
        q = lambda f: lat[min(len(lat) - 1, int(len(lat) * f))]
        print(f"latency at {achieved:.0f} events/s over {a.seconds:.0f} s ({len(lat)} events, "
              f"{missing} missing): p50 {q(0.5):.1f} ms  p95 {q(0.95):.1f} ms  "
              f"p99 {q(0.99):.1f} ms  max {lat[-1]:.1f} ms")
        stop(proc)
    finally:
        rx_proc.terminate()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
