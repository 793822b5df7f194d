"""The public surface: sorted, complete, importable, and the README's Python example runs."""

from __future__ import annotations

import liqmap


def test_all_is_sorted_and_every_name_exists():
    assert liqmap.__all__ == sorted(liqmap.__all__)
    for name in liqmap.__all__:
        assert hasattr(liqmap, name), name


def test_public_classes_are_exported():
    public = {n for n in dir(liqmap)
              if isinstance(getattr(liqmap, n), type) and not n.startswith("_")}
    assert public <= set(liqmap.__all__)
    assert {"LiquidationModel", "CascadeSimulator", "LiqMap"} <= public


def test_exception_tree_has_two_branches():
    assert issubclass(liqmap.DataError, liqmap.InputError)
    assert issubclass(liqmap.ConfigError, liqmap.InputError)
    assert issubclass(liqmap.InputError, liqmap.LiqmapError)
    assert issubclass(liqmap.RetryLaterError, liqmap.LiqmapError)
    assert not issubclass(liqmap.RetryLaterError, liqmap.InputError)


def test_readme_python_example(tmp_path):
    est = liqmap.LiquidationModel(leverage="all-leverage", side_model="candle").run(
        liqmap.load_sample(), lookback="7d")
    imb = est.summary()["map"]["imbalance"]["20pct"]
    assert imb["short_usd"] > 0 and imb["long_usd"] > 0
    files = est.plot(tmp_path)
    assert {p.name for p in files.values()} == {
        "liqmap_heatmap.png", "liqmap_heatmap.html", "liqmap_map.png", "liqmap_map.html"}
    assert liqmap.liquidation_price("binance", "long", 100_000, 0.1, 1_000) == \
        __import__("pytest").approx(90_361.45, abs=0.01)
