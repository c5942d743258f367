"""app/formhtml.py: the questionnaire's repeated inputs, written in Python."""

from __future__ import annotations

from app.formhtml import PartnerDatalist, choice_inputs, hidden_answers
from app.forms import LinkForm, search_key


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


def test_partner_datalist_labels_values_and_escaping():
    entries = (
        (5, "CAF <Creuse>", "Guéret", 3, "Accueil"),
        (55, "CCAS", "", None, None),
        (56, "CCAS", "Aubusson", None, None),
    )
    directory = PartnerDatalist(entries, search_key)
    assert PartnerDatalist.of(entries, search_key) is PartnerDatalist.of(entries, search_key)
    html = str(directory.html)
    assert html.startswith('<datalist id="annuaire">') and html.count("<option") == 4
    assert 'value="CAF &lt;Creuse&gt; (Guéret)"' in html and "<Creuse>" not in html
    # Typed back with other case, accents or dashes, a label gives the partner's value.
    assert directory.values[search_key("caf <creuse> (gueret)")] == "5"
    assert directory.values[search_key("CAF <Creuse> — Accueil")] == "5:3"
    assert directory.values[search_key("CCAS (Aubusson)")] == "56"
    # A bare name works only when one structure bears it.
    assert directory.values[search_key("CAF <Creuse>")] == "5"
    assert directory.values[search_key("ccas")] == "55"  # the exact label wins
    assert directory.labels["5:3"] == "CAF <Creuse> — Accueil"


def test_hidden_answers_carry_everything_but_the_status():
    link = LinkForm(partner="5:3", origin="carried", carried_from_id="9", status="pending",
                    nature="formal", frames=["agreement"], practices=["referral", "x\"><b>"],
                    contact_consent=True, quality="3")  # fmt: skip
    html = str(hidden_answers("l2-", link))
    assert 'name="l2-origin" value="carried"' in html
    assert 'name="l2-partner" value="5:3"' in html and 'name="l2-carried_from_id" value="9"' in html
    assert html.count('name="l2-practices"') == 2 and "<b>" not in html
    assert 'name="l2-contact_consent" value="on"' in html and 'name="l2-quality" value="3"' in html
    assert "status" not in html
