"""JPEG stills: faithful colours (RGB order, full chroma), refusals of what is not a frame."""

from __future__ import annotations

import numpy as np
import pytest

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media.still_encoder import decode_jpeg, encode_jpeg


def _picture(height: int = 120, width: int = 161) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width]
    picture = np.stack(
        [xs * 255 // (width - 1), ys * 255 // (height - 1), (xs // 20 % 2) * 255], -1
    )
    return picture.astype(np.uint8)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def test_round_trip_keeps_size_colour_order_and_detail() -> None:
    picture = _picture()
    data = encode_jpeg(picture)
    assert data[:3] == b"\xff\xd8\xff"  # a JPEG
    back = decode_jpeg(data)
    assert back.shape == picture.shape and back.dtype == np.uint8
    assert _psnr(back, picture) > 38  # sharp colour stripes survive (4:4:4)
    red = np.zeros((16, 16, 3), np.uint8)
    red[..., 0] = 255
    assert tuple(decode_jpeg(encode_jpeg(red))[8, 8]) == pytest.approx((255, 0, 0), abs=2)


def test_quality_trades_size_for_fidelity() -> None:
    picture = _picture()
    low, high = encode_jpeg(picture, 30), encode_jpeg(picture, 95)
    assert len(low) < len(high)
    assert _psnr(decode_jpeg(low), picture) < _psnr(decode_jpeg(high), picture)


def test_a_non_contiguous_view_is_encoded_as_shown() -> None:
    picture = _picture()
    view = picture[::2, ::-1]
    assert _psnr(decode_jpeg(encode_jpeg(view)), np.ascontiguousarray(view)) > 38


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((10, 10), np.uint8),
        np.zeros((10, 10, 4), np.uint8),
        np.zeros((10, 10, 3), np.float32),
        np.zeros((0, 10, 3), np.uint8),
    ],
    ids=["grey", "rgba", "float", "empty"],
)
def test_what_is_not_an_rgb_frame_is_refused(frame: np.ndarray) -> None:
    with pytest.raises(InvalidInputError, match="RGB picture"):
        encode_jpeg(frame)


@pytest.mark.parametrize("quality", [0, 101, True, 9.5])
def test_bad_quality_is_refused(quality: object) -> None:
    with pytest.raises(InvalidInputError, match="quality"):
        encode_jpeg(_picture(), quality)  # type: ignore[arg-type]


def test_bytes_that_are_not_a_jpeg_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="not a readable JPEG"):
        decode_jpeg(b"not a picture")
