"""One contract for every ``SpeechSynthesizer`` adapter: voices, PCM, word timings, refusals.

The embedded espeak-ng adapter runs the real library; production adapters join ``ADAPTERS`` with a
loopback test server at their HTTP boundary.
"""

from __future__ import annotations

import pytest
from speech_support import needs_espeak

from ai.errors import SpeechFailed, VoiceUnknown
from ai.speech.synth.espeak import EspeakSynthesizer
from ai.speech.synth.protocol import SpeechSynthesizer, language_matches

TEXT = "Habari za asubuhi, rafiki yangu. Mama alinunua ndizi."


@pytest.fixture(params=["espeak-ng"])
def synth(request) -> SpeechSynthesizer:  # type: ignore[no-untyped-def]
    if request.param == "espeak-ng":
        return EspeakSynthesizer()
    raise AssertionError(request.param)


pytestmark = needs_espeak


def test_lists_voices_with_language_gender_and_engine(synth):
    voices = synth.voices()
    assert len({v.id for v in voices}) == len(voices)
    assert all(v.engine == synth.name and v.language == v.language.lower() for v in voices)
    swahili = [v for v in voices if language_matches(v.language, "sw")]
    assert swahili and {v.gender for v in swahili} >= {"female"}


def test_speaks_a_sentence_with_word_offsets_and_times(synth):
    voice = next(v.id for v in synth.voices() if language_matches(v.language, "sw"))
    clip = synth.synthesize(TEXT, voice=voice, rate=1.0)
    assert clip.sample_rate >= 8000 and len(clip.pcm) % 2 == 0
    assert 1500 < clip.duration_ms < 15000
    words = [TEXT[w.start : w.start + w.length] for w in clip.words]
    assert words[:3] == ["Habari", "za", "asubuhi"] and words[-1] == "ndizi"
    times = [w.ms for w in clip.words]
    assert times == sorted(times) and times[-1] < clip.duration_ms


def test_offsets_count_characters_not_bytes(synth):
    voice = next(v.id for v in synth.voices() if language_matches(v.language, "fr"))
    text = "Ça va très bien, merci."
    clip = synth.synthesize(text, voice=voice, rate=1.0)
    assert [text[w.start : w.start + w.length] for w in clip.words][:3] == ["Ça", "va", "très"]


def test_faster_rate_is_shorter(synth):
    voice = synth.voices()[0].id
    slow = synth.synthesize(TEXT, voice=voice, rate=0.75).duration_ms
    fast = synth.synthesize(TEXT, voice=voice, rate=1.5).duration_ms
    assert fast < slow


def test_refuses_unknown_voice_and_bad_rate(synth):
    with pytest.raises(VoiceUnknown):
        synth.synthesize("Hello.", voice="no-such-voice", rate=1.0)
    with pytest.raises(SpeechFailed):
        synth.synthesize("Hello.", voice=synth.voices()[0].id, rate=9.0)


def test_health_names_the_engine(synth):
    assert synth.health()["engine"] == synth.name


def test_every_listed_voice_speaks(synth):
    for voice in synth.voices():
        assert synth.synthesize("Hello.", voice=voice.id, rate=1.0).pcm, voice.id
