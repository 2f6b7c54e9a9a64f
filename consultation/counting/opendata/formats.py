"""The names of the open-data formats and the fields of ``items.csv``: what the writers
write and the readers check. The moderation log's fields are the site's (its public log);
its file only carries them."""

RANKINGS_FORMAT = "agora-rankings/1"
GRADES_FORMAT = "agora-grades/1"
VOTES_FORMAT = "agora-votes/1"
MANIFEST_FORMAT = "agora-manifest/1"
RESULTS_FORMAT = "agora-results/1"
MODERATION_LOG_FORMAT = "agora-moderation-log/1"
ITEM_FIELDS = ("item", "position", "theme", "title", "title_en")
KINDS = {RANKINGS_FORMAT: "ranking", GRADES_FORMAT: "grades", VOTES_FORMAT: "votes"}
