"""The questionnaire's answer fields, declared once.

Each answer a respondent gives — about a partner (`LINK_FIELDS`) or about themselves
(`RESPONSE_FIELDS`) — is one `AnswerField`: its name (the attribute of `LinkAnswer` /
`Answers`, the JSON key of the API, the form field), what kind of value it holds, its
vocabulary, and how the rest of the code treats it. The readers derive their lists from
here: the link columns read and written and the tag kinds (`survey.questionnaire`), the
folding of duplicate links when two structures merge (`survey.directory`), the personal-data
export and erasure (`survey.privacy`), the graph's tag pivots (`reports.graph`), the form's
fields, hidden answers and compared answers (`app/forms.py`, `app/formhtml.py`,
`app/partner_cards.py`). `LinkAnswer` and `LinkForm` declare the questions for readers and
the type checker; one they do not declare yet is added to them at import
(`with_undeclared_questions`). What still lists fields by hand (the declared fields, the
table models, the templates, the submit rules, the graph's coded columns) is held to this
registry by `tests/test_field_registry.py`; docs/architecture.md walks through adding a
question.

Fields that are not answers (the partner itself, its status, the link it was carried from,
the position) are structure, not questions: they are not listed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, create_model
from pydantic import Field as PydanticField

from survey import vocab
from survey.text import free_text

Kind = Literal["code", "codes", "text", "int", "yes_no", "bool"]
"""code: one code of `vocabulary` (a column); codes: several (LinkTag rows of `tag_kind` for
a link, a child table for a response); text: free text; int: a number (with a vocabulary, a
coded number); yes_no: True, False or not answered; bool: a checkbox."""

Merge = Literal["both", "first", "contact", "with_contact", "joined", "union"]
"""When two links of one response collapse into one (a merge of structures): both — two
different answers become "both" (formal + informal); first — the kept link's answer, else
the dropped one's; contact — the dropped link's named contact when the kept one names
nobody, with its consent (with_contact); joined — both texts joined; union — every code of
either link."""

Aggregate = Literal["count_by_code", "tag_counts", "mean"]
"""How the graph sums a link field over the declarations of a tie (`reports.graph`)."""


@dataclass(frozen=True)
class AnswerField:
    name: str
    kind: Kind
    export_key: str  # key in the personal-data export (`survey.privacy.export_own_data`)
    vocabulary: Mapping[str, str] | Mapping[int, str] | None = None
    tag_kind: str | None = None  # LinkTag.kind of a link's multiple-code field
    required: bool = False  # asked for at submit (`survey.questionnaire.check`)
    carried: bool = True  # copied into next year's questionnaire (`carried_forward`)
    personal: bool = False  # may name a person: emptied by `survey.privacy.erase_professional`
    merge: Merge = "first"
    aggregate: Aggregate | None = None
    # A carried partner whose answer differs from last year's shows as changed.
    compared: bool = True

    @property
    def is_column(self) -> bool:
        """Stored in a column of the link's or the response's row (not in a child table)."""
        return self.kind != "codes"

    @property
    def erased(self) -> str | bool:
        """The value erasure writes over a personal field."""
        return False if self.kind == "bool" else ""


LINK_FIELDS: tuple[AnswerField, ...] = (
    AnswerField(
        "nature", "code", "nature", vocab.NATURES, required=True, merge="both",
        aggregate="count_by_code",
    ),
    AnswerField("frames", "codes", "cadres", vocab.FRAMES, tag_kind="frame", merge="union"),
    AnswerField("channels", "codes", "canaux", vocab.CHANNELS, tag_kind="channel", merge="union"),
    AnswerField(
        "frequency", "code", "frequence", vocab.FREQUENCIES, aggregate="count_by_code"
    ),
    AnswerField(
        "practices", "codes", "construit_ensemble", vocab.PRACTICES, tag_kind="practice",
        required=True, merge="union", aggregate="tag_counts",
    ),
    # Free text may name people: emptied on erasure like every free text.
    AnswerField(
        "practice_other", "text", "construit_ensemble_autre", personal=True, merge="joined"
    ),
    AnswerField(
        "thematiques", "codes", "thematiques", vocab.THEMATIQUES, tag_kind="thematique",
        merge="union", aggregate="tag_counts",
    ),
    AnswerField("has_named_contact", "yes_no", "contact_nomme"),
    AnswerField("contact_name", "text", "nom_du_contact", personal=True, merge="contact"),
    # The consent goes with the name it is about; a checkbox, not compared on its own.
    AnswerField(
        "contact_consent", "bool", "contact_accepte_d_etre_dans_le_repertoire", personal=True,
        merge="with_contact", compared=False,
    ),
    AnswerField("quality", "int", "qualite", vocab.QUALITIES, aggregate="mean"),
)  # fmt: skip
"""A partner's questions, in the order of `LinkAnswer`."""

RESPONSE_FIELDS: tuple[AnswerField, ...] = (
    # Carried only when last year's answer is the respondent's own (not a predecessor's).
    AnswerField("function", "text", "fonction", personal=True),
    # Carried moved on by the years elapsed (`years_in_post_later`).
    AnswerField("years_in_post", "code", "anciennete_dans_le_poste", vocab.YEARS_IN_POST),
    # Left blank: recomputed from the partners kept.
    AnswerField("declared_partner_count", "int", "nombre_de_partenaires_declare", carried=False),
    AnswerField("obstacles", "codes", "difficultes", vocab.OBSTACLES),
    AnswerField("obstacle_other", "text", "difficulte_autre", personal=True),
    AnswerField("body_ids", "codes", "instances"),  # ids of the territory's bodies
    AnswerField("body_other", "text", "instances_autres", carried=False, personal=True),
    AnswerField("comment", "text", "commentaire", carried=False, personal=True),
)  # fmt: skip
"""A respondent's own answers, in the order of `Answers` (without its links)."""


_Model = TypeVar("_Model", bound=BaseModel)


def _pydantic(f: AnswerField) -> tuple[Any, Any]:
    """The annotation and default of a question the model does not declare."""
    codes: Any = Literal[tuple(f.vocabulary)] if f.vocabulary else str  # type: ignore[misc]
    if f.kind == "codes":
        return list[codes], PydanticField(default_factory=list, max_length=len(f.vocabulary or ()))
    if f.kind == "text":  # the rule of every free text (survey.text)
        return Annotated[str, free_text(f.name)], PydanticField(default="", max_length=500)
    if f.kind == "bool":
        return bool, False
    return (bool if f.kind == "yes_no" else codes if f.vocabulary else int) | None, None


def with_undeclared_questions(model: type[_Model]) -> type[_Model]:
    """`model` (`LinkAnswer`), or a model of the same name that adds the registered partner
    questions it does not declare: a question added to the registry reaches the API, the
    form and the storage before it is written in the class. Declared questions keep their
    hand-written rules (messages, lengths); the class stays what mypy and readers see."""
    missing = {f.name: _pydantic(f) for f in LINK_FIELDS if f.name not in model.model_fields}
    if not missing:
        return model
    return create_model(  # type: ignore[call-overload,no-any-return]
        model.__name__, __base__=model, __module__=model.__module__, **missing
    )


def link_columns() -> list[AnswerField]:
    """The partner questions stored in columns of `DeclaredLink`."""
    return [f for f in LINK_FIELDS if f.is_column]


def tag_fields() -> dict[str, str]:
    """LinkTag kind -> the `LinkAnswer` field it fills."""
    return {f.tag_kind: f.name for f in LINK_FIELDS if f.tag_kind is not None}


def response_columns() -> list[AnswerField]:
    """The respondent's answers stored in columns of `Response`."""
    return [f for f in RESPONSE_FIELDS if f.is_column]


def erased_values(registry: tuple[AnswerField, ...]) -> dict[str, str | bool]:
    """Column -> the value erasure writes, for the personal fields stored in columns."""
    return {f.name: f.erased for f in registry if f.personal and f.is_column}
