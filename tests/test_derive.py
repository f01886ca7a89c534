"""`monitor watchlist derive`: proposals from text, valid as a watchlist."""

from __future__ import annotations

from monitor.derive import derive, to_yaml
from monitor.watchlist import parse_watchlist


def names(text: str) -> dict[str, str]:
    return {p.name: p.kind for p in derive([text])}


def test_seed_proposals(seed_text: str) -> None:
    got = names(seed_text)
    for name, kind in [("Putin", "actor"), ("Russia", "country"), ("North Korea", "country"),
                       ("Vietnam", "country"), ("Ukraine", "country"),
                       ("United States", "country"), ("European Union", "organization"),
                       ("Comprehensive Strategic Partnership Treaty", "treaty")]:
        assert got.get(name) == kind, (name, got)
    assert not any("Comentarios" in n for n in got)
    assert not any(n in got for n in ("Russian", "Vietnamese", "Western", "Firstly", "West"))


def test_seed_proposal_is_a_valid_watchlist(seed_text: str) -> None:
    text = to_yaml(derive([seed_text]), "seed", ["seed.txt"])
    watchlist, problems = parse_watchlist(text, "derived.yaml")
    assert not problems, problems
    assert watchlist is not None
    us = next(e for e in watchlist.entries if e.name == "United States")
    assert us.country == "US" and "US" in us.aliases


def test_people_treaties_and_organisations() -> None:
    got = names(
        "President Vladimir Putin met leader Kim Jong Un in Pyongyang. Foreign Minister "
        "Sergei Lavrov said the New START treaty was dead. NATO and ASEAN officials met at "
        "the European Union. Putin praised the Treaty on the Non-Proliferation of Nuclear "
        "Weapons and the Paris Agreement. In June, Putin visited Hanoi. PUTIN WINS BIG.")
    assert got["Vladimir Putin"] == "actor"
    assert got["Kim Jong Un"] == "actor"
    assert got["Sergei Lavrov"] == "actor"
    assert got["New START"] == "treaty"
    assert got["Treaty on the Non-Proliferation of Nuclear Weapons"] == "treaty"
    assert got["Paris Agreement"] == "treaty"
    assert got["NATO"] == got["ASEAN"] == "organization"
    assert "Putin" not in got  # merged into Vladimir Putin as an alias
    assert not {"June", "PUTIN", "WINS", "BIG"} & set(got)


def test_countries_in_other_languages_and_regions() -> None:
    got = names("Nordkorea und Russland. The DPRK and Southeast Asia.")
    assert got["North Korea"] == "country"
    assert got["Russia"] == "country"
    assert got["Southeast Asia"] == "place"


def test_names_glossed_in_other_scripts_become_aliases() -> None:
    proposals = {p.name: p for p in derive([
        "President Vladimir Putin (Владимир Путин) met Kim Jong Un (김정은) in Pyongyang. "
        "俄罗斯总统普京（Putin）抵达平壤。 Putin (普京) spoke. "
        "Prime Minister Benjamin Netanyahu (בנימין נתניהו) and President Putin spoke. "
        "Putin (بوتين) said so."])}
    putin = proposals["Vladimir Putin"]
    assert {"Владимир Путин", "普京", "بوتين"} <= set(putin.aliases)
    assert "김정은" in proposals["Kim Jong Un"].aliases
    assert "בנימין נתניהו" in proposals["Benjamin Netanyahu"].aliases
    text = to_yaml(list(proposals.values()), "t", ["t.txt"])
    watchlist, problems = parse_watchlist(text, "t.yaml")
    assert watchlist is not None and not problems
