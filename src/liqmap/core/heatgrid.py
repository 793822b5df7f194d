"""The heatmap at display size: frames picked evenly, price bins split onto a coarser grid.

One rule for every reader that shows a heatmap smaller than the model computed it: the
API (``liqmap.service.views`` / ``render``) and the charts (``liqmap.plots``).

- Time: frames are snapshots of the book, so they are *picked* (evenly, the first and the
  last kept: the rule ``LiquidationModel`` picks its frames by), never summed or averaged.
- Price: each bin's notional is split between the two nearest display bins (linear split,
  as ``mapstats.rebin``), so every frame keeps its notional per side (sum over the bins
  equal, to rounding) as long as the source bins lie within the grid.

>>> import numpy as np
>>> ts, grid, (z,) = downsample_heat(np.arange(5), np.arange(6.0), [np.ones((5, 6))],
...                                 max_frames=3, max_bins=3)
>>> ts.tolist(), grid.tolist(), z.sum(axis=1).tolist()
([0, 2, 4], [0.5, 2.5, 4.5], [6.0, 6.0, 6.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from liqmap.core._mapgrid import split_onto
from liqmap.core._typing import ArrayLike, Float64Array1D, Float64Array2D, Int64Array1D

__all__ = ["block_grid", "downsample_heat", "pick_frames", "split_matrix"]


def pick_frames(n: int, max_frames: int) -> Int64Array1D:
    """Indices of at most ``max_frames`` of ``n`` frames, evenly spread, the first and (for
    two or more) the last kept.

    >>> pick_frames(10, 4).tolist()
    [0, 3, 6, 9]
    """
    if n <= max_frames:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, max_frames).round().astype(np.int64))


def block_grid(bins_usd: ArrayLike, max_bins: int) -> Float64Array1D:
    """Display centres for evenly spaced ``bins_usd``: blocks of ``k`` source bins (``k`` the
    smallest whole number giving at most ``max_bins``), each centre in the middle of its
    block, so every source bin lies within the grid (nothing is dropped by the split).

    >>> block_grid(np.arange(5.0), 2).tolist()
    [1.0, 4.0]
    """
    b = np.asarray(bins_usd, dtype=np.float64)
    if b.size < 2:
        return b.copy()
    k = max(1, int(np.ceil(b.size / max(1, max_bins))))
    step = float(b[1] - b[0])
    m = int(np.ceil(b.size / k))
    out: Float64Array1D = b[0] + step * (k * np.arange(m, dtype=np.float64) + (k - 1) / 2)
    return out


def split_matrix(src_usd: ArrayLike, dst_usd: ArrayLike) -> Float64Array2D:
    """(P, B) weights that move values at ``src_usd`` onto ``dst_usd`` (evenly spaced).

    The rule of :func:`liqmap.core.mapstats.rebin` (``_mapgrid.split_onto``: linear split
    between the two nearest destination centres) inside the grid; values more than half a
    step beyond either end
    of ``dst_usd`` are left out (weight 0) instead of piling up in the edge bins. Each row
    inside sums to 1: notional is conserved.
    """
    src = np.asarray(src_usd, dtype=np.float64)
    dst = np.asarray(dst_usd, dtype=np.float64)
    w = np.zeros((src.size, dst.size))
    rows = np.arange(src.size)
    if dst.size == 1:
        w[:, 0] = 1.0
        return w
    j, frac = split_onto(src, dst)
    np.add.at(w, (rows, j), 1.0 - frac)
    np.add.at(w, (rows, j + 1), frac)
    half = 0.5 * (dst[1] - dst[0])
    w[(src < dst[0] - half) | (src > dst[-1] + half)] = 0.0
    return w


def downsample_heat(
    ts_ms: ArrayLike, bins_usd: ArrayLike, layers: Sequence[ArrayLike], *,
    max_frames: int | None = None, max_bins: int | None = None,
    frames: ArrayLike | None = None, grid: ArrayLike | None = None,
    dtype: npt.DTypeLike = np.float64,
) -> tuple[Int64Array1D, Float64Array1D, list[npt.NDArray[Any]]]:
    """Reduce (F, P) layers (notional per frame and price bin) to display size.

    Parameters
    ----------
    ts_ms : (F,) frame times; bins_usd : (P,) evenly spaced bin centres.
    layers : (F, P) arrays, e.g. longs and shorts.
    max_frames : frames kept, evenly picked (:func:`pick_frames`); None: all.
    max_bins : display bins, whole blocks of source bins (:func:`block_grid`); None: the
        source bins as they are (unless ``grid`` is given).
    frames : explicit frame indices instead of ``max_frames``.
    grid : explicit display centres (evenly spaced) instead of ``max_bins``.
    dtype : dtype of the returned layers (float32 halves what a chart holds).

    Returns
    -------
    (ts, grid, layers)
        Picked frame times, display centres, and each layer as (F', B): the notional of the
        picked frames split onto the grid, so each row's sum is that frame's notional.
    """
    ts = np.asarray(ts_ms, dtype=np.int64)
    bins = np.asarray(bins_usd, dtype=np.float64)
    if frames is not None:
        idx = np.asarray(frames, dtype=np.int64)
    elif max_frames is not None:
        idx = pick_frames(ts.size, max_frames)
    else:
        idx = np.arange(ts.size, dtype=np.int64)
    if grid is not None:
        dst = np.asarray(grid, dtype=np.float64)
    elif max_bins is not None:
        dst = block_grid(bins, max_bins)
    else:
        dst = bins
    same = dst.shape == bins.shape and bool(np.array_equal(dst, bins))
    w = None if same else split_matrix(bins, dst)
    out = []
    for layer in layers:
        z = np.asarray(layer)[idx]
        z = z if w is None else z @ w
        out.append(np.asarray(z, dtype=dtype))
    return ts[idx], dst, out
