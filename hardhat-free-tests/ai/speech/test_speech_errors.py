"""Every ``ai`` error code has an HTTP status on purpose (a missing one would be a 500)."""

from __future__ import annotations

from ai.errors import all_error_classes
from api.http.errors import STATUS_BY_CODE


def test_every_ai_error_code_is_mapped():
    codes = {cls.code for cls in all_error_classes()}
    assert "VOICE_UNKNOWN" in codes and len(codes) >= 10
    assert codes - set(STATUS_BY_CODE) == set()
    client_faults = {"VOICE_UNKNOWN", "AUDIO_LOCKED", "AI_NOT_FOUND", "RANGE_NOT_SATISFIABLE"}
    assert all(400 <= STATUS_BY_CODE[c] < 500 for c in client_faults)
