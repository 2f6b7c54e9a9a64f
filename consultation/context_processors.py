"""What every page's menu needs to know about the visitor: their roles' spaces and their
unread notices."""

from django.utils.functional import SimpleLazyObject

from consultation import permissions
from consultation.notices import sending


def spaces(request):
    """``spaces.organise`` / ``spaces.moderate``: whether the menu links to the organiser
    and moderation spaces; ``inbox.unread``: how many of the visitor's notices are unread.
    Lazy: pages that do not render the menu pay nothing."""
    user = getattr(request, "user", None)

    def compute():
        if user is None or not user.is_authenticated:
            return {"organise": False, "moderate": False}
        return {
            "organise": permissions.has_organiser_space(user),
            "moderate": permissions.has_moderation_space(user),
        }

    def inbox():
        if user is None or not user.is_authenticated:
            return {"unread": 0}
        return {"unread": sending.unread_count(user)}

    return {"spaces": SimpleLazyObject(compute), "inbox": SimpleLazyObject(inbox)}
