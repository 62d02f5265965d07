"""What a keyframe every second costs in file size, for the workstation's own encodes.

Each hard input (``_media.hard_inputs``; the 30-minute file's first 5 minutes) is encoded twice
with the transcode's settings (``media/transcode.py``: libx264 veryfast, CRF 18, yuv420p): with
x264's default keyframe interval (250 frames) and with ``-g`` from ``keyframe_interval`` (one
second of frames). DICOM cines use the same interval (CRF 12, preset fast): the relative cost
is of the same kind. Prints both sizes and the ratio.

    uv run python benchmarks/bench_keyframe_cost.py
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from _media import FFMPEG, hard_inputs, machine

from iamedic_desktop.media.transcode import keyframe_interval
from iamedic_desktop.media.video_index import probe_stream


def encode(path: Path, out: Path, gop: int | None) -> int:
    """Bytes of ``path`` encoded as the transcode does, with keyframe interval ``gop``."""
    limit = ["-t", "300"] if "long" in path.name else []
    command = [*FFMPEG, "-i", str(path), *limit, "-map", "0:v:0", "-c:v", "libx264"]
    command += ["-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]
    command += [] if gop is None else ["-g", str(gop)]
    command += ["-fps_mode", "passthrough", "-an", str(out)]
    subprocess.run(command, check=True)
    return out.stat().st_size


def main() -> None:
    print(f"bench_keyframe_cost: {machine()}")
    print(f"  {'file':28} {'fps':>5} {'default GOP':>12} {'1 s GOP':>12} {'cost':>7}")
    with tempfile.TemporaryDirectory(prefix="iamedic-gop-") as folder:
        for path in hard_inputs():
            fps = probe_stream(path)["fps"]
            gop = keyframe_interval(fps)
            default = encode(path, Path(folder) / "default.mp4", None)
            short = encode(path, Path(folder) / "short.mp4", gop)
            print(
                f"  {path.name:28} {fps:5.1f} {default / 1e6:10.2f}MB {short / 1e6:10.2f}MB "
                f"{(short / default - 1) * 100:+6.1f}%  (-g {gop})"
            )


if __name__ == "__main__":
    main()
