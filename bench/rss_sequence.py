#!/usr/bin/env python3
"""Peak RSS of `serve` under the reports and exports that build the most, one request at a time.

    python3 bench/rss_sequence.py /path/book.db [runs]

The peak of a book's reports grows with the customers who owe (the aging lists each one),
not with its invoices, so a book seeded with many customers (`seed-demo --customers 50000`)
shows what a 10M book's reports cost without seeding 45 GB. Each run starts a fresh
server, then sends aging, dashboard, aging, aging, the aging as CSV, the four list exports
and the overdue export, and aging again, printing `VmHWM` after start-up and after each.
BENCH_BIN names the binary (default target/release/arvalox).
"""

import sys
import urllib.request

import bench

SEQUENCE = [
    "/v1/reports/aging",
    "/v1/reports/dashboard",
    "/v1/reports/aging",
    "/v1/reports/aging",
    "/v1/reports/aging?format=csv",
    "/v1/invoices?format=csv",
    "/v1/payments?format=csv",
    "/v1/customers?format=csv",
    "/v1/credit-notes?format=csv",
    "/v1/invoices?format=csv&status=overdue",
    "/v1/reports/aging",
]


def fetch(server, key, path):
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}",
                                     headers={"x-arvalox-api-key": key})
    with urllib.request.urlopen(request, timeout=600) as answer:
        size = 0
        while chunk := answer.read(1 << 16):
            size += len(chunk)
    return size


def run(db, key):
    server = bench.Server(db)
    try:
        rows = [("start-up", 0, server.peak_rss_mib())]
        for path in SEQUENCE:
            size = fetch(server, key, path)
            rows.append((path, size, server.peak_rss_mib()))
    finally:
        server.stop()
    return rows


def main():
    db = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    key = bench.new_key(db)
    for number in range(1, runs + 1):
        print(f"run {number}: {db}")
        for path, size, peak in run(db, key):
            print(f"  {path:<42} {size / 1e6:>9.1f} MB   VmHWM {peak:6.1f} MiB")


if __name__ == "__main__":
    main()
