"""The sentiment analyzer: VADER's score with Baton's adjustments, the frustration verdict
and its cues, on tables of messages where each behaviour could go wrong.

The verdict is learned (test_classifier.py covers its training and cross-validation);
the cues come from lexicon.yml's word lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Tuple

import pytest
import vaderSentiment
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from bot.sentiment import (
    ABUSIVE,
    COMPLAINT,
    CUES,
    NEGATIVE_TONE,
    REPEATED_ATTEMPT,
    SARCASM,
    SHOUTING,
    THREAT_TO_LEAVE,
    Sentiment,
    SentimentAnalyzer,
)
from bot.sentiment.analyzer import label_of
from bot.sentiment.lexicon import LexiconError, load_lexicon, parse_lexicon
from bot.sentiment.phrases import compile_phrases, normalise
from bot.settings import PROJECT_ROOT

# Calm messages the learned verdict flags: the labelled writers use "still waiting",
# "third" and "I said X" almost only when they are fed up, and the n-grams cannot read
# the calm rest of these sentences, nor a negated feeling ("not frustrated"). Kept in the
# tables, strict, so a fix shows.
LEARNED_FALSE_ALARM = pytest.mark.xfail(
    strict=True, reason="known false alarm of the learned verdict (see the module comment)"
)


# --- the score --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("compound", "label"),
    [
        (1.0, "positive"),
        (0.05, "positive"),
        (0.0499, "neutral"),
        (0.0, "neutral"),
        (-0.0499, "neutral"),
        (-0.05, "negative"),
        (-1.0, "negative"),
    ],
)
def test_label_uses_vaders_thresholds(compound: float, label: str) -> None:
    assert label_of(compound) == label


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("thank you so much, that's sorted it", "positive"),
        ("What time does the shop close on Sundays?", "neutral"),
        ("the router is broken and I've lost my SIM", "negative"),
        # Customer-service words VADER does not know, from lexicon.yml.
        ("what a shambles", "negative"),
        ("total rip-off", "negative"),
        # VADER reads "joke" as funny.
        ("your customer service is a joke", "negative"),
    ],
)
def test_label_of_messages(analyzer: SentimentAnalyzer, text: str, label: str) -> None:
    assert analyzer.analyze(text).label == label


@pytest.mark.parametrize(
    "text",
    [
        "GREAT GREAT GREAT AMAZING BRILLIANT!!!!!! LOVE IT 😍😍😍",
        "USELESS F***ING SHAMBLES, WORST COMPANY EVER!!!!!! 🤬🤬🤬",
        "oh great, another outage. brilliant. fantastic. amazing. wonderful.",
        "thanks " * 300,
        "no",
    ],
)
def test_compound_stays_within_minus_one_and_one(analyzer: SentimentAnalyzer, text: str) -> None:
    assert -1.0 <= analyzer.analyze(text).compound <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "oh great, another outage. brilliant.",
        "thanks for nothing",
        "brilliant service, not",
        "well done guys, that's the third missed appointment in a row",
        "Fantastic customer service as always 🙄",
        "great job guys, my phone still has no signal",
    ],
)
def test_sarcasm_turns_the_compound_negative(analyzer: SentimentAnalyzer, text: str) -> None:
    sentiment = analyzer.analyze(text)
    assert SARCASM in sentiment.cues
    assert sentiment.compound < 0
    assert sentiment.label == "negative"
    assert sentiment.frustrated


def test_sarcasm_flips_what_plain_vader_reads_as_praise(analyzer: SentimentAnalyzer) -> None:
    text = "oh great, another outage. brilliant."
    assert SentimentIntensityAnalyzer().polarity_scores(text)["compound"] > 0.5
    assert analyzer.analyze(text).compound < -0.5


@pytest.mark.parametrize(
    "text",
    [
        "Brilliant, thanks for your help",
        "great, speeds are back up to normal now",
        "Fantastic, the signal booster has made a real difference",
        "the new router is miles better than the old one, well done",
        "not great signal in the kitchen, would a booster help?",
    ],
)
def test_sincere_praise_is_not_sarcasm(analyzer: SentimentAnalyzer, text: str) -> None:
    sentiment = analyzer.analyze(text)
    assert SARCASM not in sentiment.cues
    assert not sentiment.frustrated


# --- shouting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "WHY IS MY BILL £40 MORE THAN LAST MONTH",
        "NOTHING WORKS. NOT THE INTERNET, NOT THE TV, NOTHING",
        "where is my parcel?!?!",
        "hello???",
        "I want this fixed today!!!!",
    ],
)
def test_shouting(analyzer: SentimentAnalyzer, text: str) -> None:
    assert SHOUTING in analyzer.analyze(text).cues


@pytest.mark.parametrize(
    "text",
    [
        "OK",
        "BT line to Brightwave switch, how long does it take?",
        "my TV and SIM are OK but the HDMI cable is missing",
        "Order BW-100234 hasn't arrived, can you check?",
        "Is 4G or 5G better for the SIM only deal?",
        "I'm with EE and O2 at the moment, can I get a PAC?",
        pytest.param("I said BILLING", marks=LEARNED_FALSE_ALARM),
        "Which is faster, FTTP or FTTC?",
    ],
)
def test_acronyms_and_order_references_are_not_shouting(
    analyzer: SentimentAnalyzer, text: str
) -> None:
    sentiment = analyzer.analyze(text)
    assert SHOUTING not in sentiment.cues
    assert not sentiment.frustrated


def test_one_word_in_capitals_is_not_shouting(analyzer: SentimentAnalyzer) -> None:
    assert SHOUTING not in analyzer.analyze("I said BILLING").cues


# --- the verdict ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("you lot are useless, completely useless", ABUSIVE),
        ("stupid stupid bot", ABUSIVE),
        ("this is the third time I've contacted you about the same fault", REPEATED_ATTEMPT),
        ("I've already told you my account number", REPEATED_ATTEMPT),
        ("it's been like this for the last 3 weeks and still not fixed", REPEATED_ATTEMPT),
        # A word stressed in capitals says it happened again.
        ("You've sent me the wrong phone AGAIN", REPEATED_ATTEMPT),
        # Both kinds of repeat in one message (this crashed the analyzer once).
        ("third time I've asked and you've got it wrong AGAIN", REPEATED_ATTEMPT),
        ("I'm going to BT as soon as this contract ends, you've been shocking", THREAT_TO_LEAVE),
        ("if this isn't sorted by Friday I'll take my business elsewhere", THREAT_TO_LEAVE),
        ("I'm taking this to the ombudsman", COMPLAINT),
        ("I'll be posting about this on Twitter", COMPLAINT),
        ("I'm really losing patience with this", NEGATIVE_TONE),
        ("I'm fed up of paying for 500Mb and getting 20", NEGATIVE_TONE),
        ("I've wasted my whole morning on this", NEGATIVE_TONE),
    ],
)
def test_frustration_and_its_cue(analyzer: SentimentAnalyzer, text: str, cue: str) -> None:
    sentiment = analyzer.analyze(text)
    assert sentiment.frustrated
    assert cue in sentiment.cues


# --- abuse: what hands a chat to a person at once ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "you useless idiots",
        "you lot are clowns",
        "this router is a piece of crap",
        "f***ing useless, the lot of you",
        "stupid bot",
        "you are incompetent",
        "what the fuck is going on with my bill",
        "sort it out you muppets",
    ],
)
def test_insults_and_swearing_are_abusive(analyzer: SentimentAnalyzer, text: str) -> None:
    sentiment = analyzer.analyze(text)
    assert ABUSIVE in sentiment.cues
    assert sentiment.frustrated


@pytest.mark.parametrize(
    "text",
    [
        "this is useless",
        "rubbish service",
        "what a joke",
        "your customer service is a joke",
        "total rip-off",
        "worst provider I've ever had",
        "this is pathetic, a 5 hour outage and not even a text",
    ],
)
def test_a_harsh_judgement_of_the_service_is_frustration_not_abuse(
    analyzer: SentimentAnalyzer, text: str
) -> None:
    sentiment = analyzer.analyze(text)
    assert ABUSIVE not in sentiment.cues
    assert NEGATIVE_TONE in sentiment.cues
    assert sentiment.frustrated


@pytest.mark.parametrize(
    "text",
    [
        "tell me a joke",
        "you're funny",
        "that's a joke right?",
        "I'm useless with technology, how do I reset the router?",
    ],
)
def test_small_talk_with_the_bot_is_not_abusive_nor_frustrated(
    analyzer: SentimentAnalyzer, text: str
) -> None:
    sentiment = analyzer.analyze(text)
    assert ABUSIVE not in sentiment.cues
    assert not sentiment.frustrated


@pytest.mark.parametrize(
    "text",
    ["sorry, I'm an idiot, found the button", "I feel like an idiot, where is the reset button?"],
)
def test_calling_oneself_names_is_not_abuse(analyzer: SentimentAnalyzer, text: str) -> None:
    assert ABUSIVE not in analyzer.analyze(text).cues


@pytest.mark.parametrize(
    "text",
    [
        # Polite exasperation, no swearing: still frustrated.
        "Please could you help, I've been going round in circles for weeks trying to get my refund",
        "Kindly note I have been promised a call back on 3 separate occasions.",
        "I'd appreciate a straight answer for once",
        "How many more times do I have to explain this?",
    ],
)
def test_polite_exasperation_is_frustrated(analyzer: SentimentAnalyzer, text: str) -> None:
    assert analyzer.analyze(text).frustrated


@pytest.mark.parametrize(
    "text",
    [
        "my internet is down",
        "I want to cancel my order",
        "I was charged twice, can you check?",
        "the router light is red",
        "I've lost my phone, can you block the SIM?",
        "Unfortunately my dad passed away, I need to close his account",
        "Sorry, I typed the wrong postcode",
        "Is there a cancellation fee if I leave before my contract ends?",
        "I'd like to make a complaint about an engineer, how do I do that?",
        "What's Ofcom's automatic compensation scheme and does it apply to me?",
        "I'm thinking of switching to you from Sky, what deals do you have?",
        "I'm leaving the country in June so I need to end my mobile contract",
        # Since issue 21's writers from outside the project, whose complaints say
        # "confused" and "third" often: the n-grams do not read the negation.
        pytest.param(
            "I'm not frustrated, just confused about the charges", marks=LEARNED_FALSE_ALARM
        ),
        "How many times can I change my payment date?",
        pytest.param(
            "Still waiting on the delivery but tracking says tomorrow", marks=LEARNED_FALSE_ALARM
        ),
        pytest.param("The third engineer appointment slot works for me", marks=LEARNED_FALSE_ALARM),
        "sorry, stupid question, but where's the reset button?",
    ],
)
def test_calm_negative_topics_are_not_frustrated(analyzer: SentimentAnalyzer, text: str) -> None:
    assert not analyzer.analyze(text).frustrated


@pytest.mark.parametrize(
    "text",
    [
        "AMAZING it works now!!! thank you",
        "THANK YOU SO MUCH!!! You've saved my evening",
        "YESSS finally got the TV working, you're a star ⭐",
        "Finally!!! Internet is back, thanks for the help 🎉",
        "Honestly the best customer service I've had from a broadband company",
    ],
)
def test_enthusiastic_praise_is_not_frustrated(analyzer: SentimentAnalyzer, text: str) -> None:
    sentiment = analyzer.analyze(text)
    assert not sentiment.frustrated
    assert sentiment.label == "positive"


@pytest.mark.parametrize(
    "text",
    [
        "Kindly note I have been promised a call back on 3 separate occasions.",
        "I'm trying to stay calm but this is very frustrating",
        "ffs just put me through to a real person",
    ],
)
def test_a_frustrated_message_never_reads_positive(analyzer: SentimentAnalyzer, text: str) -> None:
    sentiment = analyzer.analyze(text)
    assert sentiment.frustrated
    assert sentiment.label == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n\t \n",
        "📦🚚",
        "hello " * 1700,
        "a" * 10_000,
        "?",
        "12345",
    ],
)
def test_odd_input_is_neutral_and_not_frustrated(analyzer: SentimentAnalyzer, text: str) -> None:
    sentiment = analyzer.analyze(text)
    assert sentiment.label == "neutral"
    assert not sentiment.frustrated
    assert sentiment.cues == ()


def test_very_long_rants_are_still_read(analyzer: SentimentAnalyzer) -> None:
    rant = "I have been without internet for weeks and I am absolutely fed up. " * 200
    assert len(rant) > 10_000
    assert analyzer.analyze(rant).frustrated


# --- the result -------------------------------------------------------------------------


def test_as_dict_is_json_safe(analyzer: SentimentAnalyzer) -> None:
    sentiment = analyzer.analyze("oh great, another outage. I'm done with you lot!!!")
    data = json.loads(json.dumps(sentiment.as_dict()))
    assert data == {
        "compound": round(sentiment.compound, 4),
        "label": sentiment.label,
        "frustrated": True,
        "cues": list(sentiment.cues),
    }
    assert isinstance(data["compound"], float)


def test_as_dict_rounds_the_compound() -> None:
    sentiment = Sentiment(compound=-0.123456, label="negative", frustrated=False, cues=())
    assert sentiment.as_dict()["compound"] == -0.1235


@pytest.mark.parametrize(
    "text",
    [
        "WHY DO YOU KEEP CHARGING ME?!?! useless shambles, I'm going to Sky and Ofcom",
        "oh great, third time I've asked. fed up.",
    ],
)
def test_cues_are_sorted_names_from_the_vocabulary(analyzer: SentimentAnalyzer, text: str) -> None:
    cues = analyzer.analyze(text).cues
    assert len(cues) >= 3
    assert list(cues) == sorted(cues)
    assert set(cues) <= set(CUES)


# --- the lexicon and its phrase syntax --------------------------------------------------


def test_the_lexicon_ships_in_the_package_and_vaders_in_its_own() -> None:
    lexicon = load_lexicon()
    assert lexicon.word_scores["shambles"] < 0
    # VADER reads its word list from its installed package: nothing is downloaded.
    assert (Path(vaderSentiment.__file__).parent / "vader_lexicon.txt").is_file()


@pytest.mark.parametrize(
    ("phrase", "text", "found"),
    [
        ("fed up", "I'm   FED UP", True),
        ("i've told you", "ive told you", True),
        ("i've told you", "I’ve told you", True),
        ("rip-off", "what a ripoff", True),
        ("rip-off", "a rip off", True),
        ("con", "my contract", False),
        ("frustrat*", "so frustrating", True),
        ("<ordinal> time", "the 4th time", True),
        ("<ordinal> time", "the fourth time", True),
        ("<ordinal> time", "the time", False),
        ("keep|kept asking", "you kept asking", True),
        ("taking [this] to the ombudsman", "taking to the ombudsman", True),
        ("taking [this] to the ombudsman", "taking this to the ombudsman", True),
        ("im done <end>", "right, im done.", True),
        ("im done <end>", "im done", True),
        ("im done <end>", "im done with the form", False),
        ("sort your * out", "sort your network out", True),
        ("oh great", "oh, great", True),
        ("oh great", "oh. great", False),
        ("🙄", "as always🙄", True),
        # \* stands for the asterisks of a masked swear word, however many.
        ("f\\**", "F***ING useless", True),
        ("f\\**", "f*ck this", True),
        ("f\\**", "fine", False),
        ("sh\\**", "sh*t", True),
    ],
)
def test_phrase_syntax(phrase: str, text: str, found: bool) -> None:
    pattern = compile_phrases([phrase], {"ordinal": ["#th", "fourth"]})
    assert (pattern.search(normalise(text)) is not None) is found


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (("  shambles: -2.5\n", "  shambles: -9\n"), None, "a number from -4 to 4"),
        (
            ("      - useless\n", "      - <nobodyy> useless\n"),
            None,
            "unknown placeholder <nobodyy>",
        ),
        (("  threshold: 1.0\n", "  threshold: lots\n"), None, "'threshold' is 'lots'"),
        (("  weights:\n", "  weights:\n    grumpiness: 1.0\n"), None, "unknown key 'grumpiness'"),
    ],
)
def test_a_broken_lexicon_names_file_line_and_what_is_allowed(
    change: Tuple[str, str], line: None, words: str
) -> None:
    shipped = (PROJECT_ROOT / "bot" / "sentiment" / "lexicon.yml").read_text(encoding="utf-8")
    old, new = change
    assert shipped.count(old) >= 1
    broken = shipped.replace(old, new, 1)
    changed_line = shipped[: shipped.index(old)].count("\n") + 1
    with pytest.raises(LexiconError) as raised:
        parse_lexicon(broken)
    message = str(raised.value)
    assert words in message
    assert f"lexicon.yml:{changed_line}" in message or f"lexicon.yml:{changed_line + 1}" in message
    assert "allowed:" in message
