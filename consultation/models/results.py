"""Computed results, their publications and the organisers' official responses."""

import json
from functools import cached_property

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consultation.models.consultations import Consultation, Item

# text of the files anyone downloads (PostgreSQL's jsonb would reorder their keys), so
# their SHA-256 can be checked against the manifest.


class ComputedResult(models.Model):
    """The latest computation of a consultation's results, one row per kind.

    ``provisional``: refreshed periodically while a live-results consultation is open
    (never published). ``final``: computed once the vote closes, with the open-data files
    in ``directory``; this is what the organiser reviews and publishes.
    """

    class Kind(models.TextChoices):
        PROVISIONAL = "provisional", _("Provisional")
        FINAL = "final", _("Final")

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="computed_results"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    results_json = models.TextField()
    manifest_json = models.TextField(blank=True)
    directory = models.CharField(max_length=300, blank=True)  # relative to MEDIA_ROOT
    computed_at = models.DateTimeField(default=timezone.now)

    # Set on the row ``results.computing.compute_results`` returns: whether this
    # computation changed what was stored. Declared for mypy, no column.
    changed: bool

    class Meta:
        verbose_name = _("computed result")
        verbose_name_plural = _("computed results")
        constraints = [
            models.UniqueConstraint(fields=["consultation", "kind"], name="computed_result_unique"),
        ]

    def __str__(self):
        return f"{self.kind} results of consultation {self.consultation_id}"

    @property
    def results(self) -> dict:
        return json.loads(self.results_json)

    @property
    def manifest(self) -> dict:
        return json.loads(self.manifest_json) if self.manifest_json else {}


class PublicationQuerySet(models.QuerySet):
    def latest_first(self):
        return self.order_by("-version")


class Publication(models.Model):
    """One published version of a consultation's results: frozen once created.

    Nothing updates a publication: the model refuses a second save, the admin shows it
    read-only, and a database trigger (migration 0002) rejects any UPDATE of its frozen
    columns. Only ``published_by`` may become NULL when that account is deleted; the
    name stays in ``published_by_name``. Republishing creates version n + 1.
    """

    FROZEN_FIELDS = (
        "consultation_id",
        "version",
        "published_by_name",
        "published_at",
        "note",
        "results_json",
        "manifest_json",
    )

    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, related_name="publications"
    )
    version = models.PositiveIntegerField(_("version"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_by_name = models.CharField(_("published by"), max_length=120)
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)
    results_json = models.TextField()
    manifest_json = models.TextField()

    objects = PublicationQuerySet.as_manager()

    class Meta:
        ordering = ["consultation", "-version"]
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "version"], name="publication_unique_version"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="publication_version_1"),
        ]

    def __str__(self):
        return f"results v{self.version} of consultation {self.consultation_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("a publication is never changed: publish a new version instead")
        super().save(*args, **kwargs)

    # Parsed once per instance: the texts are frozen.
    @cached_property
    def results(self) -> dict:
        return json.loads(self.results_json)

    @cached_property
    def manifest(self) -> dict:
        return json.loads(self.manifest_json)


class OfficialResponse(models.Model):
    """The organisers' answer to an item ("what we will do with it").

    Drafted while the consultation is closed or published; each publication freezes the
    text it had at that moment (``consultation.results.publishing.set_official_response``).
    """

    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="official_response")
    text = models.TextField(_("official response"))
    text_en = models.TextField(_("official response in English"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("official response")
        verbose_name_plural = _("official responses")

    def __str__(self):
        return f"official response to item {self.item_id}"
