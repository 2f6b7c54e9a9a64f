"""The debate: threads, stances, edits with history, placeholders, useful marks, sorting."""

import pytest

from consultation import queries
from consultation.errors import Invalid, NotAllowed
from consultation.models import Comment, CommentReaction
from consultation.participation import debate
from tests.factories import make_consultation

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    return make_consultation().items.first()


def test_replies_to_replies_form_a_thread_capped_for_display(citizen, make_user, item):
    other = make_user()
    parent = debate.post_comment(citizen, item, "Racine", "for")
    for depth in range(6):
        parent = debate.post_comment(
            other if depth % 2 else citizen, item, f"R{depth}", "neutral", parent
        )
    shown = queries.comment_thread(item)
    assert [c.body for c, _ in shown] == ["Racine", "R0", "R1", "R2", "R3", "R4", "R5"]
    assert [depth for _, depth in shown] == [0, 1, 2, 3, 4, 4, 4]


def test_a_reply_must_stay_on_the_same_item(citizen, item):
    other_item = item.consultation.items.last()
    parent = debate.post_comment(citizen, other_item, "Ailleurs", "for")
    with pytest.raises(Invalid):
        debate.post_comment(citizen, item, "Réponse", "for", parent)


@pytest.mark.parametrize(
    ("body", "stance"), [("", "for"), ("   ", "for"), ("x" * 5001, "for"), ("ok", "maybe")]
)
def test_empty_long_or_stanceless_comments_are_refused(citizen, item, body, stance):
    with pytest.raises(Invalid):
        debate.post_comment(citizen, item, body, stance)


def test_editing_keeps_the_history_and_marks_the_comment(citizen, item):
    comment = debate.post_comment(citizen, item, "Premier jet", "for")
    debate.edit_comment(citizen, comment, "Version revue", "against")
    comment.refresh_from_db()
    assert (comment.body, comment.stance) == ("Version revue", "against")
    assert comment.edited_at is not None
    assert [(r.body, r.stance) for r in comment.revisions.all()] == [("Premier jet", "for")]


def test_only_the_author_may_edit_or_delete(citizen, make_user, item):
    comment = debate.post_comment(citizen, item, "À moi", "for")
    intruder = make_user()
    with pytest.raises(NotAllowed):
        debate.edit_comment(intruder, comment, "Piraté")
    with pytest.raises(NotAllowed):
        debate.delete_comment(intruder, comment)


def test_deleting_leaves_a_placeholder_and_keeps_the_replies(citizen, make_user, item):
    comment = debate.post_comment(citizen, item, "Texte", "for")
    debate.edit_comment(citizen, comment, "Texte modifié")
    reply = debate.post_comment(make_user(), item, "Réponse", "neutral", comment)
    debate.delete_comment(citizen, comment)
    comment.refresh_from_db()
    assert comment.is_deleted and comment.body == "" and not comment.revisions.exists()
    assert [c.pk for c, _ in queries.comment_thread(item)] == [comment.pk, reply.pk]


def test_useful_marks_toggle_and_sort_the_debate(citizen, make_user, item):
    a = debate.post_comment(citizen, item, "A", "for")
    b = debate.post_comment(citizen, item, "B", "against")
    readers = [make_user() for _ in range(2)]
    for reader in readers:
        assert debate.toggle_useful(reader, b) is True
    assert debate.toggle_useful(readers[0], a) is True
    assert debate.toggle_useful(readers[0], a) is False  # second click takes it back
    assert [c.body for c, _ in queries.comment_thread(item, sort="useful")] == ["B", "A"]
    assert [c.body for c, _ in queries.comment_thread(item, sort="newest")] == ["B", "A"]
    assert [c.body for c, _ in queries.comment_thread(item, sort="oldest")] == ["A", "B"]
    assert [c.body for c, _ in queries.comment_thread(item, stance="for")] == ["A"]
    with pytest.raises(Invalid):
        debate.toggle_useful(citizen, a)  # not on one's own comment
    assert CommentReaction.objects.count() == 2


def test_a_deleted_comment_takes_no_reply(citizen, make_user, item):
    from consultation.errors import Conflict

    comment = debate.post_comment(citizen, item, "Texte", "for")
    debate.delete_comment(citizen, comment)
    with pytest.raises(Conflict) as refusal:
        debate.post_comment(make_user(), item, "Réponse", "neutral", comment)
    assert refusal.value.code == "deleted_parent"
    assert Comment.objects.filter(parent=comment).count() == 0
