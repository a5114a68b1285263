"""The languages the screen speaks, and which one a visit gets: OutSmart's entry says it, else the browser."""
from flask import request

# Dutch is the source language (the texts in the code) and the default; each other one has a catalogue in
# translations/<code>/LC_MESSAGES/messages.po. Each language named in its own words, as a language switcher shows it.
LANGUAGES = {"nl": "Nederlands", "en": "English", "fr": "Français", "de": "Deutsch"}
DEFAULT_LANGUAGE = "nl"


def supported(value) -> str | None:
    """The language a tag names, if the screen speaks it: "fr", "fr-BE", "fr_BE" and "FR" are all French."""
    if not isinstance(value, str):
        return None
    language = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return language if language in LANGUAGES else None


def browser_language() -> str | None:
    """The language the browser prefers most among those the screen speaks (Accept-Language), if any.

    By the language alone, in the browser's order: "fr-CA, en;q=0.9" is French (Werkzeug's best_match would take
    the exact "en" over the regional "fr-CA"), "es, de;q=0.5" is German, "*" and q=0 say nothing."""
    ranked = sorted(request.accept_languages, key=lambda entry: -entry[1])  # stable: the header's order among equals
    return next((supported(tag) for tag, quality in ranked if quality > 0 and supported(tag)), None)
