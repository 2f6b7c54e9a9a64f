from django.db import models
from django.utils import timezone


class Vote(models.Model):
    """Agora's ``consultation_vote`` table, as a stock model sees it."""

    item_id = models.BigIntegerField()
    user_id = models.BigIntegerField()
    choice = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        managed = False
        db_table = "consultation_vote"

    def __str__(self):
        return f"vote on item {self.item_id}"
