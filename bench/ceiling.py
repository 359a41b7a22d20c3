#!/usr/bin/env python3
"""The ceiling of one file: the same cells on books of different sizes, one after another.

    python3 bench/ceiling.py /path/book-1000000.db /path/book-10000000.db[:/path/arvalox]

Each book must be seeded already (`arvalox seed-demo --invoices N --customers N/200
--as-of DATE`; 10M takes about 40 minutes and 44 GB). For each: start-up, `/health`,
invoice reads (random ids over the whole book), the aging report and the dashboard at c=1
(p50 and p99 of one request at a time), then durable payments, which write into the book
(run it on a copy you can spare). Prints one table and writes it to `bench/ceiling.md`.
BENCH_BIN names the binary (default target/release/arvalox), or `:BINARY` after a book
names the one for that book; BENCH_DURATION each cell.
"""

import os
import sqlite3
import sys

import bench

CELLS = []


def largest_invoice(db):
    conn = sqlite3.connect(db)
    (largest,) = conn.execute("SELECT MAX(id) FROM invoices").fetchone()
    conn.close()
    return largest


def measure(db):
    size = largest_invoice(db)
    bench.log(f"the {size}-invoice book: {db}")
    key = bench.new_key(db)
    env = {"KEY": key, "MAXID": str(size)}
    server = bench.Server(db)
    startup = server.startup
    into = []
    bench.warm_up(server, key, ["/v1/reports/aging", "/v1/reports/dashboard"], times=2)
    bench.wrk(server, "GET /health", "get", 64, into=into)
    for c in (1, 16, 64):
        bench.wrk(server, "GET /v1/invoices/{id}", "invoice", c, env, into=into)
    for report in ("aging", "dashboard"):
        bench.wrk(server, f"GET /v1/reports/{report}", "get", 1, env, path=f"/v1/reports/{report}",
                  timeout="60s", into=into)
    pairs = bench.payment_pairs(db)
    for c in (1, 16, 64):
        bench.wrk(server, "POST /v1/payments (durable)", "payment", c, {**env, "PAIRS": pairs}, into=into)
    rss = server.peak_rss_mib()
    server.stop()
    file_gb = os.path.getsize(db) / 1e9
    CELLS.append((size, file_gb, startup, rss, into))
    bench.log(f"  file {file_gb:.1f} GB, start-up {startup * 1000:.0f} ms, peak RSS {rss:.1f} MiB")


def main():
    books = sys.argv[1:]
    if not books:
        sys.exit(__doc__)
    default = bench.BIN
    for book in books:
        db, _, binary = book.partition(":")
        bench.BIN = binary or default
        measure(db)
    lines = [f"One file at different sizes ({bench.DURATION} a cell, wrk on the same machine, "
             "rate limits off, synchronous=full).", "",
             "| book | file | start-up | peak RSS | scenario | c | req/s | p50 ms | p99 ms | errors |",
             "|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for size, file_gb, startup, rss, into in CELLS:
        for n, r in enumerate(into):
            head = (f"{size:,}", f"{file_gb:.1f} GB", f"{startup * 1000:.0f} ms", f"{rss:.1f} MiB") \
                if n == 0 else ("", "", "", "")
            lines.append("| " + " | ".join(head) + f" | {r['name']} | {r['c']} | {r['rps']:.0f} | "
                         f"{r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} |")
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(bench.ROOT, "bench", "ceiling.md"), "w") as out:
        out.write(table + "\n")


if __name__ == "__main__":
    main()
