"""language.py: declarations normalised to ISO 639-1, detection where they fail."""

from __future__ import annotations

import pytest

from monitor.extract import decode_page, extract_page, from_feed
from monitor.language import MIN_CONTRADICTING_TEXT, language_code, resolve_language
from tests.support import article_html

ZULU = ("UMongameli uCyril Ramaphosa uthe uhulumeni uzoqhubeka nokusiza imindeni ethintekile "
        "ngezikhukhula ezihlasele isifundazwe saKwaZulu-Natal. Uthe izinkulungwane zabantu "
        "zishiye imizi yabo, kanti abanye basahlala emaholweni omphakathi. Abaphathi "
        "bezinhlangano zosizo bathi badinga ukudla, amanzi ahlanzekile nezingubo.")
XHOSA = ("UMongameli uthe urhulumente uza kuqhubeka nokunceda iintsapho ezichatshazelwe "
         "ngumkhukula kwiPhondo leMpuma Koloni. Amawaka abantu ashiye amakhaya awo, kwaye "
         "abanye basahlala ezikolweni nasezicaweni. Imibutho yoncedo ithi ifuna ukutya, "
         "amanzi acocekileyo neempahla.")
SWAHILI = ("Rais wa Kenya amesema serikali itaendelea kusaidia familia zilizoathirika na "
           "mafuriko katika maeneo ya pwani. Maelfu ya watu wamelazimika kuhama makazi yao, na "
           "wengi bado wanaishi katika shule na makanisa. Mashirika ya misaada yanasema "
           "yanahitaji chakula, maji safi na dawa.")
CHINESE = ("国家主席习近平在人民大会堂同俄罗斯总统普京举行会谈。两国元首就双边关系和共同关心的"
           "国际和地区问题深入交换意见，一致同意进一步深化全面战略协作伙伴关系。会谈后，两国元首"
           "共同签署并发表联合声明，见证签署多项合作文件，涉及经贸、能源、科技、人文等领域。") * 2
ENGLISH = ("Russian President Vladimir Putin arrived in Pyongyang early on Wednesday for a visit "
           "that both governments said would deepen their partnership. Kim Jong Un greeted him "
           "at the airport, and the two leaders signed a treaty later in the day.")
CROATIAN = ("Predsjednik Vlade Andrej Plenković izjavio je u ponedjeljak da će Hrvatska nastaviti "
            "pružati potporu Ukrajini, a ministri vanjskih poslova Europske unije sastat će se "
            "idući tjedan u Bruxellesu kako bi razgovarali o novim sankcijama protiv Rusije.")


@pytest.mark.parametrize(("declared", "code"), [
    ("en", "en"), ("en-US", "en"), ("EN_gb", "en"), ("zh-Hans", "zh"), ("zh-TW", "zh"),
    ("pt_BR", "pt"), ("sr-Latn-RS", "sr"), ("eng", "en"), ("fre", "fr"), ("iw", "he"),
    ("en-GB, fr", "en"), (" de ", "de"), ("utf-8", None), ("utf", None), ("und", None),
    ("x-klingon", None), ("english", None), ("", None), (None, None), ("e1", None)])
def test_declarations_as_iso_639_1(declared: str | None, code: str | None) -> None:
    assert language_code(declared) == code


def test_missing_or_invalid_declarations_are_detected() -> None:
    for declared in (None, "utf-8", "und"):
        assert resolve_language(declared, CHINESE) == "zh"
        assert resolve_language(declared, ENGLISH) == "en"
    assert resolve_language(None, "Putin arrives in Pyongyang.") is None  # too short to tell


def test_a_declaration_the_text_plainly_contradicts_is_replaced() -> None:
    assert resolve_language("en", ZULU) == "zu"
    assert resolve_language("en-US", XHOSA) == "xh"
    assert resolve_language("en", SWAHILI) == "sw"
    assert resolve_language("en", CROATIAN) == "hr"


def test_a_right_declaration_is_kept() -> None:
    assert resolve_language("en-GB", ENGLISH) == "en"
    # A short text never overrules it, even one the detector reads as another language.
    names = "Vladimir Putin met Tô Lâm, Nguyễn Phú Trọng and Lavrov in Hà Nội."
    assert len(names) < MIN_CONTRADICTING_TEXT
    assert resolve_language("en", names) == "en"
    # Close languages: the detector is unsure between them, the declaration stands.
    assert resolve_language("bs", CROATIAN) == "bs"
    # A language the detector does not know is never contradicted.
    assert resolve_language("nb", "Statsministeren sa mandag at regjeringen vil fortsette å "
                            "støtte Ukraina, og at utenriksministrene i Norden skal møtes i "
                            "Oslo neste uke for å drøfte nye sanksjoner mot Russland.") == "nb"


def test_pages_store_iso_639_1_from_their_text_when_the_declaration_fails() -> None:
    paragraphs = [CHINESE[i:i + 60] for i in range(0, len(CHINESE), 60)]
    # People.cn: <html lang="utf-8">.
    page = decode_page(article_html("习近平同普京举行会谈", paragraphs, lang="utf-8"), None)
    extracted = extract_page(page, "http://world.people.com.cn/n1/2024/0516/c1002.html")
    assert extracted is not None and extracted.language == "zh"
    page = decode_page(article_html("Izikhukhula eKwaZulu-Natal", [ZULU], lang="en"), None)
    extracted = extract_page(page, "https://isolezwe.example/izindaba")
    assert extracted is not None and extracted.language == "zu"
    page = decode_page(article_html("Putin in Pyongyang", [ENGLISH], lang="en-US"), None)
    extracted = extract_page(page, "https://news.example/a")
    assert extracted is not None and extracted.language == "en"


def test_feed_text_articles_take_the_feeds_language_unless_the_text_says_otherwise() -> None:
    assert from_feed("Mafuriko", f"<p>{SWAHILI}</p>", "", None, None, "en").language == "sw"
    assert from_feed("Putin", f"<p>{ENGLISH}</p>", "", None, None, "en-gb").language == "en"
    assert from_feed("Putin", f"<p>{ENGLISH}</p>", "", None, None).language == "en"
    assert from_feed("Putin arrives", "", "", None, None, "de").language == "de"
