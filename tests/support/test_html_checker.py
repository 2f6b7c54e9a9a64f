"""The page checker must catch what it claims to catch, or the page tests prove nothing."""

from tests.support.html import problems

GOOD = (
    b'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>T</title></head>'
    b'<body><main><label for="a">A</label><input id="a" name="a"></main></body></html>'
)


def test_a_sound_page_has_no_problems():
    assert problems(GOOD) == []


def test_each_defect_is_reported():
    bad = (
        b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>T</title>'
        b'<script>alert(1)</script><link rel="stylesheet" href="https://cdn.example.com/x.css">'
        b'</head><body><div style="color:red" onclick="x()"><input name="q">'
        b'<img src="https://tracker.example.com/p.gif" alt=""></div></body></html>'
    )
    found = " | ".join(problems(bad))
    for expected in [
        "without lang",
        "no <main>",
        "inline <script>",
        "third-party <link>",
        "inline style",
        "inline event handler",
        "unlabelled <input name='q'>",
        "third-party resource https://tracker",
    ]:
        assert expected in found


def test_invalid_html_is_refused():
    import pytest

    with pytest.raises(AssertionError, match="invalid HTML"):
        problems(b'<!DOCTYPE html><html lang="fr"><body><p></div></body></html>')
