"""``/admin``: the moderation queue (reports) and licensing disputes, for admins only.

The same calls as ``/admin/reports`` and ``/marketplace/disputes/{id}/resolve|settle``: resolving a
report closes every open report on the same target; an upheld dispute blocks the copying work.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from api.web.core import DisputeStatus, ReportStatus, ReportTarget, Ruling, User, actor_of, moderation
from api.web.gate import gate, me, render
from api.web.pages import PageRoute, WebDep, field, form

router = APIRouter(route_class=PageRoute, include_in_schema=False)
RULINGS = {"uphold": Ruling.uphold, "dismiss": Ruling.dismiss, "settle": Ruling.settle}


@router.get("/admin")
def admin(web: WebDep, status: str = "open", done: str = "") -> Response:
    if (stop := gate(web, "admin")) is not None:
        return stop
    shown = ReportStatus(status) if status in ReportStatus.__members__ else ReportStatus.open
    reports = moderation.list_reports(web.db, status=shown, target_type=None, cursor=None, limit=100).items
    reporters = {r.reporter_id: web.db.get(User, r.reporter_id) for r in reports}
    disputes = web.container.disputes.list_for(web.db, actor=actor_of(me(web)))
    return render(web, "admin.html", reports=reports, reporters=reporters, shown=shown.value,
                  statuses=[s.value for s in ReportStatus], disputes=disputes, done=done[:20],
                  comment=ReportTarget.comment, open_dispute=DisputeStatus.open, upheld=DisputeStatus.upheld)


@router.post("/admin/reports/{report_id}")
async def resolve_report(report_id: str, request: Request, web: WebDep) -> Response:
    """As ``POST /admin/reports/{id}/resolve``: actioned or dismissed, with a note; an actioned comment
    report may also remove the comment."""
    if (stop := gate(web, "admin")) is not None:
        return stop
    data = await form(request)
    decision = field(data, "status", max_chars=20)
    if decision not in ("actioned", "dismissed"):
        raise HTTPException(422, "Resolve as actioned or dismissed.")
    report = moderation.get_report(web.db, report_id[:36])
    moderation.resolve(web.db, me(web), report, status=ReportStatus(decision),
                       note=field(data, "note", max_chars=2000).strip() or None,
                       remove_content=data.get("remove_content") == "1")
    return web.redirect("/admin?done=report")


@router.post("/admin/disputes/{dispute_id}")
async def rule_dispute(dispute_id: str, request: Request, web: WebDep) -> Response:
    if (stop := gate(web, "admin")) is not None:
        return stop
    data = await form(request)
    ruling = RULINGS.get(field(data, "ruling", max_chars=20))
    if ruling is None:
        raise HTTPException(422, "Choose uphold, dismiss or settle.")
    web.container.disputes.rule(web.db, actor=actor_of(me(web)), dispute_id=dispute_id[:36], ruling=ruling,
                                note=field(data, "note", max_chars=10_000).strip() or None)
    return web.redirect("/admin?done=dispute")
