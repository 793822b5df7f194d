"""Array type aliases for the core's annotations (``numpy.typing`` only, as ``arch/_typing.py``).

The name carries the dtype and the intended number of axes; the shape itself is not
checked by mypy (``Float64Array1D`` and ``Float64Array2D`` are the same type). Nothing
here imports pandas or a plotting library.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = [
    "AnyArray",
    "ArrayLike",
    "BoolArray1D",
    "Float64Array",
    "Float64Array1D",
    "Float64Array2D",
    "FloatArray1D",
    "Int64Array1D",
]

ArrayLike: TypeAlias = npt.ArrayLike
"""What a public function accepts and converts with ``np.asarray``."""
AnyArray: TypeAlias = npt.NDArray[Any]
Float64Array: TypeAlias = npt.NDArray[np.float64]
Float64Array1D: TypeAlias = npt.NDArray[np.float64]
"""``(n,)`` float64."""
Float64Array2D: TypeAlias = npt.NDArray[np.float64]
"""``(n, m)`` float64."""
Int64Array1D: TypeAlias = npt.NDArray[np.int64]
"""``(n,)`` int64."""
BoolArray1D: TypeAlias = npt.NDArray[np.bool_]
"""``(n,)`` bool."""
FloatArray1D: TypeAlias = npt.NDArray[np.floating[Any]]
"""``(n,)`` of any float dtype: what NumPy's stubs give for mixed int/float arithmetic
(``p0 + (np.arange(n) + 0.5) * w``), float64 at run time."""
