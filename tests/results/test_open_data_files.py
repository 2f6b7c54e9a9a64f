"""Each published version carries the comments' facts, participation over time, its licence,
a Table Schema per CSV file, a data package and a DCAT-AP record: listed and hashed in the
manifest, valid against their schemas (checked by ``frictionless``), never a word of a
comment, small groups protected; and the CLI's ``verify`` checks all of it."""

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from frictionless import validate

from consultation.counting.opendata import tables
from consultation.models import Ballot, Comment, Grade, Membership, Rule
from consultation.moderation import decisions
from consultation.participation import debate
from consultation.results import computing, opendata, publication_files, publishing
from tests.factories import add_member, close

pytestmark = pytest.mark.django_db
HIDDEN = "Texte caché par la modération : Bérénice est nommée ici."
HELD = "Texte en attente de revue, jamais publié."
VISIBLE = "Un avis visible sur la mesure."
REPLY = "Une réponse, modifiée ensuite."
WITHDRAWN = "Un texte retiré par son autrice."
NEW_FILES = (
    "comments.csv",
    "participation.csv",
    "LICENCE.txt",
    "datapackage.json",
    "dcat.jsonld",
    "items.schema.json",
    "rankings.schema.json",
    "grades.schema.json",
    "votes.schema.json",
    "comments.schema.json",
    "participation.schema.json",
    "moderation_log.schema.json",
)
HOUR0 = datetime(2026, 11, 2, 8, tzinfo=UTC)


@pytest.fixture
def debated(voted, make_user, moderator):
    """A consultation of 8 participants with a debate: a visible comment, an edited reply,
    a withdrawn one, a hidden one and a held one; then closed and counted."""
    consultation = voted(8, seed=4, items=3)
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    alex = make_user("alex@example.org", display_name="Alex")
    bea = make_user("bea@example.org", display_name="Béa")
    item = consultation.items.order_by("position").first()
    visible = debate.post_comment(alex, item, VISIBLE, "for")
    reply = debate.post_comment(bea, item, "Premier jet.", "against", parent=visible)
    debate.edit_comment(bea, reply, REPLY, "neutral")
    withdrawn = debate.post_comment(bea, item, WITHDRAWN, "against")
    debate.delete_comment(bea, withdrawn)
    hidden = debate.post_comment(alex, item, HIDDEN, "against")
    decisions.hide(moderator, hidden, Rule.INSULT)
    held = debate.post_comment(bea, item, HELD, "for")
    Comment.objects.filter(pk=held.pk).update(moderation="held", held_because="reports")
    close(consultation)
    computing.compute_results(consultation.pk, "final")
    return consultation


@pytest.fixture
def published(debated, organiser):
    return publishing.publish(debated, organiser)


def version_dir(publication):
    return opendata.version_dir(publication.consultation, publication.version)


def rows(path):
    with open(path, encoding="utf-8", newline="") as fp:
        return list(csv.DictReader(fp))


def test_the_new_files_are_in_the_manifest_with_their_hashes(published):
    directory = version_dir(published)
    listed = {f["name"]: f for f in published.manifest["files"]}
    for name in NEW_FILES:
        assert name in listed, name
        assert listed[name]["sha256"] == opendata.formats.sha256_file(directory / name)
        assert listed[name]["bytes"] == (directory / name).stat().st_size


def test_every_file_validates_against_its_schema_with_frictionless(published):
    report = validate(version_dir(published) / "datapackage.json")
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "note"])
    package = json.loads((version_dir(published) / "datapackage.json").read_text())
    described = {r["path"] for r in package["resources"]}
    others = {f["name"] for f in published.manifest["files"]} - {"datapackage.json", "dcat.jsonld"}
    assert described == others  # every file but the two records describing them
    tabular = {r["path"] for r in package["resources"] if "schema" in r}
    assert tabular == {name for name in others if name.endswith(".csv")}


def test_comments_csv_has_each_comments_facts_and_no_text(published, debated):
    directory = version_dir(published)
    comments = {int(r["comment"]): r for r in rows(directory / "comments.csv")}
    assert len(comments) == 5
    by_text = {c.pk: c for c in Comment.objects.filter(item__consultation=debated)}
    for pk, comment in by_text.items():
        row = comments[pk]
        assert int(row["item"]) == comment.item_id
        assert row["moderation"] == comment.moderation
    reply = next(c for c in by_text.values() if c.parent_id)
    assert comments[reply.pk]["parent"] == str(reply.parent_id)
    assert comments[reply.pk]["edits"] == "1" and comments[reply.pk]["edited_at"]
    assert comments[reply.pk]["stance"] == "neutral"
    withdrawn = next(c for c in by_text.values() if c.deleted_at)
    assert comments[withdrawn.pk]["author"] == "" and comments[withdrawn.pk]["stance"] == ""
    assert comments[withdrawn.pk]["deleted_at"]
    hidden = next(c for c in by_text.values() if c.moderation == "hidden")
    assert comments[hidden.pk]["rule"] == Rule.INSULT
    assert comments[hidden.pk]["rule_number"] == str(Rule.number(Rule.INSULT))
    # Pseudonyms: the same person keeps one; two people, two; none is a ballot id.
    alex = {comments[c.pk]["author"] for c in by_text.values() if c.author.email[0] == "a"}
    assert len(alex) == 1 and len(next(iter(alex))) == 16
    ballot_ids = {r["ballot"] for r in rows(directory / "rankings.csv")}
    assert not ballot_ids & {r["author"] for r in comments.values()}


def test_no_comment_text_appears_in_any_published_file(published):
    directory = version_dir(published)
    for path in directory.iterdir():
        data = path.read_text(encoding="utf-8")
        for text in (HIDDEN, HELD, VISIBLE, REPLY, WITHDRAWN, "Premier jet", "Bérénice"):
            assert text not in data, (path.name, text)


def test_participation_hours_below_the_small_group_threshold_are_merged(voted):
    consultation = close(voted(8, seed=2, items=3))
    # Ballots cast in hours 0, 1, 2, 3 (1, 1, 4 and 2 ballots): with a threshold of 3, hours
    # 0 to 2 make one period (6), and the last 2 join it (8): no period shows fewer than 3.
    hours = [0, 1, 2, 2, 2, 2, 3, 3]
    for ballot, hour in zip(Ballot.objects.filter(consultation=consultation), hours, strict=True):
        Ballot.objects.filter(pk=ballot.pk).update(created_at=HOUR0 + timedelta(hours=hour))
    periods = [p for p in publication_files.participation_rows(consultation) if p[0] == "rankings"]
    assert settings.OPEN_DATA_MIN_GROUP == 3
    assert periods == [("rankings", HOUR0, HOUR0 + timedelta(hours=4), 8)]
    # Grades: each citizen counted once, in the hour of their first grade.
    users = sorted({g.user_id for g in Grade.objects.filter(item__consultation=consultation)})
    for n, user in enumerate(users):
        Grade.objects.filter(user_id=user).update(created_at=HOUR0 + timedelta(hours=n // 4))
    grades = [p for p in publication_files.participation_rows(consultation) if p[0] == "grades"]
    assert grades == [
        ("grades", HOUR0, HOUR0 + timedelta(hours=1), 4),
        ("grades", HOUR0 + timedelta(hours=1), HOUR0 + timedelta(hours=2), 4),
    ]


def test_a_kind_with_fewer_participants_than_the_threshold_has_no_participation_rows(voted):
    consultation = close(voted(2, seed=2, items=3))
    assert list(publication_files.participation_rows(consultation)) == []


def test_participation_csv_never_shows_a_small_count(published):
    periods = rows(version_dir(published) / "participation.csv")
    assert {p["kind"] for p in periods} == {"rankings", "grades", "votes", "comments"}
    assert all(int(p["count"]) >= settings.OPEN_DATA_MIN_GROUP for p in periods)
    assert sum(int(p["count"]) for p in periods if p["kind"] == "rankings") == 8


def test_the_licence_is_licence_ouverte_by_default(published):
    directory = version_dir(published)
    package = json.loads((directory / "datapackage.json").read_text())
    assert package["licenses"][0]["name"] == "etalab-2.0"
    assert "Licence Ouverte / Open Licence version 2.0" in (directory / "LICENCE.txt").read_text()


def test_the_site_chooses_another_licence(debated, organiser, settings):
    settings.OPEN_DATA_LICENCE = "ODbL-1.0"
    directory = version_dir(publishing.publish(debated, organiser))
    package = json.loads((directory / "datapackage.json").read_text())
    assert package["licenses"] == [
        {
            "name": "ODbL-1.0",
            "path": "https://opendatacommons.org/licenses/odbl/1-0/",
            "title": "Open Data Commons Open Database License 1.0",
        }
    ]
    dcat = json.loads((directory / "dcat.jsonld").read_text())
    dataset = next(n for n in dcat["@graph"] if n["@type"] == "dcat:Dataset")
    assert dataset["dct:license"] == {"@id": "https://opendatacommons.org/licenses/odbl/1-0/"}


def test_the_dcat_record_lists_every_file_with_its_address_and_checksum(published, client):
    directory = version_dir(published)
    dcat = json.loads((directory / "dcat.jsonld").read_text())
    catalog, dataset = dcat["@graph"]
    assert catalog["@type"] == "dcat:Catalog" and catalog["dcat:dataset"] == {"@id": dataset["@id"]}
    assert dataset["dct:title"][0]["@language"] == "fr"
    assert dataset["dcat:landingPage"]["@id"].startswith(settings.SITE_URL)
    listed = {f["name"]: f["sha256"] for f in published.manifest["files"]}
    distributions = {d["dct:title"]: d for d in dataset["dcat:distribution"]}
    assert set(distributions) == set(listed) - {"dcat.jsonld"}
    for name, distribution in distributions.items():
        assert distribution["spdx:checksum"]["spdx:checksumValue"] == listed[name]
        url = distribution["dcat:downloadURL"]["@id"]
        assert url.startswith(settings.SITE_URL) and url.endswith("/" + name)
        response = client.get(url.removeprefix(settings.SITE_URL))
        assert response.status_code == 200, name


def test_the_new_files_are_served_with_their_types(published, client):
    slug = published.consultation.slug
    base = f"/consultations/{slug}/donnees/{published.version}/"
    assert client.get(base + "dcat.jsonld")["Content-Type"].startswith("application/ld+json")
    assert client.get(base + "LICENCE.txt")["Content-Type"].startswith("text/plain")
    assert client.get(base + "comments.csv")["Content-Type"].startswith("text/csv")


def verify(directory):
    return subprocess.run(
        [sys.executable, "-m", "consultation.counting", "verify", str(directory)],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_verify_checks_every_file_schema_and_recount_of_a_version(published, tmp_path):
    import shutil

    copy = tmp_path / "v1"
    shutil.copytree(version_dir(published), copy)
    done = verify(copy)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout.splitlines()
    assert out[-1] == "OK"
    assert "OK: comments.csv follows its table schema (5 rows)" in out
    assert "OK: draw_seed is the seed of the card and the ballot files" in out
    assert "OK: card.json is the card results.json counted with" in out
    assert any(line.startswith("rankings.json: OK: schulze") for line in out)
    assert any(line.startswith("votes.csv: OK: votes") for line in out)
    # A comments file changed after publication: its hash gives it away.
    (copy / "comments.csv").write_text("comment\n", encoding="utf-8")
    done = verify(copy)
    assert done.returncode == 1
    assert "MISMATCH: sha256 or size of comments.csv differs from manifest.json" in done.stdout


def test_check_table_names_the_line_and_the_field_that_break_the_schema(tmp_path):
    path = tmp_path / "comments.csv"
    header = ",".join(f["name"] for f in tables.table_schema("comments.csv")["fields"])
    good = "7,3,,0123456789abcdef,for,2026-11-02T08:00:00+00:00,,0,,visible,,"
    bad = "8,3,7,0123456789abcdef,maybe,2026-11-02T08:00:00+00:00,,0,,visible,,"
    path.write_text(f"{header}\n{good}\n{bad}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"comments.csv, line 3: stance 'maybe' is not one of"):
        tables.check_table(path, tables.table_schema("comments.csv"))
    path.write_text(f"{header}\n{good}\n{good}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 3: comment repeats"):
        tables.check_table(path, tables.table_schema("comments.csv"))


def test_comment_rows_of_an_account_deleted_keep_no_author(debated):
    Comment.objects.filter(item__consultation=debated).update(author=None)
    out = io.StringIO()
    opendata.formats.write_comments(out, publication_files.comment_rows(debated))
    assert all(r["author"] == "" for r in csv.DictReader(io.StringIO(out.getvalue())))


def test_the_sites_catalogue_lists_the_latest_version_of_each_consultation(
    debated, organiser, client, voted
):
    publishing.publish(debated, organiser)
    second = publishing.publish(debated, organiser, note="Réponses officielles ajoutées.")
    voted(4, seed=1, items=2)  # still open: nothing published, not in the catalogue
    response = client.get("/donnees/catalogue.jsonld")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    document = json.loads(response.content)
    catalog, *datasets = document["@graph"]
    assert catalog["@type"] == "dcat:Catalog"
    assert [d["dct:identifier"] for d in datasets] == [f"{debated.slug}/v2"]
    assert catalog["dcat:dataset"] == [{"@id": datasets[0]["@id"]}]
    record = json.loads((version_dir(second) / "dcat.jsonld").read_text())
    assert datasets[0] == record["@graph"][1]
