"""Every form of every page, posted with hostile values, answers with a page, never a 500;
and no free-text field lets an invisible control or bidi-override character through.

The forms are not listed by hand: the test reads them off the pages a citizen and an
organiser see (action, fields, file inputs), so a new form is covered as soon as a page
shows it. Each field gets the same hostile value: NUL characters, a huge string, numbers
out of any range, a fraction, several values for one name. The answer must not be a
server error, and an HTML answer must still be valid, labelled HTML (a NUL echoed back
into a field would make it invalid).

Then every free-text field of those forms gets, one at a time, text holding ESC, BEL, a C1
control or a bidi override or isolate, the rest of its form filled as the page shows it:
nothing may store such a character (config.text's rule) or write it raw into a page.
"""

import itertools

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.urls import reverse

from consultation.models import Consultation
from consultation.organising import lifecycle
from consultation.participation import debate
from consultation.results import computing
from tests.factories import make_consultation
from tests.support.accounts import enable_totp
from tests.support.html import parse_strict, problems

pytestmark = pytest.mark.django_db

HOSTILE = {
    "nul": "\x00",
    "nul inside": "a\x00b",
    "huge": "x" * 100_000,
    "negative": "-1",
    "huge number": "9" * 40,
    "fraction": "1.5",
    "empty": "",
    "markup": "<script>alert(1)</script>",
}
# Forms that end the session or the account: not what this test is about.
SKIPPED_ACTIONS = ("/compte/logout/", "/compte/deconnexion/")


def forms_on(content: bytes, page_url: str) -> list[dict]:
    document = parse_strict(content)
    found = []
    for form in document.iter("form"):
        if (form.get("method") or "get").lower() != "post":
            continue
        action = form.get("action") or page_url
        names, files = [], []
        for control in form.iter():
            name = control.get("name") if isinstance(control.tag, str) else None
            if not name or name == "csrfmiddlewaretoken":
                continue
            if control.tag == "input" and control.get("type") == "file":
                files.append(name)
            elif control.tag in ("input", "select", "textarea", "button"):
                names.append(name)
        found.append({"action": action, "names": sorted(set(names)), "files": files})
    return found


def post_hostile(client, forms):
    answered = set()
    for form in forms:
        if form["action"].startswith(SKIPPED_ACTIONS):
            continue
        variants = [
            (label, {name: value for name in form["names"]}) for label, value in HOSTILE.items()
        ]
        variants.append(("two values", {name: ["1", "\x00"] for name in form["names"]}))
        for label, data in variants:
            for name in form["files"]:
                data[name] = SimpleUploadedFile("items.csv", b"title\nA\x00B\n\x00\x00\n")
            response = client.post(form["action"], data)
            where = f"{form['action']} with {label} in {form['names'] + form['files']}"
            assert response.status_code < 500, where
            if response["Content-Type"].startswith("text/html") and response.content:
                assert problems(response.content) == [], where
            answered.add(form["action"])
    return answered


@pytest.fixture
def stage(make_user, settings):
    settings.WRITE_RATE_LIMIT = "100000/m"
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "confirm_deletion": ""}
    organiser = make_user("olga@example.org", display_name="Olga", is_organiser=True)
    enable_totp(organiser)
    citizen = make_user("cyril@example.org", display_name="Cyril")
    other = make_user("otto@example.org", display_name="Otto")
    consultation = make_consultation(organiser=organiser)
    draft = make_consultation(status=Consultation.Status.DRAFT, organiser=organiser)
    item = consultation.items.first()
    other_comment = debate.post_comment(other, item, "Un avis d'Otto.", "for")
    citizen_comment = debate.post_comment(citizen, item, "Mon avis.", "against")
    return {
        "other_comment": other_comment,
        "citizen_comment": citizen_comment,
        "organiser": organiser,
        "citizen": citizen,
        "consultation": consultation,
        "draft": draft,
        "item": item,
    }


def collect(client, urls, read=forms_on):
    forms = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        forms += read(response.content, url)
    return forms


def test_every_citizen_form_survives_hostile_values(client_for, stage):
    consultation, item = stage["consultation"], stage["item"]
    client = client_for(stage["citizen"])
    forms = collect(
        client,
        [
            consultation.get_absolute_url(),
            item.get_absolute_url(),
            reverse("consultation:ranking", kwargs={"slug": consultation.slug}),
            reverse("consultation:my_participation"),
            reverse("accounts:profile"),
            reverse("accounts:api_tokens"),
            reverse("accounts:delete"),
            reverse("account_email"),
            reverse("account_change_password"),
        ],
    )
    answered = post_hostile(client, forms)
    slug, pk = consultation.slug, item.pk
    for name in ("vote", "grade", "comment"):
        assert reverse(f"consultation:{name}", kwargs={"slug": slug, "item_id": pk}) in answered
    mine, others = stage["citizen_comment"], stage["other_comment"]
    for name, comment in [
        ("comment_reply", others),
        ("comment_useful", others),
        ("comment_reply", mine),
        ("comment_edit", mine),
        ("comment_delete", mine),
    ]:
        kwargs = {"slug": slug, "item_id": pk, "comment_id": comment.pk}
        assert reverse(f"consultation:{name}", kwargs=kwargs) in answered, name
    assert reverse("consultation:ranking", kwargs={"slug": slug}) in answered
    assert reverse("accounts:delete") in answered
    assert reverse("set_language") in answered


def test_every_organiser_form_survives_hostile_values(client_for, stage):
    draft = stage["draft"]
    item = draft.items.first()
    client = client_for(stage["organiser"])
    kwargs = {"slug": draft.slug}
    forms = collect(
        client,
        [
            reverse("organiser:create"),
            reverse("organiser:manage", kwargs=kwargs),
            reverse("organiser:edit", kwargs=kwargs),
            reverse("organiser:items", kwargs=kwargs),
            reverse("organiser:item_add", kwargs=kwargs),
            reverse("organiser:item_edit", kwargs={**kwargs, "item_id": item.pk}),
            reverse("organiser:item_delete", kwargs={**kwargs, "item_id": item.pk}),
            reverse("organiser:import", kwargs=kwargs),
            reverse("organiser:schedule", kwargs=kwargs),
            reverse("organiser:team", kwargs=kwargs),
            reverse("organiser:close", kwargs={"slug": stage["consultation"].slug}),
        ],
    )
    answered = post_hostile(client, forms)
    assert reverse("organiser:import", kwargs=kwargs) in answered
    assert reverse("organiser:team", kwargs=kwargs) in answered


def test_a_nul_in_the_search_box_is_not_echoed(client, stage):
    url = stage["consultation"].get_absolute_url()
    for query in ("%00", "a%00b", "%01%1b", "%00" * 300):
        response = client.get(f"{url}?q={query}&theme=%00")
        assert response.status_code == 200
        assert problems(response.content) == []
        assert b"\x00" not in response.content
    response = client.get(stage["item"].get_absolute_url() + "?sort=%00&stance=%00")
    assert response.status_code == 200
    assert problems(response.content) == []


# --- Invisible control and bidi-override characters -------------------------------------

INVISIBLE = {
    "ESC": "\x1b",
    "BEL": "\x07",
    "C1 NEL": "\x85",
    "RLO": "\u202e",
    "LRE": "\u202a",
    "RLI": "\u2067",
    "PDI": "\u2069",
}
TEXT_INPUTS = ("", "text", "search")
STRONG_PASSWORD = "Un mot de passe solide 42"
_unique = itertools.count(1)


def text_forms_on(content: bytes, page_url: str) -> list[dict]:
    """POST forms with free-text fields: their action, the values the page shows, and the
    names of those fields."""
    found = []
    for form in parse_strict(content).iter("form"):
        if (form.get("method") or "get").lower() != "post":
            continue
        values, text_fields = {}, []
        for control in form.iter():
            name = control.get("name") if isinstance(control.tag, str) else None
            if not name:
                continue
            kind = (control.get("type") or "").lower()
            if control.tag == "textarea":
                values[name] = control.text or ""
                text_fields.append(name)
            elif control.tag == "select":
                options = list(control.iter("option"))
                chosen = [o for o in options if o.get("selected") is not None] or options[:1]
                values[name] = chosen[0].get("value", "") if chosen else ""
            elif control.tag == "input" and kind in ("radio", "checkbox"):
                if control.get("checked") is not None:
                    values[name] = control.get("value", "on")
            elif control.tag == "input" and kind not in ("submit", "button", "file", "image"):
                values[name] = control.get("value", "")
                if kind in TEXT_INPUTS:
                    text_fields.append(name)
                elif kind == "email" and not values[name]:
                    values[name] = f"personne{next(_unique)}@example.org"
                elif kind == "password":
                    values[name] = STRONG_PASSWORD
        if text_fields and not form.get("action", "").startswith(SKIPPED_ACTIONS):
            action = (form.get("action") or page_url).split("#")[0]
            found.append({"action": action, "values": values, "text_fields": text_fields})
    return found


def post_invisible_characters(client, forms) -> list[str]:
    """Each text field of each form, one character at a time; returns what was tried."""
    tried = []
    for form in forms:
        for field in form["text_fields"]:
            for label, character in INVISIBLE.items():
                data = dict(form["values"])
                for other in form["text_fields"]:  # the rest valid, so only `field` is wrong
                    data[other] = data[other] or f"Texte {next(_unique)}"
                data[field] = f"Avant {character} après {next(_unique)}"
                response = client.post(form["action"], data)
                where = f"{form['action']} with {label} in {field}"
                assert response.status_code < 500, where
                assert character not in response.content.decode(), where
                if response["Content-Type"].startswith("text/html") and response.content:
                    assert problems(response.content) == [], where
                tried.append(f"{form['action']}:{field}")
    return tried


def stored_invisible_characters() -> list[str]:
    """Every text column of our tables that holds one of the characters."""
    found = []
    for model in apps.get_models():
        if model._meta.app_label not in ("accounts", "consultation"):
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.CharField | models.TextField):
                continue
            for label, character in INVISIBLE.items():
                rows = model._default_manager.filter(**{f"{field.attname}__contains": character})
                if rows.exists():
                    found.append(f"{model.__name__}.{field.name} holds {label}")
    return found


def assert_pages_clean(client, urls):
    for url in urls:
        content = client.get(url).content.decode()
        for label, character in INVISIBLE.items():
            assert character not in content, f"{label} written raw into {url}"


def test_no_citizen_text_field_accepts_control_or_bidi_override_characters(client_for, stage):
    consultation, item = stage["consultation"], stage["item"]
    client = client_for(stage["citizen"])
    pages = [
        item.get_absolute_url(),
        reverse("accounts:profile"),
        reverse("accounts:api_tokens"),
    ]
    tried = post_invisible_characters(client, collect(client, pages, text_forms_on))
    slug, pk = consultation.slug, item.pk
    mine = stage["citizen_comment"].pk
    for url, field in [
        (reverse("consultation:comment", kwargs={"slug": slug, "item_id": pk}), "body"),
        (
            reverse(
                "consultation:comment_edit",
                kwargs={"slug": slug, "item_id": pk, "comment_id": mine},
            ),
            "body",
        ),
        (reverse("accounts:profile"), "display_name"),
        (reverse("accounts:api_tokens"), "name"),
    ]:
        assert f"{url}:{field}" in tried
    assert stored_invisible_characters() == []
    assert_pages_clean(client, [consultation.get_absolute_url(), *pages])


@pytest.fixture
def counted(stage, settings, tmp_path):
    """A closed consultation of Olga's with its final results computed: the review page
    has the official-response and publish forms."""
    settings.MEDIA_ROOT = tmp_path
    closed = make_consultation(organiser=stage["organiser"])
    lifecycle.transition(closed.pk, "closed", reason="")
    computing.compute_results(closed.pk, "final")
    return closed


def test_no_organiser_text_field_accepts_control_or_bidi_override_characters(
    client_for, stage, counted
):
    draft = stage["draft"]
    item = draft.items.first()
    client = client_for(stage["organiser"])
    kwargs = {"slug": draft.slug}
    pages = [
        reverse("organiser:create"),
        reverse("organiser:edit", kwargs=kwargs),
        reverse("organiser:item_add", kwargs=kwargs),
        reverse("organiser:item_edit", kwargs={**kwargs, "item_id": item.pk}),
        reverse("organiser:close", kwargs={"slug": stage["consultation"].slug}),
        reverse("organiser:results", kwargs={"slug": counted.slug}),
    ]
    tried = post_invisible_characters(client, collect(client, pages, text_forms_on))
    responded = [
        reverse("organiser:results_respond", kwargs={"slug": counted.slug, "item_id": pk})
        for pk in counted.items.values_list("pk", flat=True)
    ]
    for url, field in [
        (reverse("organiser:create"), "title"),
        (reverse("organiser:create"), "summary"),
        (reverse("organiser:create"), "description"),
        (reverse("organiser:create"), "themes"),
        (reverse("organiser:edit", kwargs=kwargs), "title_en"),
        (reverse("organiser:item_add", kwargs=kwargs), "title"),
        (reverse("organiser:item_add", kwargs=kwargs), "body"),
        (reverse("organiser:item_add", kwargs=kwargs), "source_reference"),
        (reverse("organiser:close", kwargs={"slug": stage["consultation"].slug}), "reason"),
        *[(url, "text") for url in responded],
        *[(url, "text_en") for url in responded],
        (reverse("organiser:results_publish", kwargs={"slug": counted.slug}), "note"),
    ]:
        assert f"{url}:{field}" in tried, (url, field)
    assert stored_invisible_characters() == []
    assert_pages_clean(client, pages)


def test_sign_up_refuses_a_display_name_with_control_or_bidi_override_characters(client):
    forms = collect(client, [reverse("account_signup")], text_forms_on)
    tried = post_invisible_characters(client, forms)
    assert f"{reverse('account_signup')}:display_name" in tried
    assert stored_invisible_characters() == []
    # The same form with a clean name signs up: the refusals were about the name alone.
    [form] = [f for f in forms if "display_name" in f["text_fields"]]
    data = {**form["values"], "email": "propre@example.org", "display_name": "Amira \u200f"}
    assert client.post(reverse("account_signup"), data).status_code == 302


def test_an_address_with_a_control_character_in_its_quoted_part_is_refused(client_for, stage):
    """Django's e-mail validator accepts "a<ESC>b"@example.org; allauth asks our adapter."""
    client = client_for(stage["citizen"])
    response = client.post(
        reverse("account_email"), {"action_add": "", "email": '"cyril\x1bx"@example.org'}
    )
    assert response.status_code < 500
    assert "U+001B ESCAPE" in response.content.decode()
    assert "\x1b" not in response.content.decode()
    assert stored_invisible_characters() == []
    assert not EmailAddress.objects.filter(email__contains="\x1b").exists()


def test_a_refused_value_is_shown_with_a_replacement_character_and_a_reason(client_for, stage):
    client = client_for(stage["citizen"])
    response = client.post(
        reverse("accounts:profile"),
        {
            "display_name": "Cyril\u202e\x1b",
            "preferred_language": "fr",
        },
    )
    content = response.content.decode()
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in content
    assert "Cyril\ufffd\ufffd" in content
    stage["citizen"].refresh_from_db()
    assert stage["citizen"].display_name == "Cyril"


def test_the_admin_forms_refuse_them_too(stage):
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    from consultation.models import Item

    request = RequestFactory().get("/")
    request.user = stage["organiser"]
    draft_item = stage["draft"].items.first()
    form_class = site._registry[Item].get_form(request, draft_item)
    data = {
        "consultation": draft_item.consultation_id,
        "title": "Titre \u2066caché\u2069",
        "position": 9,
    }
    form = form_class(data, instance=draft_item)
    assert not form.is_valid()
    assert "U+2066 LEFT-TO-RIGHT ISOLATE" in str(form.errors["title"])

    citizen = stage["citizen"]
    for obj, data in [
        (citizen, {"email": citizen.email, "display_name": "Cyril\x1b[2J", "is_active": "on"}),
        (
            None,
            {
                "email": "new@example.org",
                "display_name": "Nouvelle\u202e",
                "usable_password": "false",
            },
        ),
    ]:
        form_class = site._registry[type(citizen)].get_form(request, obj)
        form = form_class(data, instance=obj)
        assert not form.is_valid()
        assert "U+" in str(form.errors["display_name"]), form.errors
