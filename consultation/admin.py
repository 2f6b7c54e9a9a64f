"""The admin shows consultations, their themes, items, team and comments, and (read-only)
their computed results, publications and official responses, and the moderation log.

Never votes, grades or ranking ballots: nothing here may tell who voted how.
Status and dates are read-only: they change only through ``consultation.organising.lifecycle``
(the organiser pages), so that the admin cannot skip its checks. Once a consultation
has opened, its settings and items are read-only here too, as in ``organising``.
Moderation happens in the moderators' space (``/moderation/``, for moderators and staff):
here comments, decisions and appeals are read-only, each with a link to its page there.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from config.forms import SafeTextForm
from consultation.errors import Refused
from consultation.models import (
    Appeal,
    Comment,
    ComputedResult,
    Consultation,
    Decision,
    Item,
    Membership,
    OfficialResponse,
    Publication,
    Theme,
)
from consultation.organising import consultations


def _preparing(consultation: Consultation | None) -> bool:
    """A new consultation (no row yet) is being prepared too."""
    return consultation is None or consultations.is_preparing(consultation)


class TextForm(SafeTextForm, forms.ModelForm):
    """Staff type free text here too: the same characters are refused as on the site."""


class ThemeInline(admin.TabularInline):
    """Themes are fixed once the consultation opens (``consultations.update_consultation``
    refuses to change them): the inline is read-only then."""

    model = Theme
    form = TextForm
    extra = 0
    fields = ["name", "name_en", "slug", "position"]

    def has_add_permission(self, request, obj=None):
        return _preparing(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _preparing(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _preparing(obj) and super().has_delete_permission(request, obj)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    form = TextForm
    list_display = ["title", "slug", "status", "opens_at", "closes_at"]
    list_filter = ["status"]
    search_fields = ["title", "title_en", "slug"]
    readonly_fields = [
        "status",
        "opens_at",
        "closes_at",
        "closed_at",
        "closing_reason",
        "created_by",
        "created_at",
        "updated_at",
    ]
    inlines = [ThemeInline, MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not consultations.is_preparing(obj):
            fields += consultations.SETTINGS_FIELDS
        return fields


class PreparingOnlyForm(TextForm):
    """The consultation chosen for an item or a theme must still be in preparation: the
    admin asks ``organising`` the same question as the organiser pages."""

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        consultation = cleaned.get("consultation")
        if consultation is not None:
            try:
                consultations.refuse_unless_preparing(consultation)
            except Refused as refusal:
                self.add_error("consultation", refusal.message)
        return cleaned


class PreparingOnlyAdmin(admin.ModelAdmin):
    """Rows (items, themes) of a consultation that has opened are read-only: they cannot
    be added, changed or deleted here, as through ``organising``."""

    form = PreparingOnlyForm

    def has_change_permission(self, request, obj=None):
        fixed = obj is not None and not consultations.is_preparing(obj.consultation)
        return not fixed and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        fixed = obj is not None and not consultations.is_preparing(obj.consultation)
        return not fixed and super().has_delete_permission(request, obj)


@admin.register(Theme)
class ThemeAdmin(PreparingOnlyAdmin):
    list_display = ["name", "consultation", "position"]
    list_select_related = ["consultation"]
    search_fields = ["name", "name_en"]
    raw_id_fields = ["consultation"]


@admin.register(Item)
class ItemAdmin(PreparingOnlyAdmin):
    list_display = ["title", "consultation", "theme", "position"]
    list_filter = ["consultation"]
    list_select_related = ["consultation", "theme"]
    search_fields = ["title", "title_en", "source_reference"]
    raw_id_fields = ["consultation", "theme"]

    def save_model(self, request, obj, form, change):
        """Through ``organising``, which locks the consultation and asks again: an item
        cannot slip in while the consultation is being opened."""
        fields = {name: getattr(obj, name) for name in form.cleaned_data if name != "consultation"}
        try:
            if change:
                consultations.update_item(request.user, obj, fields)
            else:
                fields.pop("position", None)  # the domain puts a new item last
                created = consultations.add_item(request.user, obj.consultation, fields)
                obj.pk, obj.position = created.pk, created.position
                obj._state.adding, obj._state.db = False, created._state.db
        except Refused as refusal:  # it opened between the form's check and now
            raise PermissionDenied(refusal.message) from refusal

    def delete_model(self, request, obj):
        try:
            consultations.delete_item(request.user, obj)
        except Refused as refusal:
            raise PermissionDenied(refusal.message) from refusal

    def delete_queryset(self, request, queryset):
        for item in queryset.select_related("consultation"):
            self.delete_model(request, item)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "consultation", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "consultation"]
    search_fields = ["user__email", "user__display_name", "consultation__title"]
    autocomplete_fields = ["user", "consultation"]


def _moderation_link(comment: Comment | None) -> str:
    """A link to the comment's page in the moderators' space."""
    if comment is None:
        return "—"
    url = reverse(
        "moderation:comment",
        kwargs={"slug": comment.item.consultation.slug, "comment_id": comment.pk},
    )
    return format_html('<a href="{}">{}</a>', url, _("Moderate"))


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """Read-only: comments are public anyway, and moderation decides in the moderators'
    space (each comment links to its page there), where every decision is logged."""

    list_display = ["pk", "item", "created_at", "moderation", "deleted_at", "moderate"]
    list_filter = ["moderation"]
    list_select_related = ["item__consultation"]
    search_fields = ["body"]
    fields = readonly_fields = (
        "item",
        "author",
        "parent",
        "body",
        "created_at",
        "edited_at",
        "deleted_at",
        "moderation",
        "held_because",
        "hidden_rule_number",
        "locked_at",
        "moderate",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Moderation"))
    def moderate(self, obj: Comment) -> str:
        return _moderation_link(obj)

    def view_on_site(self, obj: Comment) -> str:
        return f"{obj.item.get_absolute_url()}#comment-{obj.pk}"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written only by ``consultation.results``: the admin looks, never touches."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Publication)
class PublicationAdmin(ReadOnlyAdmin):
    """Published versions are frozen (a database trigger refuses changes as well)."""

    list_display = ["consultation", "version", "published_by_name", "published_at"]
    list_select_related = ["consultation"]
    fields = readonly_fields = (
        "consultation",
        "version",
        "published_by",
        "published_by_name",
        "published_at",
        "note",
        "results_json",
        "manifest_json",
    )


@admin.register(ComputedResult)
class ComputedResultAdmin(ReadOnlyAdmin):
    list_display = ["consultation", "kind", "computed_at"]
    list_filter = ["kind"]
    list_select_related = ["consultation"]
    fields = readonly_fields = (
        "consultation",
        "kind",
        "computed_at",
        "directory",
        "results_json",
        "manifest_json",
    )


@admin.register(OfficialResponse)
class OfficialResponseAdmin(ReadOnlyAdmin):
    list_display = ["item", "updated_at"]
    list_select_related = ["item"]
    fields = readonly_fields = ("item", "text", "text_en", "author", "updated_at")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    """The append-only moderation log (a database trigger refuses changes as well)."""

    list_display = ["pk", "created_at", "action", "rule_number", "role", "consultation", "page"]
    list_filter = ["action", "role"]
    list_select_related = ["consultation"]
    fields = readonly_fields = (
        "consultation",
        "comment",
        "subject",
        "moderator",
        "role",
        "action",
        "rule",
        "rule_number",
        "charter_version",
        "note",
        "suspended_until",
        "answers",
        "created_at",
        "page",
    )

    @admin.display(description=pgettext_lazy("moderators", "Page"))
    def page(self, obj: Decision) -> str:
        url = reverse("moderation_public:decision", kwargs={"decision_id": obj.pk})
        return format_html('<a href="{}">{}</a>', url, _("The decision"))


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    """Appeals are answered in the moderators' space, by someone who did not decide."""

    list_display = ["pk", "created_at", "status", "decision", "answer"]
    list_filter = ["status"]
    fields = readonly_fields = (
        "decision",
        "appellant",
        "text",
        "status",
        "created_at",
        "decided_at",
        "answer",
    )

    @admin.display(description=pgettext_lazy("moderators", "Answer"))
    def answer(self, obj: Appeal) -> str:
        url = reverse("moderation:appeal", kwargs={"appeal_id": obj.pk})
        return format_html('<a href="{}">{}</a>', url, _("Its page in the moderators' space"))
