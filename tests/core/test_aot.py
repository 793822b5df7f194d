"""The level book built ahead of time (``liqmap.core.aot``): same numbers as numba's
just-in-time kernel and the plain twin, used only when current, and no numba import."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from tests.core.test_book import make_inputs

from liqmap.core import aot
from liqmap.core import book as bk

_PACKAGE = Path(aot.__file__).resolve().parent
_FIELDS = ("liq_long_usd", "liq_short_usd", "liq_long_coin", "liq_short_coin",
           "frames_long_usd", "frames_short_usd", "book_coin")


def _module_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{aot.MODULE}.*"))


def _build_or_skip(folder: Path) -> None:
    """Build into ``folder``; skip (with the reason) where this machine cannot build at all:
    no ``numba.pycc`` or setuptools, or no C compiler. The commands then use numba's kernel."""
    try:
        aot.build_book_aot(folder)
    except Exception as exc:  # noqa: BLE001 - pycc reports a missing compiler in many ways
        pytest.skip(f"cannot build ahead of time here: {type(exc).__name__}: {exc}")


@pytest.fixture(scope="module")
def aot_folder(tmp_path_factory) -> Path:
    """A folder holding a current build: the one ``make install`` made, copied (so tests
    can damage it), or one built here when the install could not build it."""
    folder = tmp_path_factory.mktemp("aot")
    if aot._loaded(str(_PACKAGE)) is not None:
        for f in _module_files(_PACKAGE):
            shutil.copy2(f, folder / f.name)
    else:
        _build_or_skip(folder)
    return folder


def test_install_built_the_module_from_the_current_source(tmp_path):
    """``make install`` (``python -m liqmap.cli.warm``) leaves a current build in the package
    wherever one can be built."""
    if aot._loaded(str(_PACKAGE)) is None:
        _build_or_skip(tmp_path)  # skips where nothing can be built
        pytest.fail("no current ahead-of-time book in the package although one builds here: "
                    "run `python -m liqmap.cli.warm`")


@pytest.mark.parametrize("policy", [bk.POLICY_NONE, bk.POLICY_PROPORTIONAL, bk.POLICY_NET,
                                    bk.POLICY_LEVERAGE_FIRST])
@pytest.mark.parametrize("decay", [False, True])
def test_ahead_of_time_kernel_equals_jit_kernel_bit_for_bit(aot_folder, policy, decay):
    inp = make_inputs(seed=11 + policy, policy=policy, decay=decay)
    args = bk._kernel_args(inp)
    fn = aot.book_kernel(args, aot_folder)
    assert fn is not None
    built = bk.BookOutputs(*fn(*args))
    jit = bk.BookOutputs(*bk.run_book_nb(*args))
    ref = bk.run_book(inp, engine="reference")
    for name in _FIELDS:
        np.testing.assert_array_equal(getattr(built, name), getattr(jit, name), err_msg=name)
        np.testing.assert_allclose(getattr(built, name), getattr(ref, name), rtol=1e-9,
                                   atol=1e-9, err_msg=name)
    assert built.liq_long_usd.sum() > 0 and built.liq_short_usd.sum() > 0


def test_a_stale_or_missing_build_is_not_used(aot_folder, tmp_path):
    args = bk._kernel_args(make_inputs(seed=3))
    for f in _module_files(aot_folder):
        shutil.copy2(f, tmp_path / f.name)
    stamp = tmp_path / f"{aot.MODULE}.stamp"
    assert aot.book_kernel(args, tmp_path) is not None
    aot._loaded.cache_clear()
    stamp.write_text("0" * 64 + " numpy=0.0\n")  # built from another kernel source
    assert aot.book_kernel(args, tmp_path) is None
    aot._loaded.cache_clear()
    stamp.unlink()
    assert aot.book_kernel(args, tmp_path) is None
    aot._loaded.cache_clear()
    assert aot.book_kernel(args, tmp_path / "empty") is None


def test_a_damaged_module_or_stamp_is_not_used(aot_folder, tmp_path):
    args = bk._kernel_args(make_inputs(seed=3))
    module = aot._module_file(aot_folder)
    assert module is not None
    (tmp_path / module.name).write_bytes(b"not an extension module")
    (tmp_path / f"{aot.MODULE}.stamp").write_text(aot.expected_stamp())
    aot._loaded.cache_clear()
    assert aot.book_kernel(args, tmp_path) is None  # no crash: numba's kernel is used
    shutil.copy2(module, tmp_path / module.name)
    (tmp_path / f"{aot.MODULE}.stamp").write_bytes(b"\xff\xfe binary")
    aot._loaded.cache_clear()
    assert aot.book_kernel(args, tmp_path) is None
    other = tmp_path / "other"
    other.mkdir()  # a module built for another interpreter is never picked up
    shutil.copy2(module, other / f"{aot.MODULE}.cpython-310-x86_64-linux-gnu.so")
    (other / f"{aot.MODULE}.stamp").write_text(aot.expected_stamp())
    aot._loaded.cache_clear()
    assert aot.book_kernel(args, other) is None
    aot._loaded.cache_clear()


def test_arguments_of_other_types_take_the_jit_kernel(aot_folder):
    inp = make_inputs(seed=5)
    args = list(bk._kernel_args(inp))
    assert aot.book_kernel(tuple(args), aot_folder) is not None
    args[10] = args[10].astype(np.int32)  # chan_side as int32: not the exported signature
    assert aot.book_kernel(tuple(args), aot_folder) is None
    args = list(bk._kernel_args(inp))
    args[4] = args[4][:, 0]  # a 1-D array where a 2-D one is exported
    assert aot.book_kernel(tuple(args), aot_folder) is None


def test_kernel_kind_names_the_path_taken(monkeypatch):
    inp = make_inputs(seed=1)
    assert bk.kernel_kind(inp, engine="reference") == "reference"
    monkeypatch.setattr(aot, "book_kernel", lambda args, folder=None: None)
    assert bk.kernel_kind(inp) == "numba-jit"
    out = bk.run_book(inp)  # through numba's kernel: the same numbers
    np.testing.assert_array_equal(out.book_coin, bk.BookOutputs(
        *bk.run_book_nb(*bk._kernel_args(inp))).book_coin)


def test_a_map_from_the_installed_build_does_not_import_numba(tmp_path):
    """The point of the build: a command that draws a map never loads numba."""
    if aot._loaded(str(_PACKAGE)) is None:
        _build_or_skip(tmp_path)  # skips where nothing can be built
        pytest.fail("no current ahead-of-time book in the package: run `python -m liqmap.cli.warm`")
    code = ("import sys\n"
            "from liqmap.io.sample import load_sample\n"
            "from liqmap.model import LiquidationModel\n"
            "est = LiquidationModel().run(load_sample().take(slice(0, 500)))\n"
            "print('numba' in sys.modules, est.final_map.long_usd.sum() > 0)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == ["False", "True"], out.stderr


def _spin_rate(seconds: float = 0.05) -> float:
    """Loop turns per second of the counting loop below, alone."""
    t0, spins = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        spins += 1
    return spins / (time.perf_counter() - t0)


@pytest.mark.parametrize("kind", ["aot", "jit"])
def test_the_kernel_releases_the_gil(aot_folder, kind):
    """While one thread runs the book, another keeps running Python: a server computing a
    map keeps answering from its cache. Holding the GIL, the kernel would stop the counting
    thread for the whole call (it could count for one switch interval, 5 ms, at most); it
    must count for a good part of the call instead."""
    args = bk._kernel_args(make_inputs(seed=2, n_bars=300_000, n_bins=2_000))
    fn = aot.book_kernel(args, aot_folder) if kind == "aot" else bk.run_book_nb
    assert fn is not None
    fn(*args)  # loaded (and compiled) before it is watched
    t0 = time.perf_counter()
    fn(*args)
    alone = time.perf_counter() - t0
    rate = _spin_rate()
    started, done = threading.Event(), threading.Event()

    def work() -> None:
        started.set()
        fn(*args)
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    started.wait()
    t0, spins = time.perf_counter(), 0
    while not done.is_set() and time.perf_counter() - t0 < 0.8 * alone:
        spins += 1
    worker.join()
    counted_s = spins / rate  # seconds of counting the loop managed while the kernel ran
    assert counted_s > 0.2 * 0.8 * alone > 0.005, (counted_s, alone)
