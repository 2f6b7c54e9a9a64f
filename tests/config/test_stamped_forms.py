"""A blank form rendered once and stamped with each comment's ids (config/forms.py) is the
very HTML the form itself renders with those ids: labels, ids, choices, help texts."""

import pytest
from django.utils import translation

from config.forms import StampedForm
from consultation.moderation.charter import CharterText, RuleText
from consultation.moderation.forms import ReportForm
from consultation.participation.forms import CommentForm


def _charter(title: str) -> CharterText:
    rules = [RuleText(number=1, code="spam", title=title, text="…")]
    return CharterText(version=1, intro="", rules=rules, created_at=None)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_stamped_reply_form_is_the_reply_form_with_the_comments_ids(language):
    with translation.override(language):
        stamp = StampedForm(
            lambda auto_id: CommentForm(auto_id=auto_id, body_label="Your reply"),
            "reply",
            ["body", "stance"],
        )
        for pk in (7, 1234):
            form = CommentForm(auto_id=f"reply{pk}_%s", body_label="Your reply")
            copy = stamp.copy(pk)
            for name in ("body", "stance"):
                assert str(getattr(copy, name).as_field_group()) == str(form[name].as_field_group())
                assert f'id="reply{pk}_{name}' in str(getattr(copy, name).as_field_group())
            assert copy.non_field_errors() == str(form.non_field_errors()) == ""
            assert not copy.errors


def test_a_charter_rule_that_looks_like_an_id_is_left_as_written():
    """Organisers write the rules' titles: nothing in a title is taken for the marker."""
    charter = _charter('report0_ "<b>')
    stamp = StampedForm(
        lambda auto_id: ReportForm(charter=charter, comment_id=0, auto_id=auto_id),
        "report",
        ["rule", "text"],
    )
    copy = stamp.copy(42)
    form = ReportForm(charter=charter, comment_id=42)
    for name in ("rule", "text"):
        assert str(getattr(copy, name).as_field_group()) == str(form[name].as_field_group())
    assert "report0_ &quot;&lt;b&gt;" in str(copy.rule.as_field_group())


def test_the_form_is_rendered_once_for_every_copy():
    built = []

    def build(auto_id):
        built.append(auto_id)
        return CommentForm(auto_id=auto_id)

    stamp = StampedForm(build, "reply", ["body"])
    assert built == []  # nothing rendered for a page that shows no copy
    for pk in range(5):
        stamp.copy(pk)
    assert len(built) == 1
