"""The consultation's part of "my data" and of account deletion.

Deletion (docs/decisions/0009-deleting-an-account-with-ballots.md): while a
consultation is open (or not yet open) the person's votes, grades and ballot are
removed, as if never cast; once it is closed they are kept as anonymous ballots
(no link to anyone) so that published results stay recountable. Comments become
"deleted account" placeholders.

Official acts are kept on deletion (docs/decisions/0012-open-data-and-publication.md):
results published and official responses written by an organiser stay, under the name
frozen into the publication; only the link to the account goes (``SET_NULL``).
"""

from typing import Any

from django.db import transaction
from django.db.models import Q

from accounts.models import User
from consultation.live import events, repair
from consultation.models import (
    Ballot,
    Comment,
    CommentReaction,
    Consultation,
    Grade,
    Membership,
    OfficialResponse,
    Publication,
    Vote,
)

FINISHED = [Consultation.Status.CLOSED, Consultation.Status.PUBLISHED]


def export(user: User) -> dict[str, Any]:
    return {
        "votes": [
            {
                "consultation": v.item.consultation.slug,
                "item": v.item_id,
                "item_title": v.item.title,
                "choice": v.choice,
                "updated_at": v.updated_at.isoformat(),
            }
            for v in Vote.objects.filter(user=user).select_related("item__consultation")
        ],
        "grades": [
            {
                "consultation": g.item.consultation.slug,
                "item": g.item_id,
                "item_title": g.item.title,
                "grade": g.grade,
                "updated_at": g.updated_at.isoformat(),
            }
            for g in Grade.objects.filter(user=user).select_related("item__consultation")
        ],
        "rankings": [
            {
                "consultation": b.consultation.slug,
                "ranked_item_ids": b.ranked_item_ids(),
                "updated_at": b.updated_at.isoformat(),
            }
            for b in Ballot.objects.filter(user=user).select_related("consultation")
        ],
        "comments": [
            {
                "consultation": c.item.consultation.slug,
                "item": c.item_id,
                "id": c.pk,
                "parent": c.parent_id,
                "stance": c.stance,
                "body": c.body,
                "created_at": c.created_at.isoformat(),
                "edited_at": c.edited_at.isoformat() if c.edited_at else None,
                "earlier_versions": [r.body for r in c.revisions.all()],
            }
            for c in Comment.objects.filter(author=user, deleted_at__isnull=True)
            .select_related("item__consultation")
            .prefetch_related("revisions")
        ],
        "useful_marks": list(
            CommentReaction.objects.filter(user=user).values_list("comment_id", flat=True)
        ),
        "roles": [
            {
                "consultation": m.consultation.slug,
                "role": m.role,
                "since": m.created_at.isoformat(),
            }
            for m in Membership.objects.filter(user=user)
            .select_related("consultation")
            .order_by("created_at", "pk")
        ],
        "consultations_created": [
            {
                "consultation": c.slug,
                "title": c.title,
                "status": c.status,
                "created_at": c.created_at.isoformat(),
            }
            for c in Consultation.objects.filter(created_by=user).order_by("created_at", "pk")
        ],
        "published_results": [
            {
                "consultation": p.consultation.slug,
                "version": p.version,
                "published_at": p.published_at.isoformat(),
                "published_as": p.published_by_name,
                "note": p.note,
            }
            for p in Publication.objects.filter(published_by=user)
            .select_related("consultation")
            .defer("results_json", "manifest_json")
            .order_by("published_at")
        ],
        "official_responses": [
            {
                "consultation": r.item.consultation.slug,
                "item": r.item_id,
                "text": r.text,
                "text_en": r.text_en,
                "updated_at": r.updated_at.isoformat(),
            }
            for r in OfficialResponse.objects.filter(author=user).select_related(
                "item__consultation"
            )
        ],
    }


@transaction.atomic
def erase(user: User) -> None:
    finished_items = Q(item__consultation__status__in=FINISHED)
    # The open consultations whose live counters change: recounted after the commit.
    touched = {
        *Vote.objects.filter(user=user)
        .exclude(finished_items)
        .values_list("item__consultation_id", flat=True),
        *Grade.objects.filter(user=user)
        .exclude(finished_items)
        .values_list("item__consultation_id", flat=True),
        *Ballot.objects.filter(user=user)
        .exclude(consultation__status__in=FINISHED)
        .values_list("consultation_id", flat=True),
        *Comment.objects.filter(author=user)
        .exclude(item__consultation__status__in=FINISHED)
        .values_list("item__consultation_id", flat=True),
    }
    Vote.objects.filter(user=user).exclude(finished_items).delete()
    Vote.objects.filter(user=user).filter(finished_items).update(user=None)
    Grade.objects.filter(user=user).exclude(finished_items).delete()
    Grade.objects.filter(user=user).filter(finished_items).update(user=None)
    Ballot.objects.filter(user=user).exclude(consultation__status__in=FINISHED).delete()
    Ballot.objects.filter(user=user, consultation__status__in=FINISHED).update(user=None)
    from consultation.participation.debate import erase_comment

    for comment in Comment.objects.filter(author=user):
        erase_comment(comment, reason="account_deleted")
    Comment.objects.filter(author=user).update(author=None)
    CommentReaction.objects.filter(user=user).delete()
    for consultation_id in sorted(touched):
        events.after_commit(repair.participant_erased, consultation_id)
