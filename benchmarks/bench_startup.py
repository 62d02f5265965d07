"""From process start to the window shown with its store open, and what was imported by then.

Each run starts a fresh Python process (the same interpreter as ``iamedic``) that goes through
the real entry point (``iamedic_desktop.cli.main`` with no command: settings, logging, the
QApplication, the theme, the main window); the process prints one line when the window is
visible and the store it opens off the UI thread is ready, with the heavy modules loaded by
then. The parent times from ``Popen`` to that line. The store is made (migrated) before the
runs, as on every start after the first. References: ``python -c pass`` and
``python -c "import PySide6.QtWidgets"``.
Goal: median < 1.5 s; cv2, pydicom, mlflow and onnxruntime not imported at start-up.

    QT_QPA_PLATFORM=offscreen uv run python benchmarks/bench_startup.py [runs]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _media import machine, median, verdict

RUNS = 7
GOAL_S = 1.5
HEAVY = ("cv2", "pydicom", "mlflow", "onnxruntime")
ALSO_REPORTED = ("numpy", "PIL", "sqlalchemy", "alembic", "magic")

CHILD = r"""
import sys, json
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])

def hook():
    from iamedic_desktop.ui.main_window import MainWindow
    window = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))

    def ready():
        names = %r
        loaded = {name: name in sys.modules for name in names}
        print("READY " + json.dumps({"visible": window.isVisible(), "loaded": loaded}), flush=True)
        window.close()

    if window.store is not None:
        ready()
    else:
        window.store_ready.connect(ready)

QTimer.singleShot(0, hook)
from iamedic_desktop.cli import main
sys.exit(main([]))
"""


def timed(args: list[str], env: dict[str, str], marker: str | None) -> tuple[float, str]:
    """Seconds from start to ``marker`` on stdout (or to exit), and that line."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True
    )
    line = ""
    assert proc.stdout is not None
    if marker is None:
        proc.wait()
        return time.perf_counter() - start, line
    for line in proc.stdout:
        if line.startswith(marker):
            elapsed = time.perf_counter() - start
            break
    else:
        raise SystemExit(f"the window never reported ready (exit {proc.wait()})")
    proc.wait(timeout=60)
    return elapsed, line


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else RUNS
    work = Path(tempfile.mkdtemp(prefix="iamedic-bench-startup-"))
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "IAMEDIC_DATA_DIR": str(work / "data"),
        "IAMEDIC_CACHE_DIR": str(work / "cache"),
        "IAMEDIC_SETTINGS_FILE": str(work / "settings.toml"),
        "XDG_CONFIG_HOME": str(work / "config"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    print(machine())
    py = sys.executable
    child = CHILD % (HEAVY + ALSO_REPORTED,)
    # The first start creates and migrates the store; not counted.
    timed([py, "-c", child], env, "READY")

    samples: dict[str, list[float]] = {"pass": [], "qt": [], "window": []}
    last = ""
    for _ in range(runs):  # the three take turns, so a passing load hits them alike
        samples["pass"].append(timed([py, "-c", "pass"], env, None)[0])
        samples["qt"].append(timed([py, "-c", "import PySide6.QtWidgets"], env, None)[0])
        elapsed, last = timed([py, "-c", child], env, "READY")
        samples["window"].append(elapsed)

    report = json.loads(last.split(" ", 1)[1])
    window = median(samples["window"])
    print(f"python -c pass                    median {median(samples['pass']) * 1000:7.0f} ms")
    print(f"import PySide6.QtWidgets          median {median(samples['qt']) * 1000:7.0f} ms")
    print(
        f"start to window shown, store open median {window * 1000:7.0f} ms "
        f"(min {min(samples['window']) * 1000:.0f}, max {max(samples['window']) * 1000:.0f}; "
        f"{runs} runs; goal < {GOAL_S * 1000:.0f} ms) -> {verdict(window < GOAL_S)}"
    )
    print(f"window visible when ready: {report['visible']}")
    heavy = [name for name in HEAVY if report["loaded"][name]]
    for name in (*HEAVY, *ALSO_REPORTED):
        print(f"  {name:<12} {'imported' if report['loaded'][name] else 'not imported'}")
    print(f"heavy libraries loaded lazily: {verdict(not heavy)}" + (f" ({heavy})" if heavy else ""))


if __name__ == "__main__":
    main()
