"""Voices and the narrator of a story.

A story has one narrator (voice and rate) for all its chapters, so a listener hears the same reader from
the first chapter to the last. Until the writer picks one (``PUT /stories/{id}/narration``) the default
follows the story's language and genre: a voice of that language, a female or male variant by genre,
a little slower for children's stories and horror. A narrator saved under another engine (the platform
switched from espeak-ng to a cloud engine) no longer applies; the default of the new engine does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ai.errors import InvalidSpeechRequest, VoiceUnknown
from ai.speech.models import StoryNarration
from ai.speech.synth.protocol import MAX_RATE, MIN_RATE, SpeechSynthesizer, Voice, language_matches
from content.models.stories import Story

# Languages writers on the platform use that an engine may lack; GET /voices says so instead of an empty
# list that looks like a bug.
NOTED_LANGUAGES = {
    "ha": "Hausa",
    "yo": "Yoruba",
    "zu": "Zulu",
    "ig": "Igbo",
    "sw": "Swahili",
    "am": "Amharic",
    "ar": "Arabic",
    "fr": "French",
    "pt": "Portuguese",
    "es": "Spanish",
    "hi": "Hindi",
    "ur": "Urdu",
    "id": "Indonesian",
    "en": "English",
}
_FEMALE_GENRES = {"romance", "young adult", "ya", "poetry", "fan fiction", "fanfiction", "chick lit"}
_SLOW_GENRES = {"children", "kids", "horror", "picture book"}
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Narrator:
    engine: str
    voice: str
    rate: float
    chosen: bool  # False: the default for the story's language and genre


def voices_for(synth: SpeechSynthesizer, language: str | None) -> list[Voice]:
    voices = synth.voices()
    if language:
        voices = [v for v in voices if language_matches(v.language, language)]
    return voices


def missing_languages(synth: SpeechSynthesizer) -> dict[str, str]:
    """Noted languages the engine has no voice for: code → English name."""
    have = synth.voices()
    return {
        code: name
        for code, name in NOTED_LANGUAGES.items()
        if not any(language_matches(v.language, code) for v in have)
    }


def default_narrator(synth: SpeechSynthesizer, story: Story) -> Narrator:
    genre = (story.genre or "").strip().lower()
    want_gender = "female" if genre in _FEMALE_GENRES else "male"
    rate = 0.9 if genre in _SLOW_GENRES else 1.0
    for language in (story.language or DEFAULT_LANGUAGE, DEFAULT_LANGUAGE):
        candidates = voices_for(synth, language.split("-")[0]) if language else []
        exact = [v for v in candidates if v.language == language.lower()] or candidates
        if exact:
            pick = next((v for v in exact if v.gender == want_gender), exact[0])
            return Narrator(synth.name, pick.id, rate, chosen=False)
    voices = synth.voices()
    if not voices:
        raise VoiceUnknown("The speech engine offers no voices.")
    return Narrator(synth.name, voices[0].id, rate, chosen=False)


def narrator_for(session: Session, synth: SpeechSynthesizer, story: Story) -> Narrator:
    row = session.get(StoryNarration, story.id)
    if row is not None and row.engine == synth.name and row.voice in {v.id for v in synth.voices()}:
        return Narrator(row.engine, row.voice, row.rate, chosen=True)
    return default_narrator(synth, story)


def set_narrator(
    session: Session, synth: SpeechSynthesizer, story: Story, *, voice: str, rate: float
) -> Narrator:
    """Save the writer's choice (authorization is the caller's: only the story's editor gets here)."""
    if voice not in {v.id for v in synth.voices()}:
        raise VoiceUnknown("No such voice; GET /voices lists them.", details={"voice": voice[:64]})
    if not MIN_RATE <= rate <= MAX_RATE:
        raise InvalidSpeechRequest(f"rate must be between {MIN_RATE} and {MAX_RATE}.", details={"rate": rate})
    row = session.get(StoryNarration, story.id)
    if row is None:
        row = StoryNarration(story_id=story.id, engine=synth.name, voice=voice, rate=rate)
        session.add(row)
    else:
        row.engine, row.voice, row.rate = synth.name, voice, rate
    session.flush()
    return Narrator(synth.name, voice, rate, chosen=True)
