"""The models' input, exactly as the web's services make it (spec/domain_rules.md).

The image converted to 8-bit greyscale (Pillow's ``L``: ITU-R 601-2 luma), resized to 224 x 224
with Lanczos (aspect not kept), float32 scaled to [-1, 1] as (x/255 - 0.5)/0.5, shape
[1, 1, 224, 224]. Pillow does the conversion and the resize, as on the web, so a frame scores
the same here and there. Pillow releases the GIL while it resizes, so frames can be prepared
on a decoding thread while another runs the model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

INPUT_SIZE = 224
INPUT_NAME = "input"


def to_grey(image: np.ndarray) -> np.ndarray:
    """The image as 8-bit greyscale ``H x W`` (RGB converted with Pillow's luma)."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ValueError(f"images are 8-bit, not {array.dtype}")
    if array.ndim == 2:
        return np.ascontiguousarray(array)
    if array.ndim == 3 and array.shape[2] == 1:
        return np.ascontiguousarray(array[:, :, 0])
    if array.ndim == 3 and array.shape[2] in (3, 4):
        mode = "RGB" if array.shape[2] == 3 else "RGBA"
        return np.asarray(Image.fromarray(np.ascontiguousarray(array), mode).convert("L"))
    raise ValueError(f"an image is H x W or H x W x 3, not {array.shape}")


def to_input(image: np.ndarray) -> np.ndarray:
    """One image as the model's float32 input plane, ``224 x 224`` in [-1, 1]."""
    grey = Image.fromarray(to_grey(image), "L")
    small = grey.resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.LANCZOS)
    plane = np.asarray(small, dtype=np.float32)
    return (plane / np.float32(255.0) - np.float32(0.5)) / np.float32(0.5)


def to_batch(images: Sequence[np.ndarray]) -> np.ndarray:
    """Images as one ``N x 1 x 224 x 224`` float32 tensor."""
    if not images:
        return np.zeros((0, 1, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)
    return np.stack([to_input(image) for image in images])[:, None, :, :]
