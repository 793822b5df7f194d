"""The public surface of ``liqmap.plots`` is complete and sorted."""

from __future__ import annotations

import liqmap.plots as plots


def test_all_is_sorted_and_importable():
    assert plots.__all__ == sorted(plots.__all__)
    for name in plots.__all__:
        assert callable(getattr(plots, name)), name


def test_importing_plots_does_not_switch_the_global_backend_or_load_plotly():
    import subprocess
    import sys

    raw = "dict.__getitem__(matplotlib.rcParams, 'backend')"  # read without resolving it
    code = (f"import matplotlib; before = {raw}; import sys, liqmap.plots; "
            f"print({raw} == before, 'plotly' in sys.modules, 'matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False", "False"]
