"""A tolerant reading of sequential JPEG frames, as the IJG library (and so GDCM) reads them.

Some encoders write a scan header (SOS) whose spectral selection is not the 0..63 that a
sequential DCT scan must declare (pydicom's ``JPEG-lossy.dcm`` says 0..0). The values carry no
information in sequential mode: IJG's libjpeg warns and decodes; libjpeg (pylibjpeg) refuses the
frame. ``repair_sequential_scans`` writes the only legal values, touching nothing else.
Threading: pure functions on bytes.
"""

from __future__ import annotations

_SEQUENTIAL_SOF = (0xC0, 0xC1)  # baseline and extended sequential DCT
_SOF = frozenset({*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), *range(0xCD, 0xD0)})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xDA)})  # TEM, RSTn, SOI, EOI
_SOS = 0xDA


def _skip_entropy_data(data: bytearray, start: int) -> int:
    """The offset of the next marker after entropy-coded data (stuffed 0xFF00 and RSTn skipped)."""
    at = start
    while at + 1 < len(data):
        if (
            data[at] == 0xFF
            and data[at + 1] not in (0x00, 0xFF)
            and not 0xD0 <= data[at + 1] <= 0xD7
        ):
            return at
        at += 1
    return len(data)


def repair_sequential_scans(frame: bytes) -> bytes | None:
    """``frame`` with every sequential scan's Ss/Se/Ah/Al set to 0/63/0/0; None: nothing to do.

    Only a baseline or extended sequential frame is touched: progressive and lossless scans use
    those fields for real.
    """
    data = bytearray(frame)
    if data[:2] != b"\xff\xd8":
        return None
    sequential, changed, at = False, False, 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None  # not a marker where one must be: leave the frame to the decoder
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        segment_end = at + 2 + length
        if length < 2 or segment_end > len(data):
            return None
        if marker in _SOF:
            sequential = marker in _SEQUENTIAL_SOF
        if marker == _SOS:
            if not sequential:
                return None
            tail = segment_end - 3  # Ss, Se, Ah/Al: the last three bytes of the header
            if bytes(data[tail:segment_end]) != b"\x00\x3f\x00":
                data[tail:segment_end] = b"\x00\x3f\x00"
                changed = True
            at = _skip_entropy_data(data, segment_end)
            continue
        at = segment_end
    return bytes(data) if changed else None
