"""The registry of counting methods: what the site, the CLI and the docs enumerate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from consultation.counting.borda import borda
from consultation.counting.condorcet import copeland
from consultation.counting.irv import instant_runoff
from consultation.counting.majority_judgment import majority_judgment
from consultation.counting.profiles import GradeProfile, Profile, RankingProfile, VoteProfile
from consultation.counting.result import Result
from consultation.counting.schulze import schulze
from consultation.counting.votes import count_votes

PROFILE_KINDS: dict[str, type] = {
    "ranking": RankingProfile,
    "grades": GradeProfile,
    "votes": VoteProfile,
}


@dataclass(frozen=True)
class Method:
    name: str
    kind: str  # "ranking" | "grades" | "votes"
    function: Callable[..., Result]
    title_fr: str
    title_en: str

    def compute(self, profile: Profile, seed: str | None = None) -> Result:
        """Count ``profile``; ``seed``: the declared draw's seed, the last resort between
        tied items (None: display order, ``consultation.counting.ties``)."""
        if not isinstance(profile, PROFILE_KINDS[self.kind]):
            raise TypeError(f"{self.name} counts {self.kind} ballots, not {type(profile).__name__}")
        return self.function(profile, seed=seed)


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method(
            "votes",
            "votes",
            count_votes,
            "Vote pour / contre / abstention",
            "For / against / abstain vote",
        ),
        Method(
            "majority_judgment",
            "grades",
            majority_judgment,
            "Jugement majoritaire",
            "Majority judgment",
        ),
        Method("borda", "ranking", borda, "Méthode de Borda", "Borda count"),
        Method("schulze", "ranking", schulze, "Méthode de Schulze", "Schulze method"),
        Method(
            "copeland",
            "ranking",
            copeland,
            "Méthode de Copeland (duels de Condorcet)",
            "Copeland (Condorcet pairwise wins)",
        ),
        Method(
            "instant_runoff",
            "ranking",
            instant_runoff,
            "Vote alternatif (éliminations successives)",
            "Instant-runoff voting",
        ),
    )
}


def compute(name: str, profile: Profile, seed: str | None = None) -> Result:
    """``METHODS[name].compute(profile, seed)``, with a clear error for an unknown name."""
    try:
        method = METHODS[name]
    except KeyError:
        raise ValueError(
            f"unknown counting method {name!r} (known: {', '.join(METHODS)})"
        ) from None
    return method.compute(profile, seed)


def kind_of(profile: Profile) -> str:
    """ "ranking", "grades" or "votes": the kind of ballots ``profile`` holds."""
    return next(kind for kind, cls in PROFILE_KINDS.items() if isinstance(profile, cls))


def methods_for(kind: str) -> list[str]:
    return [name for name, m in METHODS.items() if m.kind == kind]
