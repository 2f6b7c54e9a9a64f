"""Thin views: parse, check a predicate from consultation.permissions, call one domain
function, render. Split by audience: public.py, participation.py, organiser.py, moderation.py."""
