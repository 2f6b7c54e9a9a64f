"""Importing items from CSV or JSON: all rows or none, and a report naming every bad row."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from consultation.errors import Conflict, NotAllowed
from consultation.models import Consultation
from consultation.organising import importing
from tests.factories import make_consultation
from tests.support.html import problems

pytestmark = pytest.mark.django_db
S = Consultation.Status


@pytest.fixture(autouse=True)
def _english():
    """The report's wording is checked in English (pages are checked in both)."""
    with translation.override("en"):
        yield


@pytest.fixture
def draft(organiser):
    """A draft with one item, "Mesure existante", and one theme, "Thème" (slug "theme"),
    imported into by its organiser (kept on it for ``run``)."""
    consultation = make_consultation(status=S.DRAFT, items=0, organiser=organiser)
    consultation.importer = organiser
    consultation.items.create(title="Mesure existante", position=0)
    return consultation


def titles(consultation):
    return list(consultation.items.values_list("title", flat=True))


def run(consultation, filename, content):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return importing.import_items(consultation.importer, consultation, filename, data)


def reasons(report) -> dict:
    return {rejection.where: rejection.reasons for rejection in report.rejected}


# --- Happy paths -----------------------------------------------------------------------


def test_a_comma_separated_csv_is_imported_after_the_existing_items(draft):
    report = run(
        draft,
        "mesures.csv",
        "title,title_en,summary,theme,source_reference\n"
        'Interdire les téléphones,Ban phones,"Au collège, pas de téléphone",Thème,Rapport p. 3\n'
        "Former les parents,,,,\n",
    )
    assert report.ok and report.imported == 2 and report.themes_created == []
    assert titles(draft) == ["Mesure existante", "Interdire les téléphones", "Former les parents"]
    first = draft.items.get(title="Interdire les téléphones")
    assert (first.title_en, first.summary, first.theme.slug, first.source_reference) == (
        "Ban phones",
        "Au collège, pas de téléphone",
        "theme",
        "Rapport p. 3",
    )


def test_a_french_excel_export_with_semicolons_and_a_bom_is_imported(draft):
    content = (
        "\ufefftitle;summary;theme\r\n"
        "Mesure un;Résumé, avec virgule;Santé\r\n"
        "Mesure deux;;theme\r\n"
    )
    report = run(draft, "export.csv", content.encode("utf-8"))
    assert report.ok, report
    assert titles(draft) == ["Mesure existante", "Mesure un", "Mesure deux"]
    assert draft.items.get(title="Mesure un").summary == "Résumé, avec virgule"
    assert report.themes_created == ["Santé"]
    assert draft.items.get(title="Mesure un").theme.name == "Santé"
    assert draft.items.get(title="Mesure deux").theme.slug == "theme"  # matched by slug


def test_a_json_list_or_an_items_object_is_imported(draft):
    rows = [{"title": "Mesure JSON", "body": "Du **texte**.", "theme": "Thème"}]
    assert run(draft, "items.json", json.dumps(rows)).imported == 1
    report = run(draft, "upload", json.dumps({"items": [{"title": "Autre", "summary": None}]}))
    assert report.ok and report.imported == 1
    assert titles(draft) == ["Mesure existante", "Mesure JSON", "Autre"]


def test_themes_named_in_the_file_are_created_once(draft):
    report = run(draft, "t.csv", "title,theme\nA,Numérique\nB,numérique\nC,numerique\n")
    assert report.ok and report.themes_created == ["Numérique"]
    assert draft.themes.filter(name="Numérique").count() == 1
    assert {item.theme.name for item in draft.items.exclude(title="Mesure existante")} == {
        "Numérique"
    }


# --- Rejections: nothing is imported ---------------------------------------------------


def test_every_bad_csv_row_is_reported_and_nothing_is_imported(draft):
    long_title = "x" * 201
    report = run(
        draft,
        "bad.csv",
        "title,summary\n"
        "Bonne mesure,ok\n"  # line 2: fine
        ",résumé sans titre\n"  # line 3: no title
        f"{long_title},\n"  # line 4: too long
        "bonne  MESURE,\n"  # line 5: duplicate of line 2
        "Mesure existante,\n"  # line 6: duplicate of an existing item
        '"Sur deux\nlignes",\n'  # lines 7-8: fine
        "Trop,de,cellules\n",  # line 9: one cell too many
    )
    assert not report.ok and report.imported == 0
    found = reasons(report)
    assert list(found) == ["line 3", "line 4", "line 5", "line 6", "line 9"]
    assert found["line 3"] == ["the title is missing"]
    assert "too long" in found["line 4"][0] and "201" in found["line 4"][0]
    assert found["line 5"] == ["same title as line 2 of the file"]
    assert found["line 6"] == ["an item with this title already exists"]
    assert found["line 9"] == ["more cells (3) than the header has columns (2)"]
    assert titles(draft) == ["Mesure existante"]


def test_every_bad_json_entry_is_reported_and_nothing_is_imported(draft):
    rows = [
        {"title": "Bonne"},
        {"summary": "pas de titre"},
        "pas un objet",
        {"title": "Inconnue", "couleur": "bleu"},
        {"title": "Nombre", "summary": 3},
        {"title": "bonne"},
        {"title": "Thème trop long", "theme": "t" * 121},
    ]
    report = run(draft, "items.json", json.dumps(rows))
    found = reasons(report)
    assert list(found) == ["item 2", "item 3", "item 4", "item 5", "item 6", "item 7"]
    assert found["item 2"] == ["the title is missing"]
    assert found["item 3"] == ["not an object with the item's fields"]
    assert found["item 4"] == ["unknown fields: couleur"]
    assert found["item 5"] == ["“summary” must be text"]
    assert found["item 6"] == ["same title as item 1 of the file"]
    assert "theme name is too long" in found["item 7"][0]
    assert titles(draft) == ["Mesure existante"]
    assert not draft.themes.exclude(slug="theme").exists()


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("a.csv", "titre,résumé\nUne mesure,\n", "Unknown columns: titre, résumé"),
        ("a.csv", "summary\nUn résumé\n", "The “title” column is missing."),
        ("a.json", '[{"title": "A"},', "not valid JSON: EOF while parsing a value at line 1"),
        ("a.json", '{"title": "A"}', "must contain a list of items"),
        ("a.json", "[]", "contains no items"),
        ("a.csv", "title,summary\n", "contains no items"),
        ("a.csv", "", "The file is empty."),
        ("a.csv", "title\nMesure\nCaf\xe9\n".encode("latin-1"), "not in UTF-8 (line 3)"),
        ("a.csv", "title\n" + "".join(f"Mesure {n}\n" for n in range(1001)), "more than 1000"),
        ("a.csv", b"title\n" + b"x" * (1024 * 1024), "too large"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(draft, filename, content, message):
    report = run(draft, filename, content)
    assert not report.ok and report.imported == 0
    assert len(report.file_errors) == 1 and message in report.file_errors[0], report.file_errors
    assert titles(draft) == ["Mesure existante"]


def test_nothing_is_imported_once_the_consultation_is_open(organiser):
    consultation = make_consultation(status=S.OPEN, items=1, organiser=organiser)
    consultation.importer = organiser
    with pytest.raises(Conflict):
        run(consultation, "a.csv", "title\nTrop tard\n")
    assert consultation.items.count() == 1


def test_only_an_organiser_of_the_consultation_imports(draft, make_user):
    outsider = make_user(is_organiser=True)
    with pytest.raises(NotAllowed):
        importing.import_items(outsider, draft, "a.csv", b"title\nIntruse\n")
    assert titles(draft) == ["Mesure existante"]


# --- Through the page ------------------------------------------------------------------


@pytest.fixture
def odile_client(client_for, organiser, draft):
    return client_for(organiser)  # the draft's organiser (see ``draft``)


def upload(client, consultation, name, content, language="fr"):
    client.cookies["django_language"] = language
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(
        reverse("organiser:import", kwargs={"slug": consultation.slug}),
        {"file": SimpleUploadedFile(name, data)},
    )


def test_the_import_page_imports_a_valid_file(odile_client, draft):
    page = odile_client.get(reverse("organiser:import", kwargs={"slug": draft.slug}))
    assert page.status_code == 200 and problems(page.content) == []
    response = upload(odile_client, draft, "m.csv", "title;theme\nUne;Santé\nDeux;Santé\n")
    assert response.status_code == 302
    assert titles(draft) == ["Mesure existante", "Une", "Deux"]
    follow = odile_client.get(response["Location"])
    assert "2 mesures importées" in follow.content.decode()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_import_page_lists_every_rejected_row(odile_client, draft, language):
    response = upload(
        odile_client, draft, "m.csv", "title\nBonne\n\nMesure existante\nbonne\n", language
    )
    assert response.status_code == 422
    assert problems(response.content) == []
    content = response.content.decode()
    if language == "en":
        assert "Nothing was imported" in content
        assert "line 4" in content and "an item with this title already exists" in content
        assert "line 5" in content and "same title as line 2 of the file" in content
    else:
        assert "Rien n’a été importé" in content
        assert "ligne 4" in content and "ligne 5" in content
    assert titles(draft) == ["Mesure existante"]


def test_the_import_page_explains_an_unreadable_file(odile_client, draft):
    response = upload(odile_client, draft, "m.json", "{pas du json", "en")
    assert response.status_code == 422 and problems(response.content) == []
    assert "not valid JSON" in response.content.decode()


def test_the_import_page_refuses_a_file_over_the_limit_next_to_the_field(odile_client, draft):
    response = upload(odile_client, draft, "m.csv", b"title\n" + b"x" * (1024 * 1024), "en")
    assert response.status_code == 422 and problems(response.content) == []
    content = response.content.decode()
    assert 'id="id_file_error"' in content and "too large" in content


def nul_in(field: str) -> str:
    return f"“{field}” contains an invisible control character (U+0000 NULL): remove it"


def test_a_nul_character_in_any_cell_rejects_its_row(draft):
    """PostgreSQL cannot store NUL in text: without this check the import was a 500 there,
    and on SQLite the character went in."""
    csv_report = run(
        draft,
        "nul.csv",
        b"title,summary,theme\nBonne,ok,\nA\x00B,,\nPropre,r\x00sum\xc3\xa9,\nTh\xc3\xa8me,,t\x00\n",
    )
    json_report = run(
        draft,
        "nul.json",
        json.dumps([{"title": "Bonne"}, {"title": "A\u0000B"}, {"title": "C", "body": "\u0000"}]),
    )
    assert not csv_report.ok and not json_report.ok
    assert reasons(csv_report) == {
        "line 3": [nul_in("title")],
        "line 4": [nul_in("summary")],
        "line 5": [nul_in("theme")],
    }
    assert reasons(json_report) == {
        "item 2": [nul_in("title")],
        "item 3": [nul_in("body")],
    }
    assert titles(draft) == ["Mesure existante"]


def test_the_import_page_reports_nul_characters_in_valid_html(odile_client, draft):
    response = upload(
        odile_client, draft, "m.json", '[{"title": "A\\u0000B", "ti\\u0000tle": "x"}]', "en"
    )
    assert response.status_code == 422
    assert problems(response.content) == []
    assert "contains an invisible control character (U+0000 NULL)" in response.content.decode()
    assert "unknown fields: ti\ufffdtle" in response.content.decode()
    assert titles(draft) == ["Mesure existante"]


# --- Hostile text: the site's one rule for free text (config.text) ---------------------

CONTROL_AND_BIDI = {
    "\x1b[31m": "U+001B ESCAPE",
    "\x07": "U+0007 BELL",
    "\x7f": "U+007F DELETE",
    "\x85": "U+0085",
    "\u202e": "U+202E RIGHT-TO-LEFT OVERRIDE",
    "\u202a": "U+202A LEFT-TO-RIGHT EMBEDDING",
    "\u2066": "U+2066 LEFT-TO-RIGHT ISOLATE",
    "\u2069": "U+2069 POP DIRECTIONAL ISOLATE",
    "\ufffe": "U+FFFE",
}


@pytest.mark.parametrize(("character", "named"), CONTROL_AND_BIDI.items())
@pytest.mark.parametrize("field", ["title", "title_en", "summary", "body", "theme"])
def test_a_control_or_bidi_override_character_in_any_cell_rejects_its_row(
    draft, field, character, named
):
    entry = {"title": "Titre", field: f"avant{character}après"}
    report = run(draft, "hostile.json", json.dumps([{"title": "Bonne"}, entry]))
    assert not report.ok and report.imported == 0
    [reason] = reasons(report)["item 2"]
    assert reason.startswith(f"“{field}” contains an invisible control character ({named}")
    assert titles(draft) == ["Mesure existante"]


def test_line_breaks_stay_in_summaries_and_bodies_and_become_spaces_in_titles(draft):
    rows = [
        {
            "title": "Sur\r\ndeux\tlignes",
            "theme": "Santé\npublique",
            "summary": "Premier.\nSecond.",
            "body": "Un\n\n\tDeux",
            "source_reference": "p.\n12",
        }
    ]
    report = run(draft, "lines.json", json.dumps(rows))
    assert report.ok, report.rejected
    item = draft.items.get(title="Sur deux lignes")
    assert (item.summary, item.body) == ("Premier.\nSecond.", "Un\n\n\tDeux")
    assert item.source_reference == "p. 12" and item.theme.name == "Santé publique"


def test_direction_marks_and_joiners_are_kept(draft):
    """Mixed Arabic and Latin text needs the implicit marks; emoji and Persian, the joiners."""
    title = "\u0645\u0631\u062d\u0628\u0627 Agora\u200f !"
    family = "\U0001f469\u200d\U0001f467"  # woman, zero-width joiner, girl
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # with a non-joiner
    body = f"{family} {persian} \u061c\u200e"
    report = run(draft, "marks.json", json.dumps([{"title": title, "body": body}]))
    assert report.ok, report.rejected
    assert draft.items.get(title=title).body == body


@pytest.mark.parametrize(
    "document",
    [
        '[{"title": "\\ud800"}]',  # a lone high surrogate, escaped
        '[{"title": "A\\udfffB"}]',  # a lone low surrogate
        '[{"title": "x", "\\ud83d": "y"}]',  # in a key
        "[" * 100_000 + "]" * 100_000,  # RecursionError in json.loads
        '{"items": ' + "[" * 300 + "]" * 300 + "}",
        "[" * 100_000,
    ],
    ids=["high surrogate", "low surrogate", "surrogate key", "nested", "nested items", "open"],
)
def test_a_lone_surrogate_or_deep_nesting_refuses_the_json_file(draft, document):
    report = run(draft, "hostile.json", document)
    assert not report.ok and report.imported == 0
    [error] = report.file_errors
    assert error.startswith("The file is not valid JSON: ")
    assert titles(draft) == ["Mesure existante"]


@pytest.mark.parametrize(
    "document",
    ["[" * 100_000 + "]" * 100_000, '[{"title": "\\ud800"}]'],
    ids=["nested", "surrogate"],
)
def test_the_import_page_explains_a_nested_or_surrogate_json_file(odile_client, draft, document):
    response = upload(odile_client, draft, "m.json", document, "en")
    assert response.status_code == 422
    assert problems(response.content) == []
    assert "The file is not valid JSON" in response.content.decode()
    assert titles(draft) == ["Mesure existante"]


def test_the_import_page_never_writes_an_escape_or_override_into_the_page(odile_client, draft):
    document = json.dumps([{"title": "A\x1bB", "ti\u202etle": "x", "body": "\x07"}])
    response = upload(odile_client, draft, "m.json", document, "en")
    assert response.status_code == 422 and problems(response.content) == []
    content = response.content.decode()
    assert "U+001B ESCAPE" in content and "U+0007 BELL" in content
    assert "unknown fields: ti\ufffdtle" in content
    for character in "\x1b\x07\u202e":
        assert character not in content
