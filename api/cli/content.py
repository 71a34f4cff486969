"""``legato import`` (manuscripts into draft chapters) and ``legato keys`` (content encryption keys)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from accounts.models import User
from api.cli.base import app, err, open_container, out
from api.db import session_scope
from content import importer
from content.access import editable_story
from content.crypto import KeyringError
from content.errors import ContentError
from content.models.stories import Story
from content.rotation import reencrypt_all, rows_by_key

if TYPE_CHECKING:
    from api.wiring import Container

keys_app = typer.Typer(
    no_args_is_help=True,
    help="Keys: chapter-text encryption (rotate, status, reencrypt) and the platform signing key "
    "(rotate-signing).",
)
app.add_typer(keys_app, name="keys")


@app.command("import")
def import_manuscript(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help=".md, .docx or .epub"),
    story_id: str = typer.Option(..., "--story", help="The story to append draft chapters to."),
    as_json: bool = typer.Option(False, "--json", help="Print the created chapters as JSON on stdout."),
) -> None:
    """Split a manuscript at its headings into draft chapters of STORY, as the story's author."""
    size = file.stat().st_size
    if size > importer.MAX_MANUSCRIPT_BYTES:
        limit = importer.MAX_MANUSCRIPT_BYTES
        err.print(f"[red]refused:[/red] {file.name} is {size} bytes; the limit is {limit}")
        raise typer.Exit(1)
    data = file.read_bytes()
    with open_container() as container:
        # Parsed before any transaction: a SQLite transaction holds the write lock from its start.
        try:
            chapters = importer.parse_manuscript(
                file.name, data, max_chapter_chars=container.settings.max_text_chars
            )
        except ContentError as e:
            err.print(f"[red]{e.code}:[/red] {e.message}")
            raise typer.Exit(1) from e
        _import_parsed(container, file.name, story_id, chapters, as_json=as_json)


def _import_parsed(
    container: Container, name: str, story_id: str, chapters: list[importer.ManuscriptChapter], *,
    as_json: bool,
) -> None:
    with session_scope(container.session_factory) as session:
        story = session.get(Story, story_id)
        author = session.get(User, story.author_id) if story is not None else None
        if story is None or author is None:
            err.print(f"[red]no such story:[/red] {story_id}")
            raise typer.Exit(1)
        editable_story(session, story.id, author, for_update=True)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err, transient=False) as progress:
            task = progress.add_task(f"importing {name}", total=len(chapters))
            try:
                result = importer.import_chapters(
                    session, container.content_cipher, story, chapters,
                    on_chapter=lambda _n, _ch: progress.advance(task),
                )
            except ContentError as e:
                err.print(f"[red]{e.code}:[/red] {e.message}")
                raise typer.Exit(1) from e
        created = result.created
        for s in result.skipped:
            err.print(f"  skipped {s.title!r}: same text as chapter {s.existing_number}")
        summary = [
            {"id": c.id, "number": c.number, "title": c.title, "word_count": c.word_count} for c in created
        ]
    if as_json:
        out.print_json(json.dumps({"story_id": story_id, "chapters": summary}))
    else:
        for row in summary:
            out.print(f"  {row['number']:>4}  {row['title']}  ({row['word_count']} words)", markup=False)
        out.print(f"{len(summary)} draft chapters added to {story_id}", highlight=False)


@keys_app.command("rotate")
def rotate() -> None:
    """Add a new key, make it current, and re-encrypt every stored chapter text with it."""
    with open_container() as container:
        try:
            kid = container.content_keyring.rotate()
        except KeyringError as e:
            err.print(f"[red]cannot rotate:[/red] {e}")
            raise typer.Exit(2) from e
        err.print(f"new current key {kid}; re-encrypting…")
        report = reencrypt_all(container.session_factory, container.content_cipher)
        out.print(f"re-encrypted {report.chapters} chapters and {report.versions} versions", highlight=False)


@keys_app.command("reencrypt")
def reencrypt() -> None:
    """Re-encrypt every text not yet under the current key (after changing LEGATO_CONTENT_KEY, or to
    finish an interrupted rotation)."""
    with open_container() as container:
        report = reencrypt_all(container.session_factory, container.content_cipher)
        out.print(f"re-encrypted {report.chapters} chapters and {report.versions} versions", highlight=False)


@keys_app.command("status")
def status() -> None:
    """The keys known, the current one, and how many stored texts each seals."""
    with open_container() as container, session_scope(container.session_factory) as session:
        keyring = container.content_keyring
        counts = rows_by_key(session)
        for kid in keyring.key_ids:
            mark = "*" if kid == keyring.current_id else " "
            out.print(f"{mark} {kid}  {counts.pop(kid, 0)} texts", highlight=False)
        for kid, n in counts.items():
            out.print(f"! {kid}  {n} texts sealed by a key the keyring does not hold", highlight=False)
