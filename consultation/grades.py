"""The French majority-judgment scales. Grades are stored as integers, 0 = worst."""

from django.utils.translation import pgettext_lazy

_SEVEN = [
    pgettext_lazy("grade", "To reject"),  # À rejeter
    pgettext_lazy("grade", "Insufficient"),  # Insuffisant
    pgettext_lazy("grade", "Passable"),  # Passable
    pgettext_lazy("grade", "Fairly good"),  # Assez bien
    pgettext_lazy("grade", "Good"),  # Bien
    pgettext_lazy("grade", "Very good"),  # Très bien
    pgettext_lazy("grade", "Excellent"),  # Excellent
]


def labels(scale: int) -> list:
    """Labels from worst (index 0) to best, for a 6- or 7-grade scale."""
    if scale == 7:
        return list(_SEVEN)
    if scale == 6:
        return list(_SEVEN[:6])
    raise ValueError(f"unsupported grade scale {scale}")


def choices(scale: int) -> list[tuple[int, object]]:
    """Best first, as a ballot shows them."""
    return list(reversed(list(enumerate(labels(scale)))))
