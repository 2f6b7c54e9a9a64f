"""Every page type costs a bounded number of SQL statements, the same for a small
consultation as for a bigger one (more items, comments, votes, decisions, notices): no
statement per item, per comment or per vote (issue 16). The bounds are per page, stated
here; a page that needs more says why in its row.

Counted with ``tests.support.statements.every_statement``: every statement of the request,
in any thread and on any connection (the session, the user, the language, the page). The
anonymous page cache (config/page_cache.py) is off in tests (tests/conftest.py), so what is
counted is the page's own work, not a copy (a copy costs no statement: bench/read_path.py)."""

import random

import pytest
from django.test import Client
from django.urls import reverse

from consultation.models import Membership, Rule
from consultation.moderation import decisions, reports
from consultation.participation import debate
from tests.factories import add_member, make_consultation, make_item, publish_now, take_part
from tests.support.accounts import login
from tests.support.statements import every_statement

pytestmark = pytest.mark.django_db(transaction=False)

# Page → the most statements one request may run (measured on both backends, plus one).
# Logged-in pages first read the session, the user, their second factor and roles, and the
# menu's unread notices.
ANONYMOUS = {
    "home": 2,
    "consultations list": 4,
    "consultation": 7,
    "measure": 8,
    "results": 6,
    "method cards": 1,
    "moderation log": 7,
    "API items": 3,
}
SIGNED_IN = {
    "citizen: consultation": 17,
    # A suspension and the roles are read once per page, whichever controls ask
    # (config/request_memo.py); the tallies of the measure shown only.
    "citizen: measure": 19,
    "citizen: ranking": 11,
    "citizen: my notices": 8,
    "organiser: dashboard": 7,
    "organiser: consultation": 12,
    "organiser: measures": 9,
    "organiser: results review": 17,
    "moderator: queue": 21,
    "moderator: consultation queue": 20,
}


class Stage:
    """An open consultation with a debate and votes, and a published one, that ``grow``
    makes bigger."""

    def __init__(self, make_user, citizen, organiser, moderator):
        self.make_user = make_user
        self.citizen, self.organiser, self.moderator = citizen, organiser, moderator
        self.rng = random.Random(16)
        self.open = make_consultation(items=3, organiser=organiser)
        add_member(self.open, moderator, Membership.Role.MODERATOR)
        self.published = None
        self.own_comment = debate.post_comment(citizen, self.open.items.first(), "Mon avis.")
        self.grow(items=0, people=2)

    def grow(self, *, items: int, people: int) -> None:
        for _ in range(items):
            make_item(self.open, theme=self.open.themes.first())
        item_list = list(self.open.items.all())
        reporter = self.make_user()
        for n in range(people):
            person = self.make_user()
            take_part(person, self.open, rng=self.rng)
            for item in item_list[:3]:
                comment = debate.post_comment(person, item, f"Un avis {n} sur {item.pk}.")
                debate.post_comment(self.citizen, item, f"Une réponse {n}.", parent=comment)
            debate.post_comment(person, item_list[0], f"Réponse {n}.", parent=self.own_comment)
            reports.report_comment(reporter, comment, Rule.SPAM, "Publicité.")
            if n % 2 == 0:
                decisions.hide(self.moderator, comment, Rule.SPAM)
        # A published consultation of the new size beside it (results are frozen).
        self.published = make_consultation(
            items=len(item_list), organiser=self.organiser, ranking_enabled=False
        )
        for _ in range(people):
            take_part(self.make_user(), self.published, rng=self.rng)
        publish_now(self.published, self.organiser)

    def pages(self) -> dict[str, tuple[str, str]]:
        """Page name → (who asks, address)."""
        c, p = self.open, self.published
        item = c.items.order_by("position", "id").first()
        slug = {"slug": c.slug}
        item_url = reverse("consultation:item", kwargs={"slug": c.slug, "item_id": item.pk})
        return {
            "home": ("anonymous", reverse("home")),
            "consultations list": ("anonymous", reverse("consultation:list")),
            "consultation": ("anonymous", reverse("consultation:detail", kwargs=slug)),
            "measure": ("anonymous", item_url),
            "results": ("anonymous", reverse("consultation:results", kwargs={"slug": p.slug})),
            "method cards": ("anonymous", reverse("consultation:methods")),
            "moderation log": ("anonymous", reverse("moderation_public:log", kwargs=slug)),
            "API items": ("anonymous", f"/api/v1/consultations/{c.slug}/items"),
            "citizen: consultation": (
                "citizen",
                reverse("consultation:detail", kwargs=slug),
            ),
            "citizen: measure": ("citizen", item_url),
            "citizen: ranking": ("citizen", reverse("consultation:ranking", kwargs=slug)),
            "citizen: my notices": ("citizen", reverse("notices:list")),
            "organiser: dashboard": ("organiser", reverse("organiser:dashboard")),
            "organiser: consultation": ("organiser", reverse("organiser:manage", kwargs=slug)),
            "organiser: measures": ("organiser", reverse("organiser:items", kwargs=slug)),
            "organiser: results review": (
                "organiser",
                reverse("organiser:results", kwargs={"slug": p.slug}),
            ),
            "moderator: queue": ("moderator", reverse("moderation:queue")),
            "moderator: consultation queue": (
                "moderator",
                reverse("moderation:consultation", kwargs=slug),
            ),
        }


def _count(client: Client, url: str) -> int:
    with every_statement() as seen:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(seen.sql)


def _measure(stage: Stage) -> dict[str, int]:
    clients = {"anonymous": Client()}
    for name in ("citizen", "organiser", "moderator"):
        clients[name] = login(Client(), getattr(stage, name))
    counts = {}
    for page, (who, url) in stage.pages().items():
        _count(clients[who], url)  # a first visit warms what every visit shares
        counts[page] = _count(clients[who], url)
    return counts


def test_every_page_type_runs_a_bounded_number_of_statements_whatever_the_size(
    settings, make_user, citizen, organiser, moderator
):
    settings.MODERATION_NEW_ACCOUNT_HOURS = 0  # the stage's people write many comments
    stage = Stage(make_user, citizen, organiser, moderator)
    small = _measure(stage)
    stage.grow(items=9, people=5)
    big = _measure(stage)
    bounds = {**ANONYMOUS, **SIGNED_IN}
    over = {
        page: (small[page], big[page], bounds[page])
        for page in bounds
        if max(small[page], big[page]) > bounds[page]
    }
    grew = {page: (small[page], big[page]) for page in bounds if big[page] > small[page]}
    assert over == {}, f"over the bound (small, big, bound): {over}"
    assert grew == {}, f"grew with the size (small, big): {grew}"
