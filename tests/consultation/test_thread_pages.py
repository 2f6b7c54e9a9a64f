"""Debates that scale: an item's thread in pages of threads (a root comment with its first
replies), sorted, searched, followed by opaque cursors, in a fixed number of queries."""

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consultation.errors import Invalid
from consultation.models import Comment, CommentReaction, Item
from consultation.participation import debate, thread_pages
from consultation.queries import fold
from tests.factories import make_consultation
from tests.support.html import problems

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    return make_consultation().items.first()


def seed(item, authors, *, roots, replies=0, start=None, body="Racine {n}"):
    """``roots`` root comments, one a minute apart (oldest first), each with ``replies``
    replies in a chain of two levels (a reply, a reply to it, another reply...)."""
    start = start or timezone.now() - timedelta(days=10)
    made = Comment.objects.bulk_create(
        Comment(
            item=item,
            author=authors[n % len(authors)],
            body=body.format(n=n),
            folded_body=fold(body.format(n=n)),
            created_at=start + timedelta(minutes=n),
        )
        for n in range(roots)
    )
    rows = []
    for root in made:
        parent = root
        for r in range(replies):
            text = f"Réponse {r} à {root.body}"
            reply = Comment.objects.create(
                item=item,
                author=authors[r % len(authors)],
                parent=parent if r % 2 else root,
                body=text,
                folded_body=fold(text),
                created_at=root.created_at + timedelta(seconds=r + 1),
            )
            rows.append(reply)
            parent = reply
    return made


def every_page(item, **options):
    """Follow the next cursors from the first page: the roots of each page."""
    pages, cursor = [], None
    for _page in range(100):
        page = thread_pages.page(item, cursor=cursor, **options)
        pages.append([thread.root.pk for thread in page.threads])
        cursor = page.next
        if cursor is None:
            return pages
    raise AssertionError("more than 100 pages")


def test_pages_of_threads_show_every_root_once_newest_first(item, make_user):
    roots = seed(item, [make_user()], roots=45)
    pages = every_page(item, limit=20)
    assert [len(page) for page in pages] == [20, 20, 5]
    assert [pk for page in pages for pk in page] == [root.pk for root in reversed(roots)]


def test_previous_cursors_lead_back_to_the_same_pages(item, make_user):
    seed(item, [make_user()], roots=45)
    first = thread_pages.page(item, limit=20)
    assert first.previous is None
    second = thread_pages.page(item, cursor=first.next, limit=20)
    third = thread_pages.page(item, cursor=second.next, limit=20)
    assert third.next is None
    back = thread_pages.page(item, cursor=third.previous, limit=20)
    assert [t.root.pk for t in back.threads] == [t.root.pk for t in second.threads]
    assert back.next is not None and back.previous is not None
    start = thread_pages.page(item, cursor=back.previous, limit=20)
    assert [t.root.pk for t in start.threads] == [t.root.pk for t in first.threads]
    assert start.previous is None


def test_comments_posted_meanwhile_shift_no_page(item, citizen, make_user):
    roots = seed(item, [make_user()], roots=30)
    first = thread_pages.page(item, limit=10)
    for n in range(5):
        debate.post_comment(citizen, item, f"Tout nouveau {n}", "for")
    second = thread_pages.page(item, cursor=first.next, limit=10)
    newest_first = [root.pk for root in reversed(roots)]
    assert [t.root.pk for t in second.threads] == newest_first[10:20]


@pytest.mark.parametrize("sort", ["oldest", "useful", "replies"])
def test_every_sort_pages_through_ties_without_repeating_or_skipping(item, make_user, sort):
    readers = [make_user() for _ in range(3)]
    roots = seed(item, [make_user()], roots=23)
    # Few distinct counts, so most roots tie on them and the date and id decide.
    for n, root in enumerate(roots):
        for reader in readers[: n % 3]:
            CommentReaction.objects.create(comment=root, user=reader)
        for r in range(n % 4):
            Comment.objects.create(item=item, parent=root, body=f"r{r}", author=readers[0])
    pages = every_page(item, sort=sort, limit=4)
    shown = [pk for page in pages for pk in page]
    assert sorted(shown) == sorted(root.pk for root in roots)
    assert len(shown) == len(set(shown))
    by_pk = {root.pk: n for n, root in enumerate(roots)}
    if sort == "oldest":
        assert shown == [root.pk for root in roots]
    elif sort == "useful":
        keys = [(by_pk[pk] % 3, by_pk[pk]) for pk in shown]
        assert keys == sorted(keys, reverse=True)
    else:
        keys = [(by_pk[pk] % 4, by_pk[pk]) for pk in shown]
        assert keys == sorted(keys, reverse=True)


def test_most_replied_counts_replies_at_every_depth(item, citizen, make_user):
    other = make_user()
    wide = debate.post_comment(citizen, item, "Large", "for")
    deep = debate.post_comment(citizen, item, "Profond", "for")
    for n in range(2):
        debate.post_comment(other, item, f"Direct {n}", "neutral", wide)
    parent = deep
    for n in range(3):
        parent = debate.post_comment(other, item, f"Chaîne {n}", "neutral", parent)
    page = thread_pages.page(item, sort="replies")
    assert [(t.root.body, t.reply_count) for t in page.threads] == [("Profond", 3), ("Large", 2)]


def test_a_thread_shows_its_first_replies_then_more_by_cursor(item, make_user):
    seed(item, [make_user(), make_user()], roots=1, replies=12)
    page = thread_pages.page(item, preview=5)
    [thread] = page.threads
    everything = [c.pk for c, _ in thread_pages.page(item, preview=100).threads[0].comments]
    assert [c.pk for c, _ in thread.comments] == everything[:6]  # the root and 5 replies
    assert thread.reply_count == 12 and thread.more_count == 7 and thread.earlier is None
    more = thread_pages.page(item, replies=thread.more, preview=5).threads[0]
    shown = [c.pk for c, _ in more.comments]
    # The root, the replies the next ones answer (shown already), then the 7 others.
    assert shown[-7:] == everything[6:]
    assert set(shown[:-7]) <= set(everything[:6])
    assert more.more is None and more.earlier is not None
    on_page = set(shown)
    assert all(c.parent_id in on_page for c, _ in more.comments if c.parent_id)


def test_display_order_and_depth_are_those_of_the_whole_thread(citizen, make_user, item):
    other = make_user()
    parent = debate.post_comment(citizen, item, "Racine", "for")
    for depth in range(6):
        parent = debate.post_comment(
            other if depth % 2 else citizen, item, f"R{depth}", "neutral", parent
        )
    [thread] = thread_pages.page(item, preview=10).threads
    assert [c.body for c, _ in thread.comments] == ["Racine", "R0", "R1", "R2", "R3", "R4", "R5"]
    assert [depth for _, depth in thread.comments] == [0, 1, 2, 3, 4, 4, 4]


def test_a_comments_page_starts_with_its_thread_and_shows_it(item, make_user):
    roots = seed(item, [make_user(), make_user()], roots=30, replies=9)
    target_root = roots[3]  # newest first: on the third page of 10
    target = Comment.objects.filter(parent__isnull=False, body__startswith="Réponse 8 ").get(
        body__endswith=f"à {target_root.body}"
    )
    first = thread_pages.page(item, limit=10, preview=5)
    assert target.pk not in {c.pk for c, _ in first.pairs()}
    page = thread_pages.page(item, limit=10, preview=5, focus=target.pk)
    assert page.threads[0].root == target_root
    assert target.pk in {c.pk for c, _ in page.threads[0].comments}
    assert page.previous is not None
    on_page = {c.pk for c, _ in page.pairs()}
    assert all(c.parent_id in on_page for c, _ in page.pairs() if c.parent_id)
    with pytest.raises(Invalid) as refusal:
        thread_pages.page(item, focus=make_consultation().items.first().pk + 10**6)
    assert refusal.value.code == "unknown_comment"


def test_search_ignores_case_and_accents_and_skips_removed_text(item, citizen, make_user):
    other = make_user()
    root = debate.post_comment(citizen, item, "Le VÉLO électrique à l'école", "for")
    reply = debate.post_comment(other, item, "Un vélo, oui ; une œuvre, non.", "against", root)
    debate.post_comment(other, item, "La voiture", "neutral")
    gone = debate.post_comment(other, item, "Velo effacé", "neutral")
    debate.delete_comment(other, gone)
    hidden = debate.post_comment(other, item, "Vélo caché", "neutral")
    Comment.objects.filter(pk=hidden.pk).update(moderation=Comment.Moderation.HIDDEN)

    def found(query, **options):
        page = thread_pages.page(item, query=query, **options)
        assert page.search
        return [c.pk for c, _ in page.pairs()]

    assert found("velo") == [reply.pk, root.pk]
    assert found("Vélo ÉLECTRIQUE") == [root.pk]
    assert found("OEUVRE") == [reply.pk]
    assert found("velo", sort="oldest") == [root.pk, reply.pk]
    assert found("velo", stance="against") == [reply.pk]
    assert found("trottinette") == []
    assert found("velo", limit=1) == [reply.pk]
    first = thread_pages.page(item, query="velo", limit=1)
    assert [c.pk for c, _ in thread_pages.page(item, query="velo", cursor=first.next).pairs()] == [
        root.pk
    ]


@pytest.mark.parametrize(
    "cursor",
    ["", "x", "eyJ2IjoxfQ", "a" * 2000, "Zm9v:bar", "\x00", "é:é"],
)
def test_a_cursor_that_is_not_ours_is_refused_as_bad_cursor(item, cursor):
    with pytest.raises(Invalid) as refusal:
        thread_pages.page(item, cursor=cursor or "?")
    assert refusal.value.code == "bad_cursor"
    with pytest.raises(Invalid):
        thread_pages.page(item, replies=cursor or "?")


def test_a_cursor_is_signed_and_bound_to_its_sort(item, make_user):
    seed(item, [make_user()], roots=5)
    cursor = thread_pages.page(item, limit=2).next
    with pytest.raises(Invalid) as refusal:
        thread_pages.page(item, cursor=cursor, sort="oldest")
    assert refusal.value.code == "bad_cursor"
    payload, signature = cursor.rsplit(":", 1)
    with pytest.raises(Invalid):
        thread_pages.page(item, cursor=payload + ":" + signature[::-1])
    with pytest.raises(Invalid):  # a replies cursor where a page cursor goes, and back
        thread_pages.page(item, replies=cursor)


def test_the_api_reads_one_threads_replies_by_cursor(item, make_user):
    [root] = seed(item, [make_user()], roots=1, replies=12)
    thread = thread_pages.page(item, preview=5).threads[0]
    window = thread_pages.replies_page(item, thread.more, limit=4)
    everything = [c.pk for c, _ in thread_pages.page(item, preview=100).threads[0].comments]
    assert window.root == root
    assert [c.pk for c, _ in window.comments] == everything[6:10]
    last = thread_pages.replies_page(item, window.next, limit=50)
    assert [c.pk for c, _ in last.comments] == everything[10:]
    assert last.next is None and last.previous is not None


def queries_for(callable_):
    with CaptureQueriesContext(connection) as captured:
        callable_()
    return len(captured.captured_queries)


@pytest.mark.parametrize("sort", ["newest", "useful", "replies"])
def test_a_page_costs_the_same_queries_for_5_or_60_threads(make_user, citizen, sort):
    small, large = make_consultation(items=2).items.all()
    authors = [make_user(), make_user()]
    seed(small, authors, roots=5, replies=3)
    roots = seed(large, authors, roots=60, replies=3)
    for root in roots[:10]:
        CommentReaction.objects.create(comment=root, user=citizen)

    def read(item):
        page = thread_pages.page(item, sort=sort, viewer=citizen)
        return thread_pages.page(item, sort=sort, cursor=page.next, viewer=citizen)

    assert queries_for(lambda: read(small)) == queries_for(lambda: read(large)) > 0
    search = queries_for(lambda: thread_pages.page(small, query="racine", viewer=citizen))
    assert queries_for(lambda: thread_pages.page(large, query="racine", viewer=citizen)) == search


def test_fold_drops_every_combining_mark_as_its_definition_says():
    """queries.fold is written for speed (a debate search folds every comment of an item):
    it must give what casefold, spelled-out ligatures, NFKD and dropping every combining
    mark give, character by character over the basic plane and on mixed text."""
    import unicodedata

    from consultation.queries import fold

    def reference(text):
        text = text.casefold().replace("œ", "oe").replace("æ", "ae")
        decomposed = unicodedata.normalize("NFKD", text)
        return "".join(char for char in decomposed if not unicodedata.combining(char))

    for code in range(0x10000):
        if not 0xD800 <= code <= 0xDFFF:
            assert fold(chr(code)) == reference(chr(code)), hex(code)
    for text in ("NUMÉRIQUE", "Œuvre", "Straße", "ﬁn", "e\u0301\u034f\u05b0x", "« vélo » ’"):
        assert fold(text) == reference(text)


# --- The item page -------------------------------------------------------------------------


def get_page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status
    assert problems(response.content) == []
    return response.content.decode()


def article_ids(content):
    return [int(pk) for pk in re.findall(r'<article id="comment-(\d+)"', content)]


def link(content, rel):
    [href] = re.findall(rf'<a href="([^"]+)" rel="{rel}"', content)
    return html.unescape(href)


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client


def test_the_page_shows_threads_a_page_at_a_time_with_labelled_controls(english, item, make_user):
    roots = seed(item, [make_user(), make_user()], roots=45, replies=2)
    content = get_page(english, item.get_absolute_url())
    newest = [root.pk for root in reversed(roots)]
    shown = article_ids(content)
    assert [pk for pk in shown if pk in newest] == newest[:20]
    assert len(shown) == 60  # 20 threads, each with its 2 replies
    for name in ("q", "sort", "stance"):
        assert f'<label for="thread_{name}">' in content
    assert '<option value="replies">Most replied first</option>' in content
    assert "Previous page" not in content

    second = get_page(english, link(content, "next"))
    assert [pk for pk in article_ids(second) if pk in newest] == newest[20:40]
    third = get_page(english, link(second, "next"))
    assert [pk for pk in article_ids(third) if pk in newest] == newest[40:]
    assert 'rel="next"' not in third
    back = get_page(english, link(third, "prev"))
    assert article_ids(back) == article_ids(second)


def test_the_sort_and_position_filters_carry_over_to_the_next_page(english, item, make_user):
    seed(item, [make_user()], roots=50)
    oldest = list(Comment.objects.filter(item=item).order_by("created_at"))
    Comment.objects.filter(pk__in=[c.pk for c in oldest[::2]]).update(stance="for")
    content = get_page(english, item.get_absolute_url() + "?sort=oldest&stance=for")
    assert article_ids(content) == [c.pk for c in oldest[::2]][:20]
    assert "sort=oldest" in link(content, "next") and "stance=for" in link(content, "next")
    rest = get_page(english, link(content, "next"))
    assert article_ids(rest) == [c.pk for c in oldest[::2]][20:]


def test_more_replies_come_by_a_link_under_their_thread(english, item, make_user):
    [root] = seed(item, [make_user(), make_user()], roots=1, replies=12)
    content = get_page(english, item.get_absolute_url())
    assert len(article_ids(content)) == 1 + thread_pages.REPLY_PREVIEW
    [more] = re.findall(r'<a href="([^"]+)">7 more replies', content)
    replies = get_page(english, html.unescape(more))
    everything = [c.pk for c, _ in thread_pages.page(item, preview=100).threads[0].comments]
    shown = article_ids(replies)
    assert shown[0] == root.pk and shown[-7:] == everything[6:]
    assert "Earlier replies" in replies and "more repl" not in replies


@pytest.mark.parametrize(
    "query",
    ["cursor=nonsense", "cursor=eyJ2IjoxfQ%3Aabc", "replies=%00", "comment=abc", "comment=999999"],
)
def test_a_link_that_is_no_longer_valid_shows_the_first_page_and_says_so(
    english, item, make_user, query
):
    seed(item, [make_user()], roots=25)
    content = get_page(english, f"{item.get_absolute_url()}?{query}")
    assert 'class="notice" role="status"' in content
    said = ("start from the first page", "start of the debate", "not in this debate")
    assert any(words in content for words in said)
    assert len(article_ids(content)) == 20 and 'rel="next"' in content


def test_a_comment_far_down_the_debate_has_a_page_of_its_own(english, item, make_user):
    roots = seed(item, [make_user(), make_user()], roots=50, replies=9)
    old_root = roots[2]  # newest first: the third page
    late_reply = Comment.objects.filter(parent__isnull=False, body=f"Réponse 8 à {old_root.body}")
    [target] = late_reply
    assert target.pk not in article_ids(get_page(english, item.get_absolute_url()))
    content = get_page(english, f"{item.get_absolute_url()}?comment={target.pk}")
    shown = article_ids(content)
    assert shown[0] == old_root.pk and target.pk in shown
    assert 'rel="prev"' in content
    # What it answers is on the page too: "in reply to" links lead somewhere.
    assert target.parent_id in shown
    # A comment's page is shown whatever the search and filter, and its links drop them.
    content = get_page(english, f"{item.get_absolute_url()}?comment={target.pk}&q=zzz&stance=for")
    assert target.pk in article_ids(content)
    assert "q=zzz" not in link(content, "prev") and "stance" not in link(content, "prev")


def test_after_replying_far_down_the_debate_the_reply_is_on_the_page(
    client_for, citizen, item, make_user
):
    roots = seed(item, [make_user(), make_user()], roots=50, replies=9)
    client = client_for(citizen)
    answered = Comment.objects.get(body=f"Réponse 7 à {roots[0].body}")
    response = client.post(
        reverse(
            "consultation:comment_reply",
            kwargs={"slug": item.consultation.slug, "item_id": item.pk, "comment_id": answered.pk},
        ),
        {"body": "Ma réponse tardive", "stance": "for"},
    )
    assert response.status_code == 302
    mine = Comment.objects.get(body="Ma réponse tardive")
    assert response["Location"].endswith(f"#comment-{mine.pk}-done")
    content = get_page(client, response["Location"])
    assert mine.pk in article_ids(content)


def test_a_refused_reply_far_down_the_debate_comes_back_with_its_form(
    client_for, citizen, item, make_user
):
    roots = seed(item, [make_user(), make_user()], roots=50, replies=9)
    client = client_for(citizen)
    client.cookies["django_language"] = "en"
    answered = Comment.objects.get(body=f"Réponse 7 à {roots[0].body}")
    response = client.post(
        reverse(
            "consultation:comment_reply",
            kwargs={"slug": item.consultation.slug, "item_id": item.pk, "comment_id": answered.pk},
        ),
        {"body": "   ", "stance": "for"},
    )
    assert response.status_code == 422
    content = response.content.decode()
    assert answered.pk in article_ids(content)
    assert f'id="reply{answered.pk}_body"' in content


def test_searching_the_debate_lists_the_matches_with_a_link_to_their_thread(
    english, item, citizen, make_user
):
    roots = seed(item, [make_user()], roots=30)
    reply = debate.post_comment(citizen, item, "Et le VÉLO cargo ?", "for", roots[0])
    content = get_page(english, f"{item.get_absolute_url()}?q=velo")
    assert article_ids(content) == [reply.pk]
    assert "Read it in its thread" in content
    [thread_link] = re.findall(r'<li class="thread-link"><a href="([^"]+)"', content)
    assert f"comment={reply.pk}" in html.unescape(thread_link)
    nothing = get_page(english, f"{item.get_absolute_url()}?q=trottinette")
    assert article_ids(nothing) == [] and "No comment contains these words." in nothing


def test_a_page_of_the_debate_costs_the_same_queries_for_5_or_60_threads(
    client_for, citizen, make_user
):
    small, large = make_consultation(items=2).items.all()
    authors = [citizen, make_user()]  # half of every page is the reader's own: editable
    seed(small, authors, roots=5, replies=3)
    roots = seed(large, authors, roots=60, replies=3)
    for root in roots[-10:]:
        CommentReaction.objects.create(comment=root, user=citizen)
    client = client_for(citizen)

    def cost(item, query=""):
        client.get(item.get_absolute_url() + query)  # sessions, caches warmed alike
        return queries_for(lambda: client.get(item.get_absolute_url() + query))

    for query in ("", "?sort=useful", "?sort=replies", "?q=racine"):
        assert cost(small, query) == cost(large, query), query


def test_a_search_reads_comments_as_they_are_now(item, citizen):
    """The folded copy a search reads is written with the text: posted, edited, erased."""
    comment = debate.post_comment(citizen, item, "Le VÉLO d'abord", "for")
    debate.post_comment(citizen, item, "Autre chose", "for")
    assert Comment.objects.get(pk=comment.pk).folded_body == "le velo d'abord"
    assert [c.pk for c, _ in thread_pages.page(item, query="velo").pairs()] == [comment.pk]
    debate.edit_comment(citizen, comment, "La Marche d'abord")
    assert thread_pages.page(item, query="velo").pairs() == []
    assert [c.pk for c, _ in thread_pages.page(item, query="MARCHE").pairs()] == [comment.pk]
    debate.delete_comment(citizen, comment)
    assert Comment.objects.get(pk=comment.pk).folded_body == ""
    assert thread_pages.page(item, query="marche").pairs() == []


def test_a_search_folds_its_words_not_every_comment(item, citizen):
    """The database compares the query's folded words with each comment's folded copy:
    no folding function runs on the comments (it cost 290–410 ms a page on PostgreSQL
    for 10,000 comments)."""
    debate.post_comment(citizen, item, "Une piste CYCLABLE", "for")
    with CaptureQueriesContext(connection) as captured:
        found = thread_pages.page(item, query="Cyclable")
    assert [c.body for c, _ in found.pairs()] == ["Une piste CYCLABLE"]
    [search] = [q["sql"] for q in captured.captured_queries if "LIKE" in q["sql"].upper()]
    assert re.search(r'"folded_body"(::text)? LIKE', search), search
    for folding in ("agora_fold", "normalize(", "lower("):
        assert folding not in search.lower()


@pytest.mark.django_db(transaction=True)
def test_the_migration_folds_the_comments_written_before_it(make_user):
    """Comments posted before ``folded_body`` existed get their copy from the migration
    (and an erased one an empty copy), so a search finds them at once."""
    author = make_user()
    item = make_consultation().items.first()
    executor = MigrationExecutor(connection)
    before = ("consultation", "0008_follows_and_notice_delivery")
    after = ("consultation", "0009_comment_folded_body")
    executor.migrate([before])
    try:
        old = executor.loader.project_state([before]).apps.get_model("consultation", "Comment")
        kept = old.objects.create(item_id=item.pk, author_id=author.pk, body="Straße, ŒUVRE, Vélo")
        erased = old.objects.create(
            item_id=item.pk, author_id=author.pk, body="", deleted_at=timezone.now()
        )
        executor.loader.build_graph()
        executor.migrate([after])
        assert Comment.objects.get(pk=kept.pk).folded_body == "strasse, oeuvre, velo"
        assert Comment.objects.get(pk=erased.pk).folded_body == ""
        found = thread_pages.page(Item.objects.get(pk=item.pk), query="oeuvre velo")
        assert [c.pk for c, _ in found.pairs()] == [kept.pk]
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
