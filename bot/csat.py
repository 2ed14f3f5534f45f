"""Understanding a customer's answers to the satisfaction survey (the CSAT form).

Pure functions, like `bot.case_details`: each takes what the customer typed (or a
button sent) and returns the normalised value, or raises `InvalidRating` with a
message that tells the customer what would fit, and how to skip the survey.
"""

from __future__ import annotations

import re

from bot.constants import CSAT_NO_COMMENT

MIN_RATING = 1
MAX_RATING = 5
MAX_COMMENT_LENGTH = 1000

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
# Whole numbers, not parts of a longer one ("10", "4.5", "BW-123456" are not ratings).
_NUMBER = re.compile(r"(?<![\w.])(\d+)(?!\w|\.\d)")
_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)
# "4/5", "4 out of 5": the scale is not a second rating. Tried only where a run of spaces
# starts (not inside one): from every space of a long run, `\s*` read the rest of the run
# again, quadratic in its length; the run's start finds whatever a later space would.
_SCALE = re.compile(r"(?<!\s)\s*(?:/|out\s+of)\s*5\b", re.IGNORECASE)
# Answers to "anything to add?" that mean "no comment".
SKIP_ANSWERS = frozenset(
    {
        "skip",
        "no comment",
        "no comments",
        "no",
        "nope",
        "nah",
        "nothing",
        "none",
        "no thanks",
        "no thank you",
        "n/a",
        "na",
        "-",
        "/deny",
        "not really",
        "all good",
        "thanks",
        "thank you",
        "thx",
        "ok",
        "okay",
        "bye",
        "never mind",
        "nevermind",
    }
)

_HOW_TO_ANSWER = (
    "tap a button or type a number from 1 (poor) to 5 (excellent). "
    'If you\'d rather not rate us, just say "no thanks".'
)


class InvalidRating(ValueError):
    """What the customer typed is not a rating from 1 to 5; the message says what would be."""


def parse_rating(text: str) -> int:
    """The rating in a button's value ("4") or in what the customer typed ("4 stars", "five")."""
    cleaned = _SCALE.sub("", text.strip())
    numbers = {int(found) for found in _NUMBER.findall(cleaned)}
    numbers |= {_NUMBER_WORDS[word.lower()] for word in _WORD.findall(cleaned)}
    if len(numbers) > 1:
        raise InvalidRating(f"Please give just one rating: {_HOW_TO_ANSWER}")
    if not numbers:
        raise InvalidRating(f"Sorry, I didn't catch a rating. Please {_HOW_TO_ANSWER}")
    (rating,) = numbers
    if not MIN_RATING <= rating <= MAX_RATING:
        raise InvalidRating(
            f"{rating} isn't on our scale, which goes from {MIN_RATING} to {MAX_RATING}. "
            f"Please {_HOW_TO_ANSWER}"
        )
    return rating


def normalize_comment(text: str) -> str:
    """The comment as it is kept: whitespace tidied, at most `MAX_COMMENT_LENGTH` characters.

    A "no comment" answer (the button, "skip", "no", "nothing", ...) becomes
    `CSAT_NO_COMMENT`, so the survey can finish without one.
    """
    tidy = " ".join(text.split())
    if tidy.lower().rstrip(".!") in SKIP_ANSWERS or not tidy:
        return CSAT_NO_COMMENT
    return tidy[:MAX_COMMENT_LENGTH]


def stored_comment(slot_value: str | None) -> str | None:
    """The comment to store for the form's slot value: None when the customer skipped it."""
    if slot_value is None or slot_value == CSAT_NO_COMMENT:
        return None
    return slot_value
