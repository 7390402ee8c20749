"""A built-in natural-image data set: 32 x 32 x 3 patches of the photographs that ship inside
scikit-image (an optional extra, ``pip install "rmtrisk[images]"``), as a stand-in for
CIFAR-10, which may not be downloaded at run time.

Five colour photographs (``astronaut``, ``chelsea``, ``coffee``, ``rocket`` and the left view
of ``stereo_motorcycle``) are block-averaged 2 x 2 (so that a patch covers a scene fragment of
about the size a CIFAR-10 image shows), and 32 x 32 patches are cut with stride 4, pixels in
[0, 1], laid out channel by channel as CIFAR-10 does (d = 3072). The left half of every image
gives the training patches and the right half the held-out ones, so no test patch overlaps a
training patch (7,008 each).
"""

from __future__ import annotations

import numpy as np

__all__ = ["IMAGES", "image_patches", "natural_image_patches"]

#: The scikit-image photographs used (``stereo_motorcycle`` contributes its left view).
IMAGES = ("astronaut", "chelsea", "coffee", "rocket", "stereo_motorcycle")


def image_patches(image: np.ndarray, size: int = 32, stride: int = 4) -> np.ndarray:
    """All ``size x size`` patches of an ``h x w x 3`` image at ``stride``, as columns of a
    ``(3 size^2) x n`` matrix (channel-major, then rows, then columns)."""
    image = np.asarray(image, dtype=float)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be h x w x 3, got shape {image.shape}")
    if image.shape[0] < size or image.shape[1] < size:
        raise ValueError(f"image {image.shape[:2]} is smaller than the patch size {size}")
    windows = np.lib.stride_tricks.sliding_window_view(image, (size, size), axis=(0, 1))
    windows = windows[::stride, ::stride]          # (ny, nx, 3, size, size)
    return windows.reshape(-1, 3 * size * size).T.copy()


def _photographs() -> list[np.ndarray]:
    try:
        import skimage.data as data
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("the built-in natural-image spectrum needs scikit-image: "
                          'pip install "rmtrisk[images]" (or pass --data FILE)') from None
    out = []
    for name in IMAGES:
        image = getattr(data, name)()
        out.append(image[0] if isinstance(image, tuple) else image)
    return out


def _downscale(image: np.ndarray, factor: int) -> np.ndarray:
    h, w = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    blocks = image[:h, :w].reshape(h // factor, factor, w // factor, factor, -1)
    return blocks.mean(axis=(1, 3))


def natural_image_patches(size: int = 32, stride: int = 4, downscale: int = 2
                          ) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` patch matrices, ``(3 size^2) x n`` each, pixels in [0, 1].

    Parameters
    ----------
    size : int
        Patch side (32 gives CIFAR-10's d = 3072).
    stride : int
        Step between patches.
    downscale : int
        Block-averaging factor applied to the photographs first.
    """
    train, test = [], []
    for photo in _photographs():
        image = _downscale(np.asarray(photo, dtype=float) / 255.0, downscale)
        half = image.shape[1] // 2
        train.append(image_patches(image[:, :half], size, stride))
        test.append(image_patches(image[:, half:], size, stride))
    return np.concatenate(train, axis=1), np.concatenate(test, axis=1)
