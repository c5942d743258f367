"""The demo territory « 23 — Creuse ».

Structures are those named by the professionals of the source (CAF, CARSAT, CCAS, Mission
locale, MSA, SIAO, UDAF, UTAS…) plus a few plausible others; the people are fictitious
(e-mails on the reserved domain example.org). There are three campaigns, 2024 and 2025
closed and 2026 open, with what changes from one year to the next: structures that open,
people who leave and people who arrive, links that formalise, appear or end, and a response
rate that varies. Each year's returning respondents start from their last submitted answer
(or their predecessor's), as the questionnaire carries it forward. Everything is drawn from
one `random.Random(SEED)` in a fixed order: two loads into two empty databases give the same
answers. Answers are written straight into the tables, in one transaction, and every coded
value comes from `survey.vocab`.
"""

from __future__ import annotations

import random
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import case, func, insert
from sqlmodel import Session, col, select

from survey import links, tagbits, vocab
from survey.campaigns import default_reminders
from survey.db import stored_id
from survey.models import (
    Body,
    BodyMember,
    Campaign,
    Convention,
    ConventionParty,
    DeclaredLink,
    Engagement,
    EngagementNote,
    EngagementStructure,
    Invitation,
    LinkTag,
    Organisation,
    Professional,
    Response,
    ResponseBody,
    ResponseObstacle,
    Service,
    Territory,
    Zone,
    ZoneCommune,
)
from survey.questionnaire import years_in_post_later
from survey.zones import commune_key

TERRITORY_CODE = "23"
TERRITORY_NAME = "Creuse"
SEED = 2322  # any fixed value: the demo must not change between runs
FIRST_YEAR = 2024
PREVIOUS_YEAR = 2025
CURRENT_YEAR = 2026
YEARS = (FIRST_YEAR, PREVIOUS_YEAR, CURRENT_YEAR)
EMAIL_DOMAIN = "example.org"  # reserved for examples (RFC 2606): never a real inbox

# --- the directory -----------------------------------------------------------------------

# Function key -> (masculine, feminine) French job title.
FUNCTIONS: dict[str, tuple[str, str]] = {
    "as": ("Assistant de service social", "Assistante de service social"),
    "cesf": (
        "Conseiller en économie sociale et familiale",
        "Conseillère en économie sociale et familiale",
    ),
    "es": ("Éducateur spécialisé", "Éducatrice spécialisée"),
    "chef": ("Responsable de service", "Responsable de service"),
    "utas": ("Responsable d'UTAS", "Responsable d'UTAS"),
    "cip": (
        "Conseiller en insertion professionnelle",
        "Conseillère en insertion professionnelle",
    ),
    "emploi": ("Conseiller emploi", "Conseillère emploi"),
    "entreprise": ("Conseiller entreprises", "Conseillère entreprises"),
    "mjpm": (
        "Mandataire judiciaire à la protection des majeurs",
        "Mandataire judiciaire à la protection des majeurs",
    ),
    "dpf": ("Délégué aux prestations familiales", "Déléguée aux prestations familiales"),
    "cpip": (
        "Conseiller pénitentiaire d'insertion et de probation",
        "Conseillère pénitentiaire d'insertion et de probation",
    ),
    "ecoute": ("Écoutant du 115", "Écoutante du 115"),
    "animation": ("Animateur du centre de jour", "Animatrice du centre de jour"),
    "coord": ("Coordinateur", "Coordinatrice"),
    "psyen": (
        "Psychologue de l'Éducation nationale",
        "Psychologue de l'Éducation nationale",
    ),
    "formation": ("Formateur", "Formatrice"),
    "recrutement": ("Chargé de recrutement", "Chargée de recrutement"),
    "agri": ("Conseiller d'entreprise agricole", "Conseillère d'entreprise agricole"),
    "benevole": ("Bénévole responsable", "Bénévole responsable"),
    "habitat": ("Chargé de mission habitat", "Chargée de mission habitat"),
    "gls": ("Chargé de gestion locative sociale", "Chargée de gestion locative sociale"),
    "assurance": (
        "Conseiller service de l'Assurance maladie",
        "Conseillère service de l'Assurance maladie",
    ),
    "retraite": ("Conseiller retraite", "Conseillère retraite"),
    "prevention": ("Conseiller en prévention", "Conseillère en prévention"),
    "fs": ("Conseiller France services", "Conseillère France services"),
    "referent": ("Référent insertion professionnelle", "Référente insertion professionnelle"),
    "juriste": ("Juriste", "Juriste"),
    "mobilite": ("Conseiller mobilité", "Conseillère mobilité"),
}


@dataclass(frozen=True)
class _Org:
    key: str
    name: str
    type: str
    commune: str
    missions: str
    services: tuple[str, ...] = ()
    staff: tuple[tuple[str | None, str], ...] = ()  # (service name or None, function key)
    status: str = "active"
    since: int = FIRST_YEAR  # first campaign the structure exists for


UTAS = ("UTAS de Guéret", "UTAS d'Aubusson", "UTAS de La Souterraine", "UTAS de Bourganeuf")
SIAO_115, DAY_CENTRE = "115", "Centre de jour"
CARSAT_HEALTH, CARSAT_PENSION = "Service social maladie", "Service social retraite"
HOSPITAL_SOCIAL = "Service social hospitalier"

ORGS: tuple[_Org, ...] = (
    _Org("caf", "CAF de la Creuse", "caf", "Guéret",
         "Prestations familiales et sociales, accompagnement des familles (séparation, deuil, "
         "impayés de loyer), aides au logement et aux vacances.",
         staff=((None, "as"), (None, "as"), (None, "cesf"), (None, "cesf"), (None, "chef"))),
    _Org("carsat", "CARSAT Centre-Ouest", "carsat", "Guéret",
         "Retraite du régime général, prévention de la perte d'autonomie, service social de "
         "l'Assurance maladie (maintien dans l'emploi, accès aux soins).",
         services=(CARSAT_HEALTH, CARSAT_PENSION),
         staff=((CARSAT_HEALTH, "as"), (CARSAT_HEALTH, "as"), (CARSAT_PENSION, "as"),
                (CARSAT_PENSION, "retraite"))),
    _Org("ccas_gueret", "CCAS de Guéret", "ccas-cias", "Guéret",
         "Aides facultatives, domiciliation, instruction des demandes d'aide sociale, "
         "épicerie sociale et accompagnement budgétaire.",
         staff=((None, "cesf"), (None, "as"), (None, "chef"))),
    _Org("ccas_aubusson", "CCAS d'Aubusson", "ccas-cias", "Aubusson",
         "Aides facultatives, domiciliation, accueil et orientation des habitants.",
         staff=((None, "cesf"), (None, "as"))),
    _Org("ml", "Mission locale de la Creuse", "mission-locale", "Guéret",
         "Accompagnement des jeunes de 16 à 25 ans : emploi, formation, logement, santé, "
         "mobilité ; Contrat d'engagement jeune.",
         staff=((None, "cip"), (None, "cip"), (None, "cip"), (None, "chef"))),
    _Org("msa", "MSA du Limousin", "mutualite-sociale-agricole", "Guéret",
         "Protection sociale agricole ; travail social auprès des exploitants et salariés "
         "agricoles en difficulté, cellule de prévention.",
         staff=((None, "as"), (None, "as"), (None, "as"), (None, "prevention"))),
    _Org("siao", "SIAO de la Creuse", "siao", "Guéret",
         "Service intégré d'accueil et d'orientation : 115, centre de jour, orientation vers "
         "l'hébergement d'urgence et d'insertion et le logement accompagné.",
         services=(SIAO_115, DAY_CENTRE),
         staff=((SIAO_115, "ecoute"), (SIAO_115, "ecoute"), (DAY_CENTRE, "animation"),
                (DAY_CENTRE, "es"), (None, "coord"))),
    _Org("udaf", "UDAF de la Creuse", "udaf", "Guéret",
         "Protection juridique des majeurs, aide à la gestion du budget familial, "
         "accompagnement social lié au logement, point conseil budget.",
         staff=((None, "mjpm"), (None, "mjpm"), (None, "cesf"), (None, "dpf"))),
    _Org("cd", "Conseil départemental de la Creuse", "services-departement", "Guéret",
         "Action sociale de proximité par les UTAS : polyvalence de secteur, protection de "
         "l'enfance, insertion (RSA), aides financières, FSL.",
         services=UTAS,
         staff=((UTAS[0], "as"), (UTAS[0], "as"), (UTAS[0], "es"), (UTAS[0], "utas"),
                (UTAS[1], "as"), (UTAS[1], "es"), (UTAS[1], "cesf"),
                (UTAS[2], "as"), (UTAS[2], "es"), (UTAS[2], "cesf"),
                (UTAS[3], "as"), (UTAS[3], "cesf"))),
    _Org("ft", "France Travail Guéret", "france-travail", "Guéret",
         "Inscription et indemnisation des demandeurs d'emploi, accompagnement vers l'emploi, "
         "accompagnement global avec le Département.",
         staff=((None, "emploi"), (None, "emploi"), (None, "emploi"), (None, "entreprise"))),
    _Org("cpam", "CPAM de la Creuse", "cpam", "Guéret",
         "Assurance maladie : ouverture des droits, complémentaire santé solidaire, mission "
         "accompagnement santé contre le renoncement aux soins.",
         staff=((None, "assurance"), (None, "assurance"), (None, "chef"))),
    _Org("cio", "CIO de Guéret", "education-nationale", "Guéret",
         "Information et conseil en orientation scolaire et professionnelle, suivi des "
         "jeunes sortis du système scolaire sans diplôme.",
         staff=((None, "psyen"), (None, "psyen"))),
    _Org("spip", "SPIP de la Creuse", "spip", "Guéret",
         "Suivi des personnes placées sous main de justice, préparation à la sortie, "
         "insertion et prévention de la récidive.",
         staff=((None, "cpip"), (None, "cpip"))),
    _Org("pjj", "PJJ — unité éducative de milieu ouvert de Guéret", "pjj", "Guéret",
         "Suivi éducatif des mineurs sous mandat judiciaire, investigations, insertion.",
         staff=((None, "es"), (None, "es"))),
    _Org("afpa", "AFPA, centre de Guéret", "afpa", "Guéret",
         "Formations qualifiantes pour adultes, hébergement des stagiaires, "
         "prépa-compétences.",
         staff=((None, "formation"), (None, "recrutement"))),
    _Org("chambre", "Chambre d'agriculture de la Creuse", "chambres-consulaires", "Ahun",
         "Conseil aux exploitants agricoles, installation et transmission, appui aux "
         "exploitations en difficulté.",
         staff=((None, "agri"), (None, "agri"))),
    _Org("restos", "Restos du cœur de la Creuse", "restos-du-coeur", "Guéret",
         "Aide alimentaire, accompagnement vers l'accès aux droits, ateliers et relais "
         "d'information.",
         staff=((None, "benevole"), (None, "benevole"))),
    _Org("secours", "Secours populaire de la Creuse", "secours-populaire", "Guéret",
         "Aide alimentaire et vestimentaire, accès aux vacances et à la culture, "
         "permanences d'accueil.",
         staff=((None, "benevole"), (None, "benevole"))),
    _Org("ddt", "DDT de la Creuse", "services-etat", "Guéret",
         "Politiques du logement et de l'habitat, lutte contre l'habitat indigne, "
         "commission de médiation DALO.",
         staff=((None, "habitat"), (None, "habitat"))),
    _Org("chrs", "CHRS La Passerelle", "chrs", "Guéret",
         "Hébergement et accompagnement social de personnes et familles sans logement, "
         "places d'urgence et d'insertion.",
         staff=((None, "es"), (None, "es"), (None, "cesf"))),
    _Org("creusalis", "Creusalis, office public de l'habitat", "bailleur-social", "Guéret",
         "Logement social : attribution, gestion locative, prévention des expulsions.",
         staff=((None, "gls"), (None, "gls"))),
    _Org("mdph", "MDPH de la Creuse", "mdph", "Guéret",
         "Accueil et droits des personnes handicapées : AAH, PCH, orientations, "
         "reconnaissance de la qualité de travailleur handicapé.",
         staff=((None, "as"), (None, "referent"))),
    _Org("fs_boussac", "France services de Boussac", "france-service", "Boussac",
         "Accompagnement aux démarches administratives et numériques de proximité.",
         staff=((None, "fs"),)),
    _Org("fs_bourganeuf", "France services de Bourganeuf", "france-service", "Bourganeuf",
         "Accompagnement aux démarches administratives et numériques de proximité.",
         staff=((None, "fs"),)),
    _Org("ch", "Centre hospitalier de Guéret", "sante", "Guéret",
         "Soins hospitaliers ; le service social prépare les sorties et l'accès aux droits "
         "des patients.",
         services=(HOSPITAL_SOCIAL,),
         staff=((HOSPITAL_SOCIAL, "as"), (HOSPITAL_SOCIAL, "as"))),
    _Org("cap", "Cap emploi Creuse", "cap-emploi-reseau-cheops", "Guéret",
         "Accompagnement vers l'emploi et maintien dans l'emploi des personnes handicapées.",
         staff=((None, "cip"),)),
    _Org("cidff", "CIDFF de la Creuse", "cidff", "Guéret",
         "Information juridique, accompagnement des femmes victimes de violences, "
         "soutien à la parentalité.",
         staff=((None, "juriste"),)),
    # Opened after the first campaign: nobody there to invite, nobody to name, before then.
    _Org("mobilite", "Pôle mobilité de la Creuse", "association", "Guéret",
         "Location solidaire de véhicules, conseil en mobilité et aide au permis de conduire "
         "pour les personnes en insertion.",
         staff=((None, "coord"), (None, "mobilite")), since=2025),
    _Org("fs_aubusson", "France services d'Aubusson", "france-service", "Aubusson",
         "Accompagnement aux démarches administratives et numériques de proximité.",
         staff=((None, "fs"),), since=2026),
    # Written in by respondents: proposed structures for a coordinator to confirm.
    _Org("epicerie", "Épicerie solidaire de Bourganeuf", "association", "Bourganeuf", "",
         status="proposed", since=2025),
    _Org("garage", "Garage solidaire de La Souterraine", "association", "La Souterraine", "",
         status="proposed"),
    _Org("entraide", "Collectif d'entraide de Felletin", "association", "Felletin", "",
         status="proposed"),
)  # fmt: skip

# Staff slots (org key, index in staff) -> the last year their former holder answered: the
# current holder took over from them the year after (the turnover the source keeps coming
# back to).
TURNOVER: dict[tuple[str, int], int] = {
    ("msa", 1): 2024, ("udaf", 0): 2024, ("ft", 1): 2024,
    ("caf", 0): 2025, ("cd", 4): 2025, ("ml", 0): 2025, ("siao", 0): 2025,
}  # fmt: skip
# Staff slots of posts created after the first campaign -> their first year.
NEW_POSTS: dict[tuple[str, int], int] = {("siao", 3): 2025, ("ml", 2): 2026}
# People who left after answering that year's campaign and were not replaced:
# (org key, service, function key, last year).
LEFT_UNREPLACED: tuple[tuple[str, str | None, str, int], ...] = (("cio", None, "psyen", 2024),)

# Share of the people in post who submitted (drafts aside), by year: the first campaign was
# answered less, the open one is still under way.
SUBMITTED_SHARE = {2024: 0.58, 2025: 0.70, 2026: 0.45}
DRAFT_SHARE = {2024: 0.04, 2025: 0.05, 2026: 0.10}

# One professional who answered in 2025 and has not started 2026 lists this many partners
# (the most a first-year answer draws): the long carried questionnaire, shown by
# `carte demo-link --partners 15`.
LONG_LIST_PARTNERS = 15

BODIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("siao", "Commission SIAO", "Hebdomadaire : orientations vers l'hébergement et le logement.",
     ("siao", "cd", "chrs", "udaf", "ccas_gueret", "creusalis")),
    ("ml_ft", "Commission Mission locale / France Travail",
     "Mensuelle : point sur les dossiers communs, éviter un double accompagnement.",
     ("ml", "ft", "cap")),
    ("msa", "Cellule pluridisciplinaire MSA",
     "Mensuelle : situations d'exploitants agricoles en difficulté, charte de confidentialité.",
     ("msa", "chambre", "carsat", "cd", "ddt")),
    ("logement", "Commission logement", "Département et DDT : FSL, prévention des expulsions.",
     ("cd", "ddt", "creusalis", "udaf", "caf", "siao")),
    ("aides", "Commission aides financières", "Département et CAF : aides financières.",
     ("cd", "caf", "ccas_gueret", "ccas_aubusson", "udaf")),
    ("enfance", "Réunion enfance en danger", "UTAS : situations d'enfants en danger.",
     ("cd", "pjj", "cio", "ch", "caf")),
)  # fmt: skip

# What coordinators recorded about each instance: kind, convening structure, frequency,
# thématiques. Official members are the BODIES lists above.
BODY_DETAILS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "siao": ("commission", "siao", "weekly", ("logement-hebergement",)),
    "ml_ft": ("commission", "ml", "monthly", ("trouver-un-emploi", "choisir-un-metier")),
    "msa": ("coordination", "msa", "monthly", ("difficultes-financieres", "sante")),
    "logement": ("commission", "cd", "monthly", ("logement-hebergement",)),
    "aides": ("commission", "cd", "monthly", ("difficultes-financieres",)),
    "enfance": ("coordination", "cd", "monthly", ("famille",)),
}
# Instances no respondent of the demo sits in (they are not offered to the generator, so
# the answers stay as they were): the CCAPEX shares most of its members with the
# commission logement — the « commissions qui se recoupent » the coordination page shows.
EXTRA_BODIES: tuple[tuple[str, str, str, str, str, str, tuple[str, ...]], ...] = (
    ("ccapex", "CCAPEX de la Creuse",
     "Commission de coordination des actions de prévention des expulsions locatives.",
     "commission", "ddt", "quarterly", ("cd", "ddt", "creusalis", "udaf", "caf")),
)  # fmt: skip

# Zones: the four UTAS of the Département, as sets of communes (fictitious but plausible).
ZONES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("UTAS de Guéret", "utas",
     ("Guéret", "Ahun", "Saint-Vaury", "Sainte-Feyre", "Jarnages", "Gouzon", "Boussac",
      "Chambon-sur-Voueize", "Évaux-les-Bains")),
    ("UTAS d'Aubusson", "utas",
     ("Aubusson", "Felletin", "Auzances", "Crocq", "Bellegarde-en-Marche")),
    ("UTAS de La Souterraine", "utas",
     ("La Souterraine", "Dun-le-Palestel", "Bénévent-l'Abbaye", "Grand-Bourg")),
    ("UTAS de Bourganeuf", "utas", ("Bourganeuf", "Royère-de-Vassivière", "Pontarion")),
)  # fmt: skip

# Official partnerships the Département recorded: (kind, title, reference, start, end,
# parties). The charter between the CIDFF and the hospital names two structures whose
# professionals declare no tie (a « convention sans vie »); the one with the garage ended.
CONVENTIONS: tuple[tuple[str, str, str, date, date | None, tuple[str, ...]], ...] = (
    ("convention", "Aides financières aux familles", "CD23-CAF-2022-04", date(2022, 1, 1),
     None, ("cd", "caf")),
    ("protocole", "Prévention des expulsions locatives", "PDALHPD 2023-2028", date(2023, 1, 1),
     date(2028, 12, 31), ("cd", "ddt", "caf", "creusalis", "udaf")),
    ("convention", "Accompagnement des jeunes vers l'emploi", "", date(2023, 9, 1), None,
     ("ml", "ft")),
    ("charte", "Repérage des violences intrafamiliales à l'hôpital", "", date(2024, 3, 1),
     None, ("cidff", "ch")),
    ("convention", "Mobilité des demandeurs d'emploi", "", date(2021, 1, 1),
     date(2023, 12, 31), ("mobilite", "ft")),
)  # fmt: skip

# How likely two kinds of structures are to work together (symmetric); others get BASE.
BASE_AFFINITY = 0.4
AFFINITY: dict[frozenset[str], float] = {
    frozenset(pair): weight
    for pair, weight in (
        (("siao", "cd"), 7), (("siao", "chrs"), 7), (("siao", "ccas_gueret"), 4),
        (("siao", "udaf"), 3), (("siao", "creusalis"), 3), (("siao", "restos"), 3),
        (("siao", "secours"), 2), (("siao", "spip"), 3), (("siao", "ch"), 2),
        (("ml", "ft"), 9), (("ml", "cio"), 4), (("ml", "afpa"), 4), (("ml", "cd"), 3),
        (("ml", "pjj"), 3), (("ml", "spip"), 2), (("ml", "cap"), 2), (("ml", "caf"), 2),
        (("msa", "chambre"), 9), (("msa", "ddt"), 3), (("msa", "cd"), 3),
        (("msa", "carsat"), 3), (("msa", "cpam"), 2),
        (("carsat", "caf"), 6), (("carsat", "cpam"), 7), (("carsat", "mdph"), 3),
        (("carsat", "ccas_gueret"), 3), (("carsat", "ch"), 3),
        (("udaf", "cd"), 6), (("udaf", "caf"), 3), (("udaf", "ccas_gueret"), 3),
        (("udaf", "creusalis"), 3), (("udaf", "mdph"), 2),
        (("cd", "caf"), 6), (("cd", "ccas_gueret"), 4), (("cd", "ccas_aubusson"), 4),
        (("cd", "cpam"), 3), (("cd", "pjj"), 4), (("cd", "mdph"), 4),
        (("cd", "creusalis"), 3), (("cd", "ddt"), 3), (("cd", "cidff"), 3), (("cd", "ch"), 3),
        (("caf", "cpam"), 4), (("caf", "ccas_gueret"), 3), (("caf", "ccas_aubusson"), 2),
        (("caf", "fs_boussac"), 2), (("caf", "fs_bourganeuf"), 2),
        (("ft", "afpa"), 4), (("ft", "cap"), 4), (("ft", "cd"), 3),
        (("spip", "pjj"), 2), (("spip", "chrs"), 3),
        (("restos", "secours"), 4), (("restos", "ccas_gueret"), 3),
        (("secours", "ccas_gueret"), 3), (("secours", "ccas_aubusson"), 2),
        (("ddt", "creusalis"), 3), (("fs_boussac", "cpam"), 2), (("fs_bourganeuf", "cpam"), 2),
        (("fs_boussac", "carsat"), 2), (("fs_bourganeuf", "ft"), 2),
        (("mdph", "cpam"), 2), (("ch", "cpam"), 3), (("cidff", "caf"), 2),
        (("epicerie", "cd"), 1.5), (("epicerie", "ccas_gueret"), 1), (("epicerie", "secours"), 1),
        (("epicerie", "fs_bourganeuf"), 3), (("epicerie", "restos"), 2),
        (("garage", "ml"), 0.8), (("garage", "ft"), 0.8), (("garage", "cap"), 1),
        (("entraide", "ccas_aubusson"), 3), (("entraide", "secours"), 1),
        (("mobilite", "ml"), 4), (("mobilite", "ft"), 4), (("mobilite", "cap"), 2),
        (("mobilite", "cd"), 2), (("mobilite", "afpa"), 2), (("mobilite", "garage"), 1),
        (("fs_aubusson", "ccas_aubusson"), 3), (("fs_aubusson", "caf"), 2),
        (("fs_aubusson", "cpam"), 2), (("fs_aubusson", "carsat"), 2),
        (("fs_aubusson", "ft"), 2), (("fs_aubusson", "entraide"), 1),
    )
}  # fmt: skip
PROPOSED_BASE = 0.05  # a write-in is rarely named outside its neighbourhood

# Pairs where an agreement or a standing commission frames the link (from the source).
FRAMES_BY_PAIR: dict[frozenset[str], tuple[str, ...]] = {
    frozenset(("ml", "ft")): ("commission", "agreement"),
    frozenset(("msa", "chambre")): ("commission", "protocol"),
    frozenset(("carsat", "caf")): ("agreement",),
    frozenset(("carsat", "cpam")): ("agreement",),
    frozenset(("siao", "cd")): ("commission",),
    frozenset(("siao", "chrs")): ("commission",),
    frozenset(("cd", "caf")): ("commission", "agreement"),
    frozenset(("udaf", "cd")): ("commission", "planned_meeting"),
    frozenset(("cd", "ddt")): ("commission",),
}

THEMATIQUES_BY_ORG: dict[str, tuple[str, ...]] = {
    "caf": ("difficultes-financieres", "famille"),
    "carsat": ("difficultes-administratives-ou-juridiques", "sante"),
    "ccas_gueret": ("difficultes-financieres", "equipement-et-alimentation"),
    "ccas_aubusson": ("difficultes-financieres",),
    "ml": ("trouver-un-emploi", "se-former"),
    "msa": ("difficultes-financieres", "sante"),
    "siao": ("logement-hebergement",),
    "udaf": ("difficultes-financieres", "famille"),
    "cd": ("famille",),
    "ft": ("trouver-un-emploi",),
    "cpam": ("sante",),
    "cio": ("choisir-un-metier",),
    "spip": ("remobilisation",),
    "pjj": ("famille",),
    "afpa": ("se-former",),
    "chambre": ("difficultes-financieres", "creer-une-entreprise"),
    "restos": ("equipement-et-alimentation",),
    "secours": ("equipement-et-alimentation",),
    "ddt": ("logement-hebergement",),
    "chrs": ("logement-hebergement",),
    "creusalis": ("logement-hebergement",),
    "mdph": ("sante",),
    "fs_boussac": ("numerique", "difficultes-administratives-ou-juridiques"),
    "fs_bourganeuf": ("numerique", "difficultes-administratives-ou-juridiques"),
    "ch": ("sante",),
    "cap": ("trouver-un-emploi",),
    "cidff": ("difficultes-administratives-ou-juridiques", "famille"),
    "mobilite": ("mobilite", "trouver-un-emploi"),
    "fs_aubusson": ("numerique", "difficultes-administratives-ou-juridiques"),
    "epicerie": ("equipement-et-alimentation",),
    "garage": ("mobilite",),
    "entraide": ("equipement-et-alimentation",),
}

# Practices a partner of this kind makes more likely (weight multiplied by 3).
PRACTICE_BOOSTS: dict[str, tuple[str, ...]] = {
    "caf": ("rights_access",), "cpam": ("rights_access",), "carsat": ("rights_access",),
    "msa": ("rights_access", "case_conference"), "mdph": ("rights_access",),
    "fs_boussac": ("rights_access",), "fs_bourganeuf": ("rights_access",),
    "fs_aubusson": ("rights_access",),
    "chambre": ("case_conference", "shared_assessment"), "cd": ("case_conference", "joint_visits"),
    "udaf": ("joint_visits", "joint_support"), "siao": ("handover", "referral"),
    "chrs": ("handover", "joint_support"), "spip": ("handover",), "pjj": ("handover",),
    "restos": ("collective_actions",), "secours": ("collective_actions",),
    "cidff": ("collective_actions", "information_sharing"),
}  # fmt: skip

PRACTICE_WEIGHTS: dict[str, float] = {
    "referral": 5, "mutual_information": 4, "information_sharing": 3, "rights_access": 3,
    "shared_assessment": 2, "joint_support": 2, "joint_visits": 1, "case_conference": 1.5,
    "handover": 1.5, "collective_actions": 0.7,
}  # fmt: skip
OBSTACLE_WEIGHTS: dict[str, float] = {
    "lack_of_time": 5, "turnover": 4, "unknown_missions": 3, "admin_delays": 3,
    "unreachable_platforms": 4, "information_sharing": 2, "no_coordination_body": 2.5,
    "other": 0.6,
}  # fmt: skip
OBSTACLE_OTHER = (
    "Distances et temps de trajet en zone rurale.",
    "Pas de ligne directe vers les plateformes, seulement des numéros nationaux.",
    "Fermeture de permanences de proximité.",
)
BODY_OTHER = (
    "Comité de pilotage France services.",
    "Groupe de travail du contrat local de santé.",
)
PRACTICE_OTHER = (
    "Co-animation d'un atelier budget.",
    "Accompagnement physique aux rendez-vous.",
    "Préparation commune des sorties d'hospitalisation.",
)
COMMENTS = (
    "Dès que la personne part, on perd le contact : un annuaire à jour nous aiderait beaucoup.",
    "Les plateformes téléphoniques sont difficiles à joindre ; une adresse mail dédiée "
    "fait gagner beaucoup de temps.",
    "Il manque une instance de coordination où toutes les structures seraient présentes.",
    "La commission SIAO fonctionne bien, mais la CAF et la CPAM n'y sont pas représentées.",
    "Le partenariat repose beaucoup sur les relations personnelles, c'est fragile.",
    "Des rencontres entre services, même une fois par an, seraient précieuses.",
    "Le secret partagé reste flou selon les partenaires.",
    "Petit département : on se connaît, les urgences se règlent souvent par téléphone.",
)

FEMALE_NAMES = (
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Sandrine", "Valérie", "Christine",
    "Céline", "Stéphanie", "Aurélie", "Émilie", "Julie", "Camille", "Laure", "Sophie",
    "Hélène", "Claire", "Anne", "Martine", "Virginie", "Élodie", "Lucie", "Pauline", "Manon",
    "Chantal", "Agnès", "Delphine", "Karine", "Mélanie", "Solène", "Josiane",
)  # fmt: skip
MALE_NAMES = (
    "Philippe", "Laurent", "Stéphane", "Thierry", "Pascal", "Olivier", "Nicolas", "Julien",
    "Sébastien", "Christophe", "Frédéric", "Éric", "David", "Vincent", "Jérôme", "Mathieu",
    "Romain", "Thomas", "Guillaume", "Hervé", "Yannick", "Damien",
)  # fmt: skip
SURNAMES = (
    "Lavaud", "Chassagne", "Desfarges", "Boudet", "Mazeaud", "Pradeau", "Tixier", "Auclair",
    "Lacour", "Delage", "Peyrot", "Chaussade", "Laporte", "Lavergne", "Aufort", "Bessaguet",
    "Chabrat", "Dumontet", "Faucher", "Jouannaud", "Lamy", "Mignaton", "Nadaud", "Parrain",
    "Rabeteau", "Sauviat", "Tabaraud", "Vergnaud", "Bonnaud", "Couturier", "Martin", "Bernard",
    "Dubois", "Moreau", "Laurent", "Simon", "Michel", "Lefèvre", "Roux", "Fournier", "Girard",
    "Mercier", "Bonnet", "Lambert", "Faure", "Rousseau", "Blanc", "Guérin", "Perrin", "Morin",
    "Chevalier", "Masson", "Brunet", "Roche", "Meunier", "Marchand", "Barbier", "Dumas",
    "Renard", "Aubert", "Giraud", "Picard", "Gaillard", "Lacroix", "Fabre", "Rivière",
)  # fmt: skip

# --- answers ------------------------------------------------------------------------------


@dataclass
class _Pro:
    row: Professional
    org: _Org
    service: str | None
    commune: str
    years_in_post: str  # as answered in the year `since`
    since: int = FIRST_YEAR  # first campaign in post
    until: int | None = None  # last campaign in post, for those who left
    predecessor: _Pro | None = None

    def in_post(self, year: int) -> bool:
        return self.since <= year and (self.until is None or year <= self.until)


@dataclass
class _LinkPlan:
    partner: str
    service: str | None
    status: str = "new"
    nature: str | None = None
    frames: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    frequency: str | None = None
    practices: list[str] = field(default_factory=list)
    practice_other: str = ""
    thematiques: list[str] = field(default_factory=list)
    has_named_contact: bool | None = None
    contact_name: str = ""
    contact_consent: bool = False
    quality: int | None = None
    carried_from: _LinkPlan | None = None
    row: DeclaredLink | None = None


@dataclass
class _ResponsePlan:
    pro: _Pro
    status: str
    when: datetime
    years_in_post: str | None
    links: list[_LinkPlan]
    declared_partner_count: int | None
    obstacles: list[str]
    obstacle_other: str
    bodies: list[str]
    body_other: str
    comment: str
    row: Response | None = None


T = TypeVar("T")


def _pick(rng: random.Random, weights: dict[T, float]) -> T:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _sample(rng: random.Random, weights: dict[str, float], k: int) -> list[str]:
    """k distinct keys drawn with the given weights (without replacement)."""
    pool = dict(weights)
    out: list[str] = []
    while pool and len(out) < k:
        key = _pick(rng, pool)
        out.append(key)
        del pool[key]
    return out


def _affinity(a: _Org, b: _Org) -> float:
    base = PROPOSED_BASE if b.status == "proposed" else BASE_AFFINITY
    return AFFINITY.get(frozenset((a.key, b.key)), base)


class _Generator:
    """Draws the whole demo from one seeded generator, in a fixed order."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.orgs = {o.key: o for o in ORGS}
        # Org key -> (full name, first year, last year or None) of everyone who worked there.
        self.staff: dict[str, list[tuple[str, int, int | None]]] = {}
        self.year = FIRST_YEAR  # the campaign being drawn

    # -- people --

    def names(self, count: int) -> list[tuple[str, bool]]:
        """`count` distinct invented (full name, is_female) pairs."""
        out: list[tuple[str, bool]] = []
        seen: set[str] = set()
        while len(out) < count:
            female = self.rng.random() < 0.72  # social work is a mostly female trade
            first = self.rng.choice(FEMALE_NAMES if female else MALE_NAMES)
            name = f"{first} {self.rng.choice(SURNAMES)}"
            if name not in seen:
                seen.add(name)
                out.append((name, female))
        return out

    def years_in_post(self) -> str:
        return _pick(self.rng, {"lt1": 0.1, "1to3": 0.3, "3to10": 0.35, "gt10": 0.25})

    # -- one partner --

    def partner_service(self, partner: _Org, pro: _Pro) -> str | None:
        rng = self.rng
        if partner.key == "cd":
            local = {
                "Guéret": UTAS[0], "Ahun": UTAS[0], "Boussac": UTAS[0], "Aubusson": UTAS[1],
                "Felletin": UTAS[1], "La Souterraine": UTAS[2], "Bourganeuf": UTAS[3],
            }.get(pro.commune, UTAS[0])  # fmt: skip
            return local if rng.random() < 0.8 else rng.choice(UTAS)
        if partner.key == "siao":
            return _pick(rng, {SIAO_115: 0.4, DAY_CENTRE: 0.35, None: 0.25})
        if partner.key == "carsat":
            return _pick(rng, {CARSAT_PENSION: 0.4, CARSAT_HEALTH: 0.4, None: 0.2})
        if partner.key == "ch":
            return HOSPITAL_SOCIAL if rng.random() < 0.7 else None
        return None

    def describe(self, pro: _Pro, partner: _Org) -> _LinkPlan:
        rng = self.rng
        weight = _affinity(pro.org, partner)
        pair = frozenset((pro.org.key, partner.key))
        link = _LinkPlan(partner=partner.key, service=self.partner_service(partner, pro))
        if weight >= 6:
            natures = {"formal": 0.3, "both": 0.4, "informal": 0.3}
            freqs = {"weekly": 0.35, "monthly": 0.45, "quarterly": 0.15, "occasional": 0.05}
        elif weight >= 3:
            natures = {"formal": 0.1, "both": 0.25, "informal": 0.65}
            freqs = {"weekly": 0.1, "monthly": 0.35, "quarterly": 0.3, "occasional": 0.25}
        else:
            natures = {"formal": 0.05, "both": 0.1, "informal": 0.85}
            freqs = {"weekly": 0.03, "monthly": 0.15, "quarterly": 0.3, "occasional": 0.52}
        link.nature = _pick(rng, natures)
        link.frequency = _pick(rng, freqs)
        if link.nature in ("formal", "both"):
            link.frames = self.frames(pair)
        if link.nature in ("informal", "both"):
            link.channels = self.channels()
        boosts = PRACTICE_BOOSTS.get(partner.key, ())
        weights = {p: w * (3 if p in boosts else 1) for p, w in PRACTICE_WEIGHTS.items()}
        link.practices = _sample(rng, weights, _pick(rng, {1: 0.3, 2: 0.4, 3: 0.2, 4: 0.1}))
        if rng.random() < 0.04:
            link.practice_other = rng.choice(PRACTICE_OTHER)
        themes = THEMATIQUES_BY_ORG.get(partner.key, ())
        if themes and rng.random() < 0.5:
            link.thematiques = sorted(rng.sample(themes, rng.randint(1, len(themes))))
        link.has_named_contact = _pick(rng, {True: 0.55, False: 0.3, None: 0.15})
        names = [
            name
            for name, since, until in self.staff.get(partner.key, ())
            if since <= self.year and (until is None or self.year <= until)
        ]
        if link.has_named_contact and names and rng.random() < 0.35:
            link.contact_name = rng.choice(names)
            link.contact_consent = True
        link.quality = _pick(rng, {None: 0.2, 1: 0.06, 2: 0.17, 3: 0.37, 4: 0.2})
        return link

    def frames(self, pair: frozenset[str]) -> list[str]:
        known = FRAMES_BY_PAIR.get(pair)
        if known:
            return sorted(known[: self.rng.randint(1, len(known))])
        weights = {"agreement": 0.3, "commission": 0.3, "protocol": 0.15, "planned_meeting": 0.25}
        return sorted(_sample(self.rng, weights, _pick(self.rng, {1: 0.75, 2: 0.25})))

    def channels(self) -> list[str]:
        rng = self.rng
        chosen = [
            c
            for c, p in (("phone", 0.9), ("email", 0.7), ("meeting", 0.3), ("personal", 0.15))
            if rng.random() < p
        ]
        return chosen or ["phone"]

    # -- one response --

    def fresh_links(self, pro: _Pro, exclude: list[str], k: int) -> list[_LinkPlan]:
        weights = {
            o.key: _affinity(pro.org, o)
            for o in ORGS
            if o.key != pro.org.key and o.key not in exclude and o.since <= self.year
        }
        return [self.describe(pro, self.orgs[key]) for key in _sample(self.rng, weights, k)]

    def partner_count(self) -> int:
        return round(self.rng.triangular(3, 15, 6))

    def declared(self, listed: int) -> int:
        """Usually the number listed; sometimes a rough figure above it (a gentle warning; a
        total below the list is refused on sending). The same draws as before, so the rest of
        the demo stays as it was."""
        if self.rng.random() < 0.75:
            return listed
        return listed + abs(self.rng.choice((-2, -1, 1, 2, 3)))

    def obstacles(self) -> tuple[list[str], str]:
        codes = _sample(
            self.rng, OBSTACLE_WEIGHTS, _pick(self.rng, {0: 0.15, 1: 0.35, 2: 0.35, 3: 0.15})
        )
        codes.sort(key=list(vocab.OBSTACLES).index)
        other = self.rng.choice(OBSTACLE_OTHER) if "other" in codes else ""
        return codes, other

    def bodies(self, pro: _Pro) -> list[str]:
        return [
            key
            for key, _, _, members in BODIES
            if pro.org.key in members and self.rng.random() < 0.55
        ]

    def when(self) -> datetime:
        """A moment of this year's campaign (the open one is still under way)."""
        first_day = date(self.year, 3, 2)
        span_days = 250 if self.year == CURRENT_YEAR else 110
        day = first_day + timedelta(days=self.rng.randrange(span_days))
        return datetime(
            day.year,
            day.month,
            day.day,
            self.rng.randint(8, 17),
            self.rng.randrange(60),
            tzinfo=UTC,
        )

    def response(self, pro: _Pro, status: str, plans: list[_LinkPlan]) -> _ResponsePlan:
        rng = self.rng
        when = self.when()
        listed = sum(1 for lk in plans if lk.status != "ended")
        obstacles, obstacle_other = self.obstacles()
        complete = status == "submitted" or rng.random() < 0.5
        return _ResponsePlan(
            pro=pro,
            status=status,
            when=when,
            years_in_post=years_in_post_later(pro.years_in_post, self.year - pro.since),
            links=plans,
            declared_partner_count=self.declared(listed) if complete else None,
            obstacles=obstacles if complete else [],
            obstacle_other=obstacle_other if complete else "",
            bodies=self.bodies(pro),
            body_other=rng.choice(BODY_OTHER) if rng.random() < 0.05 else "",
            comment=rng.choice(COMMENTS) if complete and rng.random() < 0.15 else "",
        )

    def first_year(self, pro: _Pro, status: str) -> _ResponsePlan:
        plans = self.fresh_links(pro, [], self.partner_count())
        if status == "draft":  # started, never finished: the last partners half described
            for lk in plans[len(plans) // 2 :]:
                lk.frequency = None
                lk.practices = []
        return self.response(pro, status, plans)

    def carried(self, pro: _Pro, previous: _ResponsePlan, status: str) -> _ResponsePlan:
        """This year's answers starting from last year's: most confirmed, a few changes."""
        rng = self.rng
        plans: list[_LinkPlan] = []
        for old in previous.links:
            if old.status == "ended":
                continue
            lk = _LinkPlan(**{**old.__dict__, "carried_from": old, "row": None})
            lk.frames, lk.channels = list(old.frames), list(old.channels)
            lk.practices, lk.thematiques = list(old.practices), list(old.thematiques)
            if status == "draft" and rng.random() < 0.5:
                lk.status = "pending"  # not looked at yet
            elif rng.random() < 0.08:
                lk.status = "ended"
            else:
                lk.status = "confirmed"
                if lk.nature == "informal" and rng.random() < 0.15:
                    lk.nature = _pick(rng, {"both": 0.7, "formal": 0.3})
                    lk.frames = self.frames(frozenset((pro.org.key, lk.partner)))
                    if lk.nature == "formal":
                        lk.channels = []
                if rng.random() < 0.12:
                    lk.frequency = rng.choice(list(vocab.FREQUENCIES))
                if lk.quality is not None and rng.random() < 0.15:
                    lk.quality = max(1, min(4, lk.quality + rng.choice((-1, 1))))
            plans.append(lk)
        added = _pick(rng, {0: 0.45, 1: 0.4, 2: 0.15})
        added = min(added, max(0, LONG_LIST_PARTNERS - len(plans)))  # the longest list stays 15
        plans += self.fresh_links(pro, [lk.partner for lk in plans], added)
        plan = self.response(pro, status, plans)
        if rng.random() < 0.8:
            plan.bodies = list(previous.bodies)
        return plan

    def new_in_current_year(self, pro: _Pro, status: str) -> _ResponsePlan:
        plans = self.fresh_links(pro, [], self.partner_count())
        if status == "draft":
            plans = plans[: max(1, len(plans) // 2)]
            for lk in plans[1:]:
                lk.nature, lk.frames, lk.channels, lk.frequency = None, [], [], None
        return self.response(pro, status, plans)


# --- writing ------------------------------------------------------------------------------


def _email(full_name: str, taken: set[str]) -> str:
    ascii_name = unicodedata.normalize("NFKD", full_name).encode("ascii", "ignore").decode()
    local = ".".join(part.lower() for part in ascii_name.replace("'", "").split(" ", 1))
    local = local.replace(" ", "-")
    email, n = f"{local}@{EMAIL_DOMAIN}", 2
    while email in taken:
        email, n = f"{local}{n}@{EMAIL_DOMAIN}", n + 1
    taken.add(email)
    return email


def load(session: Session, secret: str) -> bool:
    """Create the demo territory; False (and nothing written) if territory 23 already exists.

    One transaction: on any error nothing is left behind.
    """
    if session.exec(select(Territory.id).where(Territory.code == TERRITORY_CODE)).first():
        return False
    try:
        _build(session, secret)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return True


def _build(session: Session, secret: str) -> None:
    gen = _Generator(random.Random(SEED))

    territory = Territory(code=TERRITORY_CODE, name=TERRITORY_NAME)
    session.add(territory)
    session.flush()

    orgs = {
        o.key: Organisation(
            territory_id=stored_id(territory), name=o.name, type=o.type, commune=o.commune,
            missions=o.missions, status=o.status,
            created_at=datetime(o.since, 1, 10, 9, 0, tzinfo=UTC),
        )
        for o in ORGS
    }  # fmt: skip
    session.add_all(orgs.values())
    session.flush()
    services = {
        (o.key, name): Service(organisation_id=stored_id(orgs[o.key]), name=name)
        for o in ORGS
        for name in o.services
    }
    session.add_all(services.values())
    bodies = {
        key: Body(
            territory_id=stored_id(territory), name=name, description=description,
            kind=BODY_DETAILS[key][0], convener_id=orgs[BODY_DETAILS[key][1]].id,
            frequency=BODY_DETAILS[key][2], thematiques=",".join(BODY_DETAILS[key][3]),
        )
        for key, name, description, _ in BODIES
    }  # fmt: skip
    session.add_all(bodies.values())
    _add_coordination(session, stored_id(territory), orgs, bodies)
    campaigns = {
        year: Campaign(
            territory_id=stored_id(territory), year=year, status=status,
            opens_on=date(year, 3, 1), closes_on=closes_on, introduction=introduction,
        )
        for year, status, closes_on, introduction in CAMPAIGNS
    }  # fmt: skip
    for c in campaigns.values():  # the reminders a coordinator gets by default
        c.reminder1_on, c.reminder2_on = default_reminders(c.opens_on, c.closes_on)
    session.add_all(campaigns.values())

    # People: one per staff slot, plus those who left (replaced or not).
    slots = [(o, i, svc, fn) for o in ORGS for i, (svc, fn) in enumerate(o.staff)]
    names = gen.names(len(slots) + len(TURNOVER) + len(LEFT_UNREPLACED))
    more_names = iter(names[len(slots) :])
    emails: set[str] = set()
    pros: list[_Pro] = []
    leavers: list[_Pro] = []

    def person(
        o: _Org, svc: str | None, fn: str, name: tuple[str, bool], since: int, until: int | None
    ) -> _Pro:
        full_name, female = name
        commune = (
            cast(str, svc).removeprefix("UTAS de ").removeprefix("UTAS d'")
            if o.key == "cd"
            else o.commune
        )
        row = Professional(
            territory_id=stored_id(territory), full_name=full_name,
            email=_email(full_name, emails),
            function=FUNCTIONS[fn][female], organisation_id=stored_id(orgs[o.key]),
            service_id=services[(o.key, svc)].id if svc else None, active=until is None,
            created_at=datetime(since, 1, 15, 9, 0, tzinfo=UTC),
        )  # fmt: skip
        pro = _Pro(row, o, svc, commune, gen.years_in_post(), since, until)
        if since > FIRST_YEAR:  # arrived for that campaign
            pro.years_in_post = "lt1"
        gen.staff.setdefault(o.key, []).append((full_name, since, until))
        return pro

    session.flush()  # service ids
    for n, (o, i, svc, fn) in enumerate(slots):
        since = max(o.since, NEW_POSTS.get((o.key, i), FIRST_YEAR))
        left = TURNOVER.get((o.key, i))
        pro = person(o, svc, fn, names[n], left + 1 if left else since, None)
        if left is not None:
            pro.predecessor = person(o, svc, fn, next(more_names), since, left)
            leavers.append(pro.predecessor)
        pros.append(pro)
    by_key = {o.key: o for o in ORGS}
    for key, svc, fn, last in LEFT_UNREPLACED:
        leavers.append(person(by_key[key], svc, fn, next(more_names), by_key[key].since, last))
    session.add_all([p.row for p in leavers])
    session.flush()  # successors point to their predecessors
    for pro in pros:
        if pro.predecessor is not None:
            pro.row.took_over_from_id = pro.predecessor.row.id
    session.add_all([p.row for p in pros])
    session.flush()

    everyone = leavers + pros
    plans: dict[int, dict[int, _ResponsePlan]] = {}  # year -> id(_Pro) -> plan
    for year in YEARS:
        plans[year] = _plan_year(gen, year, [p for p in everyone if p.in_post(year)], plans)
    _top_up_long_list(gen, list(plans[PREVIOUS_YEAR].values()), plans[CURRENT_YEAR])
    for year in YEARS:
        _write_year(session, campaigns[year], list(plans[year].values()), orgs, services, bodies)

    # A write-in is proposed, and so created, by the first professional who named it.
    for year in YEARS:
        for plan in plans[year].values():
            for lk in plan.links:
                org = orgs[lk.partner]
                if org.status == "proposed" and org.proposed_by_id is None:
                    org.proposed_by_id = plan.pro.row.id
                    org.created_at = plan.when
    # Everyone in post a year was invited when that campaign opened (the follow-up counts
    # invitations). Links as `links.issue` makes them, in one insert: nobody has one yet.
    invitations = []
    for year in YEARS:
        c = campaigns[year]
        opened = datetime.combine(cast(date, c.opens_on), time(9), tzinfo=UTC)
        for pro in everyone:
            if pro.in_post(year):
                nonce = secrets.token_urlsafe(24)
                invitations.append(
                    {
                        "campaign_id": stored_id(c),
                        "professional_id": stored_id(pro.row),
                        "nonce": nonce,
                        "token_hash": links.hash_token(links.derive_token(secret, nonce)),
                        "created_at": opened,
                    }
                )
    session.execute(insert(Invitation), invitations)
    session.flush()
    _add_engagements(session, stored_id(territory), orgs, campaigns[2025], bodies)


# Engagements taken after reading the 2025 map (no random draw: the answers stay the same).
# (title, kind, status, finding, structures, owner, due, notes). The first link is cited by
# one side only and informal in 2025, formal in 2026 (tests/test_engagements.py checks it).
ENGAGEMENTS: tuple[tuple[str, str, str, str, tuple[str, ...], str, date, tuple[str, ...]], ...] = (
    ("Formaliser le lien entre CCAS d'Aubusson et Mission locale de la Creuse", "formalise",
     "kept", "one_sided", ("ccas_aubusson", "ml"), "ccas_aubusson", date(2026, 3, 31),
     ("Rencontre des deux équipes à Aubusson ; une fiche de liaison est rédigée.",
      "Fiche de liaison signée par les deux directions.")),
    ("Faire porter le lien entre Restos du cœur de la Creuse et Secours populaire de la Creuse "
     "par plusieurs personnes", "meeting", "in_progress", "fragile", ("restos", "secours"),
     "secours", date(2026, 12, 31),
     ("Une réunion commune des bénévoles est prévue à l'automne.",)),
    ("Inviter CAF de la Creuse à « Commission SIAO »", "invite", "abandoned", "absent_member",
     ("caf",), "siao", date(2026, 6, 30),
     ("La CAF suit les situations par la commission aides financières : pas d'invitation.",)),
)  # fmt: skip


def _add_engagements(
    session: Session,
    territory_id: int,
    orgs: dict[str, Organisation],
    campaign: Campaign,
    bodies: dict[str, Body],
) -> None:
    """A few engagements made after the 2025 map: kept, in progress and abandoned."""
    taken = datetime(2025, 9, 15, 10, 0, tzinfo=UTC)
    for title, kind, status, finding, keys, owner, due, notes in ENGAGEMENTS:
        e = Engagement(
            territory_id=territory_id, title=title, kind=kind, status=status,
            owner_id=orgs[owner].id, due_on=due, campaign_id=campaign.id, finding=finding,
            body_id=bodies["siao"].id if finding == "absent_member" else None,
            created_at=taken, updated_at=taken,
        )  # fmt: skip
        session.add(e)
        session.flush()
        session.add_all(
            EngagementStructure(
                engagement_id=stored_id(e), organisation_id=stored_id(orgs[k]), position=i
            )
            for i, k in enumerate(keys)
        )
        session.add_all(
            EngagementNote(engagement_id=stored_id(e), written_on=date(2025, 10 + i, 5), text=n)
            for i, n in enumerate(notes)
        )
    session.flush()


def _add_coordination(
    session: Session, territory_id: int, orgs: dict[str, Organisation], bodies: dict[str, Body]
) -> None:
    """Instances' official members, the extra instances, the zones and the conventions."""
    extra = {
        key: Body(
            territory_id=territory_id, name=name, description=description, kind=kind,
            convener_id=orgs[convener].id, frequency=frequency,
        )
        for key, name, description, kind, convener, frequency, _ in EXTRA_BODIES
    }  # fmt: skip
    session.add_all(extra.values())
    zones = [Zone(territory_id=territory_id, name=name, kind=kind) for name, kind, _ in ZONES]
    session.add_all(zones)
    conventions = [
        Convention(
            territory_id=territory_id, kind=kind, title=title, reference=reference,
            starts_on=starts_on, ends_on=ends_on,
        )
        for kind, title, reference, starts_on, ends_on, _ in CONVENTIONS
    ]  # fmt: skip
    session.add_all(conventions)
    session.flush()
    members = [(bodies[key], m) for key, _, _, ms in BODIES for m in ms]
    members += [(extra[e[0]], m) for e in EXTRA_BODIES for m in e[-1]]
    session.add_all(
        [BodyMember(body_id=stored_id(b), organisation_id=stored_id(orgs[m])) for b, m in members]
    )
    session.add_all(
        [
            ZoneCommune(zone_id=stored_id(z), key=commune_key(commune), commune=commune)
            for z, (_, _, communes) in zip(zones, ZONES, strict=True)
            for commune in communes
        ]
    )
    session.add_all(
        [
            ConventionParty(convention_id=stored_id(c), organisation_id=stored_id(orgs[p]))
            for c, spec in zip(conventions, CONVENTIONS, strict=True)
            for p in spec[-1]
        ]
    )


CAMPAIGNS: tuple[tuple[int, str, date, str], ...] = (
    (2024, "closed", date(2024, 6, 30),
     "Première carte partenariale de la Creuse : avec combien de partenaires travaillez-vous, "
     "de façon formelle ou informelle, et que construisez-vous ensemble autour de la "
     "personne ?"),
    (2025, "closed", date(2025, 6, 30),
     "Deuxième carte partenariale de la Creuse. La carte de l'an dernier a servi à préparer "
     "les rencontres de territoire : vos réponses de cette année diront ce qui a changé "
     "entre partenaires."),
    (2026, "open", date(2026, 12, 15),
     "Troisième carte partenariale de la Creuse. Avec deux années de recul, la carte montre "
     "les partenariats qui tiennent, ceux qui se formalisent et ceux qui s'effacent : vos "
     "réponses de cette année diront ce qui a changé entre partenaires."),
)  # fmt: skip


def _plan_year(
    gen: _Generator,
    year: int,
    in_post: list[_Pro],
    earlier: dict[int, dict[int, _ResponsePlan]],
) -> dict[int, _ResponsePlan]:
    """One campaign's answers, by id(_Pro): SUBMITTED_SHARE of the people in post submitted
    and DRAFT_SHARE left a draft, mostly people with an earlier answer to start from. Those
    who leave after this campaign all submitted it: their successors start from it."""
    rng = gen.rng
    gen.year = year

    def source(pro: _Pro) -> _ResponsePlan | None:
        # As the questionnaire carries forward: one's own latest submitted answer, else the
        # latest of the person one took over from.
        for who in (pro, pro.predecessor):
            for y in sorted(earlier, reverse=True):
                plan = earlier[y].get(id(who)) if who else None
                if plan is not None and plan.status == "submitted":
                    return plan
        return None

    leaving = [p for p in in_post if p.until == year]
    staying = [p for p in in_post if p.until != year]
    with_source = [p for p in staying if source(p) is not None]
    without = [p for p in staying if source(p) is None]
    rng.shuffle(with_source)
    rng.shuffle(without)
    n_sub = round(SUBMITTED_SHARE[year] * len(in_post)) - len(leaving)
    n_draft = round(DRAFT_SHARE[year] * len(in_post))
    sub_a = min(len(with_source), round(0.8 * n_sub))
    draft_a = min(len(with_source) - sub_a, round(0.6 * n_draft))
    chosen = [(p, "submitted") for p in leaving]
    chosen += [(p, "submitted") for p in with_source[:sub_a]]
    chosen += [(p, "draft") for p in with_source[sub_a : sub_a + draft_a]]
    chosen += [(p, "submitted") for p in without[: n_sub - sub_a]]
    chosen += [(p, "draft") for p in without[n_sub - sub_a : n_sub - sub_a + n_draft - draft_a]]
    out: dict[int, _ResponsePlan] = {}
    for pro, status in chosen:
        previous = source(pro)
        if previous is not None:
            out[id(pro)] = gen.carried(pro, previous, status)
        elif year == CURRENT_YEAR:
            out[id(pro)] = gen.new_in_current_year(pro, status)
        else:
            out[id(pro)] = gen.first_year(pro, status)
    return out


def _top_up_long_list(
    gen: _Generator, plans_2025: list[_ResponsePlan], plans_2026: dict[int, _ResponsePlan]
) -> None:
    """Give one active professional who submitted in 2025 and has not started 2026 exactly
    LONG_LIST_PARTNERS partners in 2025, none of them ended: the one who already listed the
    most (then by e-mail), topped up with partners described by a separate generator, so the
    main random sequence, and with it the rest of the demo, stays as it was. Proposed
    structures are left out: the first professional to name one stays its proposer."""
    candidates = [
        plan
        for plan in plans_2025
        if plan.status == "submitted"
        and plan.pro.until is None
        and id(plan.pro) not in plans_2026
        and plan.pro.row.function
        and plan.years_in_post
        and all(lk.status != "ended" for lk in plan.links)
    ]
    if not candidates:
        return
    plan = min(candidates, key=lambda p: (-len(p.links), p.pro.row.email))
    missing = LONG_LIST_PARTNERS - len(plan.links)
    if missing <= 0:
        return
    extra = _Generator(random.Random(SEED + 1))
    extra.staff, extra.year = gen.staff, PREVIOUS_YEAR  # contacts drawn from the same staff
    exclude = [lk.partner for lk in plan.links] + [o.key for o in ORGS if o.status == "proposed"]
    plan.links += extra.fresh_links(plan.pro, exclude, missing)
    plan.declared_partner_count = len(plan.links)


def _write_year(
    session: Session,
    campaign: Campaign,
    plans: list[_ResponsePlan],
    orgs: dict[str, Organisation],
    services: dict[tuple[str, str], Service],
    bodies: dict[str, Body],
) -> None:
    for plan in plans:
        pro = plan.pro.row
        plan.row = Response(
            campaign_id=stored_id(campaign), professional_id=stored_id(pro),
            organisation_id=pro.organisation_id, service_id=pro.service_id,
            status=plan.status, questionnaire_version=vocab.QUESTIONNAIRE_VERSION,
            function=pro.function, years_in_post=plan.years_in_post,
            declared_partner_count=plan.declared_partner_count,
            obstacle_other=plan.obstacle_other, body_other=plan.body_other,
            comment=plan.comment, created_at=plan.when - timedelta(days=2, hours=3),
            updated_at=plan.when,
            submitted_at=plan.when if plan.status == "submitted" else None,
        )  # fmt: skip
    session.add_all([p.row for p in plans])
    session.flush()
    for plan in plans:
        for position, lk in enumerate(plan.links):
            lk.row = DeclaredLink(
                response_id=stored_id(plan.row), position=position,
                partner_organisation_id=stored_id(orgs[lk.partner]),
                partner_service_id=services[(lk.partner, lk.service)].id if lk.service else None,
                status=lk.status, nature=lk.nature, frequency=lk.frequency,
                practice_other=lk.practice_other, has_named_contact=lk.has_named_contact,
                contact_name=lk.contact_name, contact_consent=lk.contact_consent,
                quality=lk.quality,
                carried_from_id=stored_id(lk.carried_from.row) if lk.carried_from else None,
                tag_bits=tagbits.tag_bits_of(lk),  # the tags written below, as bits
            )  # fmt: skip
    session.add_all([lk.row for plan in plans for lk in plan.links])
    session.flush()
    # Thousands of small rows: plain multi-row inserts, without building ORM objects.
    tags, obstacles, sat_in = [], [], []
    for plan in plans:
        for lk in plan.links:
            for kind, codes in (
                ("frame", lk.frames),
                ("channel", lk.channels),
                ("practice", lk.practices),
                ("thematique", lk.thematiques),
            ):
                tags += [{"link_id": stored_id(lk.row), "kind": kind, "code": c} for c in codes]
        response_id = stored_id(plan.row)
        obstacles += [{"response_id": response_id, "code": c} for c in plan.obstacles]
        sat_in += [{"response_id": response_id, "body_id": bodies[b].id} for b in plan.bodies]
    for model, rows in ((LinkTag, tags), (ResponseObstacle, obstacles), (ResponseBody, sat_in)):
        if rows:
            session.execute(insert(model), rows)


# --- the demo respondent ------------------------------------------------------------------


def sample_token(session: Session, secret: str, min_partners: int = 0) -> str | None:
    """The 2026 link of a demo professional who submitted in 2025 and has not started 2026:
    their questionnaire opens pre-filled with last year's partners. None without the demo, or
    when nobody's questionnaire carries at least `min_partners` partners.

    Partners carried are those of their 2025 submitted response not marked « plus de contact »
    nor pointing to an archived structure (counted in SQL). The choice is deterministic: with
    `min_partners`, whoever carries the fewest partners that reach it; then preferably someone
    with 5 to 10 partners (a readable first screen); then by e-mail.
    """
    territory = session.exec(select(Territory).where(Territory.code == TERRITORY_CODE)).first()
    if territory is None:
        return None
    campaigns = {
        c.year: c
        for c in session.exec(
            select(Campaign).where(
                Campaign.territory_id == territory.id,
                col(Campaign.year).in_([PREVIOUS_YEAR, CURRENT_YEAR]),
            )
        )
    }
    if PREVIOUS_YEAR not in campaigns or CURRENT_YEAR not in campaigns:
        return None
    started = select(Response.professional_id).where(
        Response.campaign_id == campaigns[CURRENT_YEAR].id
    )
    partners = func.count(col(DeclaredLink.id))
    order: list[Any] = [case((partners.between(5, 10), 0), else_=1), Professional.email]
    if min_partners > 0:
        order.insert(0, partners)
    pro = session.exec(
        select(Professional)
        .join(Response, col(Response.professional_id) == Professional.id)
        .join(DeclaredLink, col(DeclaredLink.response_id) == Response.id)
        .join(Organisation, col(Organisation.id) == DeclaredLink.partner_organisation_id)
        .where(
            Professional.territory_id == territory.id,
            Professional.active,
            Response.campaign_id == campaigns[PREVIOUS_YEAR].id,
            Response.status == "submitted",
            DeclaredLink.status != "ended",
            Organisation.status != "archived",
            col(Professional.id).not_in(started),
        )
        .group_by(col(Professional.id))
        .having(partners >= min_partners)
        .order_by(*order)
    ).first()
    if pro is None:
        return None
    token = links.ensure(session, secret, campaigns[CURRENT_YEAR], pro)
    session.commit()
    return token
