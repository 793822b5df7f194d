"""The hostile-suite helpers themselves: a refused input and a crash are told apart."""

from __future__ import annotations


def test_unknown_sample_is_refused_without_traceback(cli, refused):
    res = cli(["map", "--sample", "no-such-sample", "--no-plots", "--json"])
    refused(res, 2, "no-such-sample")


def test_a_crash_is_reported_as_a_traceback(cli, monkeypatch):
    import liqmap.cli as c

    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(c, "app", boom)
    res = cli(["--help"])
    assert res.code == 1 and "Traceback" in res.err and "boom" in res.err
