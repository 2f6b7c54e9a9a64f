"""Profiles from the textbooks, written the way the sources write them."""

from consultation.counting import RankingProfile

# Schulze (2011), and the English Wikipedia article "Schulze method": 45 voters, 5 candidates.
SCHULZE_45 = [
    (5, "ACBED"),
    (5, "ADECB"),
    (8, "BEDAC"),
    (3, "CABED"),
    (7, "CAEBD"),
    (2, "CBADE"),
    (7, "DCEBA"),
    (8, "EBADC"),
]
# The widest-path strengths p[X, Y] printed in the same sources (rows X, columns Y; A..E).
SCHULZE_45_PATHS = [
    [0, 28, 28, 30, 24],
    [25, 0, 28, 33, 24],
    [25, 29, 0, 29, 24],
    [25, 28, 28, 0, 24],
    [25, 28, 28, 31, 0],
]
SCHULZE_45_PAIRWISE = [
    [0, 20, 26, 30, 22],
    [25, 0, 16, 33, 18],
    [19, 29, 0, 17, 24],
    [15, 12, 28, 0, 14],
    [23, 27, 21, 31, 0],
]

# The "Tennessee capital" example (Wikipedia, several voting-method articles): 100 voters.
TENNESSEE = [
    (42, "MNCK"),  # Memphis
    (26, "NCKM"),  # Nashville
    (15, "CKNM"),  # Chattanooga
    (17, "KCNM"),  # Knoxville
]


def letters_profile(groups, letters=None, ranking_size=None, first_id=1):
    """Groups of (count, "ABC") → RankingProfile whose item ids are first_id, first_id+1, ...
    for the letters in alphabetical order (that is also the display order)."""
    letters = letters or sorted({ch for _, s in groups for ch in s})
    ids = {ch: first_id + i for i, ch in enumerate(letters)}
    rankings = [[ids[ch] for ch in s] for count, s in groups for _ in range(count)]
    return RankingProfile.from_rankings(list(ids.values()), rankings, ranking_size), ids


def names(result, ids):
    """The result's order written back as letters."""
    back = {v: k for k, v in ids.items()}
    return "".join(back[i] for i in result.order)
