"""What a portal or a data tool needs to take a published version as it is: the licence,
a Frictionless data package (``datapackage.json``) and a DCAT-AP record (``dcat.jsonld``).

Both describe the files already written in the version's directory, with their size and
SHA-256; ``manifest.json`` then hashes them too. Pure functions: the site gives the words
(titles, addresses, dates) and this module shapes the documents.

- Data Package: https://specs.frictionlessdata.io/data-package/ (v1, the version
  ``frictionless`` and data.gouv.fr's schema tools read); each CSV file is a tabular data
  resource whose Table Schema is the ``<stem>.schema.json`` beside it (``tables.py``).
- DCAT-AP 2 (https://semiceu.github.io/DCAT-AP/), in JSON-LD: one ``dcat:Catalog`` of one
  ``dcat:Dataset`` (the version) with a ``dcat:Distribution`` per file; the vocabulary a
  harvester such as data.gouv.fr's reads (``dct:license``, ``dcat:downloadURL``,
  ``dcat:mediaType``, ``spdx:checksum``...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from consultation.counting.opendata.manifest import sha256_file
from consultation.counting.opendata.tables import schema_name

PACKAGE_FILE = "datapackage.json"
DCAT_FILE = "dcat.jsonld"
LICENCE_FILE = "LICENCE.txt"


@dataclass(frozen=True)
class Licence:
    id: str  # SPDX identifier
    title: str
    url: str


# The licences a site may choose (``OPEN_DATA_LICENCE``): the two the French administration
# may use for public data (décret 2017-638), and the two Creative Commons ones for data.
LICENCES = {
    licence.id: licence
    for licence in (
        Licence(
            "etalab-2.0",
            "Licence Ouverte / Open Licence version 2.0",
            "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
        ),
        Licence(
            "ODbL-1.0",
            "Open Data Commons Open Database License 1.0",
            "https://opendatacommons.org/licenses/odbl/1-0/",
        ),
        Licence(
            "CC-BY-4.0",
            "Creative Commons Attribution 4.0 International",
            "https://creativecommons.org/licenses/by/4.0/",
        ),
        Licence(
            "CC0-1.0",
            "Creative Commons Zero 1.0 Universal",
            "https://creativecommons.org/publicdomain/zero/1.0/",
        ),
    )
}
DEFAULT_LICENCE = "etalab-2.0"

MEDIA_TYPES = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".jsonld": "application/ld+json",
    ".txt": "text/plain",
}


@dataclass(frozen=True)
class Version:
    """The words and addresses describing one published version."""

    consultation: str  # slug
    version: int
    title: str
    title_en: str
    description: str
    description_en: str
    publisher: str
    published_at: str  # ISO 8601
    modified_at: str  # ISO 8601: the close of the vote, or the publication
    landing_page: str  # absolute URL of the results page of this version
    files_url: str  # absolute URL the file names are appended to (ends with "/")
    licence: Licence
    keywords: tuple[str, ...] = ()


def licence_text(version: Version) -> str:
    """``LICENCE.txt``: which licence, where its text is, and how to credit the source."""
    licence = version.licence
    return (
        f"{version.title}\n"
        f"{version.publisher}, version {version.version} ({version.published_at[:10]})\n\n"
        f"These files are published under the {licence.title} (SPDX: {licence.id}).\n"
        f"Ces fichiers sont publiés sous {licence.title} (SPDX : {licence.id}).\n"
        f"{licence.url}\n\n"
        f"Source: {version.landing_page}\n"
        "Reuse them freely; name the source and the date of this version.\n"
        "Réutilisez-les librement en mentionnant la source et la date de cette version.\n"
    )


RESOURCE_TYPES = {".csv": "table", ".json": "json", ".jsonld": "json", ".txt": "text"}


def _resource_name(file_name: str) -> str:
    stem, _, suffix = file_name.rpartition(".")
    name = stem.replace("_", "-").lower()
    # A CSV file keeps the plain name: foreign keys refer to ``items`` and ``comments``.
    return name if suffix == "csv" else f"{name}-{suffix}"


def _describe(directory: Path, name: str) -> dict[str, Any]:
    path = directory / name
    suffix = path.suffix.lower()
    resource: dict[str, Any] = {
        "name": _resource_name(name),
        # Without its type, a tool reads a JSON file that lists "fields" (the moderation
        # log) as a Table Schema of its own: say what each file is.
        "type": RESOURCE_TYPES.get(suffix, "file"),
        "path": name,
        "format": suffix.lstrip("."),
        "mediatype": MEDIA_TYPES.get(suffix, "application/octet-stream"),
        "encoding": "utf-8",
        "bytes": path.stat().st_size,
        "hash": f"sha256:{sha256_file(path)}",
    }
    if suffix == ".csv" and (directory / schema_name(name)).is_file():
        resource["profile"] = "tabular-data-resource"
        resource["dialect"] = {"delimiter": ",", "lineTerminator": "\n", "header": True}
        resource["schema"] = schema_name(name)
    return resource


def build_package(directory: Path, names: Iterable[str], version: Version) -> dict[str, Any]:
    """``datapackage.json`` for the files ``names`` of ``directory``."""
    licence = version.licence
    return {
        "profile": "data-package",
        "name": f"{version.consultation}-v{version.version}".lower(),
        "title": version.title,
        "description": version.description,
        "version": str(version.version),
        "created": version.published_at,
        "homepage": version.landing_page,
        "keywords": list(version.keywords),
        "licenses": [{"name": licence.id, "path": licence.url, "title": licence.title}],
        "contributors": [{"title": version.publisher, "role": "publisher"}],
        "resources": [_describe(directory, name) for name in names],
    }


CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "spdx": "http://spdx.org/rdf/terms#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
FILE_TYPES = {".csv": "CSV", ".json": "JSON", ".jsonld": "JSON_LD", ".txt": "TXT"}


def _texts(french: str, english: str) -> list[dict[str, str]]:
    texts = [{"@value": french, "@language": "fr"}]
    if english:
        texts.append({"@value": english, "@language": "en"})
    return texts


def _date(value: str) -> dict[str, str]:
    return {"@value": value, "@type": "xsd:dateTime"}


def _distribution(directory: Path, name: str, version: Version) -> dict[str, Any]:
    path = directory / name
    suffix = path.suffix.lower()
    url = version.files_url + name
    distribution: dict[str, Any] = {
        "@id": url,
        "@type": "dcat:Distribution",
        "dct:title": name,
        "dcat:accessURL": {"@id": url},
        "dcat:downloadURL": {"@id": url},
        "dcat:mediaType": {
            "@id": "https://www.iana.org/assignments/media-types/"
            + MEDIA_TYPES.get(suffix, "application/octet-stream")
        },
        "dct:format": {"@id": f"{EU_AUTHORITY}file-type/{FILE_TYPES.get(suffix, 'BIN')}"},
        "dcat:byteSize": {"@value": str(path.stat().st_size), "@type": "xsd:nonNegativeInteger"},
        "spdx:checksum": {
            "@type": "spdx:Checksum",
            "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
            "spdx:checksumValue": sha256_file(path),
        },
        "dct:license": {"@id": version.licence.url},
        "dct:issued": _date(version.published_at),
    }
    if suffix == ".csv" and (directory / schema_name(name)).is_file():
        distribution["dct:conformsTo"] = {"@id": version.files_url + schema_name(name)}
    return distribution


def build_dcat(directory: Path, names: Iterable[str], version: Version) -> dict[str, Any]:
    """The DCAT-AP record (JSON-LD) of the version: a catalog of one dataset."""
    dataset_id = f"{version.landing_page}#dataset"
    dataset = {
        "@id": dataset_id,
        "@type": "dcat:Dataset",
        "dct:identifier": f"{version.consultation}/v{version.version}",
        "dct:title": _texts(version.title, version.title_en),
        "dct:description": _texts(version.description, version.description_en),
        "dct:issued": _date(version.published_at),
        "dct:modified": _date(version.modified_at),
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": version.publisher},
        "dct:license": {"@id": version.licence.url},
        "dct:accessRights": {"@id": f"{EU_AUTHORITY}access-right/PUBLIC"},
        "dct:language": [{"@id": f"{EU_AUTHORITY}language/FRA"}],
        "dcat:landingPage": {"@id": version.landing_page},
        "dcat:keyword": list(version.keywords),
        "owl:versionInfo": str(version.version),
        "dcat:distribution": [_distribution(directory, name, version) for name in names],
    }
    catalog = {
        "@id": f"{version.landing_page}#catalog",
        "@type": "dcat:Catalog",
        "dct:title": _texts(version.title, version.title_en),
        "dct:description": _texts(version.description, version.description_en),
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": version.publisher},
        "dcat:dataset": {"@id": dataset_id},
    }
    context = {**CONTEXT, "owl": "http://www.w3.org/2002/07/owl#"}
    return {"@context": context, "@graph": [catalog, dataset]}


def dataset_of(record: Any) -> dict[str, Any] | None:
    """The ``dcat:Dataset`` node of a version's DCAT-AP record (None if it has none)."""
    graph = record.get("@graph") if isinstance(record, dict) else None
    for node in graph if isinstance(graph, list) else []:
        if isinstance(node, dict) and node.get("@type") == "dcat:Dataset":
            return node
    return None


def build_catalog(
    *, title: str, description: str, publisher: str, homepage: str, datasets: list[dict[str, Any]]
) -> dict[str, Any]:
    """The site's DCAT-AP catalogue: one address a portal harvests every consultation from,
    each dataset as its latest version's record describes it."""
    catalog = {
        "@id": f"{homepage}#catalog",
        "@type": "dcat:Catalog",
        "dct:title": _texts(title, ""),
        "dct:description": _texts(description, ""),
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": publisher},
        "foaf:homepage": {"@id": homepage},
        "dcat:dataset": [{"@id": dataset["@id"]} for dataset in datasets],
    }
    context = {**CONTEXT, "owl": "http://www.w3.org/2002/07/owl#"}
    return {"@context": context, "@graph": [catalog, *datasets]}
