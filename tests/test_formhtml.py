"""app/formhtml.py: the questionnaire's repeated inputs, written in Python."""

from __future__ import annotations

from types import SimpleNamespace as NS

from app.formhtml import PartnerOptions, choice_inputs


def test_choice_inputs_ids_checks_and_escaping():
    html = choice_inputs("checkbox", "l0-frames", "l0-frames",
                         [("a", "Convention"), ("b", "<b>Protocole</b>"), ("c", "Autre")], ["b", "c"])  # fmt: skip
    lines = html.split("\n")
    assert 'id="l0-frames" value="a">' in lines[0] and "checked" not in lines[0]
    assert 'id="l0-frames-2" value="b" checked>' in lines[1]
    assert "&lt;b&gt;Protocole&lt;/b&gt;" in lines[1] and "<b>" not in html
    assert 'id="l0-frames-3" value="c" checked>' in lines[2]
    radio = choice_inputs("radio", "l1-quality", "l1-quality", [(1, "Difficile"), (2, "Bien")], "2")
    assert 'value="1">' in radio and 'value="2" checked>' in radio and 'type="radio"' in radio


def test_partner_options_mark_only_the_chosen_value():
    groups = [NS(label="CAF & co", choices=[
        NS(organisation=NS(id=5, name="CAF <Creuse>", commune="Guéret"),
           services=[NS(id=3, name="Accueil")]),
        NS(organisation=NS(id=55, name="CCAS", commune=""), services=[]),
    ])]  # fmt: skip
    options = PartnerOptions(groups)
    plain = options("")
    assert "selected" not in plain and 'label="CAF &amp; co"' in plain
    assert "CAF &lt;Creuse&gt; (Guéret)" in plain and "<Creuse>" not in plain
    five = options("5")
    assert five.count("selected") == 1 and '<option value="5" selected>' in five
    service = options("5:3")
    assert service.count("selected") == 1 and '<option value="5:3" selected>' in service
    assert options("55").count("selected") == 1 and '<option value="55" selected>' in options("55")
    assert "selected" not in options('5"><script>')  # a forged value selects nothing
