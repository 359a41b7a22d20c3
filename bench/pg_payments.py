#!/usr/bin/env python3
"""What a durable payment costs on PostgreSQL, per payment: the statements the server sends
(from pg_stat_statements), the foreign-key checks PostgreSQL runs itself, and the CPU time
of the backends and of the server (from /proc), over one wrk run at c=64.

    cargo build --release && python3 bench/pg_payments.py                     # 64 organizations
    cargo build --release && python3 bench/pg_payments.py --one-organization  # the 10k book

Environment as bench/run.sh: BENCH_DIR (seeded books are kept there), BENCH_DURATION.
Needs PostgreSQL installed (a throwaway cluster, fsync on, is started and removed).
"""

import os
import subprocess
import sys

os.environ.setdefault(
    "PG_OPTIONS", "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all")
import bench  # noqa: E402  (after PG_OPTIONS: its cluster reads them)

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(command_prefix):
    """CPU time so far of every process whose command starts with `command_prefix`."""
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        command = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        if command.startswith(command_prefix):
            ticks += int(fields[11]) + int(fields[12])
    return ticks / TICK


def psql(url, sql):
    return subprocess.run(["psql", "-Atq", url, "-c", sql], check=True, capture_output=True,
                          text=True).stdout.strip()


def main():
    one = "--one-organization" in sys.argv
    if one:
        book = bench.seed(10000)
        lines, scenario, name = bench.payment_pairs(book), "payment", "one organization"
    else:
        (book, lines), scenario, name = bench.tenants_book(), "tenant_payment", "64 organizations"
    cluster = bench.start_cluster()
    if cluster is None:
        sys.exit("PostgreSQL is not installed")
    server_url, directory = cluster
    try:
        psql(f"{server_url}/postgres", "CREATE DATABASE book")
        url = f"{server_url}/book"
        subprocess.run([bench.BIN, "migrate-db", "--from", book, "--to", url], check=True,
                       stdout=subprocess.DEVNULL)
        env = {"PAIRS": lines, **({"KEY": bench.new_key(url)} if one else {})}
        psql(url, "CREATE EXTENSION pg_stat_statements")
        server = bench.Server(url)
        payments_before = int(psql(url, "SELECT COUNT(*) FROM payments"))
        psql(url, "SELECT pg_stat_statements_reset()")
        cpu_before = cpu_seconds("postgres"), cpu_seconds("arvalox")
        row = bench.wrk(server, f"POST /v1/payments ({name})", scenario, 64, env)
        cpu_after = cpu_seconds("postgres"), cpu_seconds("arvalox")
        server.stop()
        payments = int(psql(url, "SELECT COUNT(*) FROM payments")) - payments_before
        sent = int(psql(url, "SELECT COALESCE(SUM(calls), 0) FROM pg_stat_statements "
                             "WHERE query NOT LIKE '%FOR KEY SHARE%' AND query NOT LIKE '%pg_stat_statements%'"))
        checks = int(psql(url, "SELECT COALESCE(SUM(calls), 0) FROM pg_stat_statements "
                               "WHERE query LIKE '%FOR KEY SHARE%'"))
        backends, server_cpu = (after - before for after, before in zip(cpu_after, cpu_before))
        print(f"{name}, c=64: {row['rps']:.0f} payments/s, {payments} payments, per payment: "
              f"{sent / payments:.1f} statements sent, {checks / payments:.1f} foreign-key checks, "
              f"backends {1000 * backends / payments:.2f} ms CPU, "
              f"server {1000 * server_cpu / payments:.2f} ms CPU")
    finally:
        bench.stop_cluster(directory)


if __name__ == "__main__":
    main()
