"""Translation routes (``ai.translation``): languages, detection, request → job → draft → review →
publish, refresh after the original changed, the story glossary, and the jobs themselves."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from ai.translation import glossary, views
from ai.translation.jobs import cancel, job_dict
from ai.translation.languages import name_of
from api.http.deps import ContainerDep, CurrentUser, OptionalUser, SessionDep
from api.http.schemas.translation import (
    DetectionOut,
    GlossaryIn,
    GlossaryOut,
    JobOut,
    LanguagesOut,
    PairOut,
    RequestOut,
    TranslationList,
    TranslationMeta,
    TranslationOut,
    TranslationRequest,
    TranslationUpdate,
    TranslatorIn,
)
from content import access

router = APIRouter(tags=["translation"])


@router.get("/translation/languages", response_model=LanguagesOut)
def languages(container: ContainerDep) -> object:
    """The pairs the configured engine translates now; 503 ``TRANSLATION_ENGINE_UNAVAILABLE`` with none."""
    t = container.translations
    pairs = t.pairs()
    if not pairs:
        t.check_pair("", "")  # raises the engine-unavailable error with its explanation
    return LanguagesOut(
        engine=t.translator.name,
        pairs=[
            PairOut(
                source=p.source, target=p.target, source_name=name_of(p.source), target_name=name_of(p.target)
            )
            for p in pairs
        ],
    )


@router.get("/chapters/{chapter_id}/language", response_model=DetectionOut)
def chapter_language(
    chapter_id: str, user: CurrentUser, session: SessionDep, container: ContainerDep
) -> object:
    """For the writer: the language py3langid hears in the current version, against the story's."""
    chapter, story = access.editable_chapter(session, chapter_id, user)
    return container.translations.detection(session, chapter, story).as_dict()


@router.post(
    "/chapters/{chapter_id}/translations", response_model=RequestOut, status_code=status.HTTP_202_ACCEPTED
)
def request_translation(
    chapter_id: str,
    body: TranslationRequest,
    user: CurrentUser,
    session: SessionDep,
    container: ContainerDep,
) -> object:
    """The chapter's writer asks for a machine draft in ``language``: a job the worker runs. Asking again
    returns the same translation. 422 ``LANGUAGE_PAIR_UNAVAILABLE`` names the pairs there are."""
    translation, job, created = container.translations.request(session, user, chapter_id, body.language)
    return {"translation": views.meta(translation), "job": job_dict(job) if job else None, "created": created}


@router.get("/chapters/{chapter_id}/translations", response_model=TranslationList)
def list_translations(
    chapter_id: str, session: SessionDep, user: OptionalUser, container: ContainerDep
) -> object:
    """Published translations for everyone; the writer sees drafts too."""
    chapter, story = access.visible_chapter(session, chapter_id, user)
    rows = container.translations.languages_of(
        session, chapter, everything=access.can_edit_story(user, story)
    )
    return {"items": [views.meta(t) for t in rows]}


@router.get("/translations/{translation_id}", response_model=TranslationOut)
def get_translation(
    translation_id: str, user: CurrentUser, session: SessionDep, container: ContainerDep
) -> object:
    """Side by side with the original, with the quality report, for the writer and their translator."""
    translation, _ = container.translations.editable(session, user, translation_id)
    return views.editor_view(session, container.translations, translation)


@router.put("/translations/{translation_id}", response_model=TranslationOut)
def update_translation(
    translation_id: str,
    body: TranslationUpdate,
    user: CurrentUser,
    session: SessionDep,
    container: ContainerDep,
) -> object:
    """Replace paragraphs by index and approve others; the report is computed again."""
    t = container.translations
    translation = t.update(
        session,
        user,
        translation_id,
        edits={e.index: e.text for e in body.edits},
        reviewed=body.reviewed,
        review_all=body.review_all,
    )
    return views.editor_view(session, t, translation)


@router.post("/translations/{translation_id}/publish", response_model=TranslationMeta)
def publish_translation(
    translation_id: str, user: CurrentUser, session: SessionDep, container: ContainerDep
) -> Any:
    translation = container.translations.publish(session, user, translation_id)
    return views.meta(translation)


@router.post(
    "/translations/{translation_id}/refresh", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED
)
def refresh_translation(
    translation_id: str, user: CurrentUser, session: SessionDep, container: ContainerDep
) -> Any:
    """After the original changed: re-translate the changed paragraphs only, keeping reviewed ones."""
    return job_dict(container.translations.refresh(session, user, translation_id))


@router.put("/translations/{translation_id}/translator", response_model=TranslationMeta)
def invite_translator(
    translation_id: str,
    body: TranslatorIn,
    user: CurrentUser,
    session: SessionDep,
    container: ContainerDep,
) -> Any:
    """The writer invites a user by username to edit this translation (one at a time)."""
    return views.meta(container.translations.invite(session, user, translation_id, body.username))


@router.delete("/translations/{translation_id}/translator", response_model=TranslationMeta)
def remove_translator(
    translation_id: str, user: CurrentUser, session: SessionDep, container: ContainerDep
) -> Any:
    return views.meta(container.translations.invite(session, user, translation_id, None))


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: str, user: CurrentUser, session: SessionDep, container: ContainerDep) -> Any:
    return job_dict(container.translations.job_for(session, user, job_id))


@router.delete("/jobs/{job_id}", response_model=JobOut)
def cancel_job(job_id: str, user: CurrentUser, session: SessionDep, container: ContainerDep) -> Any:
    return job_dict(cancel(session, container.translations.job_for(session, user, job_id)))


@router.get("/stories/{story_id}/glossary", response_model=GlossaryOut)
def get_glossary(story_id: str, user: CurrentUser, session: SessionDep) -> Any:
    story = access.editable_story(session, story_id, user)
    return {"story_id": story.id, "terms": glossary.get_terms(session, story.id)}


@router.put("/stories/{story_id}/glossary", response_model=GlossaryOut)
def put_glossary(story_id: str, body: GlossaryIn, user: CurrentUser, session: SessionDep) -> Any:
    """Replace the glossary: names and terms kept as written, or rendered as set, per language."""
    story = access.editable_story(session, story_id, user, for_update=True)
    terms = glossary.set_terms(session, story.id, [t.model_dump() for t in body.terms])
    return {"story_id": story.id, "terms": terms}
