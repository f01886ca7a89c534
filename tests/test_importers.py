"""`monitor watchlist import`: OFAC CSV, UN XML, OpenSanctions FtM, plain CSV -> a valid
watchlist with stable ids, natural-order names, weak aliases and a header with counts.
The fixtures in tests/data/lists are our own, in each source's public format."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.errors import UsageError
from monitor.importers import import_list, to_yaml
from monitor.importers.common import natural_order
from monitor.watchlist import Entry, Watchlist, parse_watchlist
from tests.support import ROOT

DATA = ROOT / "tests" / "data" / "lists"
CORPUS = ROOT.parent / "shared" / "corpus" / "watchlists"
TODAY = datetime(2026, 1, 2, tzinfo=UTC)


def imported(fmt: str, path: Path, **kw: list[str]) -> tuple[Watchlist, str]:
    text = to_yaml(import_list(fmt, path), "t", kw.get("programs", ()), kw.get("kinds", ()),
                   today=TODAY)
    watchlist, problems = parse_watchlist(text, "t.yaml")
    assert watchlist is not None, problems
    return watchlist, text


def by_id(watchlist: Watchlist) -> dict[str, Entry]:
    return {e.id: e for e in watchlist.entries}


def test_ofac_sdn_with_aliases_beside_it() -> None:
    watchlist, text = imported("ofac-csv", DATA / "ofac" / "sdn.csv")
    entries = by_id(watchlist)
    assert list(entries) == ["example-trading-co-ltd-101", "ivan-sergeyevich-petrov-102",
                             "success-103", "ep-xyz-104", "success-105"]
    org = entries["example-trading-co-ltd-101"]
    # words in capitals by the list's habit are recased; short non-words stay acronyms
    assert org.name == "Example Trading CO., LTD."
    assert org.kind == "organization" and org.aliases == ("ETC", "Example Traders")
    person = entries["ivan-sergeyevich-petrov-102"]
    assert person.kind == "actor" and person.name == "Ivan Sergeyevich Petrov"
    assert person.aliases == ("Petrov, Ivan Sergeyevich", "Vanya Petrov", "Petrov, Vanya",
                              "Ivan S. Petrov")
    assert person.country == "RU"  # from "nationality Russia" in the remarks
    tanker, other = entries["success-103"], entries["success-105"]
    assert tanker.kind == "vessel" and tanker.country == "PA"  # the flag
    assert other.context == ("IMO 9187629",) and other.country == "IR"
    assert entries["ep-xyz-104"].kind == "aircraft"
    assert text.startswith("# Imported from OFAC sanctions list (legacy CSV) on 2026-01-02")
    assert ("# 5 records read, 5 entries written (actor 1, aircraft 1, organization 1, "
            "vessel 2), 6 aliases, 0 weak aliases") in text
    assert str(DATA / "ofac" / "alt.csv") in text


def test_ofac_filters_by_program_and_type() -> None:
    watchlist, text = imported("ofac-csv", DATA / "ofac" / "sdn.csv", programs=["SDGT"])
    assert [e.id for e in watchlist.entries] == ["example-trading-co-ltd-101", "ep-xyz-104"]
    assert "# Programs: SDGT." in text
    watchlist, _ = imported("ofac-csv", DATA / "ofac" / "sdn.csv", kinds=["vessel", "individual"])
    assert [e.kind for e in watchlist.entries] == ["actor", "vessel", "vessel"]


def test_ofac_consolidated_files_and_weak_aliases() -> None:
    watchlist, _ = imported("ofac-csv", DATA / "cons" / "cons_prim.csv")
    [entry] = watchlist.entries
    assert entry.aliases == ("CEB",) and entry.weak_aliases == ()  # C.E.B. is CEB, dotted


def test_un_xml() -> None:
    watchlist, text = imported("un-xml", DATA / "un.xml")
    entries = by_id(watchlist)
    ahmad = entries["ahmad-example-al-testi-qdi-901"]
    assert ahmad.kind == "actor" and ahmad.country == "YE"
    assert ahmad.aliases == ("أحمد إكزامبل التستي", "Ahmad al-Testi")  # original script kept
    assert ahmad.weak_aliases == ("Abu Test",)
    ri = entries["ri-example-ho-kpi-902"]
    assert ri.aliases == ("리예호",) and ri.country == "KP"
    org = entries["example-relief-foundation-qde-903"]
    assert org.kind == "organization" and org.aliases == ("ERF",)
    assert org.weak_aliases == ("The Foundation",)
    assert "# List generated 2026-01-02T00:00:00.000Z." in text
    only, _ = imported("un-xml", DATA / "un.xml", programs=["DPRK"])
    assert [e.id for e in only.entries] == ["ri-example-ho-kpi-902"]


def test_ftm() -> None:
    watchlist, _ = imported("ftm", DATA / "ftm.json")
    entries = by_id(watchlist)
    assert list(entries) == ["maria-petrovna-ivanova-nk-test1", "example-drone-llc-nk-test2",
                             "ocean-example-nk-test3", "ra-12345-nk-test4"]
    maria = entries["maria-petrovna-ivanova-nk-test1"]
    assert maria.name == "Maria Petrovna Ivanova" and maria.country == "RU"
    assert "Мария Петровна Иванова" in maria.aliases and "Maria Petrovna Sidorova" in maria.aliases
    assert maria.weak_aliases == ("Masha",)
    assert entries["ocean-example-nk-test3"].context == ("IMO 9876543",)
    assert entries["ocean-example-nk-test3"].country == "PA"
    assert entries["ra-12345-nk-test4"].kind == "aircraft"
    # a Sanction's program counts for its entity
    only, _ = imported("ftm", DATA / "ftm.json", programs=["US-RUSHAR"])
    assert [e.id for e in only.entries] == ["example-drone-llc-nk-test2"]


def test_plain_csv() -> None:
    watchlist, _ = imported("csv", DATA / "plain.csv")
    putin, holdings, vessel = watchlist.entries
    assert (putin.id, putin.kind, putin.aliases, putin.country) == (
        "vladimir-putin", "actor", ("Putin", "Путин"), "RU")
    assert holdings.aliases == ("EH", "Example Hldgs") and holdings.country == "CY"
    assert vessel.kind == "vessel"


def test_recase() -> None:
    from monitor.importers.common import recase

    assert [recase(n) for n in ("SUCCESS", "AL-QA'IDA", "THE BASE", "ETIM", "HAMAS", "DREAM II",
                                "EP-GOM", "Ivan PETROV", "ДОМ")] == [
        "Success", "Al-Qa'ida", "THE Base", "ETIM", "HAMAS", "Dream II", "EP-GOM",
        "Ivan Petrov", "ДОМ"]


def test_natural_order() -> None:
    assert natural_order("PUTIN, Vladimir Vladimirovich") == "Vladimir Vladimirovich PUTIN"
    assert natural_order("ANGLO-CARIBBEAN CO., LTD.") == "LTD. ANGLO-CARIBBEAN CO."  # entities
    assert natural_order("Putin") is None and natural_order("A, B, C") is None


def test_bad_input_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "x.csv"
    bad.write_text("name,kind\nSomeone,spaceship\n")
    with pytest.raises(UsageError, match=r"x.csv:2: kind 'spaceship' is unknown"):
        import_list("csv", bad)
    bad.write_text("1,2\n")
    with pytest.raises(UsageError, match=r"x.csv:1: expected the SDN CSV columns"):
        import_list("ofac-csv", bad)
    bad.write_text("<x/>")
    with pytest.raises(UsageError, match="not a UN consolidated list"):
        import_list("un-xml", bad)
    bad.write_text('{"id": 1}\n[1\n')
    with pytest.raises(UsageError, match=r"x.csv:2: not a JSON object"):
        import_list("ftm", bad)
    with pytest.raises(UsageError, match="no such file"):
        import_list("ftm", tmp_path / "nope.json")


def test_cli_import_writes_a_checked_watchlist(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sdn.yaml"
    assert main(["watchlist", "import", "ofac-csv", str(DATA / "ofac" / "sdn.csv"),
                 "--name", "sdn", "--type", "vessel", "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().err
    assert main(["watchlist", "check", str(out)]) == 0
    captured = capsys.readouterr()
    assert "ok (1 watchlist, 2 entries, 1 shared aliases)" in captured.out
    assert "warning: alias 'Success' is also a name of entry 'success-103'" in captured.err
    assert main(["watchlist", "import", "ofac-csv", str(DATA / "ofac" / "sdn.csv"),
                 "--program", "NOPE"]) == 2
    assert "no entries" in capsys.readouterr().err


@pytest.mark.skipif(not (CORPUS / "ofac-sdn" / "sdn.csv").is_file(),
                    reason="../shared/corpus/watchlists is absent")
def test_real_lists_import_and_load() -> None:
    sdn, _ = imported("ofac-csv", CORPUS / "ofac-sdn" / "sdn.csv")
    assert len(sdn.entries) > 8000
    assert len({e.id for e in sdn.entries}) == len(sdn.entries)
    for path in sorted((CORPUS / "opensanctions").glob("*.ftm.json")):
        ftm, _ = imported("ftm", path)
        assert ftm.entries


def test_cli_match_json_marks_shared_aliases_ambiguous(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    monkeypatch.setenv("MONITOR_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "sdn.yaml"
    assert main(["watchlist", "import", "ofac-csv", str(DATA / "ofac" / "sdn.csv"),
                 "-o", str(out)]) == 0
    text = tmp_path / "t.txt"
    text.write_text("The tanker Success was seized with the aircraft EP-XYZ.\n")
    capsys.readouterr()
    assert main(["match", "--json", "-w", str(out), str(text)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["entry"], r["text"], r["ambiguous"]) for r in rows] == [
        ("success-103", "Success", True), ("success-105", "Success", True),
        ("ep-xyz-104", "EP-XYZ", False)]
