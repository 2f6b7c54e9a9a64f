"""Notices: what the site tells one person, on the site (a notices page, an unread count in
the menu) and, for what concerns them most, by e-mail in their language.

``sending.notify`` writes a notice in the caller's transaction and queues its e-mail after
the commit; ``wording`` turns a notice's facts into sentences in the reader's language.
"""
