"""``legato translate``: the configured translation engine from the command line — its pairs, a file
translated with the same paragraph alignment and quality report the workflow uses, language detection.
No engine installed: a clear message and exit status 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ai.errors import AiError, EngineUnavailable
from ai.translation import quality, text
from ai.translation.detect import detect
from ai.translation.languages import name_of, normalize
from ai.translation.protocol import Translator
from ai.wiring import build_translator
from api.cli.base import app, cli_settings, err, out

translate_app = typer.Typer(no_args_is_help=True, help="Machine translation (ai/translation).")
app.add_typer(translate_app, name="translate")
MAX_FILE_BYTES = 5_000_000


def _engine() -> Translator:
    s = cli_settings()
    try:
        return build_translator(
            engine=s.translation_engine,
            url=s.translation_url,
            api_key=s.translation_api_key.get_secret_value() if s.translation_api_key else None,
            google_project=s.translation_google_project,
            timeout_seconds=s.translation_timeout_seconds,
        )
    except AiError as e:
        err.print(f"[red]translation not configured:[/red] {e.message}")
        raise typer.Exit(2) from e


def _fail(e: AiError) -> typer.Exit:
    err.print(f"[red]{e.code}[/red]: {e.message}")
    if e.details.get("available"):
        pairs = ", ".join(f"{p['source']}→{p['target']}" for p in e.details["available"])
        err.print(f"available pairs: {pairs}")
    return typer.Exit(2 if isinstance(e, EngineUnavailable) else 1)


def _read(path: Path) -> str:
    data = path.read_bytes()[: MAX_FILE_BYTES + 1]
    if len(data) > MAX_FILE_BYTES:
        err.print(f"[red]too large:[/red] at most {MAX_FILE_BYTES} bytes")
        raise typer.Exit(2)
    return data.decode("utf-8", errors="replace")


@translate_app.command("languages")
def languages(as_json: bool = typer.Option(False, "--json")) -> None:
    """The pairs the configured engine translates now."""
    engine = _engine()
    try:
        pairs = engine.pairs()
    except AiError as e:
        raise _fail(e) from e
    if not pairs:
        err.print(
            f"[red]no translation engine available[/red] ({engine.name}): install Debian's apertium "
            "and a pair (apt-get install apertium apertium-eng-spa), or set LEGATO_TRANSLATION_ENGINE"
        )
        raise typer.Exit(2)
    if as_json:
        out.print(json.dumps({"engine": engine.name, "pairs": [p.as_dict() for p in pairs]}), highlight=False)
        return
    for p in pairs:
        out.print(f"{p.source}→{p.target}  {name_of(p.source)} → {name_of(p.target)}", highlight=False)


@translate_app.command("detect")
def detect_file(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """The language py3langid hears in a text file."""
    found = detect(_read(file), None)
    out.print(json.dumps(found.as_dict()), highlight=False)


@translate_app.command("file")
def translate_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    to: str = typer.Option(..., "--to", help="Target language (es, fr, pt…)."),
    source: str | None = typer.Option(None, "--from", help="Source language; detected when omitted."),
    report: Path | None = typer.Option(None, help="Write the quality report (JSON) here."),
) -> None:
    """Translate a text file paragraph by paragraph to stdout; the quality score goes to stderr."""
    engine = _engine()
    content = _read(file)
    paragraphs = text.split(content)
    try:
        target = normalize(to)
        src = normalize(source) if source else detect(content, None).detected
        if src is None:
            err.print("[red]cannot tell the source language[/red]: pass --from")
            raise typer.Exit(2)
        segments = engine.translate(paragraphs, source=src, target=target)
    except AiError as e:
        raise _fail(e) from e
    targets = [s.text for s in segments]
    out.print(text.join(targets), highlight=False, markup=False)
    result = quality.report(paragraphs, targets, unknown=[s.unknown for s in segments])
    err.print(
        f"{engine.name} {src}→{target}: {len(paragraphs)} paragraphs, score {result['score']}, "
        f"{len(result['flagged'])} flagged"
    )
    if report is not None:
        report.write_text(json.dumps(result, indent=2))
