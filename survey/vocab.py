"""Answer vocabularies of the questionnaire and the data·inclusion mapping.

Codes are stored; labels are French and shown. A code, once used in a campaign, is never
renamed: QUESTIONNAIRE_VERSION is stored with each answer so later years stay comparable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

from data_inclusion.schema.v1 import ReseauPorteur
from data_inclusion.schema.v1.thematiques import Categorie

QUESTIONNAIRE_VERSION = "2026.1"

NATURES: dict[str, str] = {
    "formal": "Formel",
    "informal": "Informel",
    "both": "Les deux",
}

FRAMES: dict[str, str] = {
    "agreement": "Convention",
    "commission": "Commission ou instance",
    "protocol": "Protocole ou charte",
    "planned_meeting": "Réunion planifiée",
}

CHANNELS: dict[str, str] = {
    "phone": "Téléphone",
    "email": "Mail",
    "meeting": "Rencontre",
    "personal": "Connaissance personnelle",
}

FREQUENCIES: dict[str, str] = {
    "weekly": "Chaque semaine",
    "monthly": "Chaque mois",
    "quarterly": "Chaque trimestre",
    "occasional": "Ponctuellement",
}

PRACTICES: dict[str, str] = {
    "referral": "Orientation",
    "shared_assessment": "Diagnostic partagé",
    "joint_visits": "Visites ou rendez-vous communs",
    "case_conference": "Synthèse pluridisciplinaire",
    "rights_access": "Accès et ouverture des droits",
    "joint_support": "Accompagnement conjoint",
    "information_sharing": "Échange d'informations (secret partagé)",
    "handover": "Relais en fin d'accompagnement",
    "collective_actions": "Actions collectives ou prévention",
    "mutual_information": "Information mutuelle",
}

QUALITIES: dict[int, str] = {
    1: "Difficile",
    2: "À améliorer",
    3: "Satisfaisant",
    4: "Très satisfaisant",
}

OBSTACLES: dict[str, str] = {
    "lack_of_time": "Manque de temps",
    "turnover": "Turn-over",
    "unknown_missions": "Méconnaissance des missions",
    "admin_delays": "Délais administratifs",
    "unreachable_platforms": "Plateformes injoignables",
    "information_sharing": "Partage d'informations et secret professionnel",
    "no_coordination_body": "Absence d'instance de coordination",
    "other": "Autre",
}

# Instances (bodies), official partnerships and zones, as coordinators record them.
BODY_KINDS: dict[str, str] = {
    "commission": "Commission",
    "coordination": "Instance de coordination",
    "reseau": "Réseau",
    "groupe_travail": "Groupe de travail",
    "autre": "Autre",
}

BODY_FREQUENCIES: dict[str, str] = {
    "weekly": "Chaque semaine",
    "monthly": "Chaque mois",
    "quarterly": "Chaque trimestre",
    "yearly": "Chaque année",
    "occasional": "Ponctuellement",
}

CONVENTION_KINDS: dict[str, str] = {
    "convention": "Convention",
    "protocole": "Protocole",
    "charte": "Charte",
    "autre": "Autre accord",
}

ZONE_KINDS: dict[str, str] = {
    "utas": "UTAS",
    "epci": "EPCI",
    "bassin": "Bassin de vie",
    "autre": "Autre",
}

# Engagements: what the coordination commits to after reading the map.
ENGAGEMENT_KINDS: dict[str, str] = {
    "formalise": "Formaliser un partenariat",
    "invite": "Inviter une structure dans une instance",
    "meeting": "Créer une rencontre",
    "white_zone": "Couvrir une zone blanche",
    "other": "Autre",
}

ENGAGEMENT_STATUSES: dict[str, str] = {
    "planned": "Prévu",
    "in_progress": "En cours",
    "kept": "Tenu",
    "abandoned": "Abandonné",
}

YEARS_IN_POST: dict[str, str] = {
    "lt1": "Moins d'un an",
    "1to3": "De 1 à 3 ans",
    "3to10": "De 3 à 10 ans",
    "gt10": "Plus de 10 ans",
}

# Status of a declared link. "pending" only exists for a partner carried forward from last
# year that the respondent has not confirmed yet; it cannot be submitted.
LINK_STATUSES: dict[str, str] = {
    "new": "Nouveau partenaire",
    "pending": "À confirmer",
    "confirmed": "Toujours partenaire",
    "ended": "Plus de contact",
}

# data·inclusion "thématiques": the 16 categories are the level a respondent can answer at.
THEMATIQUES: dict[str, str] = {c.value: c.label for c in Categorie}

# Local structure types that the data·inclusion "réseaux porteurs" list lacks.
LOCAL_ORG_TYPES: dict[str, str] = {
    "carsat": "Caisse d'Assurance Retraite et de la Santé au Travail (CARSAT)",
    "udaf": "Union Départementale des Associations Familiales (UDAF)",
    "services-departement": "Services sociaux du Département (UTAS, MDS…)",
    "services-etat": "Services de l'État (DDT, DDETS, préfecture…)",
    "education-nationale": "Éducation nationale (CIO, établissements…)",
    "bailleur-social": "Bailleur social",
    "sante": "Établissement ou service de santé",
    "association": "Autre association",
    "autre": "Autre",
}

# Short French names for the types most common in the field; others keep the official label.
_SHORT_LABELS: dict[str, str] = {
    "caf": "CAF",
    "ccas-cias": "CCAS / CIAS",
    "cpam": "CPAM",
    "mutualite-sociale-agricole": "MSA",
    "mission-locale": "Mission locale",
    "france-travail": "France Travail",
    "siao": "SIAO",
    "spip": "SPIP",
    "pjj": "PJJ",
    "afpa": "AFPA",
    "departements": "Département",
    "chambres-consulaires": "Chambres consulaires",
    "restos-du-coeur": "Restos du cœur",
    "secours-populaire": "Secours populaire",
    "chrs": "CHRS",
    "mdph": "MDPH",
}

ORG_TYPES: dict[str, str] = {
    **{r.value: _SHORT_LABELS.get(r.value, r.label) for r in ReseauPorteur},
    **LOCAL_ORG_TYPES,
}


def org_type_label(code: str | None) -> str:
    return ORG_TYPES.get(code or "autre", code or "Autre")


# Families of structure types: the map's legend (web and PDF) groups the types into a few
# families, each told apart by colour AND shape so that the map reads without colour.
@dataclass(frozen=True)
class Family:
    code: str
    label: str
    colour: str  # Okabe-Ito based, each ≥ 3:1 against white
    shape: str
    types: frozenset[str]


FAMILIES: tuple[Family, ...] = (
    Family("protection", "Caisses de protection sociale", "#0072b2", "circle",
           frozenset({"caf", "cpam", "carsat", "mutualite-sociale-agricole"})),
    Family("communes", "Communes, CCAS, accueil de proximité", "#007a5a", "square",
           frozenset({"ccas-cias", "communes", "france-service", "msap", "pimms-mediation",
                      "la-poste", "aidants-connect", "conseillers-numeriques",
                      "espaces-publics-numeriques", "fcsf", "mjc"})),
    Family("public", "Département et services de l'État", "#7b4fa0", "diamond",
           frozenset({"departements", "services-departement", "maisons-des-solidarites",
                      "maison-departementale-de-lautonomie", "ase",
                      "delegataire-conseil-departemental", "services-etat", "regions", "pjj",
                      "spip", "education-nationale", "points-justice"})),
    Family("emploi", "Emploi, insertion, formation", "#c4500a", "triangle",
           frozenset({"mission-locale", "france-travail", "cap-emploi-reseau-cheops", "plie",
                      "maisons-de-l-emploi", "afpa", "chambres-consulaires", "ei", "aci",
                      "etti", "eiti", "ai", "geiq", "epide", "ecoles-de-la-deuxieme-chance",
                      "reseau-app", "reseau-bge", "cnam", "agefiph", "coorace", "inae",
                      "alliance-villes-emploi", "reseau-information-jeunesse",
                      "campus-connecte", "chantier-ecole", "collectif-emploi", "crepi",
                      "etcld", "mobin", "wimoov", "creches-avip"})),
    Family("logement", "Hébergement et logement", "#8c5a14", "hexagon",
           frozenset({"siao", "chrs", "chu", "cada", "huda", "cph", "bailleur-social",
                      "residences-fjt", "action-logement", "cava"})),
    Family("associations", "Associations et solidarité", "#b8336a", "pentagon",
           frozenset({"association", "udaf", "unaf", "cidff", "restos-du-coeur",
                      "secours-populaire", "croix-rouge", "emmaus", "banques-alimentaires",
                      "cresus", "points-conseil-budget",
                      "federation-des-acteurs-de-la-solidarite", "ressourceries"})),
    Family("sante", "Santé et handicap", "#3d3d3d", "cross",
           frozenset({"sante", "mdph", "cmp", "cms", "csapa", "caarud", "esat", "ea", "eatt",
                      "unea"})),
    Family("autre", "Autres", "#6e6e6e", "triangle-down", frozenset({"autre"})),
)  # fmt: skip
_BY_TYPE = {t: f for f in FAMILIES for t in f.types}
OTHER = FAMILIES[-1]


def family_of(org_type: str | None) -> Family:
    return _BY_TYPE.get(org_type or "autre", OTHER)


# Each vocabulary as a type: pydantic and FastAPI publish it as an enum in OpenAPI, so clients
# and fuzzers know the codes; a wrong one is a 422 with a French message (survey.messages).
# Built from the data at run time, which a type checker cannot follow: it sees plain strings.
if TYPE_CHECKING:
    NatureCode: TypeAlias = str
    FrameCode: TypeAlias = str
    ChannelCode: TypeAlias = str
    FrequencyCode: TypeAlias = str
    PracticeCode: TypeAlias = str
    ObstacleCode: TypeAlias = str
    YearsInPostCode: TypeAlias = str
    ThematiqueCode: TypeAlias = str
    OrgTypeCode: TypeAlias = str
else:
    NatureCode = Literal[tuple(NATURES)]
    FrameCode = Literal[tuple(FRAMES)]
    ChannelCode = Literal[tuple(CHANNELS)]
    FrequencyCode = Literal[tuple(FREQUENCIES)]
    PracticeCode = Literal[tuple(PRACTICES)]
    ObstacleCode = Literal[tuple(OBSTACLES)]
    YearsInPostCode = Literal[tuple(YEARS_IN_POST)]
    ThematiqueCode = Literal[tuple(THEMATIQUES)]
    OrgTypeCode = Literal[tuple(ORG_TYPES)]
