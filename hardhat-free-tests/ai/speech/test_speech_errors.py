"""Narration's refusals are the client's to fix (4xx), its outages are the server's (5xx); that every ai
code has a status at all is test_architecture's to check."""

from __future__ import annotations

from api.http.errors import STATUS_BY_CODE


def test_speech_refusals_are_client_errors_and_outages_are_not():
    refusals = ("VOICE_UNKNOWN", "AUDIO_LOCKED", "NOT_FOUND", "RANGE_NOT_SATISFIABLE",
                "INVALID_SPEECH_REQUEST")
    for code in refusals:
        assert 400 <= STATUS_BY_CODE[code] < 500, code
    for code in ("SPEECH_UNAVAILABLE", "MEDIA_UNAVAILABLE"):
        assert STATUS_BY_CODE[code] == 503, code
