"""Unit tests for the enrichers: registry, post-rules, keywords, summary, seed entities."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from tasks.clean import clean
from tasks.document import Document
from tasks.enrich import enrich_batch
from tasks.enrichers import DEFAULT_ENRICHERS, ENRICHERS, resolve, run_enrichers
from tasks.enrichers.aliases import canonical, merge_names
from tasks.enrichers.demonyms import drop_demonyms, is_demonym
from tasks.enrichers.entities import CHUNK_CHARS, EntitiesEnricher, chunks, facets, refine
from tasks.enrichers.gazetteer import apply_gazetteer, places
from tasks.enrichers.keywords import (
    MemoryFrequencies,
    corpus_statistics,
    keywords,
    keywords_many,
    yake_keywords,
)
from tasks.enrichers.mentions import Kind, Mention
from tasks.enrichers.spans import clean_mentions, trim
from tasks.enrichers.stats import reading_time
from tasks.enrichers.summary import lead
from tasks.enrichers.titles import drop_title_fragments
from tasks.extract import read_file

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
SEED_000 = "000_2fa40668a4e6c1c4.txt"
SEED_003 = "003_0fcbdef7ffe9cfd8.txt"


@cache
def enriched_seed(name: str) -> Document:
    """A seed read, cleaned and enriched with the default enrichers (cached: spaCy is slow)."""
    doc = clean(read_file(SEEDS / name, 10_000_000).documents[0])
    return enrich_batch([doc])[0]


def mention(text: str, kind: Kind = "place", start: int = 0) -> Mention:
    return Mention(text, kind, start, start + len(text))


# --- the seeds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "people"),
    [
        (
            SEED_000,
            [
                *("Sergiy Kyslytsya", "Vasyl Maliuk", "Volodymyr Zelenskyy", "Hakan Fidan"),
                *("Rustem Umerov", "Vladimir Medinsky", "Vladimir Putin"),
            ],
        ),
        (
            SEED_003,
            [
                *("Heorhii Tykhyi", "Rustem Umerov", "Vladimir Putin", "Vladimir Medinsky"),
                *("Hakan Fidan", "Ihor Terekhov"),
            ],
        ),
    ],
)
def test_seed_people(name: str, people: list[str]) -> None:
    # Exactly these, in order of first mention: no surname-only or variant duplicates.
    assert enriched_seed(name).people == people


def test_seed_places() -> None:
    found = set(enriched_seed(SEED_000).places) | set(enriched_seed(SEED_003).places)
    expected = {"Ukraine", "Russia", "Istanbul", "Turkey", "Vilnius", "Lithuania", "Kherson"}
    expected |= {"Zaporizhzhia", "Crimea", "Kharkiv", "Moscow", "Kyiv"}
    assert expected <= found


def test_seed_places_in_order_of_first_mention() -> None:
    assert enriched_seed(SEED_000).places[:3] == ["Ukraine", "Russia", "Istanbul"]


def test_seed_organizations() -> None:
    assert {"Nato", "Kremlin"} <= set(enriched_seed(SEED_000).organizations)
    assert "Ukraine’s Security Service" in enriched_seed(SEED_003).organizations


@pytest.mark.parametrize("name", [SEED_000, SEED_003])
def test_seed_traps_gone(name: str) -> None:
    doc = enriched_seed(name)
    everything = doc.people + doc.places + doc.organizations
    for demonym in ("Ukrainian", "Russian", "Turkish", "Nordic"):
        assert demonym not in everything
    assert "Kharkiv" not in doc.organizations
    assert "Crimea" not in doc.organizations
    assert not {"Zelenskyy", "Putin", "Umerov"} & set(everything)  # merged into full names
    assert "Defence" not in doc.organizations  # of "Defence Minister Rustem Umerov"
    for name_ in everything:
        # No lists run together, no "the", no possessive, no edge punctuation, no lowercase junk.
        assert "," not in name_ and not name_.endswith((" and", "’s", "'s", ".", ","))
        assert not name_.lower().startswith("the ")
        assert any(c.isupper() for c in name_)


def test_seed_000_related_links_leave_no_entities() -> None:
    doc = enriched_seed(SEED_000)
    everything = " ".join(doc.people + doc.places + doc.organizations)
    for junk in ("Gavai", "Pradhan", "Susanna Reid", "Wales", "UAE"):
        assert junk not in everything


def test_seed_000_list_span_split() -> None:
    places_ = enriched_seed(SEED_000).places
    assert "Arctic" in places_
    assert "Siberia" in places_


@pytest.mark.parametrize("name", [SEED_000, SEED_003])
def test_seed_keywords_have_no_page_furniture(name: str) -> None:
    found = enriched_seed(name).keywords
    assert 4 <= len(found) <= 8
    lowered = [k.lower() for k in found]
    assert len(set(lowered)) == len(lowered)
    for junk in ("clicky", "world"):
        assert not any(junk in k.split() for k in lowered)


def test_seed_summary_and_reading_time() -> None:
    doc = enriched_seed(SEED_003)
    assert doc.summary is not None
    assert doc.summary.startswith("Ukrainian and Russian delegations met in Turkey on Monday")
    assert len(doc.summary) <= 300
    assert doc.summary.endswith(".")
    assert doc.reading_time_minutes == round(doc.word_count / 230, 1)
    assert doc.language == "en"


# --- post-rules on small strings -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean_"),
    [
        ("Ukraine's", "Ukraine"),
        ("Ukraine’s", "Ukraine"),
        ("the Kremlin", "Kremlin"),
        ("The Hague.", "Hague"),
        ("“Nato”,", "Nato"),
        ("U.S.", "U.S."),
        ("Russians'", "Russians"),
    ],
)
def test_trim(raw: str, clean_: str) -> None:
    assert trim(raw) == clean_


def test_list_span_split_into_places() -> None:
    found = clean_mentions([mention("Arctic, Siberia and", start=10)])
    assert [(m.text, m.start, m.end) for m in found] == [("Arctic", 10, 16), ("Siberia", 18, 25)]


def test_place_name_with_and_kept_whole() -> None:
    found = clean_mentions([mention("Bosnia and Herzegovina")], keep_whole=places().__contains__)
    assert [m.text for m in found] == ["Bosnia and Herzegovina"]


def test_organisation_with_and_not_split() -> None:
    found = clean_mentions([mention("Procter and Gamble", "org")])
    assert [m.text for m in found] == ["Procter and Gamble"]


def test_lowercase_spans_dropped() -> None:
    assert clean_mentions([mention("flank"), mention("the ministry of defence’s", "org")]) == []


@pytest.mark.parametrize(
    "word", ["Ukrainian", "Russian", "Turkish", "Ukrainians", "Russian-Ukrainian"]
)
def test_demonyms(word: str) -> None:
    assert is_demonym(word)


def test_demonyms_dropped_from_places_not_people() -> None:
    kept = drop_demonyms([mention("Ukrainian"), mention("Ukraine"), mention("Russian", "person")])
    assert [m.text for m in kept] == ["Ukraine", "Russian"]


def test_gazetteer_adds_missed_place_and_relabels_organisation() -> None:
    text = "A drone attack by Kyiv hit Kharkiv."
    found = apply_gazetteer(text, [mention("Kharkiv", "org", text.index("Kharkiv"))])
    assert [(m.text, m.kind) for m in found] == [("Kyiv", "place"), ("Kharkiv", "place")]


def test_gazetteer_keeps_person_names_whole() -> None:
    text = "Vladimir Putin met Georgia Jones in Georgia. Putin left."
    people = [mention("Vladimir Putin", "person"), mention("Georgia Jones", "person", 19)]
    found = apply_gazetteer(text, people)
    assert [(m.text, m.kind) for m in found] == [
        ("Vladimir Putin", "person"),
        ("Georgia Jones", "person"),
    ]


def test_gazetteer_skips_places_inside_longer_names() -> None:
    text = "Ukraine’s Security Service said so."
    found = apply_gazetteer(text, [mention("Ukraine’s Security Service", "org")])
    assert [m.text for m in found] == ["Ukraine’s Security Service"]


def test_aliases() -> None:
    assert canonical("Zelensky", "person") == "Zelenskyy"
    assert canonical("Volodymyr Zelensky", "person") == "Volodymyr Zelenskyy"
    assert canonical("Kiev", "place") == "Kyiv"
    assert canonical("US Army", "org") == "US Army"  # no word-by-word aliasing outside people


def test_surname_merges_into_full_name_even_when_mislabelled() -> None:
    found = merge_names(
        [
            mention("Volodymyr Zelensky", "person", 0),
            mention("Zelenskyy", "org", 30),
            mention("Zelensky", "person", 60),
        ]
    )
    assert {(m.text, m.kind) for m in found} == {("Volodymyr Zelenskyy", "person")}


def test_ambiguous_surname_left_alone() -> None:
    found = merge_names(
        [
            mention("Anna Smith", "person"),
            mention("Tom Smith", "person"),
            mention("Smith", "person"),
        ]
    )
    assert [m.text for m in found] == ["Anna Smith", "Tom Smith", "Smith"]


def test_title_fragment_dropped() -> None:
    text = "Defence Minister Rustem Umerov and the Defence Ministry"
    found = drop_title_fragments(text, [mention("Defence", "org"), mention("Defence", "org", 39)])
    assert [m.start for m in found] == [39]


def test_refine_and_facets_dedupe_in_order() -> None:
    text = "Kyiv and Kiev. Ukraine's army. Ukrainian troops."
    found = facets(
        refine(
            text,
            [
                mention("Kiev", start=9),
                mention("Ukraine's", start=15),
                mention("Ukrainian", start=31),
            ],
        )
    )
    assert found == {"person": [], "place": ["Kyiv", "Ukraine"], "org": []}


# --- keywords, summary, reading time ---------------------------------------------------------


def test_keywords_dedupe_case_insensitively() -> None:
    text = "Solar power is growing. SOLAR POWER is cheap. Solar power plants are built in Spain."
    found = keywords(text, "en")
    assert len({k.casefold() for k in found}) == len(found)


def test_keywords_are_phrases_not_fragments_across_a_change_of_case() -> None:
    # Yake's seed keywords had "Russia met" and "Ukrainian air": words either side of a
    # change of capitalisation, or a verb after a name.
    doc = enriched_seed(SEED_000)
    lowered = {k.casefold() for k in doc.keywords}
    assert {"russia", "ukraine", "istanbul", "ceasefire"} <= lowered
    assert not lowered & {"russia met", "ukrainian air", "ukrainian", "russian", "monday"}


def test_keywords_rank_by_rarity_in_the_corpus() -> None:
    common = "The council met. The council voted. The council agreed."
    frequencies = MemoryFrequencies()
    with corpus_statistics(frequencies):
        for _ in range(20):  # "council" is in every document seen so far
            keywords_many([make(common, language="en")])
        text = common + " A tramway was approved; the tramway opens in May."
        [first, *_] = keywords_many([make(text, language="en")])[0]
    assert first == "tramway"


def test_yake_stays_an_option() -> None:
    [doc] = run_enrichers([make(BODY)], ["language", "keywords_yake"])
    assert doc.keywords == yake_keywords(BODY, doc.language)


def test_keywords_other_language() -> None:
    text = (
        "Die Bundesregierung hat am Dienstag einen neuen Haushalt beschlossen. Der Haushalt "
        "sieht höhere Ausgaben für Bildung und Verkehr vor. Die Opposition kritisiert den Haushalt."
    )
    assert "Haushalt" in keywords(text, "de")


def test_lead_two_sentences_within_limit() -> None:
    body = "First sentence here. Second one, Mr. Smith said.\n\nThird paragraph."
    assert lead(body) == "First sentence here. Second one, Mr. Smith said."


def test_lead_stops_before_going_over_limit() -> None:
    body = "Short lead. Then " + "word " * 80 + "end."
    assert lead(body) == "Short lead."


def test_lead_cuts_one_long_sentence_on_a_word() -> None:
    summary = lead("word " * 200)
    assert summary is not None and summary.endswith("…") and len(summary) <= 301


def test_lead_empty_body() -> None:
    assert lead("  \n ") is None


def test_reading_time() -> None:
    assert reading_time(230) == 1.0
    assert reading_time(521) == 2.3
    assert reading_time(0) == 0.0


# --- registry --------------------------------------------------------------------------------


class Shout:
    """A custom enricher used by dotted path."""

    name = "shout"

    def enrich(self, docs: list[Document]) -> list[Document]:
        return [d.replace(keywords=[k.upper() for k in d.keywords]) for d in docs]


def make(body: str, **fields: object) -> Document:
    return Document(source="/in/a.txt", text=body, body=body, **fields)  # type: ignore[arg-type]


BODY = (
    "The city council approved the new budget on Tuesday after a long debate in Leeds. "
    "Officials said the money would be spent on road repairs over three years."
)


def test_default_order_and_registry() -> None:
    assert DEFAULT_ENRICHERS == ("language", "stats", "summary", "keywords", "entities")
    # YAKE stays an option: named instead of "keywords".
    assert set(ENRICHERS) == {*DEFAULT_ENRICHERS, "keywords_yake"}


def test_custom_enricher_by_dotted_path() -> None:
    [doc] = run_enrichers([make(BODY)], ["language", "keywords", f"{__name__}:Shout"])
    assert doc.keywords and all(k == k.upper() for k in doc.keywords)


def test_switching_one_off() -> None:
    [doc] = run_enrichers([make(BODY)], ["language", "stats", "summary"])
    assert doc.keywords == [] and doc.places == []
    assert doc.word_count > 0 and doc.summary


def test_unknown_enricher_fails_before_running() -> None:
    with pytest.raises(ValueError, match="unknown enricher"):
        run_enrichers([make(BODY)], ["language", "nope"])
    with pytest.raises(ModuleNotFoundError):
        resolve("no_such_module:Thing")


def test_entities_only_for_english() -> None:
    german = make(
        "Angela Merkel besuchte am Montag Berlin und sprach mit Olaf Scholz.", language="de"
    )
    english = make(BODY, language="en")
    out = ENRICHERS["entities"].enrich([german, english])
    assert out[0].people == [] and out[0].places == []
    assert out[1].places == ["Leeds"]


def test_enrichers_do_not_mutate_input() -> None:
    doc = make(BODY)
    run_enrichers([doc], DEFAULT_ENRICHERS)
    assert doc.language is None and doc.keywords == [] and doc.summary is None


# --- long bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [7, 40, 1000])
def test_chunks_cover_the_text_and_cut_at_breaks(size: int) -> None:
    text = "First paragraph here.\n\nSecond one, a bit longer than that.\nA line.\n\n" * 20
    pieces = chunks(text, size)
    assert "".join(piece for _, piece in pieces) == text
    assert all(len(piece) <= size for _, piece in pieces)
    assert [at for at, _ in pieces] == [
        sum(len(p) for _, p in pieces[:k]) for k in range(len(pieces))
    ]
    if size >= 40:  # room for a whole paragraph: every cut falls after a break
        assert all(piece.endswith("\n") for _, piece in pieces[:-1])


def test_chunks_cut_a_text_without_spaces_hard() -> None:
    assert chunks("x" * 25, 10) == [(0, "x" * 10), (10, "x" * 10), (20, "x" * 5)]


def test_names_past_the_first_piece_of_a_long_body_are_found() -> None:
    filler = "The committee met again on Tuesday and discussed the budget at length.\n\n" * 300
    body = filler + "Volodymyr Zelenskyy spoke with Hakan Fidan in Ankara on Friday.\n"
    assert len(body) > 2 * CHUNK_CHARS
    doc = Document(source="/in/long.txt", text=body, body=body, language="en")
    found = EntitiesEnricher().enrich([doc])[0]
    assert {"Volodymyr Zelenskyy", "Hakan Fidan"} <= set(found.people)
    assert "Ankara" in found.places
