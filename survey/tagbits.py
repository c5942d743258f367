"""A declared link's counted tags as one integer (`DeclaredLink.tag_bits`), kept at write time.

The graph sums, per tie, how many declarations carry each code of the partner questions it
pivots (`survey.fields`, aggregate "tag_counts": practices and thématiques). Reading them
from the tag rows joined ~135,000 rows per build of a large territory; the same counts
read from one integer per link are one GROUP BY over the links (`reports.graph`). Bit i of
`tag_bits` is set when the link has the tag `LAYOUT[i]`.

Every writer of tag rows writes the mask too, with `tag_bits` (the questionnaire, the merge
of two structures, the demo, the synthetic territories, the tests' builders);
`tests/test_tag_bits.py` holds them to the tag rows, and the graph built from the bits to
the graph built from the rows. Frames and channels are stored as tag rows only: the graph
does not count them per code.
"""

from __future__ import annotations

from collections.abc import Iterable

from survey import fields

# The stored bit of each tag, for ever: append, never reorder nor remove (a code leaving its
# vocabulary keeps its bit, unused). The registry's order cannot serve: the thématiques come
# from data·inclusion in alphabetical order, where a new category would shift the others.
FROZEN_LAYOUT: tuple[tuple[str, str], ...] = (
    ("practice", "referral"),
    ("practice", "shared_assessment"),
    ("practice", "joint_visits"),
    ("practice", "case_conference"),
    ("practice", "rights_access"),
    ("practice", "joint_support"),
    ("practice", "information_sharing"),
    ("practice", "handover"),
    ("practice", "collective_actions"),
    ("practice", "mutual_information"),
    ("thematique", "choisir-un-metier"),
    ("thematique", "creer-une-entreprise"),
    ("thematique", "difficultes-administratives-ou-juridiques"),
    ("thematique", "difficultes-financieres"),
    ("thematique", "equipement-et-alimentation"),
    ("thematique", "famille"),
    ("thematique", "lecture-ecriture-calcul"),
    ("thematique", "logement-hebergement"),
    ("thematique", "mobilite"),
    ("thematique", "numerique"),
    ("thematique", "preparer-sa-candidature"),
    ("thematique", "remobilisation"),
    ("thematique", "sante"),
    ("thematique", "se-former"),
    ("thematique", "souvrir-a-linternational"),
    ("thematique", "trouver-un-emploi"),
)
MAX_BITS = 63  # a signed 64-bit integer (BIGINT on PostgreSQL, INTEGER on SQLite)


def counted_tags() -> list[tuple[str, str]]:
    """(tag kind, code) of every code of the questions the graph counts per code."""
    return [
        (f.tag_kind, str(code))
        for f in fields.LINK_FIELDS
        if f.aggregate == "tag_counts" and f.tag_kind is not None
        for code in f.vocabulary or ()
    ]


def _layout() -> tuple[tuple[str, str], ...]:
    # A question or code not yet listed (a question added to the registry alone, a new
    # data·inclusion category) gets a bit after the listed ones, so it is counted at once;
    # tests/test_tag_bits.py asks for it to be written into FROZEN_LAYOUT.
    listed = set(FROZEN_LAYOUT)
    layout = FROZEN_LAYOUT + tuple(t for t in counted_tags() if t not in listed)
    if len(layout) > MAX_BITS:
        raise RuntimeError(f"{len(layout)} counted tags: DeclaredLink.tag_bits holds {MAX_BITS}")
    return layout


LAYOUT = _layout()
BIT: dict[tuple[str, str], int] = {tag: 1 << i for i, tag in enumerate(LAYOUT)}
INDEX: dict[tuple[str, str], int] = {tag: i for i, tag in enumerate(LAYOUT)}
KINDS = frozenset(kind for kind, _ in LAYOUT)


def tag_bits(tags: Iterable[tuple[str, str]]) -> int:
    """The mask of a link's tags, (kind, code) pairs; a tag the graph does not count (a
    frame, a channel, an unknown code) sets no bit."""
    bits = 0
    for tag in tags:
        bits |= BIT.get(tag, 0)
    return bits


_COUNTED_FIELDS = [(kind, name) for kind, name in fields.tag_fields().items() if kind in KINDS]


def tag_bits_of(answer: object) -> int:
    """The mask of a partner's answer (a `LinkAnswer`, or anything with its code lists)."""
    return tag_bits(
        (kind, code) for kind, name in _COUNTED_FIELDS for code in getattr(answer, name) or ()
    )
