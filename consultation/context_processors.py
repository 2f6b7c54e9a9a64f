"""What every page's menu needs to know about the visitor's roles."""

from django.utils.functional import SimpleLazyObject

from consultation import permissions


def spaces(request):
    """``spaces.organise`` / ``spaces.moderate``: whether the menu links to the organiser
    and moderation spaces. Lazy: pages that do not render the menu pay nothing."""
    user = getattr(request, "user", None)

    def compute():
        if user is None or not user.is_authenticated:
            return {"organise": False, "moderate": False}
        return {
            "organise": permissions.has_organiser_space(user),
            "moderate": permissions.has_moderation_space(user),
        }

    return {"spaces": SimpleLazyObject(compute)}
