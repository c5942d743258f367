"""What a later year's map says of an engagement (survey.engagements).

`what_the_map_shows(session, engagement, campaign)` reads the campaign's graph and
coordination figures (both through reports.cache, shared with the web pages) and answers a
status code and plain French facts:

- a link between two structures (kind « formaliser », or a one-sided, fragile or frameless
  link found on the map): is there a tie now, is it formal (a declaration « formal » or
  « both » in either direction: figures.Link.formal), carried by more than one professional
  (both directions counted, as the fragility figure counts), cited from both sides;
- a white zone: is the (zone, family) pair still in the campaign's white list;
- an absent member (kind « inviter »): is the structure now an official member of the
  instance, or a declared participant;
- anything else: « — », the map cannot say.

Codes: "done" (every aim of the engagement is seen on the map), "partly" (some), "not_yet"
(none), "no_tie" (no link declared between the two structures), "unknown" (the map cannot
tell: a structure or zone without respondent, an instance gone), "same_year" (the map is the
one the engagement was read from), "none" (nothing to read).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from reports import cache
from reports.figures import Link
from survey import engagements as eng
from survey.models import Campaign, Engagement

FORMAL = "le lien est devenu formel"
NOT_FORMAL = "le lien n'est pas encore formel"
CARRIED = "le lien est maintenant porté par plusieurs professionnels"
ONE_PERSON = "le lien ne tient encore qu'à une personne"
CITED = "la structure est maintenant citée : le lien est déclaré des deux côtés"
NOT_CITED = "le lien n'est toujours cité que d'un côté"
NO_TIE = "pas encore de lien déclaré"
NOT_WHITE = "la zone n'est plus blanche"
STILL_WHITE = "la zone est toujours blanche"
MEMBER = "la structure est maintenant membre de l'instance"
PARTICIPANT = "la structure participe maintenant à l'instance (ses professionnels le déclarent)"
NOT_AROUND = "la structure n'est toujours ni membre de l'instance ni participante"
NOTHING = "—"


def _result(code: str, facts: list[str]) -> dict[str, Any]:
    text = " ; ".join(facts)
    return {"code": code, "facts": facts, "text": text[:1].upper() + text[1:]}


def _year_read(session: Session, engagement: Engagement) -> int | None:
    if engagement.campaign_id is None:
        return None
    c = session.get(Campaign, engagement.campaign_id)
    return c.year if c is not None else None


def _aims(engagement: Engagement) -> list[str]:
    """What the engagement aims at on a link: formal, carried, cited (in that order)."""
    aims = []
    if engagement.kind == "formalise" or engagement.finding == "without_frame":
        aims.append("formal")
    if engagement.finding == "fragile":
        aims.append("carried")
    if engagement.finding == "one_sided":
        aims.append("cited")
    return aims


def _link(session: Session, campaign: Campaign, a: int, b: int, aims: list[str]) -> dict:
    g = cache.graph(session, campaign)
    ab = g.succ[a].get(b) if a in g else None
    ba = g.succ[b].get(a) if b in g else None
    if ab is None and ba is None:
        return _result("no_tie", [NO_TIE])
    x = Link(a, b, ab, ba)
    met, known, facts = 0, 0, []
    for aim in aims:
        if aim == "formal":
            ok, yes, no = x.formal, FORMAL, NOT_FORMAL
        elif aim == "carried":
            ok, yes, no = x.carriers > 1, CARRIED, ONE_PERSON
        else:
            if not x.mutual and not (g.nodes[a].get("answered") and g.nodes[b].get("answered")):
                # Silence of a structure that did not answer is not « not cited ».
                facts.append(f"une des deux structures n'a pas répondu en {campaign.year}")
                continue
            ok, yes, no = x.mutual, CITED, NOT_CITED
        met += ok
        known += 1
        facts.append(yes if ok else no)
    if not known:
        return _result("unknown", facts)
    code = "done" if met == len(aims) else ("partly" if met else "not_yet")
    return _result(code, facts)


def _white_zone(session: Session, campaign: Campaign, zone: str, family: str) -> dict:
    d = cache.coordination_figures(session, campaign)["zones"]
    if any(w["zone"] == zone and w["family"] == family for w in d.get("white", [])):
        return _result("not_yet", [STILL_WHITE])
    item = next((z for z in d.get("items", []) if z["name"] == zone), None)
    if item is None:
        return _result("unknown", [f"la zone « {zone} » n'existe plus en {campaign.year}"])
    if not item.get("responded"):
        return _result("unknown", [f"personne n'a répondu dans la zone en {campaign.year}"])
    return _result("done", [NOT_WHITE])


def _member(session: Session, campaign: Campaign, body_id: int, org_id: int) -> dict:
    items = cache.coordination_figures(session, campaign)["instances"]["items"]
    item = next((i for i in items if i["id"] == body_id), None)
    if item is None:
        return _result("unknown", [f"l'instance n'existe pas en {campaign.year}"])
    if any(m["id"] == org_id for m in item["members"]):
        return _result("done", [MEMBER])
    if any(p["id"] == org_id for p in item["participants"]):
        return _result("done", [PARTICIPANT])
    return _result("not_yet", [NOT_AROUND])


def what_the_map_shows(session: Session, engagement: Engagement, campaign: Campaign) -> dict:
    """{"code", "facts", "text"}: what the answers of `campaign` say of `engagement`."""
    read = _year_read(session, engagement)
    if read is not None and read >= campaign.year:
        return _result("same_year", [f"carte {read} : à relire avec les réponses suivantes"])
    ids = eng.current_structure_ids(session, engagement)
    if engagement.finding == "white_zone" or engagement.kind == "white_zone":
        if engagement.zone and engagement.family:
            return _white_zone(session, campaign, engagement.zone, engagement.family)
        return _result("none", [NOTHING])
    if engagement.finding == "absent_member" or engagement.kind == "invite":
        if engagement.body_id is not None and ids:
            return _member(session, campaign, engagement.body_id, ids[0])
        return _result("none", [NOTHING])
    aims = _aims(engagement)
    if aims and len(ids) == 2:
        return _link(session, campaign, ids[0], ids[1], aims)
    return _result("none", [NOTHING])


def checked_against(session: Session, campaign: Campaign) -> list[dict[str, Any]]:
    """The engagements a campaign's report reads: those taken after an earlier year's map
    (or, without a year, created before this campaign's year), with their status and what
    the campaign's answers show, nearest due date first. Structures are named (public in
    the report); nothing about any professional."""
    out = []
    for row in eng.list_engagements(session, campaign.territory_id):
        e = row.engagement
        year = row.year if row.year is not None else e.created_at.year
        if year >= campaign.year:
            continue
        out.append(
            {
                "title": e.title,
                "kind_label": row.kind_label,
                "status": e.status,
                "status_label": row.status_label,
                "year": year,
                "structures": [o.name for o in row.structures],
                "shows": what_the_map_shows(session, e, campaign),
            }
        )
    return out
