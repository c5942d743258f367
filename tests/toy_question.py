"""A pytest plugin that adds a toy partner question to the registry before anything reads
it: `python -m pytest -p tests.toy_question tests/toy_question_checks.py` (what
`tests/test_toy_question.py` runs). Loaded with -p, it runs before conftest.py
imports the application, as a question written in `survey/fields.py` would be."""

from __future__ import annotations

from survey import fields

TOY = fields.AnswerField(
    "toys",
    "codes",
    "jouets",
    {"ball": "Ballon", "kite": "Cerf-volant"},
    tag_kind="toy",
    merge="union",
    aggregate="tag_counts",
)

fields.LINK_FIELDS = (*fields.LINK_FIELDS, TOY)
