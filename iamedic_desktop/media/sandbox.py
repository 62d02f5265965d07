"""Untrusted files are read in a child process, so a file that crashes or hangs a decoder costs
that file, never the application.

``IsolatedWorker`` starts ``python -m iamedic_desktop.media.inspect_worker`` in its own process
group and sends it one task at a time as a JSON line on stdin; the answer comes back as one
JSON line on stdout. The child limits its own address space (``MEMORY_LIMIT_BYTES``) and
writes no core dumps. When a task overruns its time limit, is cancelled, or the child dies
(killed by a signal: a decoder crash), the whole process group (ffprobe and ffmpeg included)
is killed and the next task starts a fresh child. The child kills itself when its parent dies.
Threading: one IsolatedWorker serves one thread at a time (calls are serialised by a lock).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from types import TracebackType
from typing import Any, Self

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.core.progress import CancelledError, CancelToken

log = logging.getLogger(__name__)

MEMORY_LIMIT_BYTES = 2 * 1024**3
WORKER_MODULE = "iamedic_desktop.media.inspect_worker"
# Time the child gets beyond a task's own limit to report that limit itself (its ffprobe
# call is limited to the same time, and a clean answer beats a kill).
GRACE_SECONDS = 1.0
_POLL_SECONDS = 0.1


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class IsolatedWorker:
    """A child process that runs inspection and conversion tasks under time and memory limits."""

    def __init__(self, *, memory_limit: int = MEMORY_LIMIT_BYTES) -> None:
        self.memory_limit = memory_limit
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        """The running child's process id (None when none runs)."""
        return self._proc.pid if self._proc is not None else None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE, "--memory-limit", str(self.memory_limit)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: one kill takes ffmpeg with it
            env=env,
        )
        return self._proc

    def call(
        self,
        task: str,
        args: dict[str, Any],
        *,
        timeout: float,
        cancel: CancelToken | None = None,
    ) -> dict[str, Any]:
        """Run ``task`` in the child; its result, or InvalidInputError saying why not."""
        with self._lock:
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            request = json.dumps({"task": task, "args": args}) + "\n"
            try:
                proc.stdin.write(request.encode("utf-8"))
                proc.stdin.flush()
            except OSError:
                return self._died(proc)
            line = self._read_line(proc, time.monotonic() + timeout + GRACE_SECONDS, cancel)
            if line is None:
                self._kill(proc)
                raise InvalidInputError(
                    f"The file took longer than {timeout:g} s to read and was refused."
                )
            if not line:
                return self._died(proc)
        answer = json.loads(line)
        if answer.get("ok"):
            result: dict[str, Any] = answer["result"]
            return result
        raise InvalidInputError(str(answer.get("message") or "The file could not be read."))

    def _read_line(
        self, proc: subprocess.Popen[bytes], deadline: float, cancel: CancelToken | None
    ) -> bytes | None:
        """One line from the child; b'' when it closed its end, None at the deadline."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while True:
                if cancel is not None and cancel.cancelled:
                    self._kill(proc)
                    raise CancelledError("The import was cancelled.")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                if not selector.select(min(remaining, _POLL_SECONDS)):
                    continue
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    return b""
                buffer += chunk
                if buffer.endswith(b"\n"):
                    return buffer

    def _died(self, proc: subprocess.Popen[bytes]) -> dict[str, Any]:
        code = proc.wait()
        self._kill(proc)
        if code < 0:
            name = _signal_name(-code)
            log.warning("⚠️ The inspection process was killed by %s", name)
            raise InvalidInputError(
                f"The file made the decoder crash ({name}) and was refused; the application "
                "was not affected."
            )
        raise InvalidInputError(
            f"The inspection of the file stopped unexpectedly (exit status {code}); it was refused."
        )

    def _kill(self, proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        if self._proc is proc:
            self._proc = None

    def close(self) -> None:
        """Stop the child (it also stops by itself when this process ends)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # end of input: the child leaves its loop
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)
        self._kill(proc)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def run_isolated(task: str, args: dict[str, Any], *, timeout: float) -> dict[str, Any]:
    """Run one task in a fresh child (for a single file; an import keeps one worker)."""
    with IsolatedWorker() as worker:
        return worker.call(task, args, timeout=timeout)
