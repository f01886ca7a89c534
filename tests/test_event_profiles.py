"""Event profiles (monitor/events.py) and the notices they leave out (monitor/boilerplate.py):
pure functions, so plain examples."""

from __future__ import annotations

from monitor import boilerplate, events

BBC = ("Putin lands in Pyongyang for rare visit",
       "Russian President Vladimir Putin has arrived in Pyongyang for his first visit to "
       "North Korea in 24 years, where he is expected to sign a strategic partnership with "
       "Kim Jong Un. The two leaders will discuss military cooperation and sanctions.")
DW = ("Russia's Putin arrives in North Korea",
      "Vladimir Putin touched down in Pyongyang late on Tuesday, where Kim Jong Un greeted "
      "him at the airport. Moscow and Pyongyang are set to sign a partnership agreement "
      "covering military cooperation, state media said.")
FLOODS = ("Floods hit southern Germany",
          "Heavy rain flooded towns in Bavaria and Baden-Württemberg on Sunday; firefighters "
          "evacuated hundreds of residents as rivers burst their banks near Augsburg.")


def ids(title: str, text: str, language: str = "en") -> dict[int, float]:
    return events.profile(title, text, language).ids()


def test_two_outlets_on_one_happening_are_one_event_and_another_happening_is_not() -> None:
    bbc, dw, floods = ids(*BBC), ids(*DW), ids(*FLOODS)
    assert events.same_event(bbc, dw)
    assert not events.same_event(bbc, floods) and not events.same_event(dw, floods)
    assert events.similarity(bbc, dw) == events.similarity(dw, bbc)


def test_a_profile_is_a_unit_vector_of_stemmed_rare_words() -> None:
    profile = events.profile(*BBC, "en")
    terms = dict(profile.terms)
    assert abs(sum(w * w for w in terms.values()) - 1.0) < 1e-9
    assert "pyongyang" in terms and "the" not in terms  # the commonest words weigh nothing
    assert terms["for"] < terms["pyongyang"] / 5
    assert "sanction" in terms  # "sanctions", stemmed
    assert len(profile.terms) <= events.TERMS and len(profile.keys()) <= events.KEYS


def test_one_shared_rare_word_is_a_topic_not_a_happening() -> None:
    a = ids("Pompeo under fire", "Pompeo was criticised by a TV host over a false claim.")
    b = ids("Pompeo the diplomat", "A blog post calls Pompeo loose-lipped at length.")
    assert events.similarity(a, b) > 0.3
    assert not events.same_event(a, b)


def test_languages_never_meet_and_the_language_code_is_normalised() -> None:
    english = ids(*BBC)
    assert events.similarity(english, ids(*BBC, language="de")) == 0.0
    assert events.profile(*BBC, "en-GB").ids() == english
    assert events.language_of("zh-Hans") == "zh" and events.language_of(None) == ""


def test_the_stored_form_gives_back_the_same_profile() -> None:
    profile = events.profile(*DW, "en")
    unpacked = events.unpack(profile.pack())
    assert unpacked.keys() == profile.ids().keys()
    assert all(abs(unpacked[t] - w) < 1e-6 for t, w in profile.ids().items())
    assert events.unpack(b"") == {}


def test_a_headline_at_the_start_of_the_text_is_not_counted_twice() -> None:
    title, text = BBC
    assert events.profile(title, f"{title} {text}", "en") == events.profile(
        None, f"{title} {text}", "en") or events.same_event(
        ids(title, f"{title} {text}"), ids(title, text))


def test_scripts_without_spaces_are_compared_by_character_pairs() -> None:
    a = ids("普京抵达平壤", "俄罗斯总统普京抵达平壤，开始对朝鲜进行国事访问。", "zh")
    b = ids("普京访问平壤", "普京抵达平壤后与金正恩会谈，双方签署全面战略伙伴关系条约。", "zh")
    assert events.same_event(a, b)


def test_shared_terms_explain_a_link() -> None:
    why = dict(events.shared(events.profile(*BBC, "en"), events.profile(*DW, "en")))
    assert "pyongyang" in why and all(v > 0 for v in why.values())
    assert events.shared(events.profile(*BBC, "en"), events.profile(*BBC, "de")) == []


def test_site_notices_are_left_out_of_comparisons() -> None:
    notice = ("Subscribe to continue reading. Already a subscriber? Log in. "
              "Please disable your ad blocker.")
    text = f"The council approved the new budget on Monday. {notice}"
    assert boilerplate.strip(text) == "The council approved the new budget on Monday."
    form = ("Email address First Name Last Name Organisation Job Title Telephone City "
            + "Alabama Alaska Arizona " * 20)
    assert boilerplate.is_boilerplate(form)
    reporting = ("The regulator said the cookie rules, which took effect in May, had forced "
                 "hundreds of companies to rewrite how they track visitors, and that fines "
                 "for breaches would follow from next year under the new enforcement plan.")
    assert not boilerplate.is_boilerplate(reporting)  # long reporting keeps its sentence
    a = ids("Oil to outperform", f"TAKE A FREE TRIAL Registered users can read. {form}")
    b = ids("Slowdown in 2020", f"TAKE A FREE TRIAL Registered users can read. {form}")
    assert not events.same_event(a, b)


def test_common_words_numbers_and_elisions_are_never_index_keys() -> None:
    profile = events.profile("Police say the election result will stand in 2024",
                             "Putin met the minister. It’s said they don’t agree.", "en")
    keys = profile.key_terms()
    assert "putin" in keys
    assert not {"polic", "elect", "minist", "2024", "it’", "it'", "don’t", "don"} & set(keys)
    french = events.profile("C'est l'Europe qu'il faut", "L'Élysée l’a dit d'une voix.", "fr")
    terms = dict(french.terms)
    assert not [t for t in terms if "'" in t or "’" in t]  # c'est is c + est, common words
    assert max(terms["est"], terms["il"], terms["une"]) < terms["élys"] / 3
    assert french.key_terms() == ("élys",)


def test_one_pass_over_many_candidates_answers_as_pairs_do_either_way_round() -> None:
    stories = [BBC, DW, FLOODS, ("Putin in Pyongyang", "Putin and Kim Jong Un in Pyongyang."),
               ("Kim Jong Un", "Kim Jong Un"), ("", "")]
    packed = [events.profile(t, x, "en").pack() for t, x in stories]
    for query in packed:
        expected = [events.same_event(events.unpack(query), events.unpack(p)) for p in packed]
        assert events.links(query, packed) == expected
        assert expected == [events.same_event(events.unpack(p), events.unpack(query))
                            for p in packed]
    assert events.links(packed[0], []) == []
    assert events.links(packed[0], packed[:2]) == [True, True]
