"""Hostile and careless model parameters, from every source: flags, ``LIQMAP_*`` environment,
the TOML ``[model]`` table (``--config``), sweep grids; ports; liq-price positions.

Every refusal exits 2 (fix your input) without a traceback, naming the key as the user wrote
it, the value and what is allowed. Properties: for any text, the one parser
(``liqmap.params.parse_param``) returns a value ``LiquidationModel`` accepts or raises
``ConfigError``; flags, environment, TOML and grids read the same text the same way.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liqmap import ConfigError, LiquidationModel
from liqmap import params as P
from liqmap.cli.config import build_model, resolve_config
from liqmap.core.leverage import PRESETS
from liqmap.core.sides import SIDE_MODELS
from liqmap.core.tiers import VENUES
from liqmap.scaleout import parse_grid

MAP = ["map", "--no-plots", "--json"]  # refusals come before any data is read


def _toml(tmp_path: Path, body: str | bytes, name: str = "liqmap.toml") -> Path:
    p = tmp_path / name
    if isinstance(body, bytes):
        p.write_bytes(body)
    else:
        p.write_text(body, encoding="utf-8")
    return p


# ------------------------------------------------------------------ environment
ENV_CASES = [
    ({"LIQMAP_FRAMES": "abc"}, ["LIQMAP_FRAMES", "'abc'", "not a number", "1 to 100,000"]),
    ({"LIQMAP_FRAMES": "5.5"}, ["LIQMAP_FRAMES", "'5.5'", "not an integer"]),
    ({"LIQMAP_FRAMES": "0"}, ["LIQMAP_FRAMES", "'0'", "1 to 100,000"]),
    ({"LIQMAP_BIN_USD": "wide"}, ["LIQMAP_BIN_USD", "'wide'", "or auto"]),
    ({"LIQMAP_BIN_USD": "inf"}, ["LIQMAP_BIN_USD", "'inf'", "1e+06"]),
    ({"LIQMAP_SIDE_STRENGTH": "abc"}, ["LIQMAP_SIDE_STRENGTH", "'abc'", "from 0 to 1"]),
    ({"LIQMAP_SIDE_STRENGTH": "1.5"}, ["LIQMAP_SIDE_STRENGTH", "'1.5'", "from 0 to 1"]),
    ({"LIQMAP_SIDE_STRENGTH": "nan"}, ["LIQMAP_SIDE_STRENGTH", "'nan'", "from 0 to 1"]),
    ({"LIQMAP_BAND_PRESETS": ""}, ["LIQMAP_BAND_PRESETS", "is empty", "leverage presets"]),
    ({"LIQMAP_BAND_PRESETS": "all-leverage,nope"},
     ["LIQMAP_BAND_PRESETS", "'all-leverage,nope'", "unknown leverage preset 'nope'"]),
    ({"LIQMAP_VENUE": "  "}, ["LIQMAP_VENUE", "is empty", "binance"]),
    ({"LIQMAP_VENUE": "Binance"}, ["LIQMAP_VENUE", "'Binance'", "one of: binance"]),
    ({"LIQMAP_ENTRY_POINTS": "1000000"},
     ["LIQMAP_ENTRY_POINTS", "'1000000'", "1 to 64", "15 GiB"]),
    ({"LIQMAP_POSITION_NOTIONAL_USD": "1e30"},
     ["LIQMAP_POSITION_NOTIONAL_USD", "'1e30'", "from 1 to 1e+10"]),
    ({"LIQMAP_HALF_LIFE_HOURS": "inf"}, ["LIQMAP_HALF_LIFE_HOURS", "'inf'", "100,000"]),
    ({"LIQMAP_HALF_LIFE_HOURS": "100:6,50:-1"},
     ["LIQMAP_HALF_LIFE_HOURS", "'100:6,50:-1'", "> 0 hours"]),
    ({"LIQMAP_LEVERAGE": "1000:1"}, ["LIQMAP_LEVERAGE", "'1000:1'", "binance 125x"]),
    ({"LIQMAP_LEVERAGE": "50:1", "LIQMAP_VENUE": "hyperliquid"},
     ["LIQMAP_LEVERAGE", "'50:1'", "hyperliquid's maximum leverage of 40x", "LIQMAP_VENUE"]),
    ({"LIQMAP_BAND_PRESETS": "all-leverage+110:1", "LIQMAP_VENUE": "bybit"},
     ["LIQMAP_BAND_PRESETS", "'110:1'", "bybit's maximum leverage of 100x"]),
    ({"LIQMAP_TIER_VERSION": "2001-01-01"}, ["LIQMAP_TIER_VERSION", "'2001-01-01'",
                                             "on or after 2021-02-05"]),
    ({"LIQMAP_TIER_VERSION": "2022-01-01", "LIQMAP_VENUE": "hyperliquid"},
     ["LIQMAP_TIER_VERSION", "no hyperliquid", "2025-01-01"]),
    ({"LIQMAP_TIER_VERSION": "yesterday"}, ["LIQMAP_TIER_VERSION", "not a date"]),
    ({"LIQMAP_CONFIG": ""}, ["LIQMAP_CONFIG is empty"]),
]


@pytest.mark.parametrize("env, fragments", ENV_CASES,
                         ids=[",".join(e) + "=" + "|".join(e.values()) for e, _ in ENV_CASES])
def test_environment_is_checked(cli, refused, env, fragments):
    refused(cli(MAP, env=env), 2, *fragments)


def test_environment_words_and_typos(cli, monkeypatch):
    res = cli(["show-config", "--json"], env={"LIQMAP_BIN_USD": "auto", "LIQMAP_FRAME": "abc",
                                             "LIQMAP_HALF_LIFE_HOURS": "none",
                                             "LIQMAP_BAND_PRESETS": "all-leverage+low-leverage"})
    assert res.code == 0, res.err
    out = json.loads(res.out)
    assert out["values"]["bin_usd"] is None and out["values"]["half_life_hours"] is None
    assert out["values"]["band_presets"] == ["all-leverage", "low-leverage"]
    assert out["origin"]["bin_usd"] == "env LIQMAP_BIN_USD"  # LIQMAP_FRAME: not a field, ignored


# ------------------------------------------------------------------ TOML file
TOML_CASES = [
    ('[model]\nframes = "abc"\n', ["[model] frames in", "'abc'", "not a number"]),
    ("[model]\nframes = 5.0\n", ["[model] frames in", "5.0", "not an integer"]),
    ("[model]\nleverage = 5\n", ["[model] leverage in", "got 5", "a number, not text"]),
    ("[model]\nbin_usd = true\n", ["[model] bin_usd in", "got True", "a boolean"]),
    ("[model]\nside_strength = 2\n", ["[model] side_strength in", "got 2", "from 0 to 1"]),
    ("[model]\nband_presets = []\n", ["[model] band_presets in", "at least one preset"]),
    ('[model]\nband_presets = ""\n', ["[model] band_presets in", "is empty"]),
    ("[model]\nband_presets = [1, 2]\n", ["[model] band_presets in", "got 1"]),
    ("[model]\nentry_points = 1000000\n", ["[model] entry_points in", "1 to 64"]),
    ("[model]\nhalf_life_hours = 0\n", ["[model] half_life_hours in", "> 0 hours"]),
    ("[model]\nvenue = 1979-05-27\n", ["[model] venue in", "datetime.date"]),
    ('[model]\nleverage = "1000:1"\n', ["[model] leverage in", "'1000:1'", "binance 125x"]),
    ("[modle]\nframes = 10\n", ["unknown table", "[modle]", "only table is [model]"]),
    ("[model]\nframes = 10\n[extra]\nx = 1\n", ["unknown table", "[extra]"]),
    ("frames = 10\n", ["outside a table", "frames", "under [model]"]),
    ("[model]\nfr = 1\n", ["unknown keys ['fr'] in [model]", "known keys"]),
    ("[model\nframes = 10\n", ["not valid TOML"]),
]


@pytest.mark.parametrize("body, fragments", TOML_CASES, ids=[b.split("\n")[-2] or b
                                                             for b, _ in TOML_CASES])
def test_toml_values_tables_and_keys_are_checked(cli, refused, tmp_path, body, fragments):
    path = _toml(tmp_path, body)
    refused(cli(MAP + ["--config", str(path)]), 2, *fragments)
    if "[model] " in fragments[0]:
        refused(cli(MAP + ["--config", str(path)]), 2, str(path))  # the file is named


@pytest.mark.parametrize("body, fragment", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    ("[model]\nleverage = 'caf\u00e9'\n".encode("latin-1"), "not UTF-8"),
])
def test_binary_or_non_utf8_config_names_the_file(cli, refused, tmp_path, body, fragment):
    path = _toml(tmp_path, body, "model.toml")
    refused(cli(MAP + ["--config", str(path)]), 2, fragment, str(path))


def test_directory_missing_or_unreadable_config_names_the_file(cli, refused, tmp_path,
                                                               monkeypatch):
    refused(cli(MAP + ["--config", str(tmp_path)]), 2, "is a directory", str(tmp_path))
    refused(cli(MAP + ["--config", str(tmp_path / "no.toml")]), 2, "does not exist")
    path = _toml(tmp_path, "[model]\nframes = 10\n")
    real = Path.read_bytes

    def denied(self):
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    refused(cli(MAP + ["--config", str(path)]), 2, "cannot be read", "Permission denied",
            str(path))


def test_config_from_environment_variable_is_checked_too(cli, refused, tmp_path):
    refused(cli(MAP, env={"LIQMAP_CONFIG": str(tmp_path)}), 2, "is a directory")


def test_good_toml_with_dates_strings_and_lists(tmp_path):
    path = _toml(tmp_path, '[model]\ntier_version = 2024-10-24\nbin_usd = "auto"\n'
                           'band_presets = ["all-leverage", "low-leverage"]\nframes = 300\n'
                           'side_strength = 1\nhalf_life_hours = "100:6+50:12"\n')
    m = build_model(config_path=path, env={})
    assert (m.tier_version, m.bin_usd, m.band_presets, m.frames, m.side_strength,
            m.half_life_hours) == ("2024-10-24", None, ("all-leverage", "low-leverage"), 300,
                                   1.0, "100:6,50:12")
    assert isinstance(m.side_strength, float)


# ------------------------------------------------------------------ flags
FLAG_CASES = [
    (["--half-life", "inf"], ["--half-life", "'inf'", "at most 100,000", "none"]),
    (["--half-life", "-5"], ["--half-life", "'-5'", "> 0 hours"]),
    (["--bin-usd", "inf"], ["--bin-usd", "'inf'", "1e-08 to 1e+06"]),
    (["--bin-usd", "0"], ["--bin-usd", "'0'", "1e-08 to 1e+06"]),
    (["--side-strength", "abc"], ["--side-strength", "'abc'", "from 0 to 1"]),
    (["--position-usd", "1e300"], ["--position-usd", "'1e300'", "1e+10"]),
    (["--leverage", "1000:1"], ["--leverage", "'1000:1'", "binance 125x"]),
    (["--leverage", "10:0.5,200:0.5"], ["--leverage", "up to 200x"]),
    (["--venue", "hyperliquid", "--leverage", "10:0.5,50:0.5"],
     ["--leverage", "hyperliquid's maximum leverage of 40x", "venue from --venue"]),
    (["--venue", "okx", "--leverage", "125:1"], ["--leverage", "okx's maximum leverage of 100x"]),
    (["--tier-version", "2024-13-01"], ["--tier-version", "not a date"]),
    (["--band", "sometimes"], ["--band", "'sometimes'", "presets, none"]),
]


@pytest.mark.parametrize("args, fragments", FLAG_CASES, ids=[" ".join(a) for a, _ in FLAG_CASES])
def test_flags_are_checked_before_the_run(cli, refused, args, fragments):
    refused(cli(MAP + args), 2, *fragments)


def test_flag_beats_a_bad_lower_layer_only_if_the_lower_layer_is_valid(cli, refused):
    # every layer is read, so a bad environment value is reported even under a flag
    refused(cli(MAP + ["--bin-usd", "50"], env={"LIQMAP_BIN_USD": "wide"}), 2, "LIQMAP_BIN_USD")


# ------------------------------------------------------------------ grids
GRID_CASES = [
    ("leverage=1000:1", ["grid leverage", "'1000:1'", "binance 125x"]),
    ("frames=abc", ["grid frames", "'abc'", "not a number"]),
    ("entry_points=1000000", ["grid entry_points", "'1000000'", "1 to 64"]),
    ("half_life_hours=inf", ["grid half_life_hours", "'inf'", "100,000"]),
    ("bin_usd=inf", ["grid bin_usd", "'inf'"]),
    ("side_strength=2", ["grid side_strength", "'2'", "from 0 to 1"]),
    ("band_presets=all-leverage+nope", ["grid band_presets", "nope"]),
]


@pytest.mark.parametrize("grid, fragments", GRID_CASES, ids=[g for g, _ in GRID_CASES])
def test_sweep_grids_are_checked_before_any_task(cli, refused, tmp_path, grid, fragments):
    out = tmp_path / "sweep"
    res = cli(["sweep", "--sample", "btcusdt-5m-2025-12", "--grid", grid, "--scheduler", "none",
               "--out", str(out)])
    refused(res, 2, *fragments)
    assert not out.exists()


def test_grid_leverage_above_the_venue_maximum_is_refused(cli, refused, tmp_path):
    res = cli(["sweep", "--sample", "btcusdt-5m-2025-12", "--venue", "hyperliquid", "--grid",
               "leverage=10:0.5+50:0.5", "--scheduler", "none", "--out", str(tmp_path / "o")])
    refused(res, 2, "leverage", "hyperliquid's maximum leverage of 40x")


# ------------------------------------------------------------------ serve --port
@pytest.mark.parametrize("port", ["99999", "-1", "0", "65536"])
def test_serve_refuses_ports_outside_1_to_65535(cli, refused, port, monkeypatch):
    import uvicorn

    def never(*a, **k):  # pragma: no cover - reached only if the port is not refused
        raise AssertionError("uvicorn.run called")

    monkeypatch.setattr(uvicorn, "run", never)
    refused(cli(["serve", "--port", port, "--sample", "btcusdt-5m-2025-12"]), 2,
            f"--port {port}", "1..65535")


def test_serve_announces_the_port_it_binds(cli, monkeypatch):
    import uvicorn

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **k: seen.update(port=port))
    res = cli(["serve", "--port", "65535", "--sample", "btcusdt-5m-2025-12"])
    assert res.code == 0, res.err
    assert seen["port"] == 65535 and ":65535/" in res.err


# ------------------------------------------------------------------ liq-price
LIQ = ["liq-price", "--side", "long", "--entry", "100000"]


@pytest.mark.parametrize("args, fragments", [
    (["--venue", "binance", "--qty", "1e300", "--leverage", "10"],
     ["notional", "1e+305", "1e+12"]),
    (["--venue", "binance", "--qty", "1e300", "--margin", "1000"], ["notional"]),
    (["--venue", "binance-inverse", "--contracts", "1e20", "--leverage", "10"], ["notional"]),
    (["--venue", "binance", "--qty", "0.1", "--leverage", "1000"],
     ["--leverage", "1,000x", "binance's maximum leverage of 125x"]),
    (["--venue", "binance", "--qty", "0.1", "--margin", "10"],
     ["--margin 10", "1,000x", "125x"]),
    (["--venue", "binance", "--qty", "0.1", "--margin", "0"], ["--margin 0", "inf"]),
    (["--venue", "binance", "--qty", "100", "--leverage", "75"],
     ["--leverage", "maximum leverage of 50x", "10,000,000 USD", "125x only up to 50,000"]),
    (["--venue", "hyperliquid", "--qty", "1", "--leverage", "41"], ["40x"]),
    (["--venue", "binance", "--qty", "0.1", "--leverage", "inf"], ["--leverage", "finite"]),
    (["--venue", "binance", "--qty", "0.1", "--leverage", "1e-320"], ["--leverage"]),
    (["--venue", "binance", "--qty", "nan", "--leverage", "10"], ["qty", "finite"]),
])
def test_liq_price_refuses_impossible_positions(cli, refused, args, fragments):
    refused(cli(LIQ + args), 2, *fragments)


# ------------------------------------------------------------------ the parser itself
def test_bool_kind_takes_real_bools_or_words(monkeypatch):
    spec = P.ParamSpec("switch", "bool", "true or false", "--switch", "")
    monkeypatch.setitem(P.PARAMS, "switch", spec)
    assert [P.parse_param("switch", t) for t in ("yes", " TRUE ", "1", "no", "0", "False")] == \
        [True, True, True, False, False, False]
    assert P.parse_param("switch", True) is True
    for bad in ("maybe", "", 1, 0.0, "2"):
        with pytest.raises(ConfigError, match="switch"):
            P.parse_param("switch", bad)


def test_specs_cover_every_model_field_once():
    from dataclasses import fields

    assert list(P.PARAMS) == [f.name for f in fields(LiquidationModel)]
    assert all(s.kind in P.KINDS for s in P.PARAMS.values())
    assert len({s.flag for s in P.PARAMS.values()}) == len(P.PARAMS)


def test_defaults_and_bounds_are_accepted():
    defaults = LiquidationModel()
    for name in P.PARAMS:
        v = getattr(defaults, name)
        assert P.parse_param(name, v) == v
    ok = {"entry_points": 64, "frames": 100_000, "side_strength": 0.0,
          "position_notional_usd": 1e10, "bin_usd": 1e6, "half_life_hours": 100_000.0}
    for name, v in ok.items():
        assert getattr(LiquidationModel(**{name: v}), name) == v


@pytest.mark.parametrize("venue", ["binance", "binance-inverse", "bybit", "okx", "hyperliquid"])
def test_leverage_exactly_at_the_venue_maximum_is_accepted(venue):
    from liqmap.core.liqprice import max_leverage

    top = max_leverage(venue)
    m = LiquidationModel(venue=venue, leverage=f"10:0.5,{top:g}:0.5")
    assert m.leverage == f"10:0.5,{top:g}:0.5"
    with pytest.raises(ConfigError, match=f"maximum leverage of {top:g}x|{venue} {top:g}x"):
        LiquidationModel(venue=venue, leverage=f"10:0.5,{top + 1:g}:0.5")


# ------------------------------------------------------------------ properties
_WORDS = sorted({*PRESETS, *VENUES, *P.OI_POLICIES, *P.BAND_MODES, *SIDE_MODELS, "none",
                 "auto", "null", "latest", "0", "-0", "0.0", "1", "64", "65", "1e10", "1e11",
                 "inf", "-inf", "nan", "1e999", "true", "yes", "1_000", " 7 ", "100:6+50:12",
                 "100:6,50:12", "10:0.5,25:0.5", "10:1+126:1", "1000:1", "2024-10-24",
                 "2021-03-25", "2024-02-30", "+", ",", ":", "1:", ":1",
                 "all-leverage+low-leverage", "all-leverage,,low-leverage"})
TEXTS = st.one_of(
    st.text(max_size=24),
    st.sampled_from(_WORDS),
    st.sampled_from(_WORDS).map(lambda w: f" {w.upper()}\t"),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-0.5, 2.0).map(repr),
    st.integers(-10, 10**12).map(str),
    st.integers(0, 200).map(str),
    st.dates(_dt.date(2019, 1, 1), _dt.date(2030, 1, 1)).map(_dt.date.isoformat),
    st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3).map("+".join),
    st.lists(st.tuples(st.integers(-5, 200), st.floats(-1, 1e3)), min_size=1, max_size=3)
    .map(lambda ps: st.sampled_from("+,").map(lambda sep: sep.join(f"{a}:{b}" for a, b in ps)))
    .flatmap(lambda s: s),
)
_GOOD = {"leverage": [*PRESETS, "10:0.5,25:0.5", "2:1+125:1", "41:1"],
         "band_presets": [*PRESETS, "all-leverage+peer-common", "10:1,50:1"]}
NAMED_TEXTS = st.sampled_from(list(P.PARAMS)).flatmap(lambda n: st.tuples(
    st.just(n), st.one_of(TEXTS, st.sampled_from(_GOOD.get(n) or P.PARAMS[n].choices
                                                 or ["1"]))))


@settings(max_examples=300, deadline=None)
@given(name_text=NAMED_TEXTS)
def test_any_text_gives_a_valid_value_or_a_config_error(name_text):
    name, text = name_text
    try:
        v = P.parse_param(name, text, P.env_key(name))
    except ConfigError as exc:
        assert P.env_key(name) in str(exc)
        return
    if name == "tier_version":  # which dates have a table depends on the venue (check_model)
        assert any(_accepts(venue=venue, tier_version=v) for venue in VENUES)
    else:
        assert getattr(LiquidationModel(**{name: v}), name) == v


def _accepts(**kw) -> bool:
    try:
        LiquidationModel(**kw)
    except ConfigError:
        return False
    return True


def _via_env(name, text, empty):
    return resolve_config(config_path=empty, env={P.env_key(name): text})[0][name]


def _via_flag(name, text, empty):
    return resolve_config({name: text}, config_path=empty, env={})[0][name]


def _toml_string(text: str) -> str:
    esc = {'"': '\\"', "\\": "\\\\"}
    return '"' + "".join(esc.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x20 or c == "\x7f"
                                        else c) for c in text) + '"'


def _via_toml(name, text, path):
    path.write_text(f"[model]\n{name} = {_toml_string(text)}\n", encoding="utf-8")
    return resolve_config(config_path=path, env={})[0][name]


def _via_grid(name, text, _):
    values = parse_grid([f"{name}={text}"])[name]
    assert len(values) == 1
    return values[0]


def _outcome(read, name, text, path):
    try:
        return ("ok", read(name, text, path))
    except ConfigError:
        return ("refused", None)


@settings(max_examples=300, deadline=None)
@given(name_text=NAMED_TEXTS)
def test_flags_env_toml_and_grid_read_the_same_text_the_same_way(tmp_path_factory, name_text):
    name, text = name_text
    folder = tmp_path_factory.getbasetemp() / "same-text"
    folder.mkdir(exist_ok=True)
    empty = folder / "empty.toml"
    empty.write_text("")
    got = {src.__name__: _outcome(src, name, text, folder / "t.toml" if src is _via_toml
                                  else empty) for src in (_via_env, _via_flag, _via_toml)}
    if "," not in text and text.strip():  # a grid separates its values with ','
        got["_via_grid"] = _outcome(_via_grid, name, text, None)
    assert len(set(map(repr, got.values()))) == 1, got
