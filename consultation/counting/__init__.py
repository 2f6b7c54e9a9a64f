"""Pure counting methods for Agora (numpy, no Django): usable from the site and from a CLI.

    from consultation.counting import RankingProfile, schulze
    result = schulze(RankingProfile.from_rankings([10, 11, 12], [[11, 10], [12]]))

See docs/counting.md for each method's exact rule.
"""

from consultation.counting.borda import borda
from consultation.counting.condorcet import condorcet_winner, copeland
from consultation.counting.irv import instant_runoff
from consultation.counting.majority_judgment import majority_judgment
from consultation.counting.methods import METHODS, Method, compute
from consultation.counting.pairwise import pairwise_update
from consultation.counting.profiles import GradeProfile, RankingProfile, VoteProfile
from consultation.counting.result import JSON_OPTIONS, Result
from consultation.counting.schulze import schulze, schulze_from_matrix
from consultation.counting.votes import count_votes

__all__ = [
    "JSON_OPTIONS",
    "METHODS",
    "GradeProfile",
    "Method",
    "RankingProfile",
    "Result",
    "VoteProfile",
    "borda",
    "compute",
    "condorcet_winner",
    "copeland",
    "count_votes",
    "instant_runoff",
    "majority_judgment",
    "pairwise_update",
    "schulze",
    "schulze_from_matrix",
]
