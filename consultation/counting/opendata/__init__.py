"""Open-data files of a consultation: streaming writers, readers, hashes and manifest.

The site's exporter and the ``recount`` CLI share this package, so what the site publishes is
exactly what the CLI reads. Writers stream: a million ballots are written as they are
iterated, never built as one list or one string. Output is byte-for-byte deterministic
(UTF-8, ``\\n`` line endings, fixed key order): re-exporting gives the same SHA-256.

Open text files for the writers with ``open(path, "w", encoding="utf-8", newline="")``.

``formats.py`` names the formats, ``writing.py`` writes the files, ``reading.py`` reads them
back (refusing what it cannot trust), ``manifest.py`` hashes them and writes the manifest
and ``results.json``, ``tables.py`` holds the Table Schema of every CSV file, ``package.py``
builds ``datapackage.json`` and the DCAT-AP record, ``verifying.py`` checks a whole
published version. Import from here: ``from consultation.counting import opendata``.
"""

from consultation.counting.opendata import package, tables, verifying
from consultation.counting.opendata.formats import (
    GRADES_FORMAT,
    ITEM_FIELDS,
    KINDS,
    MANIFEST_FORMAT,
    MODERATION_LOG_FORMAT,
    RANKINGS_FORMAT,
    RESULTS_FORMAT,
    VOTES_FORMAT,
)
from consultation.counting.opendata.manifest import (
    build_manifest,
    build_results,
    dump_json,
    sha256_file,
)
from consultation.counting.opendata.reading import FileError, item_titles, load_profile, read_items
from consultation.counting.opendata.verifying import BALLOT_FILES, listed_sha256
from consultation.counting.opendata.writing import (
    write_comments,
    write_grades,
    write_items,
    write_moderation_log,
    write_participation,
    write_rankings,
    write_votes,
)

__all__ = [
    "BALLOT_FILES",
    "GRADES_FORMAT",
    "ITEM_FIELDS",
    "KINDS",
    "MANIFEST_FORMAT",
    "MODERATION_LOG_FORMAT",
    "RANKINGS_FORMAT",
    "RESULTS_FORMAT",
    "VOTES_FORMAT",
    "FileError",
    "build_manifest",
    "build_results",
    "dump_json",
    "item_titles",
    "listed_sha256",
    "load_profile",
    "package",
    "read_items",
    "sha256_file",
    "tables",
    "verifying",
    "write_comments",
    "write_grades",
    "write_items",
    "write_moderation_log",
    "write_participation",
    "write_rankings",
    "write_votes",
]
