"""The steps of building a report, as reported to a progress bar."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]

# In order: collect reports the first three, render the last three.
STEPS = (
    "Lecture des réponses",
    "Calcul des chiffres",
    "Comparaison avec l'année précédente",
    "Dessin des cartes",
    "Dessin des graphiques",
    "Mise en page",
)
