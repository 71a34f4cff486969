"""The embedded default: Apertium, the rule-based engine Debian packages (``apertium`` plus one package
per pair: ``apertium-eng-spa``, ``apertium-fr-es``, ``apertium-es-pt``, ``apertium-eng-cat``…).

Pairs are the ``.mode`` files in Apertium's modes directory (regional variants such as ``eng-cat_valencia``
and ``eco-`` modes are left out). A text is translated in one ``apertium -f txt`` run, paragraphs
separated by blank lines, which Apertium keeps; if the paragraph count ever comes back different the
paragraphs go one run each, so alignment holds. Apertium marks the words it did not know (``*word``);
the marks are removed from the draft and reported to the quality check. No Apertium installed: the
pair list is empty and a translation raises ``TRANSLATION_ENGINE_UNAVAILABLE``, nothing else breaks.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ai.errors import EngineUnavailable, ProviderError, ProviderUnavailable
from ai.translation import placeholders, text
from ai.translation.languages import try_normalize
from ai.translation.protocol import Pair, Segment, for_pair

DEFAULT_MODES_DIR = Path("/usr/share/apertium/modes")


class ApertiumTranslator:
    name = "apertium"

    def __init__(
        self, *, binary: str = "apertium", modes_dir: Path = DEFAULT_MODES_DIR, timeout_seconds: float = 30.0
    ) -> None:
        self.binary = shutil.which(binary)
        self.modes_dir = modes_dir
        self.timeout_seconds = timeout_seconds

    def _modes(self) -> dict[Pair, str]:
        if self.binary is None or not self.modes_dir.is_dir():
            return {}
        modes: dict[Pair, str] = {}
        for path in sorted(self.modes_dir.glob("*.mode")):
            mode = path.stem
            if "_" in mode or mode.count("-") != 1:
                continue
            src, dst = (try_normalize(c) for c in mode.split("-"))
            if src and dst and src != dst:
                modes.setdefault(Pair(src, dst), mode)
        return modes

    def pairs(self) -> list[Pair]:
        return sorted(self._modes())

    def _mode(self, source: str, target: str) -> str:
        modes = self._modes()
        if not modes:
            raise EngineUnavailable(
                "No translation engine is installed: install Debian's apertium and a pair package "
                "(apertium-eng-spa…), or configure a translation provider.",
                details={"engine": self.name},
            )
        mode = for_pair(modes, source, target, engine="Apertium (installed pairs)")
        return mode

    def _run(self, mode: str, data: str) -> str:
        assert self.binary is not None
        timeout = self.timeout_seconds + len(data) / 5_000  # ~1 s per 1,000 words on top
        try:
            done = subprocess.run(  # noqa: S603 — fixed binary, mode from the installed list, text on stdin
                [self.binary, "-f", "txt", mode],
                input=data.encode(),
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise ProviderUnavailable("Apertium timed out.", details={"mode": mode}) from e
        except OSError as e:
            raise ProviderUnavailable("Apertium could not be started.", details={"mode": mode}) from e
        if done.returncode != 0:
            raise ProviderError(
                "Apertium failed.",
                details={
                    "mode": mode,
                    "returncode": done.returncode,
                    "stderr": done.stderr.decode(errors="replace")[-300:],
                },
            )
        return done.stdout.decode(errors="replace")

    def translate(
        self,
        paragraphs: Sequence[str],
        *,
        source: str,
        target: str,
        glossary: Mapping[str, str] | None = None,
    ) -> list[Segment]:
        mode = self._mode(source, target)
        if not paragraphs:
            return []
        protected = [placeholders.protect(p, glossary or {}) for p in paragraphs]
        sources = [p.replace("\x00", "") for p, _ in protected]
        out = text.split(self._run(mode, text.join(sources)))
        if len(out) != len(sources):  # a paragraph merged or split: translate them one by one
            out = [text.join(text.split(self._run(mode, p))) for p in sources]
        segments = []
        for original, (_, codes), translated in zip(paragraphs, protected, out, strict=True):
            clean, unknown = text.strip_marks(original, translated)
            unknown = [w for w in unknown if not w.startswith(placeholders.PREFIX)]
            segments.append(Segment(text=placeholders.restore(clean, codes).strip(), unknown=unknown))
        return segments

    def health(self) -> dict[str, Any]:
        pairs = self.pairs()
        return {"engine": self.name, "installed": self.binary is not None, "pairs": len(pairs)}
