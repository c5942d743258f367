"""Every router of the application, in the order create_app (app/main.py) includes them.

One list: a new route module is added here and nowhere else. Paths are matched in this
order, kept as it was when create_app included each router in turn.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.routes import (
    admin,
    api_docs,
    auth,
    campaigns,
    conventions,
    coordination,
    coordination_api,
    directory,
    engagements,
    graph,
    graph_api,
    help,
    home,
    instances,
    own_map,
    professionals,
    questionnaire,
    questionnaire_api,
    questionnaire_print,
    report,
    respondent_directory,
    rgpd,
    viewers,
    welcome,
    workspace,
    zones,
)

ROUTERS: list[APIRouter] = [
    home.router,
    questionnaire_api.router,
    questionnaire.router,
    questionnaire_print.router,  # « Mes réponses » and the paper version
    welcome.router,  # /q/{token}/accueil: the welcome sheet of a newcomer
    auth.router,
    admin.router,
    workspace.router,
    campaigns.router,
    directory.router,
    instances.router,  # commissions and their official members
    professionals.router,
    respondent_directory.router,
    graph.router,
    graph_api.router,
    coordination_api.router,  # /api/v1/t/{code}/instances|zones|officiels/{year}
    own_map.router,
    report.router,
    rgpd.router,
    api_docs.router,
    help.router,  # /aide/chiffres, /accessibilite, /favicon.ico
    viewers.router,  # viewer accounts managed by coordinators
    coordination.router,  # /t/{code}/coordination: instances, conventions, zones, quality
    conventions.router,  # official partnerships
    zones.router,  # sub-territories as sets of communes
    engagements.router,  # commitments read against the next map, and their JSON list
]
