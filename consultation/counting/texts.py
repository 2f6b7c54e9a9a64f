"""Explanation sentences in French and English, keyed by reason code.

This package has no Django, hence no gettext: the two languages live here. The site can
also render ``explain.explain_data()`` itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from consultation.counting.majority_judgment import labels

LANGUAGES = ("fr", "en")

TEXTS: dict[str, dict[str, str]] = {
    "tie.display_order": {
        "fr": "{first} et {second} sont à égalité selon cette méthode ; {first} est placé "
        "avant parce qu’il vient avant dans l’ordre d’affichage de la consultation.",
        "en": "{first} and {second} are tied under this method; {first} is placed first "
        "because it comes first in the consultation's display order.",
    },
    "tie.draw": {
        "fr": "{first} et {second} sont à égalité selon cette méthode ; {first} est placé "
        "avant par le tirage au sort déclaré, que chacun peut refaire à partir de sa graine "
        "publiée.",
        "en": "{first} and {second} are tied under this method; {first} is placed first by "
        "the declared draw, which anyone can redo from its published seed.",
    },
    "votes.approval": {
        "fr": "{first} recueille {approval_first} de « pour » parmi les votes pour ou contre "
        "({for_first} pour, {against_first} contre, {abstain_first} abstentions), "
        "{second} {approval_second} ({for_second} pour, {against_second} contre, "
        "{abstain_second} abstentions).",
        "en": "{first} has {approval_first} 'for' among the votes for or against "
        "({for_first} for, {against_first} against, {abstain_first} abstentions), "
        "{second} {approval_second} ({for_second} for, {against_second} against, "
        "{abstain_second} abstentions).",
    },
    "votes.more_for": {
        "fr": "{first} et {second} ont la même part de « pour » ({approval_first}), mais "
        "{first} a plus de votes pour ({for_first} contre {for_second}).",
        "en": "{first} and {second} have the same share of 'for' ({approval_first}), but "
        "{first} has more votes for ({for_first} against {for_second}).",
    },
    "votes.no_expressed_votes": {
        "fr": "{second} n’a reçu aucun vote pour ou contre ; {first} en a reçu "
        "({for_first} pour, {against_first} contre).",
        "en": "{second} received no vote for or against; {first} did "
        "({for_first} for, {against_first} against).",
    },
    "borda.points": {
        "fr": "{first} totalise {points_first} points de Borda, {second} {points_second}.",
        "en": "{first} has {points_first} Borda points, {second} {points_second}.",
    },
    "copeland.score": {
        "fr": "{first} a un score de Copeland de {score_first} ({wins_first} duels gagnés, "
        "{losses_first} perdus), {second} de {score_second} ({wins_second} gagnés, "
        "{losses_second} perdus).",
        "en": "{first} has a Copeland score of {score_first} ({wins_first} pairwise wins, "
        "{losses_first} losses), {second} {score_second} ({wins_second} wins, "
        "{losses_second} losses).",
    },
    "schulze.path": {
        "fr": "Le chemin le plus fort de {first} vers {second} vaut {path_first}, celui de "
        "{second} vers {first} {path_second} (en face à face direct : {direct_first} "
        "bulletins classent {first} avant {second}, {direct_second} l’inverse).",
        "en": "The strongest path from {first} to {second} has strength {path_first}, the "
        "one from {second} to {first} {path_second} (head to head: {direct_first} ballots "
        "rank {first} above {second}, {direct_second} the other way).",
    },
    "schulze.tier": {
        "fr": "Les chemins les plus forts entre {first} et {second} s’équilibrent "
        "({path_first} contre {path_second}) ; mais une fois écartés les éléments placés "
        "avant {first}, aucun autre ne bat {first}, alors qu’un élément placé avant "
        "{second} le bat.",
        "en": "The strongest paths between {first} and {second} balance out ({path_first} "
        "against {path_second}); but once the items placed before {first} are set aside, "
        "nothing else beats {first}, while an item placed before {second} beats it.",
    },
    "irv.eliminated_first": {
        "fr": "{second} a été éliminé au tour {round} avec {votes_second} voix, quand "
        "{first} en avait {votes_first} ; {first} est resté en lice plus longtemps.",
        "en": "{second} was eliminated in round {round} with {votes_second} votes, when "
        "{first} had {votes_first}; {first} stayed in the race longer.",
    },
    "irv.final_round": {
        "fr": "Au dernier tour ({round}), {first} obtient {votes_first} voix et {second} "
        "{votes_second} ({exhausted} bulletins épuisés).",
        "en": "In the final round ({round}), {first} has {votes_first} votes and {second} "
        "{votes_second} ({exhausted} exhausted ballots).",
    },
    "irv.previous_rounds": {
        "fr": "Au tour {round}, {first} et {second} étaient à égalité ({votes_first} voix) ; "
        "{second} a été éliminé car il avait moins de voix à un tour précédent.",
        "en": "In round {round}, {first} and {second} were tied ({votes_first} votes); "
        "{second} was eliminated because it had fewer votes in an earlier round.",
    },
    "mj.median": {
        "fr": "La mention majoritaire de {first} est « {median_first} », celle de {second} "
        "« {median_second} ».",
        "en": "The majority grade of {first} is '{median_first}', that of {second} "
        "'{median_second}'.",
    },
    "mj.gauge": {
        "fr": "{first} et {second} ont la même mention majoritaire « {median_first} ». "
        "{first} a {above_first} de mentions meilleures et {below_first} de moins bonnes "
        "({median_first}{gauge_first}), {second} {above_second} et {below_second} "
        "({median_second}{gauge_second}).",
        "en": "{first} and {second} have the same majority grade '{median_first}'. {first} "
        "has {above_first} better grades and {below_first} worse ones ({median_first}"
        "{gauge_first}), {second} {above_second} and {below_second} ({median_second}"
        "{gauge_second}).",
    },
    "mj.majority_value": {
        "fr": "{first} et {second} ont la même mention majoritaire « {median_first} » et la "
        "même jauge ; en retirant une à une les mentions majoritaires, elles diffèrent après "
        "{removed} retraits : « {value_first} » pour {first}, « {value_second} » pour "
        "{second}.",
        "en": "{first} and {second} have the same majority grade '{median_first}' and the "
        "same gauge; removing majority grades one at a time, they differ after {removed} "
        "removals: '{value_first}' for {first}, '{value_second}' for {second}.",
    },
    "mj.no_grades": {
        "fr": "{second} n’a reçu aucune mention ; {first} en a reçu {grades_first}.",
        "en": "{second} received no grade; {first} received {grades_first}.",
    },
}

_ITEM = {"fr": "l’élément {}", "en": "item {}"}


def render(
    data: Mapping[str, Any], lang: str = "fr", names: Mapping[int, str] | None = None
) -> str:
    """The sentence for ``explain.explain_data()`` output, with its actual numbers."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r} (expected fr or en)")
    params = {k: _format(k, v, lang, data) for k, v in data.items()}
    for side in ("first", "second"):
        item = data[side]
        params[side] = names[item] if names and item in names else _ITEM[lang].format(item)
    if "values" in data:
        grade_labels = labels(data["scale"], lang)
        params["value_first"], params["value_second"] = (grade_labels[v] for v in data["values"])
    sentence = TEXTS[data["code"]][lang].format(**params)
    return sentence[0].upper() + sentence[1:]


def _format(key: str, value: Any, lang: str, data: Mapping[str, Any]) -> Any:
    if key.startswith(("approval_", "above_", "below_")):
        return "–" if value is None else _percent(value, lang)
    if key.startswith("median_") and value is not None:
        return labels(data["scale"], lang)[value]
    if key == "values":
        return value
    if isinstance(value, int) and not isinstance(value, bool) and key != "round":
        return f"{value:,}".replace(",", "\u202f" if lang == "fr" else ",")
    return value


def _percent(value: float, lang: str) -> str:
    text = f"{100 * value:.1f}"
    return f"{text.replace('.', ',')}\u00a0%" if lang == "fr" else f"{text}%"
