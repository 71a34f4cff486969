"""``GET /ipfs/{cid}``: a read-only gateway for what Legato pinned (certificates, batch manifests).

Only pinned content is served, so this never becomes a way to read chapter text: chapter text is
never pinned.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.http.deps import ContainerDep
from registry.ipfs import content_type_for, etag_for, normalize_cid

router = APIRouter(tags=["ipfs"])


@router.get("/ipfs/{cid}", response_class=Response, responses={200: {"content": {"application/json": {}}}})
async def get_cid(cid: str, request: Request, container: ContainerDep) -> Response:
    cid = normalize_cid(cid)
    etag = etag_for(cid)
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Ipfs-Path": f"/ipfs/{cid}",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    data = await run_in_threadpool(container.pinner.get, cid)
    return Response(data, media_type=content_type_for(data), headers=headers)
