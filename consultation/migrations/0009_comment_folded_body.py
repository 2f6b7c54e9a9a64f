"""A folded copy of each comment's text (``Comment.folded_body``), so that searching a
debate folds only the query: the new column, then the copy of every existing comment."""

import re
import unicodedata

from django.db import migrations, models

# ``consultation.queries.fold`` as it was when this migration was written: a migration
# keeps its own copy, whatever the app's code becomes later.
_COMMON_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]+")  # not U+034F, a joiner


def _fold(text):
    folded = text.casefold()
    if folded.isascii():
        return folded
    folded = folded.replace("œ", "oe").replace("æ", "ae")
    folded = _COMMON_MARKS.sub("", unicodedata.normalize("NFKD", folded))
    if not folded.isascii():
        marks = {char for char in set(folded) if unicodedata.combining(char)}
        if marks:
            folded = "".join(char for char in folded if char not in marks)
    return folded


BATCH = 2000


def fold_existing_comments(apps, schema_editor):
    """Every comment's copy, a batch at a time (each batch read whole before it is
    written: no cursor stays open on the table being updated)."""
    Comment = apps.get_model("consultation", "Comment")
    comments = Comment.objects.using(schema_editor.connection.alias)
    last = 0
    while True:
        batch = list(comments.filter(pk__gt=last).order_by("pk").only("pk", "body")[:BATCH])
        if not batch:
            return
        for comment in batch:
            # An erased comment's body is empty already: so is its copy.
            comment.folded_body = _fold(comment.body)
        comments.bulk_update(batch, ["folded_body"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("consultation", "0008_follows_and_notice_delivery"),
    ]

    operations = [
        migrations.AddField(
            model_name="comment",
            name="folded_body",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fold_existing_comments, migrations.RunPython.noop, elidable=True),
    ]
