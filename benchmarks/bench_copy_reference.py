"""The references for sync benchmarks: PostgreSQL COPY on loopback and through a 10 ms network.

A fresh central database (``_central.central_database``: the web's tables, the workstation
schema, the change-feed trigger on every table) gets 100,000 annotation and prediction rows
spread over 5,000 media of one study, by COPY into the real tables of a new study each time,
straight to the server and through the latency proxy (10 ms each way, as a hospital network
might add); the two take turns, ``--repeat`` rounds, medians. Then a row-by-row INSERT of
1,000 rows through the proxy: what a sync that sends one statement per row would reach. For
context: the round trip on each path, COPY with the change-feed trigger disabled, and the
row-by-row INSERT on loopback. Check: the proxy adds latency, not a throughput cap (proxied
COPY >= 0.8 of loopback). ``bench_sync.py`` divides its push and pull rates by these.

    uv run python benchmarks/bench_copy_reference.py [--rows N] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid

from _central import (
    central_database,
    connect,
    copy_reference,
    insert_reference,
    latency_proxy,
    make_rows,
)
from _media import machine, verdict

GOAL = 0.8


def round_trip_ms(url: str, via_port: int | None = None, count: int = 20) -> float:
    """Median milliseconds of ``SELECT 1`` (autocommit: one round trip each)."""
    conn = connect(url, via_port)
    conn.autocommit = True
    times = []
    try:
        with conn.cursor() as cur:
            for _ in range(count):
                started = time.perf_counter()
                cur.execute("SELECT 1")
                cur.fetchone()
                times.append(time.perf_counter() - started)
    finally:
        conn.close()
    return statistics.median(times) * 1000


def server_version(url: str) -> str:
    """The PostgreSQL server's version and the central schema's workstation revision."""
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            version = cur.fetchone()
            cur.execute("SELECT version_num FROM workstation.alembic_version")
            revision = cur.fetchone()
    finally:
        conn.close()
    return (
        f"PostgreSQL {version[0] if version else '?'}, "
        f"workstation revision {revision[0] if revision else '?'}"
    )


def main() -> int:
    """Print COPY rows/s on loopback and through the proxy, and the row-by-row rate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--media", type=int, default=5_000)
    parser.add_argument("--insert-rows", type=int, default=1_000)
    parser.add_argument("--delay-ms", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    media = tuple(uuid.uuid4() for _ in range(args.media))
    rows = make_rows(media, args.rows)
    few = make_rows(media[: max(1, args.insert_rows // 20)], args.insert_rows)
    shares = ", ".join(f"{table} {len(r):,}" for table, r in rows.items())
    print(f"rows: {args.rows:,} over {args.media:,} media ({shares})")

    with central_database() as url, latency_proxy(url, args.delay_ms / 1000) as proxy:
        print(f"server: {server_version(url)}")
        loop_rtt, proxy_rtt = round_trip_ms(url), round_trip_ms(url, proxy.port)
        loopback: list[float] = []
        proxied: list[float] = []
        for _ in range(args.repeat):
            loopback.append(copy_reference(url, rows))
            proxied.append(copy_reference(url, rows, proxy.port))
        no_feed = copy_reference(url, rows, triggers=False)
        by_row_proxied = insert_reference(url, few, proxy.port)
        by_row_loopback = insert_reference(url, few)

    copy_loop, copy_proxy = statistics.median(loopback), statistics.median(proxied)
    runs = lambda rates: ", ".join(f"{r:,.0f}" for r in rates)  # noqa: E731
    n = f"{args.rows:,}"
    print(f"round trip (SELECT 1): loopback {loop_rtt:.3f} ms, proxy {proxy_rtt:.2f} ms")
    print(f"COPY {n} rows, loopback      {copy_loop:9,.0f} rows/s  (runs {runs(loopback)})")
    print(
        f"COPY {n} rows, {args.delay_ms:g} ms proxy   {copy_proxy:9,.0f} rows/s  "
        f"(runs {runs(proxied)})"
    )
    print(f"COPY {n} rows, loopback, change-feed trigger off (context) {no_feed:9,.0f} rows/s")
    m = f"{args.insert_rows:,}"
    print(f"INSERT row by row, {m} rows, {args.delay_ms:g} ms proxy {by_row_proxied:9,.1f} rows/s")
    print(f"INSERT row by row, {m} rows, loopback (context) {by_row_loopback:9,.0f} rows/s")
    ratio = copy_proxy / copy_loop
    print(
        f"proxied / loopback COPY: {ratio:.2f} (goal >= {GOAL}: latency, not a cap) "
        f"{verdict(ratio >= GOAL)}"
    )
    print(
        f"row by row / COPY through the proxy: 1 / {copy_proxy / by_row_proxied:,.0f}; "
        f"{n} rows would take {args.rows / by_row_proxied / 60:,.0f} min row by row, "
        f"{args.rows / copy_proxy:.1f} s by COPY"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
