"""Every form of every page, posted with hostile values, answers with a page, never a 500.

The forms are not listed by hand: the test reads them off the pages a citizen and an
organiser see (action, fields, file inputs), so a new form is covered as soon as a page
shows it. Each field gets the same hostile value: NUL characters, a huge string, numbers
out of any range, a fraction, several values for one name. The answer must not be a
server error, and an HTML answer must still be valid, labelled HTML (a NUL echoed back
into a field would make it invalid).
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from consultation import comments
from consultation.models import Consultation
from tests.conftest import enable_totp
from tests.consultation.factories import make_consultation
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
    other_comment = comments.post_comment(other, item, "Un avis d'Otto.", "for")
    citizen_comment = comments.post_comment(citizen, item, "Mon avis.", "against")
    return {
        "other_comment": other_comment,
        "citizen_comment": citizen_comment,
        "organiser": organiser,
        "citizen": citizen,
        "consultation": consultation,
        "draft": draft,
        "item": item,
    }


def collect(client, urls):
    forms = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        forms += forms_on(response.content, url)
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
