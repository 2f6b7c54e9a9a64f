"""axe-core on every page type (issue 15, "Accessibility, proven by tests"): logged out and
in, organiser and moderator pages, French at desktop width and English at 390 px. The
test prints the pages it visited; each must have zero violations."""

import pytest

from tests.browser.page_types import page_type_world, page_types
from tests.support.browser import axe_violations, describe

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def world(make_user, citizen, organiser, moderator, settings, tmp_path):
    return page_type_world(make_user, citizen, organiser, moderator, settings, tmp_path)


@pytest.mark.parametrize(
    ("language", "width"), [("fr", 1280), ("en", 390)], ids=["fr-desktop", "en-390px"]
)
def test_no_page_type_has_an_axe_violation(
    new_context, world, citizen, organiser, moderator, language, width
):
    people = {None: None, "citizen": citizen, "organiser": organiser, "moderator": moderator}
    found, visited = {}, []
    for persona, addresses in page_types(world).items():
        context = new_context(people[persona], width=width, language=language)
        page = context.new_page()
        for address in addresses:
            page.goto(address)
            assert page.locator("html").get_attribute("lang") == language, address
            visited.append(f"{persona or 'visitor'} {address}")
            violations = axe_violations(page)
            if violations:
                found[f"{persona or 'visitor'} {address}"] = violations
        context.close()
    print(f"\naxe-core, {language} at {width} px, pages visited:\n  " + "\n  ".join(visited))
    assert found == {}, describe([{"page": page, "violations": v} for page, v in found.items()])
