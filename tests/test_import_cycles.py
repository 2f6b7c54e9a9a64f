"""No import cycles between the modules of accounts, config, consultation and realtime.

A cycle makes a module impossible to understand (or test) alone, and hides behind a
deferred import until the day it breaks start-up. Every import counts, including those
inside functions (tests/support/imports.py). When this fails, move the name both sides
need lower down (docs/decisions/0026-sub-domain-folders.md shows how the old ones went).
"""

from tests.support.imports import cycles, edges, module_files


def test_our_modules_import_no_cycle():
    found = cycles(edges())
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(group) for group in found)


def test_the_cycle_finder_finds_a_cycle_through_a_deferred_import(tmp_path):
    """The check itself: two modules importing each other, one of them inside a function."""
    package = tmp_path / "consultation"
    package.mkdir()
    for other in ("accounts", "config", "realtime"):
        (tmp_path / other).mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from consultation import b\n")
    (package / "b.py").write_text("def later():\n    from consultation.a import thing\n")
    (package / "c.py").write_text("from consultation import a\n")
    graph = edges(module_files(tmp_path))
    assert cycles(graph) == [["consultation.a", "consultation.b"]]


def test_the_counting_package_imports_no_django_and_nothing_of_the_site():
    """consultation/counting is pure: anyone recounts with it, without the site."""
    graph = edges()
    for module, targets in graph.items():
        if module.startswith("consultation.counting"):
            outside = {t for t in targets if not t.startswith("consultation.counting")}
            assert outside == set(), (module, outside)
