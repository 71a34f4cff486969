"""Builds content's live parts from plain values.

Keyword arguments only, no settings object and no environment: ``api/wiring.py`` reads ``LEGATO_*``
once and passes the values here. Content's functions take what they need as arguments (the session, the
cipher, the registry, the read grants), so the cipher is the one long-lived object content owns.
"""

from __future__ import annotations

from pathlib import Path

from content.crypto import ContentCipher, Keyring


def build_content_cipher(*, content_key: str | None, keys_dir: Path) -> ContentCipher:
    """The cipher for chapter text at rest. Its keyring is ``content_key`` when given (comma-separated
    base64 keys, the first seals), else the rotating keyring file ``content.keyring`` in ``keys_dir``,
    created (mode 0600) on first use; ``.keyring`` is what ``legato keys`` rotates."""
    if content_key is not None:
        keyring = Keyring.from_setting(content_key)
    else:
        keyring = Keyring.from_file(keys_dir / "content.keyring")
    return ContentCipher(keyring)
