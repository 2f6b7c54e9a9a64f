"""The Result object: JSON shape, determinism, explanations, the method registry."""

import json

import pytest

from consultation.counting import JSON_OPTIONS, METHODS, compute, schulze
from consultation.counting.explain import explain, explain_data
from consultation.counting.result import Result
from tests.counting.helpers import SCHULZE_45, TENNESSEE, letters_profile


def test_to_dict_is_plain_json_with_string_keys_in_display_order():
    profile, _ = letters_profile(SCHULZE_45, first_id=8)  # ids 8..12: "10" sorts before "9"
    data = schulze(profile).to_dict()
    assert list(data["scores"]) == ["8", "9", "10", "11", "12"]
    assert json.loads(json.dumps(data)) == data
    assert data["format"] == "agora-result/1" and data["winner"] == 12


def test_to_json_is_json_dumps_of_to_dict_with_the_published_options():
    profile, _ = letters_profile(TENNESSEE)
    for name in ("schulze", "borda", "copeland", "instant_runoff"):
        result = compute(name, profile)
        assert result.to_json() == json.dumps(result.to_dict(), **JSON_OPTIONS)


def test_every_method_is_deterministic_for_the_same_input():
    first, _ = letters_profile(SCHULZE_45)
    again, _ = letters_profile(SCHULZE_45)
    for name, method in METHODS.items():
        if method.kind == "ranking":
            assert compute(name, first).to_json() == compute(name, again).to_json(), name


def test_methods_registry_names_kinds_and_refuses_the_wrong_profile():
    assert {name: m.kind for name, m in METHODS.items()} == {
        "votes": "votes",
        "majority_judgment": "grades",
        "borda": "ranking",
        "schulze": "ranking",
        "copeland": "ranking",
        "instant_runoff": "ranking",
    }
    profile, _ = letters_profile(TENNESSEE)
    with pytest.raises(TypeError, match="grades"):
        METHODS["majority_judgment"].compute(profile)
    with pytest.raises(ValueError, match="unknown counting method"):
        compute("approval", profile)


def test_every_method_result_is_a_result_named_after_the_method():
    profile, _ = letters_profile(TENNESSEE)
    for name in ("schulze", "borda", "copeland", "instant_runoff"):
        result = compute(name, profile)
        assert isinstance(result, Result) and result.method == name
        assert sorted(result.order) == sorted(result.candidates)
        assert [i for tier in result.tiers for i in tier] == list(result.order)


def test_explanations_exist_in_french_and_english_for_every_consecutive_pair():
    profile, _ids = letters_profile(SCHULZE_45)
    for name in ("schulze", "borda", "copeland", "instant_runoff"):
        result = compute(name, profile)
        for a, b in zip(result.order, result.order[1:], strict=False):
            fr, en = explain(result, a, b, "fr"), explain(result, a, b, "en")
            assert fr != en and "{" not in fr + en
            assert str(a) in fr and str(b) in en


def test_explain_uses_titles_when_given_and_explains_the_real_order():
    profile, ids = letters_profile(TENNESSEE)
    result = compute("borda", profile)
    titles = {ids["N"]: "Nashville", ids["K"]: "Knoxville"}
    text = explain(result, ids["K"], ids["N"], "en", titles)
    assert text == "Nashville has 294 Borda points, Knoxville 207."
    assert explain(result, ids["N"], ids["K"], "fr", titles) == (
        "Nashville totalise 294 points de Borda, Knoxville 207."
    )


def test_explain_refuses_unknown_items_and_languages():
    profile, ids = letters_profile(TENNESSEE)
    result = compute("borda", profile)
    with pytest.raises(ValueError, match="not a candidate"):
        explain_data(result, ids["N"], 99)
    with pytest.raises(ValueError, match="language"):
        explain(result, ids["N"], ids["K"], "de")


def test_a_result_read_back_from_json_explains_itself_the_same_way():
    profile, _ids = letters_profile(TENNESSEE)
    result = compute("instant_runoff", profile)
    data = json.loads(result.to_json())
    back = Result(
        data["method"],
        tuple(data["candidates"]),
        tuple(data["order"]),
        tuple(tuple(t) for t in data["tiers"]),
        {int(k): v for k, v in data["scores"].items()},
        data["details"],
        data["n_ballots"],
    )
    for a, b in zip(result.order, result.order[1:], strict=False):
        assert explain(back, a, b, "en") == explain(result, a, b, "en")
