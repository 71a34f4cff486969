"""One contract for every ``SpeechSynthesizer`` adapter: voices, PCM, word timings, refusals.

The embedded espeak-ng adapter runs the real library; the production adapters (Google, Polly) run their
own code against a loopback stand-in of their service at the HTTP boundary (``speech_servers.py``).
"""

from __future__ import annotations

import pytest
from speech_servers import AWS_KEY, AWS_REGION, AWS_SECRET, GOOGLE_KEY, fake_speech_server
from speech_support import HAVE_ESPEAK

from ai.errors import SpeechFailed, SpeechUnavailable, VoiceUnknown
from ai.speech.synth.espeak import EspeakSynthesizer
from ai.speech.synth.google import GoogleSynthesizer
from ai.speech.synth.polly import PollySynthesizer
from ai.speech.synth.protocol import SpeechSynthesizer, language_matches
from ai.speech.synth.sigv4 import sign

TEXT = "Habari za asubuhi, rafiki yangu. Mama alinunua ndizi."


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    with fake_speech_server() as s:
        yield s


@pytest.fixture(params=["espeak-ng", "google", "polly"])
def synth(request, server) -> SpeechSynthesizer:  # type: ignore[no-untyped-def]
    server.down = False
    if request.param == "espeak-ng":
        if not HAVE_ESPEAK:
            pytest.skip(
                "libespeak-ng1 is not installed (scripts/_setup.sh installs it where apt-get can run)"
            )
        return EspeakSynthesizer()
    if request.param == "google":
        return GoogleSynthesizer(api_key=GOOGLE_KEY, base_url=server.url)
    return PollySynthesizer(
        region=AWS_REGION, access_key_id=AWS_KEY, secret_access_key=AWS_SECRET, endpoint=server.url
    )


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


def test_a_cloud_engine_that_is_down_or_refuses_the_key_is_unavailable(synth, server):
    if synth.name == "espeak-ng":
        pytest.skip("the embedded engine has no network to lose")
    voice = synth.voices()[0].id
    server.down = True
    with pytest.raises(SpeechUnavailable):
        synth.synthesize("Hello.", voice=voice, rate=1.0)
    server.down = False
    wrong = (
        GoogleSynthesizer(api_key="wrong", base_url=server.url)
        if synth.name == "google"
        else PollySynthesizer(
            region=AWS_REGION, access_key_id=AWS_KEY, secret_access_key="wrong", endpoint=server.url
        )
    )
    with pytest.raises(SpeechUnavailable):
        wrong.voices()
    closed = GoogleSynthesizer(api_key=GOOGLE_KEY, base_url="http://127.0.0.1:9")
    with pytest.raises(SpeechUnavailable):
        closed.voices()


def test_sigv4_matches_the_published_aws_vector():
    """AWS's Signature Version 4 test suite, ``get-vanilla``."""
    from datetime import datetime

    headers = sign(
        method="GET",
        host="example.amazonaws.com",
        path="/",
        query={},
        headers={},
        body=b"",
        access_key="AKIDEXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        service="service",
        now=datetime(2015, 8, 30, 12, 36),
    )
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )
