#!/usr/bin/env python3
"""Instructions per request on the hot paths, counted by valgrind's callgrind: figures that
do not move with this machine's noise, so a change can be compared with the last run to
within a percent.

    bash bench/callgrind.sh        (builds the release binary, installs valgrind if missing)

For each path the server runs twice under callgrind, on fresh copies of the book: 20 untimed
requests warm it up, then it answers N requests (one client, one at a time, kept alive), or
2N; the difference of the two runs' totals, divided by N, is what a request costs, without
start-up, warm-up and exit. The book is seeded for this script with a fixed seed and date
(`callgrind-100000.db` in BENCH_DIR), so every run reads the same rows. Every thread of the
server counts: the request's own work, the writer's, and what runs beside them (timers, the
webhook loop, a little more in the longer run).
Environment: BENCH_DIR, BENCH_BIN (as bench/run.sh), CALLGRIND_SIZE (default 100000),
CALLGRIND_ONLY (comma-separated starts of the paths to count, e.g. "GET /health,POST").
"""

import http.client
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

import bench

SIZE = int(os.environ.get("CALLGRIND_SIZE", "100000"))
AS_OF = "2026-12-01"
CUSTOMERS = max(50, SIZE // 200)


def seeded_book():
    """A book of SIZE invoices, the same on every run (fixed seed and date)."""
    pristine = os.path.join(bench.WORK, f"callgrind-{SIZE}.db")
    if not os.path.exists(pristine):
        bench.log(f"seeding {SIZE} invoices into {pristine}")
        subprocess.run([bench.BIN, "seed-demo", "--db", pristine, "--customers", str(CUSTOMERS),
                        "--invoices", str(SIZE), "--as-of", AS_OF, "--seed", "7"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return pristine


def open_invoices(db, count):
    conn = sqlite3.connect(db)
    found = conn.execute(
        "SELECT customer_id, id FROM invoices WHERE status IN ('sent', 'partially_paid') "
        "AND total_minor - amount_paid_minor >= 10000 ORDER BY id LIMIT ?", (count,)).fetchall()
    conn.close()
    return found


def scenarios(db):
    """(name, requests counted, function of the request's index -> (method, path, body)).
    The counts are large enough that what varies from run to run outside the requests (the
    allocator's state after start-up, above all) is a fraction of a percent of a request."""
    payable = open_invoices(db, 5000)

    def payment(i):
        customer, invoice = payable[i % len(payable)]
        body = {"customer_id": customer, "invoice_id": invoice, "amount": "0.01",
                "payment_method": "bank_transfer"}
        return "POST", "/v1/payments", json.dumps(body)

    return [
        ("GET /health", 10000, lambda i: ("GET", "/health", None)),
        ("GET /v1/ping", 10000, lambda i: ("GET", "/v1/ping", None)),
        ("GET /v1/invoices/{id}", 5000, lambda i: ("GET", f"/v1/invoices/{1 + i * 7919 % SIZE}", None)),
        ("GET /v1/invoices?limit=50 (filtered)", 1000,
         lambda i: ("GET", f"/v1/invoices?limit=50&status=partially_paid&customer_id={1 + i % CUSTOMERS}",
                    None)),
        ("POST /v1/payments (durable)", 2000, payment),
        (f"GET /v1/reports/aging ({SIZE})", 20, lambda i: ("GET", f"/v1/reports/aging?as_of={AS_OF}", None)),
    ]


class Traced:
    """The server under callgrind, counting from its start to its exit. (Switching the count
    on and off around the requests needs valgrind's gdbserver, which does not start here;
    see `count`.)"""

    def __init__(self, db, out):
        self.port = bench.free_port()
        self.out = out
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", bench.BIN, "serve",
             "--db", db, "--bind", f"127.0.0.1:{self.port}", "--rate-limit-minute", "0",
             "--rate-limit-hour", "0", "--rate-limit-day", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # Set, so `serve` does not re-execute itself to set it (src/process.rs), which
            # would leave valgrind counting nothing.
            env={**os.environ, "RUST_LOG": "warn", "MALLOC_ARENA_MAX": "2"})
        started = time.time()
        while True:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                probe.request("GET", "/health")
                probe.getresponse().read()
                break
            except OSError:
                if time.time() - started > 300 or self.proc.poll() is not None:
                    raise RuntimeError("the server did not start under valgrind")
                time.sleep(0.5)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def ask(self, key, request):
        method, path, body = request
        headers = {"x-arvalox-api-key": key, "Content-Type": "application/json"}
        self.conn.request(method, path, body=body, headers=headers)
        answer = self.conn.getresponse()
        answer.read()
        if answer.status >= 300:
            raise RuntimeError(f"{method} {path} answered {answer.status}")

    def total(self):
        """Stops the server; answers the instructions it executed, every thread, start to exit."""
        self.conn.close()
        self.proc.terminate()
        self.proc.wait(timeout=300)
        with open(self.out) as dump:
            for line in dump:
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1])
        raise RuntimeError("the callgrind dump has no total")


def count(pristine, out_dir, make, requests):
    """Instructions a request: two runs on fresh copies of the book, each starting the server,
    warming it up with 20 untimed requests and then making `requests`, or twice as many; the
    difference of their totals over `requests` leaves out start-up, warm-up and exit."""
    totals = []
    for times in (1, 2):
        db = bench.fresh_copy(pristine, f"callgrind-{SIZE}-run-{os.getpid()}.db")
        key = bench.new_key(db)
        server = Traced(db, os.path.join(out_dir, f"callgrind.out.{len(os.listdir(out_dir))}"))
        for i in range(20):
            server.ask(key, make(10 * requests + i))
        for i in range(times * requests):
            server.ask(key, make(i))
        totals.append(server.total())
    return (totals[1] - totals[0]) / requests


def main():
    pristine = seeded_book()
    out_dir = tempfile.mkdtemp(prefix="arvalox-callgrind-")
    bench.log(f"serving copies of {pristine} under callgrind (dumps in {out_dir})")
    rows = []
    only = [name for name in os.environ.get("CALLGRIND_ONLY", "").split(",") if name]
    for name, requests, make in scenarios(pristine):
        if only and not any(name.startswith(prefix) for prefix in only):
            continue
        per = count(pristine, out_dir, make, requests)
        rows.append((name, requests, per))
        bench.log(f"  {name:<40} {per:>14,.0f} instructions a request")
    run_copy = os.path.join(bench.WORK, f"callgrind-{SIZE}-run-{os.getpid()}.db")
    for suffix in ("", "-wal", "-shm", ".lock"):
        if os.path.exists(run_copy + suffix):
            os.remove(run_copy + suffix)
    lines = ["| path | requests counted | instructions a request |", "|---|---:|---:|"]
    lines += [f"| {name} | {requests} | {per:,.0f} |" for name, requests, per in rows]
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
