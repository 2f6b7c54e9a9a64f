"""Results: compute them (``computing``), let the organisers answer and publish versions
(``publishing``), read them for the pages and the API (``reading``), shape them for people
(``display``, ``charts``), decide which breakdowns may show (``small_groups``) and write the
open data (``opendata``). docs/decisions/0026-sub-domain-folders.md.
"""
