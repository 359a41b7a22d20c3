#!/usr/bin/env python3
"""A hot invoice (issue 16): a retainer paid in many small instalments. One invoice of
200.00 takes PAYMENTS payments of 0.01, one after another over one kept-alive connection
(durable, synchronous=full); for each thousand the script reports the server's CPU time per
payment (from /proc: it does not count the client) and the wall-clock time, then the last
thousand's cost over the first's. The target: at most 1.2.

    cargo build --release && python3 bench/hot_invoice.py [PAYMENTS]

Environment: BENCH_BIN, BENCH_DIR (as bench/run.sh); HOT_DB names the book instead of a new
file in BENCH_DIR, such as an empty PostgreSQL database (postgres://…).
"""

import datetime
import http.client
import json
import os
import sys
import time

import bench

PAYMENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def main():
    db = os.environ.get("HOT_DB") or os.path.join(bench.WORK, f"hot-invoice-{os.getpid()}.db")
    server = bench.Server(db)
    try:
        key = bench.new_key(db)
        conn = http.client.HTTPConnection("127.0.0.1", server.port)

        def post(path, body):
            conn.request("POST", path, json.dumps(body),
                         {"x-arvalox-api-key": key, "Content-Type": "application/json"})
            response = conn.getresponse()
            text = response.read()
            if response.status != 201:
                raise RuntimeError(f"{path}: {response.status} {text[:300]!r}")
            return json.loads(text)

        today = datetime.date.today().isoformat()
        customer = post("/v1/customers", {"name": "Retainer client"})["id"]
        invoice = post("/v1/invoices", {
            "customer_id": customer, "status": "sent", "issue_date": today,
            "items": [{"description": "Retainer", "quantity": 1, "unit_price": "200.00"}]})["id"]
        payment = {"customer_id": customer, "invoice_id": invoice, "amount": "0.01",
                   "payment_method": "bank_transfer", "payment_date": today}
        per_thousand = []
        for start in range(0, PAYMENTS, 1000):
            cpu, wall = cpu_seconds(server.proc.pid), time.perf_counter()
            for _ in range(start, min(start + 1000, PAYMENTS)):
                post("/v1/payments", payment)
            count = min(1000, PAYMENTS - start)
            per_thousand.append(((cpu_seconds(server.proc.pid) - cpu) * 1000 / count,
                                 (time.perf_counter() - wall) * 1000 / count))
        print("| payments | server CPU ms/payment | wall ms/payment |")
        print("|---|---:|---:|")
        for n, (cpu, wall) in enumerate(per_thousand):
            print(f"| {n * 1000 + 1}–{(n + 1) * 1000} | {cpu:.3f} | {wall:.3f} |")
        first, last = per_thousand[0], per_thousand[-1]
        print(f"\nlast thousand / first: CPU {last[0] / first[0]:.2f}, wall {last[1] / first[1]:.2f}")
        conn.request("GET", f"/v1/invoices/{invoice}", headers={"x-arvalox-api-key": key})
        response = conn.getresponse()
        body = response.read()
        print(f"invoice detail: {len(body)} bytes, amount_paid {json.loads(body)['amount_paid']}")
    finally:
        server.stop()
        for suffix in ("", "-wal", "-shm", ".lock"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)


if __name__ == "__main__":
    main()
