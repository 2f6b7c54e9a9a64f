"""The consultation domain's models, one module per sub-domain.

``consultation.models`` stays the one address to import a model from (and the address the
migrations use); the modules below only keep each file about one thing:

- ``consultations``: consultations, themes, items, roles (``Membership``);
- ``participation``: votes, grades, ranking ballots, comments and their reactions;
- ``results``: computed results, publications, official responses;
- ``moderation``: the charter, reports, the decision log, appeals, suspensions;
- ``notices``: what the site tells one person;
- ``idempotency``: the first answers to API writes sent with an ``Idempotency-Key``;
- ``cards``: the consultation card, the rule declared before anyone votes.
"""

from consultation.models.cards import ConsultationCard
from consultation.models.consultations import (
    Consultation,
    ConsultationQuerySet,
    Item,
    Localized,
    Membership,
    Theme,
    new_open_data_secret,
)
from consultation.models.idempotency import IdempotencyKey
from consultation.models.moderation import (
    Appeal,
    Charter,
    Decision,
    Report,
    Rule,
    Suspension,
    SuspensionQuerySet,
)
from consultation.models.notices import Channel, Follow, Notice, NoticeSettings
from consultation.models.participation import (
    Ballot,
    BallotEntry,
    Comment,
    CommentQuerySet,
    CommentReaction,
    CommentRevision,
    Grade,
    Vote,
)
from consultation.models.results import (
    ComputedResult,
    OfficialResponse,
    Publication,
    PublicationQuerySet,
)

__all__ = [
    "Appeal",
    "Ballot",
    "BallotEntry",
    "Channel",
    "Charter",
    "Comment",
    "CommentQuerySet",
    "CommentReaction",
    "CommentRevision",
    "ComputedResult",
    "Consultation",
    "ConsultationCard",
    "ConsultationQuerySet",
    "Decision",
    "Follow",
    "Grade",
    "IdempotencyKey",
    "Item",
    "Localized",
    "Membership",
    "Notice",
    "NoticeSettings",
    "OfficialResponse",
    "Publication",
    "PublicationQuerySet",
    "Report",
    "Rule",
    "Suspension",
    "SuspensionQuerySet",
    "Theme",
    "Vote",
    "new_open_data_secret",
]
