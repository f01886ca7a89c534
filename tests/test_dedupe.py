"""Canonical URLs, item identity and near-duplicate fingerprints (pure functions)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from monitor.dedupe import canonical_url, content_hash, fingerprint, item_key, similarity
from tests.support import examples

BASE = "https://example.com/world/2024/06/19/putin-pyongyang"


@pytest.mark.parametrize("url", [
    "HTTPS://Example.COM/world/2024/06/19/putin-pyongyang",
    "https://example.com:443/world/2024/06/19/putin-pyongyang",
    "https://example.com/world/2024/06/19/putin-pyongyang#comments",
    "https://example.com/world/2024/06/19/putin-pyongyang/",
    "https://www.example.com/world/2024/06/19/putin-pyongyang",
    "https://example.com/world/2024/06/19/putin-pyongyang?utm_source=rss&utm_medium=feed",
    "https://example.com/world/2024/06/19/putin-pyongyang?fbclid=abc&gclid=def&mc_cid=1",
    "https://amp.example.com/world/2024/06/19/putin-pyongyang",
    "https://example.com/world/2024/06/19/putin-pyongyang/amp",
    "https://example.com/world/2024/06/19/putin-pyongyang/amp/",
    "https://example.com/world/2024/06/19/putin-pyongyang?amp",
])
def test_spellings_of_one_page_are_one_url(url: str) -> None:
    assert canonical_url(url) == BASE


def test_meaningful_query_parameters_stay_sorted() -> None:
    assert canonical_url("http://e.org/a?b=2&a=1&utm_campaign=x") == "http://e.org/a?a=1&b=2"
    assert canonical_url("http://e.org:8080/a") == "http://e.org:8080/a"


def test_item_identity_guid_then_link_then_hash() -> None:
    assert item_key("tag:x,1", "http://e.org/a", "t", "s") == "guid:tag:x,1"
    assert item_key(None, "http://e.org/a?utm_source=x", "t", "s") == "url:http://e.org/a"
    assert item_key(None, None, "t", "s") == item_key("", "", "t", "s") != item_key(
        None, None, "t", "other")


STORY = ("Russian President Vladimir Putin arrived in Pyongyang on Wednesday for his first "
         "visit to North Korea in 24 years and signed a treaty with Kim Jong Un that includes "
         "a pledge of mutual assistance if either country is attacked by a third party, while "
         "officials in Seoul and Washington warned that the deal threatened regional peace.")


def test_republished_story_is_near_identical_different_story_is_not() -> None:
    a = fingerprint(STORY * 2)
    republished = fingerprint("UPDATED: " + STORY.replace("on Wednesday", "early on Wednesday")
                              + " " + STORY)
    other = fingerprint("Vietnam's leaders welcomed Vladimir Putin in Hanoi on Thursday, the "
                        "day after his trip to North Korea, and the two countries signed "
                        "agreements on energy, education and science as the United States "
                        "criticised the visit and Ukraine's allies voiced concern.")
    assert similarity(a.signature, republished.signature) >= 0.5
    assert set(a.bands) & set(republished.bands)
    assert similarity(a.signature, other.signature) < 0.2


def test_fingerprints_are_stable_and_short_texts_have_none() -> None:
    assert fingerprint(STORY) == fingerprint(STORY)
    short = fingerprint("Putin visits Pyongyang")
    assert short.signature == b"" and short.bands == ()
    assert content_hash("Putin, visits  PYONGYANG!") == content_hash("putin visits pyongyang")


@settings(max_examples=examples(300), deadline=None)
@given(st.text(max_size=120) | st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
    st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
    st.text(max_size=20), st.sampled_from(["", ":80", ":443", ":99999", ":x", ":8080"]),
    st.text(max_size=40)))
@example("0 /")  # was "http:///0 ", whose canonical form was "http:///0"
@example("0 / #")
@example("HTTP:////:80")  # no host: "//:80" read as a host the next time
@example("http://www.amp.example.org/a.amp.amp")
@example("http://h/x/amp /")
@example("http://[::1]:8080/x")
def test_any_url_has_one_canonical_form_and_never_raises(url: str) -> None:
    once = canonical_url(url)
    assert isinstance(once, str)
    assert canonical_url(once) == once  # idempotent, whatever the input


@pytest.mark.parametrize(("url", "canonical"), [
    ("0 /", "http:///0"),
    ("http://e.org/a /", "http://e.org/a"),
    ("HTTP:////:80", "http:///:80"),
    ("http://www.amp.e.org/a.amp.amp", "http://e.org/a"),
    ("http://[::1]:8080/x", "http://[::1]:8080/x"),
])
def test_canonical_forms_that_used_to_change_on_a_second_pass(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical == canonical_url(canonical)


@pytest.mark.parametrize(("env", "profile", "derandomized"), [
    ({"CI": "true"}, "ci", True), ({}, "dev", False),
    ({"CI": "true", "HYPOTHESIS_PROFILE": "fuzz"}, "fuzz", False)])
def test_property_tests_are_reproducible_in_ci(env: dict[str, str], profile: str,
                                               derandomized: bool) -> None:
    """CI=true (which .ci/run exports) runs the same examples every time; a developer's
    run and the fuzz profile are random."""
    import os
    import subprocess
    import sys

    from tests.support import ROOT

    clean = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    code = ("import tests.support as c; from hypothesis import settings as s; "
            "print(s.get_current_profile_name(), s.default.derandomize, c.examples(10))")
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == [profile, str(derandomized), "500" if profile == "fuzz" else "10"]
    assert "export CI=true" in (ROOT / ".ci" / "run").read_text()
