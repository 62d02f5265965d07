"""The latency proxy: a pipe with 10 ms each way that keeps its throughput, and cut() drops links.

Real PostgreSQL behind the proxy for what the sync benchmarks and fault tests rely on; a
local echo server for what needs the bytes themselves (order, spacing).
"""

from __future__ import annotations

import io
import os
import socket
import socketserver
import statistics
import threading
import time
from collections.abc import Iterator

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from tests.support.latency_proxy import LatencyProxy

DELAY = 0.010


def _connect(url: str, port: int) -> psycopg2.extensions.connection:
    parts = make_url(url)
    return psycopg2.connect(
        host="127.0.0.1", port=port, user=parts.username, dbname=parts.database, sslmode="disable"
    )


def _pg_target(url: str) -> tuple[str, int]:
    parts = make_url(url)
    return parts.host or "127.0.0.1", parts.port or 5432


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo_server() -> Iterator[tuple[str, int]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server.server_address  # type: ignore[misc]
    server.shutdown()
    server.server_close()
    thread.join()


def _receive(sock: socket.socket, size: int) -> bytes:
    got = bytearray()
    while len(got) < size:
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return bytes(got)


def test_bytes_arrive_whole_and_in_order_both_ways(echo_server: tuple[str, int]) -> None:
    payload = os.urandom(3_000_000)
    with (
        LatencyProxy(echo_server, delay=DELAY) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port)) as sock,
    ):
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        echoed = _receive(sock, len(payload))
        sender.join()
    assert echoed == payload


@pytest.mark.timing
def test_a_stream_keeps_its_bandwidth_through_the_delay(echo_server: tuple[str, int]) -> None:
    """32 MB there and back in well under a second: the delay is latency, not a bandwidth cap.

    A proxy that slept 10 ms per 64 KiB read would move at most 6.5 MB/s (5 s here).
    """
    payload = os.urandom(32_000_000)
    with (
        LatencyProxy(echo_server, delay=DELAY) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port)) as sock,
    ):
        started = time.perf_counter()
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        echoed = _receive(sock, len(payload))
        seconds = time.perf_counter() - started
        sender.join()
    assert echoed == payload
    assert len(payload) / seconds > 40e6, f"{len(payload) / seconds / 1e6:.0f} MB/s"


@pytest.mark.postgres
def test_a_postgres_connection_through_the_proxy_answers_queries(pg_database: str) -> None:
    with LatencyProxy(_pg_target(pg_database), delay=DELAY) as proxy:
        conn = _connect(pg_database, proxy.port)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT current_database(), 40 + 2")
                assert cur.fetchone() == (make_url(pg_database).database, 42)
            assert proxy.connections == 1
        finally:
            conn.close()


@pytest.mark.postgres
@pytest.mark.timing
def test_a_round_trip_costs_twice_the_delay(pg_database: str) -> None:
    with LatencyProxy(_pg_target(pg_database), delay=DELAY) as proxy:
        conn = _connect(pg_database, proxy.port)
        conn.autocommit = True  # one statement, one round trip (no BEGIN first)
        try:
            times = []
            with conn.cursor() as cur:
                for _ in range(15):
                    started = time.perf_counter()
                    cur.execute("SELECT 1")
                    cur.fetchone()
                    times.append(time.perf_counter() - started)
        finally:
            conn.close()
    median = statistics.median(times)
    assert min(times) >= 2 * DELAY
    assert median < 0.060, f"median {median * 1000:.1f} ms"


@pytest.mark.postgres
@pytest.mark.timing
def test_copy_through_the_proxy_keeps_its_throughput(pg_database: str) -> None:
    rows = 100_000
    lines = "".join(
        f"{i}\t{i % 9}\tnasal bone\t{i * 0.5}\t{i * 0.25}\t12.5\t30.0\tt\n" for i in range(rows)
    )
    with LatencyProxy(_pg_target(pg_database), delay=DELAY) as proxy:
        conn = _connect(pg_database, proxy.port)
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "CREATE TABLE boxes (id bigint, media integer, bb_class text, x_min float8, "
                    "y_min float8, width float8, height float8, is_hidden boolean)"
                )
                conn.commit()
                started = time.perf_counter()
                cur.copy_expert("COPY boxes FROM STDIN", io.StringIO(lines))
                conn.commit()
                seconds = time.perf_counter() - started
                cur.execute("SELECT count(*), sum(id) FROM boxes")
                assert cur.fetchone() == (rows, rows * (rows - 1) // 2)
        finally:
            conn.close()
    assert rows / seconds > 60_000, f"{rows / seconds:,.0f} rows/s"


@pytest.mark.postgres
def test_cut_breaks_open_connections_and_new_ones_still_work(pg_database: str) -> None:
    with LatencyProxy(_pg_target(pg_database), delay=DELAY) as proxy:
        before = _connect(pg_database, proxy.port)
        try:
            with before.cursor() as cur:
                cur.execute("SELECT 1")
            proxy.cut()
            assert proxy.connections == 0
            with pytest.raises(psycopg2.OperationalError), before.cursor() as cur:
                cur.execute("SELECT 1")
        finally:
            before.close()
        after = _connect(pg_database, proxy.port)
        try:
            with after.cursor() as cur:
                cur.execute("SELECT 2")
                assert cur.fetchone() == (2,)
        finally:
            after.close()
