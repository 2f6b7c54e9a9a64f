"""Bad input always gets a 4xx with a JSON reason, never a 500 (nor an HTML page)."""

import pytest
from django.test import override_settings

from consultation.models import Ballot, Comment, Grade, Vote
from tests.factories import make_consultation
from tests.support.api import items_of

pytestmark = pytest.mark.django_db

HUGE_ID = "9" * 40
DEEP = 100_000  # json.loads ends in a RecursionError long before this


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def assert_json_error(response, status=None, code=None):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if status is not None:
        assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["detail"]
    assert body["code"]
    if code is not None:
        assert body["code"] == code
    return body


@pytest.fixture
def client(api_as, citizen):
    return api_as(citizen)


@pytest.fixture
def item(consultation):
    return items_of(consultation)[0]


# (method, path template, raw body, expected status): {item}, {slug}
CATALOGUE = [
    # vote
    ("PUT", "/items/{item}/vote", '{"choice": "maybe"}', 422),
    ("PUT", "/items/{item}/vote", '{"choice": 1}', 422),
    ("PUT", "/items/{item}/vote", '{"choice": null}', 422),
    ("PUT", "/items/{item}/vote", '{"choice": ["for"]}', 422),
    ("PUT", "/items/{item}/vote", '{"choice": {"$ne": "x"}}', 422),
    ("PUT", "/items/{item}/vote", "{}", 422),
    ("PUT", "/items/{item}/vote", "", 422),
    ("PUT", "/items/{item}/vote", "null", 422),
    ("PUT", "/items/{item}/vote", "[]", 422),
    ("PUT", "/items/{item}/vote", '"for"', 422),
    ("PUT", "/items/{item}/vote", "choice=for", 400),
    ("PUT", "/items/{item}/vote", "{'choice': 'for'}", 400),
    ("PUT", "/items/{item}/vote", '{"choice": "for"', 400),
    ("PUT", "/items/{item}/vote", "\udcff\udcfe", 400),
    ("PUT", "/items/{item}/vote", '{"choice": "for", "extra": 1}', 422),
    ("PUT", "/items/abc/vote", '{"choice": "for"}', 422),
    ("PUT", "/items/-1/vote", '{"choice": "for"}', 422),
    ("PUT", "/items/0/vote", '{"choice": "for"}', 422),
    ("PUT", "/items/1.5/vote", '{"choice": "for"}', 422),
    ("PUT", f"/items/{HUGE_ID}/vote", '{"choice": "for"}', 422),
    ("PUT", "/items/999999/vote", '{"choice": "for"}', 404),
    ("DELETE", "/items/999999/vote", "", 404),
    # grade
    ("PUT", "/items/{item}/grade", '{"grade": -1}', 422),
    ("PUT", "/items/{item}/grade", '{"grade": 7}', 422),
    ("PUT", "/items/{item}/grade", '{"grade": 1000000000000000000000000}', 422),
    ("PUT", "/items/{item}/grade", '{"grade": "5"}', 422),
    ("PUT", "/items/{item}/grade", '{"grade": 2.5}', 422),
    ("PUT", "/items/{item}/grade", '{"grade": 5.0}', 422),
    ("PUT", "/items/{item}/grade", '{"grade": true}', 422),
    ("PUT", "/items/{item}/grade", '{"grade": null}', 422),
    ("PUT", "/items/{item}/grade", '{"grade": [5]}', 422),
    ("PUT", "/items/{item}/grade", '{"grade": NaN}', 422),
    ("PUT", "/items/{item}/grade", '{"grade": Infinity}', 422),
    ("PUT", "/items/{item}/grade", '{"note": 5}', 422),
    # ballot
    ("PUT", "/consultations/{slug}/ballot", '{"items": []}', 422),
    ("PUT", "/consultations/{slug}/ballot", '{"items": "1,2"}', 422),
    ("PUT", "/consultations/{slug}/ballot", '{"items": ["1"]}', 422),
    ("PUT", "/consultations/{slug}/ballot", '{"items": [true]}', 422),
    ("PUT", "/consultations/{slug}/ballot", '{"items": [null]}', 422),
    ("PUT", "/consultations/{slug}/ballot", '{"items": [[1]]}', 422),
    ("PUT", "/consultations/{slug}/ballot", '{"items": [{"id": 1}]}', 422),
    ("PUT", "/consultations/{slug}/ballot", '{"items": [-3]}', 422),
    ("PUT", "/consultations/{slug}/ballot", f'{{"items": [{HUGE_ID}]}}', 422),
    ("PUT", "/consultations/{slug}/ballot", '{"items": [999999]}', 422),
    ("PUT", "/consultations/{slug}/ballot", '{"items": {"0": 1}}', 422),
    ("PUT", "/consultations/{slug}/ballot", '{"items": [' + ",".join(["1"] * 5000) + "]}", 422),
    ("PUT", "/consultations/nope/ballot", '{"items": [1]}', 404),
    ("PUT", "/consultations/{slug}/ballot", "{}", 422),
    # comments
    ("POST", "/items/{item}/comments", '{"body": ""}', 422),
    ("POST", "/items/{item}/comments", '{"body": "   "}', 422),
    ("POST", "/items/{item}/comments", '{"body": 42}', 422),
    ("POST", "/items/{item}/comments", '{"body": null}', 422),
    ("POST", "/items/{item}/comments", '{"body": {"text": "x"}}', 422),
    ("POST", "/items/{item}/comments", '{"body": "' + "x" * 5001 + '"}', 422),
    ("POST", "/items/{item}/comments", '{"body": "ok", "stance": "maybe"}', 422),
    ("POST", "/items/{item}/comments", '{"body": "nul \\u0000 here"}', 422),
    ("POST", "/items/{item}/comments", '{"body": "ok", "stance": "for\\u0000"}', 422),
    ("POST", "/items/{item}/comments", '{"body": "ok", "parent": 999999}', 422),
    ("POST", "/items/{item}/comments", '{"body": "ok", "parent": "1"}', 422),
    ("POST", "/items/{item}/comments", f'{{"body": "ok", "parent": {HUGE_ID}}}', 422),
    ("POST", "/items/{item}/comments", '{"body": "ok", "parent": -1}', 422),
    # lone surrogates, escaped in JSON: refused while parsing, wherever they are
    ("POST", "/items/{item}/comments", '{"body": "\\ud800"}', 400),
    ("POST", "/items/{item}/comments", '{"body": "a\\udfffb"}', 400),
    ("POST", "/items/{item}/comments", '{"body": "\\ud83d and no pair"}', 400),
    ("POST", "/items/{item}/comments", '{"body": "ok", "stance": "\\ud800"}', 400),
    ("POST", "/items/{item}/comments", '{"body": "ok", "\\udc00": 1}', 400),
    ("PUT", "/items/{item}/vote", '{"choice": "\\udbff"}', 400),
    ("PATCH", "/comments/999999", '{"body": "\\ud800"}', 400),
    # deep nesting anywhere
    ("POST", "/items/{item}/comments", nested(DEEP), 400),
    ("POST", "/items/{item}/comments", '{"body": ' + nested(DEEP) + "}", 400),
    ("POST", "/items/{item}/comments", '{"body": "ok", "parent": ' + nested(300) + "}", 400),
    ("POST", "/items/{item}/comments", '{"a": ' * DEEP + "1" + "}" * DEEP, 400),
    ("PUT", "/consultations/{slug}/ballot", '{"items": ' + nested(DEEP) + "}", 400),
    ("PUT", "/items/{item}/grade", "[" * DEEP, 400),
    ("PATCH", "/comments/999999", '{"body": ' + nested(DEEP) + "}", 400),
    # control and bidi-override characters in free text (config.text)
    ("POST", "/items/{item}/comments", '{"body": "red \\u001b[31m"}', 422),
    ("POST", "/items/{item}/comments", '{"body": "ding \\u0007"}', 422),
    ("POST", "/items/{item}/comments", '{"body": "abc \\u202e fed"}', 422),
    ("POST", "/items/{item}/comments", '{"body": "abc \\u2067 fed"}', 422),
    ("POST", "/items/{item}/comments", '{"body": "c1 \\u0085"}', 422),
    ("PATCH", "/comments/999999", '{"body": "\\u001b"}', 422),
    ("PATCH", "/comments/999999", '{"body": "x"}', 404),
    ("PATCH", "/comments/abc", '{"body": "x"}', 422),
    ("DELETE", "/comments/999999", "", 404),
    ("POST", "/comments/999999/useful", "", 404),
    # reads
    ("GET", "/consultations?status=draft", "", 422),
    ("GET", "/consultations?status=%00", "", 422),
    ("GET", "/consultations/nope", "", 404),
    ("GET", "/consultations/%00", "", 422),
    ("GET", "/consultations/caf%C3%A9", "", 422),
    ("GET", "/consultations/{slug}/items?q=%00", "", 422),
    ("GET", "/consultations/{slug}/items?theme=%00", "", 422),
    ("GET", "/consultations/{slug}/items/abc", "", 422),
    ("GET", "/consultations/{slug}/items/999999", "", 404),
    ("GET", "/consultations/{slug}/items?q=" + "x" * 300, "", 422),
    ("GET", "/consultations/{slug}/items?q=%1B", "", 422),
    ("GET", "/consultations/{slug}/items?q=a%E2%80%AEb", "", 422),
    ("GET", "/consultations/{slug}/items?q=a%0Ab", "", 422),
    ("GET", "/items/{item}/comments?sort=best", "", 422),
    ("GET", "/items/{item}/comments?stance=maybe", "", 422),
    ("GET", f"/items/{HUGE_ID}/comments", "", 422),
    # wrong method, unknown path
    ("POST", "/items/{item}/vote", '{"choice": "for"}', 405),
    ("PUT", "/consultations", "{}", 405),
    ("GET", "/nowhere", "", 404),
    ("GET", "/", "", 404),
    ("GET", "/docs", "", 404),
]


@pytest.mark.parametrize(("method", "path", "raw", "status"), CATALOGUE)
def test_bad_input_gets_a_json_4xx(client, consultation, item, method, path, raw, status):
    path = path.format(item=item.pk, slug=consultation.slug)
    response = client.call(method, path, raw=raw.encode("utf-8", "surrogateescape"))
    assert_json_error(response, status)
    assert not Vote.objects.exists()
    assert not Grade.objects.exists()
    assert not Ballot.objects.exists()
    assert not Comment.objects.exists()


def test_wrong_method_lists_the_allowed_ones(client, item):
    response = client.call("POST", f"/items/{item.pk}/vote", {"choice": "for"})
    assert set(response["Allow"].replace(" ", "").split(",")) == {"PUT", "DELETE"}


def test_form_encoded_body_is_refused_clearly(client, item):
    response = client.call(
        "PUT",
        f"/items/{item.pk}/vote",
        raw="choice=for",
        content_type="application/x-www-form-urlencoded",
    )
    assert_json_error(response, 400, "invalid_json")


def test_validation_error_names_the_field(client, item):
    body = assert_json_error(client.call("PUT", f"/items/{item.pk}/grade", {"grade": "cinq"}))
    assert body["code"] == "invalid_input"
    assert body["errors"][0]["field"] == "grade"
    assert "grade" in body["detail"]


def test_domain_refusals_keep_their_code(client, consultation):
    first, second, third = items_of(consultation)
    path = f"/consultations/{consultation.slug}/ballot"
    cases = [
        ({"items": [first.pk, first.pk]}, "duplicate_item"),
        ({"items": [first.pk, second.pk, third.pk, first.pk + 1000]}, "too_many_items"),
        ({"items": []}, "empty_ballot"),
    ]
    for body, code in cases:
        assert_json_error(client.call("PUT", path, body), 422, code)


def test_items_of_another_consultation_are_refused_in_a_ballot(client, consultation):
    other = make_consultation()
    body = {"items": [items_of(other)[0].pk]}
    response = client.call("PUT", f"/consultations/{consultation.slug}/ballot", body)
    assert_json_error(response, 422, "unknown_item")


def test_grade_above_a_six_grade_scale_is_refused(client):
    consultation = make_consultation(grade_scale=6)
    item = items_of(consultation)[0]
    assert_json_error(
        client.call("PUT", f"/items/{item.pk}/grade", {"grade": 6}), 422, "invalid_grade"
    )
    assert client.call("PUT", f"/items/{item.pk}/grade", {"grade": 5}).status_code == 200


def test_reply_to_a_comment_on_another_item_is_refused(client, api_as, consultation, make_user):
    first, second, _third = items_of(consultation)
    parent = api_as(make_user()).call("POST", f"/items/{first.pk}/comments", {"body": "Là."})
    response = client.call(
        "POST", f"/items/{second.pk}/comments", {"body": "Ici.", "parent": parent.json()["id"]}
    )
    assert_json_error(response, 422, "foreign_parent")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_oversized_body_is_refused(client, item):
    response = client.call("POST", f"/items/{item.pk}/comments", {"body": "x" * 20_000})
    assert_json_error(response, 413, "too_large")


def test_bad_input_is_json_in_debug_mode_too(client, item, settings):
    settings.DEBUG = True
    response = client.call("PUT", f"/items/{item.pk}/vote", raw="{not json")
    body = assert_json_error(response, 400, "invalid_json")
    assert "Traceback" not in body["detail"]


# --- Hostile text in a comment: the JSON parser and the schema's text rule -------------


@pytest.fixture
def my_comment(client, item):
    response = client.call("POST", f"/items/{item.pk}/comments", {"body": "Mon avis."})
    assert response.status_code == 201, response.content
    return Comment.objects.get(pk=response.json()["id"])


@pytest.mark.parametrize(
    ("raw", "status", "says"),
    [
        ('{"body": "\\ud800"}', 400, "escape at line 1"),
        ('{"body": "\\udfff"}', 400, "escape at line 1"),
        ('{"body": "x", "stance": "\\ud800"}', 400, "escape at line 1"),
        ('{"body": ' + nested(DEEP) + "}", 400, "recursion limit"),
        (nested(DEEP), 400, "recursion limit"),
        ('{"body": "\\u001b[2J"}', 422, "U+001B ESCAPE"),
        ('{"body": "\\u0007"}', 422, "U+0007 BELL"),
        ('{"body": "\\u202dabc"}', 422, "U+202D LEFT-TO-RIGHT OVERRIDE"),
        ('{"body": "\\u2066abc"}', 422, "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ],
)
def test_an_edit_with_a_surrogate_nesting_or_control_character_is_refused(
    client, my_comment, raw, status, says
):
    response = client.call("PATCH", f"/comments/{my_comment.pk}", raw=raw.encode())
    body = assert_json_error(response, status)
    assert body["code"] == ("invalid_json" if status == 400 else "invalid_input")
    assert says in body["detail"]
    my_comment.refresh_from_db()
    assert my_comment.body == "Mon avis." and not my_comment.revisions.exists()


def test_a_control_character_is_refused_next_to_its_field(client, item):
    response = client.call("POST", f"/items/{item.pk}/comments", {"body": "a\x1bb"})
    body = assert_json_error(response, 422, "invalid_input")
    [error] = body["errors"]
    assert error["field"] == "body"
    assert "U+001B ESCAPE" in error["message"]


def test_line_breaks_tabs_direction_marks_and_joiners_are_kept_in_a_comment(client, item):
    arabic = "\u0645\u0631\u062d\u0628\u0627 Agora\u200f !"  # a right-to-left mark
    family = "\U0001f469\u200d\U0001f467"  # a zero-width joiner
    text = f"Premier point.\n\n\tSecond : {arabic}\r\n{family}"
    response = client.call("POST", f"/items/{item.pk}/comments", {"body": text})
    assert response.status_code == 201, response.content
    assert Comment.objects.get().body == text
