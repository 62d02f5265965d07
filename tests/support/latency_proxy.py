"""A hospital network stand-in: a TCP proxy that delays every byte by a fixed time each way.

``LatencyProxy(("127.0.0.1", 5432), delay=0.010)`` listens on 127.0.0.1 (a free port unless
one is given) and pipes each accepted connection to the target. Every chunk read from one side
is written to the other side ``delay`` seconds after it was read, in order; reading goes on
meanwhile, so the proxy behaves like a link with latency, not a per-chunk sleep that would cap
the bandwidth: a round trip costs ``2 * delay``, a stream keeps its throughput. ``cut()`` drops
every open connection (both sides reset) and keeps listening, for fault tests.

Threading: the proxy runs its own asyncio event loop in one daemon thread; ``port``, ``cut()``
and ``close()`` may be called from any other thread (they hand their work to the loop and wait
for it). Used as a context manager, it starts on entry and closes on exit.

Command line: ``python -m tests.support.latency_proxy --target 127.0.0.1:5432 --delay-ms 10
--port 6543`` runs one until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

CHUNK = 64 * 1024
IN_FLIGHT = 1024  # chunks queued per direction before reading that side waits (back-pressure)
T = TypeVar("T")


class LatencyProxy:
    """A TCP proxy to ``target`` adding ``delay`` seconds to every chunk in each direction."""

    def __init__(
        self,
        target: tuple[str, int],
        delay: float = 0.010,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if delay < 0:
            raise ValueError("delay must be zero or more seconds")
        self.target = target
        self.delay = delay
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._links: set[asyncio.Task[None]] = set()

    # -- lifecycle (any thread) -------------------------------------------------------------

    def start(self) -> LatencyProxy:
        """Start listening; returns once the port is bound."""
        if self._thread is not None:
            raise RuntimeError("the proxy is already running")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="latency-proxy", daemon=True)
        self._thread.start()
        try:
            self._server = self._call(self._listen())
        except BaseException:
            self._stop_loop()
            raise
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    def close(self) -> None:
        """Stop listening, drop every connection and end the loop's thread."""
        if self._loop is None:
            return
        try:
            self._call(self._shutdown())
        finally:
            self._stop_loop()

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        """The port the proxy listens on."""
        if self._port is None:
            raise RuntimeError("the proxy is not running: use start() or a with block")
        return self._port

    @property
    def connections(self) -> int:
        """How many client connections are open through the proxy now."""
        return self._call(self._count())

    def cut(self) -> None:
        """Drop every open connection (reset on both sides); keep listening for new ones."""
        self._call(self._drop_all())

    # -- the loop's side ---------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the proxy is not running: use start() or a with block")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    def _stop_loop(self) -> None:
        assert self._loop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = None
        self._thread = None
        self._port = None

    async def _listen(self) -> asyncio.Server:
        return await asyncio.start_server(self._serve, self.host, self._requested_port)

    async def _count(self) -> int:
        return sum(not link.done() for link in self._links)

    async def _drop_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        links = list(self._links)
        for link in links:
            link.cancel()
        if links:
            await asyncio.wait(links)

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._drop_all()
        await self._server.wait_closed()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        # The link runs as its own task so that cut() can cancel it: a cancelled connection
        # handler makes asyncio's server log an error.
        link = asyncio.create_task(self._link(client_r, client_w))
        self._links.add(link)
        link.add_done_callback(self._links.discard)
        await asyncio.wait([link])

    async def _link(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        """Pipe one client connection to a new connection to the target, both ways."""
        self._writers.add(client_w)
        server_w: asyncio.StreamWriter | None = None
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
            self._writers.add(server_w)
            async with asyncio.TaskGroup() as both:
                both.create_task(self._pipe(client_r, server_w))
                both.create_task(self._pipe(server_r, client_w))
        except* OSError:
            pass  # one side went away: the other is dropped below, as a broken link would
        finally:
            for writer in (client_w, server_w):
                if writer is not None:
                    self._writers.discard(writer)
                    writer.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Forward one direction: read on, and deliver each chunk ``delay`` after its arrival."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(IN_FLIGHT)

        async def receive() -> None:
            while True:
                data = await reader.read(CHUNK)
                await queue.put((loop.time() + self.delay, data))
                if not data:
                    return

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:  # the sender's end of stream: pass the half-close on
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()

        async with asyncio.TaskGroup() as both:
            both.create_task(receive())
            both.create_task(deliver())


def _target(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("give the target as host:port, e.g. 127.0.0.1:5432")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    """Run a latency proxy until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=_target, required=True, help="host:port to forward to")
    parser.add_argument("--delay-ms", type=float, default=10.0, help="delay each way (ms)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: free)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    args = parser.parse_args(argv)
    proxy = LatencyProxy(args.target, args.delay_ms / 1000, host=args.host, port=args.port)
    with proxy:
        host, port = args.target
        print(
            f"🚀 latency proxy {args.host}:{proxy.port} -> {host}:{port}, "
            f"{args.delay_ms:g} ms each way (Ctrl+C stops it)",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    print("✅ latency proxy stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
