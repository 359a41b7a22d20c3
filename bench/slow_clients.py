#!/usr/bin/env python3
"""Do slow clients slow the others? Run: python3 bench/slow_clients.py (after bash bench/run.sh
or cargo build --release). Serves a 10,000-invoice book, measures GET /v1/invoices/{id} with
wrk, then again while 500 slowloris connections trickle their headers one byte a second (each
kept under the read timeout by starting over when cut), and prints both. Not part of the test
run: the tests check that the slow connections are cut and the others answered; this measures
the latency.
"""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

SLOW = int(os.environ.get("SLOW_CONNECTIONS", "500"))


def slowloris(port, stop):
    """Keeps SLOW connections open, each sending a header byte a second, reopening any the
    server cuts; returns how many it had to reopen."""
    def opened():
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /v1/customers HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        return s

    streams = [opened() for _ in range(SLOW)]
    cut = 0
    while not stop.is_set():
        for i, s in enumerate(streams):
            try:
                s.sendall(b"a")
            except OSError:
                cut += 1
                s.close()
                streams[i] = opened()
        time.sleep(1)
    for s in streams:
        s.close()
    return cut


def main():
    db = bench.seed(10000)
    key = bench.new_key(db)
    server = bench.Server(db)
    env = {"KEY": key, "MAXID": "10000"}
    try:
        bench.warm_up(server, key, ["/v1/invoices/1"])
        quiet = bench.wrk(server, "GET /v1/invoices/{id}", "invoice", 16, env)
        stop = threading.Event()
        result = {}
        thread = threading.Thread(target=lambda: result.update(cut=slowloris(server.port, stop)))
        thread.start()
        time.sleep(3)
        loaded = bench.wrk(server, f"  with {SLOW} slowloris connections open", "invoice", 16, env)
        stop.set()
        thread.join()
    finally:
        server.stop()
    print(f"p50 {quiet['p50']:.2f} -> {loaded['p50']:.2f} ms, p99 {quiet['p99']:.2f} -> "
          f"{loaded['p99']:.2f} ms, req/s {quiet['rps']:.0f} -> {loaded['rps']:.0f}; "
          f"slow connections cut and reopened: {result.get('cut', 0)}")


if __name__ == "__main__":
    main()
