"""The annual PDF report, for coordinators and viewers of the territory."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from app.deps import SessionDep, ViewerScope
from app.params import small_int
from survey import campaigns

router = APIRouter(include_in_schema=False)


@router.get("/t/{code}/rapport/{year}.pdf")
def report_pdf(code: str, year: str, scope: ViewerScope, session: SessionDep) -> Response:
    """The report of the campaign `year`, compared with the previous campaign."""
    from reports import pdf  # matplotlib and ReportLab load on first use only

    campaign = None
    if small_int(year, digits=4) is not None and len(year) == 4:
        campaign = campaigns.campaign_of(session, scope.territory.id, int(year))
    if campaign is None or campaign.status == "draft":
        raise HTTPException(status_code=404, detail=f"Pas de rapport pour l'année « {year} ».")
    data = pdf.annual_report(session, campaign)
    filename = f"rapport-{scope.territory.code}-{campaign.year}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )
