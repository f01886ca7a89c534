"""A short atheris run over each fuzz target (tests/fuzz_targets.py), seeded with real
inputs: a feed, URLs, the seed article, the seed watchlist, the default config.  Longer
runs: python tests/fuzz_targets.py TARGET CORPUS_DIR -max_total_time=600."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import normalize
from tests.support import ROOT, rss

RUNS = int(os.environ.get("MONITOR_FUZZ_RUNS", "4000"))
# In CI (CI=true) libFuzzer's seed is fixed, so a run explores the same inputs every time.
SEED = ["-seed=1"] if os.environ.get("CI", "").lower() in ("1", "true", "yes") else []


def seeds(target: str) -> list[bytes]:
    if target == "feed":
        return [rss([{"title": "Putin <b>in</b> Pyongyang", "link": "/a", "guid": "1",
                      "pubDate": "Wed, 19 Jun 2024 08:00:00 GMT", "description": "Kim."}]),
                b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title>'
                b'<link href="https://e.org/x"/></entry></feed>']
    if target == "url":
        return [b"https://www.Example.org:443/amp/a/?utm_source=x&b=2&a=1#frag",
                b"http://[::1]:8080/x", b"//host/path"]
    if target in ("match", "fold"):
        return [next((ROOT / "seeds").glob("*.txt")).read_bytes()[:400],
                "Путин и Ким Чен Ын; Tô Lâm, U.S., Zelenskyy's".encode()]
    if target == "watchlist":
        return [p.read_bytes()[:400] for p in sorted((ROOT / "watchlists").glob("*.yaml"))]
    return [(ROOT / "monitor.yaml").read_bytes()[:400]]


@pytest.mark.parametrize("target", ["feed", "url", "match", "fold", "watchlist", "config"])
def test_a_short_fuzzing_run_finds_no_crash(target: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris has wheels for Linux x86_64 only")
    if target == "fold" and not normalize.SPEEDUPS:
        pytest.skip("monitor._fold is not built: there is one folding only")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, seed in enumerate(seeds(target)):
        (corpus / f"seed{i}").write_bytes(seed)
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "fuzz_targets.py"), target, str(corpus),
         f"-runs={RUNS}", "-max_total_time=20", "-max_len=2048",
         f"-artifact_prefix={tmp_path}/", *SEED],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    report = result.stderr[-3000:]
    assert result.returncode == 0, report
    assert "Done" in report, report
