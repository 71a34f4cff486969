"""Embedded synthesizer: libespeak-ng (Debian ``libespeak-ng1``) through ctypes.

Why ctypes and not a pip wrapper: the wrappers on PyPI (``espeakng``, ``py-espeak-ng``) run the command
line tool and give no timings, and both install one module name. The library's synchronous mode hands
every block of samples to a callback together with word and sentence events (text position, audio
position in ms), which is what the sync markers need, at no cost over the command line tool.

libespeak-ng keeps one global state (voice, rate, callback), so every call holds a process-wide lock.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from typing import Any

from ai.errors import SpeechFailed, SpeechUnavailable, VoiceUnknown
from ai.speech.synth.protocol import MAX_RATE, MIN_RATE, Clip, Voice, WordMark

AUDIO_OUTPUT_SYNCHRONOUS = 2
POS_CHARACTER = 1
CHARS_UTF8, ENDPAUSE = 1, 0x1000
EVENT_WORD, EVENT_SENTENCE, EVENT_MSG_TERMINATED = 1, 2, 6
PARAM_RATE = 1
NORMAL_WPM = 175
FEMALE_VARIANT = "f3"  # a variant file shipped with espeak-ng-data; gives every language a second voice
LIBRARY_NAMES = ("libespeak-ng.so.1", "espeak-ng")


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)
_lock = threading.Lock()
_lib: Any = None
_sample_rate = 0
_collect: dict[str, Any] = {}


@_CALLBACK
def _on_samples(wav: Any, count: int, events: Any) -> int:
    """Called by the library, from inside ``espeak_Synth``, with the caller holding ``_lock``."""
    if wav and count > 0:
        _collect["pcm"].extend(ctypes.string_at(wav, count * 2))
    i = 0
    while events[i].type != 0:  # espeakEVENT_LIST_TERMINATED
        ev = events[i]
        if ev.type == EVENT_WORD:
            _collect["words"].append((ev.text_position, ev.length, ev.audio_position))
        i += 1
    return 0


def _load() -> Any:
    """Load and initialize the library once per process; SpeechUnavailable when it is not installed."""
    global _lib, _sample_rate
    if _lib is not None:
        return _lib
    lib = None
    for name in (*LIBRARY_NAMES, ctypes.util.find_library("espeak-ng")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    if lib is None:
        raise SpeechUnavailable("libespeak-ng is not installed (Debian package libespeak-ng1).")
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.POINTER(ctypes.c_uint),
        ctypes.c_void_p,
    ]
    lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
    lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
    rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, None, 0)
    if rate <= 0:
        raise SpeechUnavailable("libespeak-ng did not initialize (espeak-ng-data missing?).")
    lib.espeak_SetSynthCallback(_on_samples)
    _lib, _sample_rate = lib, rate
    return lib


def _languages(raw: int) -> list[str]:
    """Decode ``espeak_VOICE.languages``: (priority byte, NUL-terminated name)* then a zero byte."""
    out, pos = [], raw
    while ctypes.string_at(pos, 1) != b"\x00":
        name = ctypes.string_at(pos + 1)
        out.append(name.decode("ascii", "replace"))
        pos += 2 + len(name)
    return out


class EspeakSynthesizer:
    """The embedded default: real speech, every language espeak-ng ships, no network."""

    name = "espeak-ng"

    def __init__(self) -> None:
        self._voices: list[Voice] | None = None
        self._files: dict[str, str] = {}  # voice id → the voice file name espeak_SetVoiceByName takes

    def voices(self) -> list[Voice]:
        if self._voices is None:
            with _lock:
                lib = _load()
                listed = lib.espeak_ListVoices(None)
                found: list[Voice] = []
                i = 0
                while listed[i]:
                    v = listed[i].contents
                    langs = _languages(v.languages) if v.languages else []
                    ident = (v.identifier or b"").decode("ascii", "replace")
                    lang = langs[0].lower() if langs else ""
                    # mbrola voices need extra packages; a second file for a language keeps the first
                    if lang and not ident.startswith("mb/") and lang not in {f.id for f in found}:
                        label = (v.name or b"").decode("utf-8", "replace").replace("_", " ")
                        file = ident.rsplit("/", 1)[-1]
                        self._files[lang], self._files[f"{lang}+{FEMALE_VARIANT}"] = (
                            file,
                            f"{file}+{FEMALE_VARIANT}",
                        )
                        found.append(Voice(lang, label, lang, "male" if v.gender == 1 else None, self.name))
                        found.append(
                            Voice(
                                f"{lang}+{FEMALE_VARIANT}",
                                f"{label} (female variant)",
                                lang,
                                "female",
                                self.name,
                            )
                        )
                    i += 1
                self._voices = sorted(found, key=lambda x: x.id)
        return list(self._voices)

    def _check_voice(self, voice: str) -> None:
        if voice not in {v.id for v in self.voices()}:
            raise VoiceUnknown("espeak-ng offers no such voice.", details={"voice": voice[:64]})

    def synthesize(self, text: str, *, voice: str, rate: float) -> Clip:
        self._check_voice(voice)
        if not MIN_RATE <= rate <= MAX_RATE:
            raise SpeechFailed("Rate out of bounds.", details={"rate": rate})
        data = text.encode("utf-8") + b"\x00"
        with _lock:
            lib = _load()
            if lib.espeak_SetVoiceByName(self._files[voice].encode("ascii")) != 0:
                raise VoiceUnknown("espeak-ng could not load the voice.", details={"voice": voice})
            lib.espeak_SetParameter(PARAM_RATE, round(NORMAL_WPM * rate), 0)
            _collect.clear()
            _collect.update(pcm=bytearray(), words=[])
            buf = ctypes.create_string_buffer(data, len(data))
            err = lib.espeak_Synth(buf, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8 | ENDPAUSE, None, None)
            if err != 0:
                raise SpeechFailed("espeak-ng refused the text.", details={"espeak_error": err})
            pcm, raw_words = bytes(_collect["pcm"]), list(_collect["words"])
            _collect.clear()
        # espeak counts text positions in characters, from 1.
        words = [WordMark(start=max(0, p - 1), length=n, ms=ms) for p, n, ms in raw_words]
        return Clip(pcm=pcm, sample_rate=_sample_rate, words=words)

    def health(self) -> dict[str, Any]:
        with _lock:
            _load()
        return {"engine": self.name, "sample_rate": _sample_rate}
