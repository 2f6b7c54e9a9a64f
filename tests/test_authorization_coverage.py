"""Every way in has a written access policy and a test that checks it (issue 9).

The routes are read from the running configuration: every Django URL pattern (with its
namespaces: ours, allauth's, the admin's), every operation of the JSON API (method, path
and operationId, from its OpenAPI schema) and every websocket route. The tables below are
a specification, written out by hand: each route's policy and the tests that check, in
depth, who may and who may not use it. The meta-test fails when a route has no entry,
when an entry matches no route any more, or when a named test does not exist.

Beyond the bookkeeping, every route is then tried cheaply as an anonymous visitor, as a
signed-in citizen without roles and (on role routes) as a staff account whose session
skipped the second factor, and the answer must be the one its policy implies.

ADDING A ROUTE (a page, an API operation, a websocket route, e.g. the moderation routes to
come): add one entry to URLS, API or WEBSOCKETS below, in the section of its module, with
its policy (one of POLICIES), the HTTP methods it is used with, and the test(s) that check
who may and may not use it. If no test checks that yet, write one next to the route's
other tests first: an entry names a real test, never this file. A new kind of URL argument
needs a sample value in ``samples`` below.
"""

import json

import pytest
from django.db import connection
from django.test import Client
from django.urls import URLResolver, get_resolver, path, reverse
from django.urls.resolvers import RegexPattern

from accounts.tokens import create_token
from consultation.api import api
from consultation.models import (
    Appeal,
    Comment,
    Consultation,
    Decision,
    Membership,
    Notice,
    Rule,
)
from consultation.organising import lifecycle
from consultation.participation import debate, voting
from consultation.results import computing, publishing
from realtime.routing import websocket_urlpatterns
from tests.factories import add_member, make_consultation
from tests.support.accounts import login
from tests.support.routes import (
    MissingSample,
    Route,
    api_operations,
    api_patterns_of_operations,
    coverage_problems,
    entry_for,
    fill,
    resolves_to,
    rule,
    url_routes,
    websocket_routes,
)

THIS_FILE = "tests/test_authorization_coverage.py"

# --- Policies ------------------------------------------------------------------------------

PUBLIC = "PUBLIC"
PUBLIC_CONSULTATION = "PUBLIC_CONSULTATION"
ALLAUTH_FLOW = "ALLAUTH_FLOW"
LOGIN = "LOGIN"
PARTICIPANT = "PARTICIPANT"
OWNER = "OWNER"
ORGANISER = "ORGANISER"
MODERATOR = "MODERATOR"
STAFF = "STAFF"
NOWHERE = "NOWHERE"
REPORTER = "REPORTER"
CONCERNED = "CONCERNED"
SIGNED_LINK = "SIGNED_LINK"

POLICIES = {
    PUBLIC: "anyone, anonymous visitors included",
    PUBLIC_CONSULTATION: "anyone, for a consultation past its draft; a draft is answered as "
    "an unknown address (404, websocket 4404) but to its organisers",
    ALLAUTH_FLOW: "a step of allauth's own flows (log in, sign up, reset, confirm, the MFA "
    "stage): anyone; a step in the middle of a login leads back to the login page",
    LOGIN: "a signed-in account",
    PARTICIPANT: "a signed-in account with a verified address, eligible, while the "
    "consultation is open and the mode on (consultation.permissions.can_*)",
    OWNER: "the author of the comment, while they may comment",
    ORGANISER: "the consultation's organisers, or staff, past the second factor (the space: "
    "global organisers too)",
    MODERATOR: "the consultation's moderators, global moderators or staff, past the second factor",
    STAFF: "a staff account past the second factor (the admin)",
    NOWHERE: "serves nothing, to anyone: the same 404 for all",
    REPORTER: "a signed-in account with a verified address, not suspended there, once the "
    "consultation has opened (after closing too), never on their own comment "
    "(consultation.permissions.can_report)",
    CONCERNED: "the person it concerns: a notice's recipient; for a moderation decision, its "
    "subject, the reporters of its comment and its consultation's moderators (staff for a "
    "site-wide one); anyone else is answered 404, a visitor is sent to log in",
    SIGNED_LINK: "whoever holds a valid signed link (an e-mail's unsubscribe link: one person, "
    "one kind of e-mail), no login needed; a bad or expired link is answered 400 and changes "
    "nothing",
}
ROLES = {ORGANISER, MODERATOR, STAFF}

# --- The Django URL patterns -----------------------------------------------------------------
# Key: "namespace:name" ("namespace:/path/" when the pattern has no name). A "*" entry covers
# a group only where the named tests check the group's one gate.

T_PAGES = "tests/test_pages.py"
T_PUBLIC = "tests/consultation/test_public_pages.py"
T_PARTICIPATION = "tests/consultation/test_participation_pages.py"
T_PERMISSIONS = "tests/consultation/test_permissions.py"
T_ORGANISER = "tests/consultation/test_organiser_pages.py"
T_RESULTS_PAGES = "tests/results/test_pages.py"
T_SIGNUP = "tests/accounts/test_signup.py"
T_MFA = "tests/accounts/test_mfa.py"
T_DOORS = "tests/accounts/test_mfa_doors.py"
T_PRIVACY = "tests/accounts/test_privacy.py"
T_CITIZEN_MODERATION = "tests/moderation/test_citizen_pages.py"
T_NOTICES = "tests/moderation/test_notices.py"
T_FOLLOWS = "tests/notices/test_follows.py"
T_PREFERENCES = "tests/notices/test_preferences.py"
T_UNSUBSCRIBE = "tests/notices/test_unsubscribe.py"
T_QUEUE = "tests/moderation/test_queue_pages.py"
T_FEEDS = "tests/notices/test_feeds.py"

SIGNED_IN_ONLY = f"{T_PAGES}::test_signed_in_pages_send_visitors_to_log_in"
MID_LOGIN_STEP = (
    f"{T_SIGNUP}::test_a_mid_login_step_without_a_login_under_way_leads_back_to_the_login"
)
ORGANISER_GATE = (
    f"{T_ORGANISER}::test_a_citizen_is_refused_everywhere",
    f"{T_ORGANISER}::test_an_organiser_of_another_consultation_is_refused_everywhere",
    f"{T_DOORS}::test_a_password_only_session_reaches_no_role_page",
)
ORGANISER_ACTION = (*ORGANISER_GATE, f"{T_PERMISSIONS}::test_matrix_of_organiser_actions")
MODERATION_GATE = (
    f"{T_QUEUE}::test_a_moderator_of_another_consultation_and_a_citizen_are_refused",
    f"{T_QUEUE}::test_a_moderator_without_the_second_factor_is_sent_to_pass_it",
    f"{T_QUEUE}::test_visitors_are_sent_to_log_in",
    f"{T_QUEUE}::test_a_draft_is_answered_like_an_unknown_consultation",
)
RESULTS_GATE = (
    f"{T_RESULTS_PAGES}::test_only_the_organisers_reach_the_review_page",
    f"{T_RESULTS_PAGES}::test_an_organiser_without_mfa_is_sent_to_set_it_up",
    f"{T_PERMISSIONS}::test_matrix_of_reviewing_answering_and_publishing_results",
)
PUBLISHED_PAGES = (
    f"{T_RESULTS_PAGES}::test_results_are_hidden_until_published",
    f"{T_RESULTS_PAGES}::test_anonymous_visitors_see_the_published_pages",
    f"{T_RESULTS_PAGES}::test_every_version_stays_visible_and_reachable",
)
PARTICIPATION = (
    f"{T_PERMISSIONS}::test_matrix_of_participation",
    f"{T_PERMISSIONS}::test_a_disabled_mode_refuses_everyone",
)

URLS = {
    # config/urls.py: site pages
    "home": rule(PUBLIC, tests=[f"{T_PAGES}::test_public_page_is_sound"]),
    "legal_notice": rule(PUBLIC, tests=[f"{T_PAGES}::test_public_page_is_sound"]),
    "privacy": rule(PUBLIC, tests=[f"{T_PAGES}::test_public_page_is_sound"]),
    "accessibility": rule(PUBLIC, tests=[f"{T_PAGES}::test_public_page_is_sound"]),
    "health": rule(
        PUBLIC,
        tests=[
            "tests/config/test_background_jobs.py::test_health_reports_a_missing_heartbeat_without_failing",
            "tests/config/test_cache_outage.py::test_the_health_page_tells_the_truth",
            "tests/config/test_database_outage.py::test_the_health_check_says_the_database_is_away",
            "tests/config/test_background_jobs.py::test_health_says_the_worker_is_away_once_its_heartbeat_is_late",
        ],
    ),
    "set_language": rule(
        PUBLIC,
        "POST",
        tests=[
            "tests/test_i18n.py::test_switching_language_renders_english",
            "tests/test_i18n.py::test_the_choice_is_remembered_on_the_account",
            "tests/test_i18n.py::test_a_visitor_switches_without_a_token_but_a_signed_in_person_needs_one",
        ],
    ),
    # allauth (compte/): its public steps
    "account_login": rule(
        ALLAUTH_FLOW,
        tests=[
            f"{T_PAGES}::test_public_page_is_sound",
            f"{T_MFA}::test_login_with_mfa_asks_for_the_code",
            f"{T_SIGNUP}::test_login_failures_are_rate_limited",
        ],
    ),
    "account_logout": rule(
        ALLAUTH_FLOW,
        tests=[f"{T_SIGNUP}::test_logging_out_takes_a_post_so_no_link_logs_anyone_out"],
    ),
    "account_inactive": rule(ALLAUTH_FLOW, tests=[f"{T_PAGES}::test_public_page_is_sound"]),
    "account_signup": rule(
        ALLAUTH_FLOW,
        tests=[
            f"{T_SIGNUP}::test_sign_up_sends_a_link_that_verifies_the_address_and_logs_in",
            f"{T_SIGNUP}::test_unverified_account_cannot_log_in_before_verifying",
        ],
    ),
    "account_email_verification_sent": rule(
        ALLAUTH_FLOW, tests=[f"{T_PAGES}::test_public_page_is_sound"]
    ),
    "account_reset_password": rule(
        ALLAUTH_FLOW, tests=[f"{T_SIGNUP}::test_password_reset_sends_a_working_link"]
    ),
    "account_reset_password_done": rule(
        ALLAUTH_FLOW, tests=[f"{T_PAGES}::test_public_page_is_sound"]
    ),
    "account_reset_password_from_key": rule(
        ALLAUTH_FLOW, tests=[f"{T_SIGNUP}::test_password_reset_sends_a_working_link"]
    ),
    "account_reset_password_from_key_done": rule(
        ALLAUTH_FLOW, tests=[f"{T_PAGES}::test_public_page_is_sound"]
    ),
    "account_confirm_email": rule(
        ALLAUTH_FLOW,
        tests=[f"{T_SIGNUP}::test_sign_up_sends_a_link_that_verifies_the_address_and_logs_in"],
    ),
    "account_confirm_login_code": rule(ALLAUTH_FLOW, tests=[MID_LOGIN_STEP]),
    "mfa_authenticate": rule(
        ALLAUTH_FLOW, tests=[MID_LOGIN_STEP, f"{T_MFA}::test_login_with_mfa_asks_for_the_code"]
    ),
    "socialaccount_signup": rule(ALLAUTH_FLOW, tests=[MID_LOGIN_STEP]),
    "socialaccount_login_cancelled": rule(
        ALLAUTH_FLOW, tests=[f"{T_PAGES}::test_public_page_is_sound"]
    ),
    "socialaccount_login_error": rule(
        ALLAUTH_FLOW,
        tests=["tests/accounts/test_oidc.py::test_unreachable_provider_gives_the_error_page"],
    ),
    # allauth's old addresses, each a permanent redirect to its new one
    "/compte/social/*": rule(
        ALLAUTH_FLOW, tests=[f"{T_SIGNUP}::test_allauths_old_social_addresses_only_redirect"]
    ),
    # accounts/oidc: the identity provider's door
    "agora_oidc_login": rule(
        ALLAUTH_FLOW,
        tests=[
            "tests/accounts/test_oidc.py::test_login_creates_verified_account",
            "tests/accounts/test_oidc.py::test_a_staff_account_logging_in_through_the_provider_must_still_pass_the_second_factor",
        ],
    ),
    "agora_oidc_callback": rule(
        ALLAUTH_FLOW,
        tests=[
            "tests/accounts/test_oidc.py::test_code_from_another_browser_is_rejected",
            "tests/accounts/test_oidc.py::test_wrong_nonce_is_rejected",
            "tests/accounts/test_oidc.py::test_existing_local_account_is_not_taken_over_by_email",
        ],
    ),
    # allauth (compte/): a signed-in account's own settings
    "account_reauthenticate": rule(LOGIN, tests=[SIGNED_IN_ONLY]),
    "account_email": rule(
        LOGIN,
        tests=[
            SIGNED_IN_ONLY,
            f"{T_SIGNUP}::test_changing_the_address_takes_the_mailed_link_and_retires_the_old_one",
        ],
    ),
    "account_change_password": rule(
        LOGIN,
        tests=[
            SIGNED_IN_ONLY,
            "tests/accounts/test_credential_changes.py::test_changing_the_password_ends_every_older_token",
        ],
    ),
    "account_set_password": rule(LOGIN, tests=[SIGNED_IN_ONLY]),
    "mfa_index": rule(LOGIN, tests=[SIGNED_IN_ONLY]),
    "mfa_reauthenticate": rule(
        LOGIN,
        tests=[
            SIGNED_IN_ONLY,
            f"{T_DOORS}::test_passing_the_code_later_gives_the_session_its_powers",
        ],
    ),
    "mfa_activate_totp": rule(
        LOGIN, tests=[SIGNED_IN_ONLY, f"{T_MFA}::test_citizen_may_set_up_mfa"]
    ),
    "mfa_deactivate_totp": rule(LOGIN, tests=[SIGNED_IN_ONLY]),
    "mfa_view_recovery_codes": rule(LOGIN, tests=[SIGNED_IN_ONLY]),
    "mfa_generate_recovery_codes": rule(LOGIN, tests=[SIGNED_IN_ONLY]),
    "mfa_download_recovery_codes": rule(LOGIN, tests=[SIGNED_IN_ONLY]),
    "socialaccount_connections": rule(LOGIN, tests=[SIGNED_IN_ONLY]),
    # accounts/urls.py
    "accounts:profile": rule(
        LOGIN,
        "GET POST",
        tests=[SIGNED_IN_ONLY, f"{T_MFA}::test_citizen_does_not_need_mfa_for_ordinary_pages"],
    ),
    "accounts:my_data": rule(LOGIN, tests=[f"{T_PRIVACY}::test_data_pages_need_login"]),
    "accounts:my_data_download": rule(
        LOGIN,
        tests=[
            f"{T_PRIVACY}::test_data_pages_need_login",
            f"{T_PRIVACY}::test_data_export_contains_the_account_fields",
        ],
    ),
    "accounts:delete": rule(
        LOGIN,
        "GET POST",
        tests=[
            f"{T_PRIVACY}::test_data_pages_need_login",
            f"{T_PRIVACY}::test_deletion_with_a_wrong_password_keeps_the_account",
        ],
    ),
    "accounts:api_tokens": rule(
        LOGIN,
        "GET POST",
        tests=[
            "tests/api/test_tokens_page.py::test_page_needs_login",
            "tests/api/test_tokens_page.py::test_someone_elses_token_cannot_be_revoked",
            "tests/api/test_tokens_page.py::test_unverified_account_cannot_create_a_token",
        ],
    ),
    # consultation/urls.py: reading
    "consultation:list": rule(
        PUBLIC,
        tests=[
            f"{T_PUBLIC}::test_every_public_page_is_sound_in_both_languages",
            f"{T_PUBLIC}::test_drafts_are_hidden_from_citizens",
        ],
    ),
    "consultation:detail": rule(
        PUBLIC_CONSULTATION,
        tests=[
            f"{T_PUBLIC}::test_drafts_are_hidden_from_citizens",
            f"{T_PUBLIC}::test_organisers_preview_their_draft",
            f"{T_PUBLIC}::test_role_holders_without_mfa_see_no_draft_and_no_preview",
            f"{T_DOORS}::test_a_password_only_organiser_session_cannot_read_their_draft",
        ],
    ),
    "consultation:item": rule(
        PUBLIC_CONSULTATION,
        tests=[
            f"{T_PUBLIC}::test_every_public_page_is_sound_in_both_languages",
            f"{T_PUBLIC}::test_unknown_item_or_item_of_another_consultation_is_404",
        ],
    ),
    "consultation:methods": rule(
        PUBLIC, tests=[f"{T_RESULTS_PAGES}::test_every_counting_method_has_a_card"]
    ),
    "consultation:results": rule(PUBLIC_CONSULTATION, tests=PUBLISHED_PAGES),
    "consultation:results_version": rule(PUBLIC_CONSULTATION, tests=PUBLISHED_PAGES),
    "consultation:report": rule(
        PUBLIC_CONSULTATION,
        tests=[
            *PUBLISHED_PAGES,
            f"{T_RESULTS_PAGES}::test_the_printable_report_has_print_styles_and_full_addresses",
        ],
    ),
    "consultation:report_version": rule(PUBLIC_CONSULTATION, tests=PUBLISHED_PAGES),
    "consultation:open_data": rule(
        PUBLIC_CONSULTATION,
        tests=[
            "tests/results/test_downloads.py::test_nothing_is_served_before_publication_or_outside_the_manifest",
            "tests/results/test_downloads.py::test_published_files_download_with_their_type_and_name",
        ],
    ),
    "consultation:open_data_catalog": rule(
        PUBLIC,
        tests=[
            "tests/results/test_open_data_files.py::test_the_sites_catalogue_lists_the_latest_version_of_each_consultation",
        ],
    ),
    # consultation/urls.py: taking part
    "consultation:ranking": rule(
        {"GET": PUBLIC_CONSULTATION, "POST": PARTICIPANT},
        tests=[
            f"{T_PARTICIPATION}::test_ranking_page_records_the_ballot_without_javascript",
            f"{T_PARTICIPATION}::test_ranking_a_closed_consultation_is_refused_with_403",
            *PARTICIPATION,
        ],
    ),
    "consultation:vote": rule(
        PARTICIPANT,
        "POST",
        tests=[
            f"{T_PARTICIPATION}::test_anonymous_vote_is_refused_with_403",
            f"{T_PARTICIPATION}::test_unverified_account_cannot_vote",
            f"{T_PARTICIPATION}::test_closed_consultation_refuses_votes_with_403",
            f"{T_PARTICIPATION}::test_vote_on_a_draft_is_404",
            *PARTICIPATION,
        ],
    ),
    "consultation:grade": rule(PARTICIPANT, "POST", tests=PARTICIPATION),
    "consultation:comment": rule(
        PARTICIPANT,
        "POST",
        tests=[
            f"{T_PARTICIPATION}::test_closed_consultation_refuses_comments_with_403",
            *PARTICIPATION,
        ],
    ),
    "consultation:comment_reply": rule(
        PARTICIPANT,
        "POST",
        tests=[
            f"{T_PARTICIPATION}::test_a_reply_to_a_deleted_comment_is_refused_with_a_message",
            *PARTICIPATION,
        ],
    ),
    "consultation:comment_useful": rule(
        PARTICIPANT,
        "POST",
        tests=[f"{T_PARTICIPATION}::test_own_comment_cannot_be_marked_useful", *PARTICIPATION],
    ),
    "consultation:comment_edit": rule(
        OWNER,
        "POST",
        tests=[
            f"{T_PARTICIPATION}::test_nobody_edits_someone_elses_comment",
            f"{T_PERMISSIONS}::test_only_the_author_changes_a_comment_and_only_while_open",
        ],
    ),
    "consultation:comment_delete": rule(
        OWNER,
        "POST",
        tests=[
            f"{T_PARTICIPATION}::test_nobody_deletes_someone_elses_comment",
            f"{T_PERMISSIONS}::test_only_the_author_changes_a_comment_and_only_while_open",
        ],
    ),
    "consultation:my_participation": rule(
        PARTICIPANT,
        tests=[
            f"{T_PARTICIPATION}::test_my_participation_needs_an_account",
            f"{T_SIGNUP}::test_unverified_account_cannot_take_part",
        ],
    ),
    # consultation/urls.py: feeds (consultation/views/feeds.py)
    "consultation:feed": rule(
        PUBLIC,
        tests=[
            f"{T_FEEDS}::test_the_consultations_feed_dates_and_links_each_event",
            f"{T_FEEDS}::test_hostile_texts_are_escaped_in_every_feed",
        ],
    ),
    "consultation:calendar": rule(
        PUBLIC,
        tests=[
            f"{T_FEEDS}::test_the_calendar_gives_stable_events_for_opening_and_closing",
            f"{T_FEEDS}::test_a_drafts_feeds_are_not_found_like_its_page",
        ],
    ),
    "consultation:results_feed": rule(
        PUBLIC_CONSULTATION,
        tests=[
            f"{T_FEEDS}::test_a_consultations_results_feed_lists_its_versions",
            f"{T_FEEDS}::test_a_drafts_feeds_are_not_found_like_its_page",
        ],
    ),
    "consultation:consultation_calendar": rule(
        PUBLIC_CONSULTATION,
        tests=[
            f"{T_FEEDS}::test_the_calendar_gives_stable_events_for_opening_and_closing",
            f"{T_FEEDS}::test_a_drafts_feeds_are_not_found_like_its_page",
        ],
    ),
    # consultation/organising/urls.py: the organiser space (MFA by namespace)
    "organiser:dashboard": rule(
        ORGANISER,
        tests=[*ORGANISER_GATE, f"{T_MFA}::test_role_holder_without_mfa_is_sent_to_set_it_up"],
    ),
    "organiser:create": rule(
        ORGANISER,
        "GET POST",
        tests=[
            *ORGANISER_GATE,
            f"{T_ORGANISER}::test_an_organiser_without_mfa_is_sent_to_set_it_up",
        ],
    ),
    "organiser:manage": rule(
        ORGANISER,
        tests=[
            *ORGANISER_GATE,
            f"{T_ORGANISER}::test_anonymous_visitors_are_sent_to_log_in",
            f"{T_ORGANISER}::test_a_moderator_of_the_consultation_cannot_manage_it",
            f"{T_ORGANISER}::test_a_co_organiser_without_the_global_flag_also_needs_mfa",
        ],
    ),
    "organiser:items": rule(ORGANISER, tests=ORGANISER_GATE),
    "organiser:edit": rule(ORGANISER, "GET POST", tests=ORGANISER_ACTION),
    "organiser:item_add": rule(ORGANISER, "GET POST", tests=ORGANISER_ACTION),
    "organiser:import": rule(ORGANISER, "GET POST", tests=ORGANISER_ACTION),
    "organiser:item_edit": rule(ORGANISER, "GET POST", tests=ORGANISER_ACTION),
    "organiser:item_delete": rule(ORGANISER, "GET POST", tests=ORGANISER_ACTION),
    "organiser:item_move": rule(ORGANISER, "POST", tests=ORGANISER_ACTION),
    "organiser:schedule": rule(ORGANISER, "GET POST", tests=ORGANISER_ACTION),
    "organiser:open_now": rule(ORGANISER, "POST", tests=ORGANISER_ACTION),
    "organiser:back_to_draft": rule(ORGANISER, "POST", tests=ORGANISER_ACTION),
    "organiser:close": rule(ORGANISER, "GET POST", tests=ORGANISER_ACTION),
    "organiser:team": rule(ORGANISER, "GET POST", tests=ORGANISER_ACTION),
    "organiser:team_remove": rule(ORGANISER, "POST", tests=ORGANISER_ACTION),
    "organiser:charter": rule(
        ORGANISER,
        "GET POST",
        tests=[
            *ORGANISER_GATE,
            "tests/consultation/test_organiser_charter.py::test_only_the_organisers_word_the_charter",
        ],
    ),
    "organiser:card": rule(
        ORGANISER,
        "GET POST",
        tests=[
            *ORGANISER_GATE,
            "tests/consultation/test_card.py::test_only_the_organisers_write_the_card",
        ],
    ),
    "organiser:results": rule(ORGANISER, tests=RESULTS_GATE),
    "organiser:results_compute": rule(
        ORGANISER,
        "POST",
        tests=[f"{T_RESULTS_PAGES}::test_only_the_organisers_count_and_answer", *RESULTS_GATE],
    ),
    "organiser:results_respond": rule(
        ORGANISER,
        "POST",
        tests=[f"{T_RESULTS_PAGES}::test_only_the_organisers_count_and_answer", *RESULTS_GATE],
    ),
    "organiser:results_publish": rule(
        ORGANISER,
        "POST",
        tests=[
            *RESULTS_GATE,
            "tests/results/test_publish.py::test_only_its_organisers_may_publish",
        ],
    ),
    # consultation/moderation/urls.py (MFA by namespace)
    "moderation:queue": rule(
        MODERATOR,
        tests=[
            f"{T_MFA}::test_citizen_is_refused_privileged_pages",
            f"{T_MFA}::test_a_per_consultation_moderator_needs_mfa_too",
            f"{T_DOORS}::test_a_password_only_session_reaches_no_role_page",
            f"{T_QUEUE}::test_a_moderator_of_another_consultation_and_a_citizen_are_refused",
        ],
    ),
    "moderation:consultation": rule(MODERATOR, tests=MODERATION_GATE),
    "moderation:comment": rule(
        MODERATOR,
        "GET POST",
        tests=[
            *MODERATION_GATE,
            f"{T_QUEUE}::test_a_moderator_cannot_decide_about_themselves",
            f"{T_QUEUE}::test_a_site_wide_suspension_is_lifted_from_the_page_by_staff_only",
        ],
    ),
    # An appeal: its consultation's moderators, and whoever may answer it (an organiser
    # too: consultation.permissions.can_decide_appeal), never the one who decided.
    "moderation:appeal": rule(
        MODERATOR,
        "GET POST",
        tests=[
            *MODERATION_GATE,
            f"{T_QUEUE}::test_appeals_wait_for_a_colleague_never_for_the_one_who_decided",
        ],
    ),
    # consultation/moderation/public_urls.py: moderation as citizens meet it
    "moderation_public:charter": rule(
        PUBLIC_CONSULTATION,
        tests=[
            f"{T_CITIZEN_MODERATION}::test_the_charter_in_force_and_its_earlier_versions",
            f"{T_CITIZEN_MODERATION}::test_drafts_have_no_charter_or_log_pages",
        ],
    ),
    "moderation_public:log": rule(
        PUBLIC_CONSULTATION,
        tests=[
            f"{T_CITIZEN_MODERATION}::test_the_public_log_shows_role_and_rule_but_names_nobody",
            f"{T_CITIZEN_MODERATION}::test_drafts_have_no_charter_or_log_pages",
        ],
    ),
    "moderation_public:report": rule(
        REPORTER,
        "POST",
        tests=[
            f"{T_CITIZEN_MODERATION}::test_reporting_ones_own_comment_is_refused_next_to_it",
            f"{T_CITIZEN_MODERATION}::test_a_suspended_person_may_not_report",
            f"{T_CITIZEN_MODERATION}::test_visitors_and_unverified_accounts_get_no_report_control",
            f"{T_CITIZEN_MODERATION}::test_reporting_needs_the_csrf_token",
        ],
    ),
    "moderation_public:decision": rule(
        CONCERNED,
        "GET POST",
        tests=[
            f"{T_CITIZEN_MODERATION}::test_the_decision_page_is_for_its_subject_reporters_and_moderators",
            f"{T_CITIZEN_MODERATION}::test_nobody_else_appeals",
        ],
    ),
    # consultation/notices/urls.py: a person's notices
    "notices:list": rule(
        LOGIN,
        tests=[
            f"{T_NOTICES}::test_visitors_are_sent_to_log_in",
            f"{T_NOTICES}::test_following_a_notices_link_reads_it",
        ],
    ),
    "notices:open": rule(
        CONCERNED,
        tests=[
            f"{T_NOTICES}::test_nobody_opens_or_marks_someone_elses_notice",
            f"{T_NOTICES}::test_following_a_notices_link_reads_it",
        ],
    ),
    "notices:mark_read": rule(
        LOGIN,
        "POST",
        tests=[
            f"{T_NOTICES}::test_visitors_are_sent_to_log_in",
            f"{T_NOTICES}::test_nobody_opens_or_marks_someone_elses_notice",
        ],
    ),
    "notices:settings": rule(
        LOGIN,
        "GET POST",
        tests=[
            f"{T_PREFERENCES}::test_visitors_are_sent_to_log_in",
            f"{T_PREFERENCES}::test_saving_the_page_decides_where_each_notice_goes",
        ],
    ),
    "notices:follow": rule(
        LOGIN,
        "POST",
        tests=[
            f"{T_FOLLOWS}::test_following_answers_what_one_may_not_see_as_unknown",
            f"{T_UNSUBSCRIBE}::test_the_one_click_post_needs_no_csrf_token_but_other_forms_still_do",
        ],
    ),
    "notices:unfollow": rule(
        LOGIN,
        "POST",
        tests=[
            f"{T_FOLLOWS}::test_following_answers_what_one_may_not_see_as_unknown",
            f"{T_FOLLOWS}::test_the_settings_page_lists_what_i_follow_and_unfollows_it",
        ],
    ),
    "notices:unsubscribe": rule(
        SIGNED_LINK,
        "GET POST",
        tests=[
            f"{T_UNSUBSCRIBE}::test_the_link_works_without_login_for_its_kind_and_its_person_only",
            f"{T_UNSUBSCRIBE}::test_a_bad_or_expired_link_gets_a_clear_400_and_changes_nothing",
        ],
    ),
    # /api/v1/: the API's operations are in API below; these are the API's other patterns
    "api:openapi-json": rule(
        PUBLIC, tests=["tests/api/test_schema.py::test_schema_is_valid_openapi_3"]
    ),
    "api:api-root": rule(
        NOWHERE,
        tests=[
            "tests/api/test_bad_input.py::test_bad_input_gets_a_json_4xx",
            "tests/api/test_schema.py::test_interactive_docs_page_is_off_no_cdn",
        ],
    ),
    "api:/api/v1/^.*$": rule(
        NOWHERE, tests=["tests/api/test_bad_input.py::test_bad_input_gets_a_json_4xx"]
    ),
    # the admin: one login (allauth's), then one gate for every page (accounts/admin_site.py,
    # and accounts.middleware by namespace)
    "admin:login": rule(
        STAFF,
        tests=[
            f"{T_DOORS}::test_the_admin_login_page_sends_to_the_one_login",
            f"{T_DOORS}::test_the_admin_login_form_never_logs_anyone_in_with_a_password",
            f"{T_DOORS}::test_a_logged_in_citizen_is_refused_the_admin",
            f"{T_DOORS}::test_a_password_only_staff_session_is_sent_to_pass_the_second_factor",
        ],
    ),
    "admin:logout": rule(
        STAFF,
        "POST",
        tests=[f"{T_DOORS}::test_the_admin_refuses_a_password_only_superuser_on_every_page"],
    ),
    "admin:*": rule(
        STAFF,
        tests=[
            f"{T_DOORS}::test_the_admin_refuses_a_password_only_superuser_on_every_page",
            f"{T_DOORS}::test_a_logged_in_citizen_is_refused_the_admin",
            f"{T_DOORS}::test_staff_reach_the_admin_through_allauth_with_their_code",
            f"{T_MFA}::test_role_holder_without_mfa_is_sent_to_set_it_up",
        ],
    ),
}

# --- The API's operations (consultation/api/reading.py, participating.py, moderating.py) ---
# Key: "METHOD /api/v1/path" as the OpenAPI schema spells it. Writes take a token or the
# browser session (with CSRF); drafts are never served, not even to their organisers.

T_READS = "tests/api/test_reads.py"
T_WRITES = "tests/api/test_writes.py"
T_API_MODERATING = "tests/api/test_moderating.py"
API_DRAFTS = f"{T_READS}::test_draft_is_not_found_even_for_its_organiser"
API_WRITE = (
    f"{T_WRITES}::test_anonymous_write_is_told_to_log_in",
    f"{T_WRITES}::test_unverified_account_may_not_take_part",
    f"{T_WRITES}::test_consultation_not_open_refuses_participation",
    f"{T_WRITES}::test_draft_items_cannot_be_written_to",
    "tests/api/test_csrf.py::test_session_write_without_csrf_token_is_refused",
    f"{T_PERMISSIONS}::test_matrix_of_participation",
)
API_PUBLISHED = (
    "tests/results/test_api.py::test_unpublished_results_are_a_json_404",
    "tests/results/test_api.py::test_drafts_have_no_results",
)

API = {
    "GET /api/v1/consultations": rule(
        PUBLIC, tests=[f"{T_READS}::test_list_shows_every_phase_but_drafts"]
    ),
    "GET /api/v1/consultations/{slug}": rule(
        PUBLIC_CONSULTATION, tests=[API_DRAFTS, f"{T_DOORS}::test_an_api_token_reads_no_draft"]
    ),
    "GET /api/v1/consultations/{slug}/items": rule(PUBLIC_CONSULTATION, tests=[API_DRAFTS]),
    "GET /api/v1/consultations/{slug}/items/{item_id}": rule(
        PUBLIC_CONSULTATION,
        tests=[API_DRAFTS, f"{T_READS}::test_item_of_another_consultation_is_not_found"],
    ),
    "GET /api/v1/consultations/{slug}/results": rule(
        PUBLIC_CONSULTATION,
        tests=[
            API_DRAFTS,
            f"{T_READS}::test_results_after_close_are_hidden_from_everyone_while_open",
            f"{T_READS}::test_results_of_a_scheduled_consultation_are_hidden",
        ],
    ),
    "GET /api/v1/consultations/{slug}/results/published": rule(
        PUBLIC_CONSULTATION, tests=API_PUBLISHED
    ),
    "GET /api/v1/consultations/{slug}/results/versions": rule(
        PUBLIC_CONSULTATION,
        tests=[*API_PUBLISHED, "tests/results/test_api.py::test_versions_are_listed_newest_first"],
    ),
    "GET /api/v1/consultations/{slug}/open-data": rule(
        PUBLIC_CONSULTATION,
        tests=[*API_PUBLISHED, "tests/results/test_api.py::test_the_open_data_manifest"],
    ),
    "GET /api/v1/consultations/{slug}/live": rule(
        PUBLIC_CONSULTATION,
        tests=[
            "tests/api/test_live_endpoint.py::test_live_is_not_found_for_drafts_even_for_their_organiser",
            "tests/api/test_live_endpoint.py::test_live_hides_per_item_results_until_close_under_the_after_close_policy",
        ],
    ),
    "GET /api/v1/consultations/{slug}/me": rule(
        LOGIN,
        tests=[
            f"{T_READS}::test_me_needs_authentication",
            f"{T_READS}::test_me_shows_only_the_callers_own_participation",
        ],
    ),
    "GET /api/v1/items/{item_id}/comments": rule(PUBLIC_CONSULTATION, tests=[API_DRAFTS]),
    "PUT /api/v1/items/{item_id}/vote": rule(PARTICIPANT, "PUT", tests=API_WRITE),
    "DELETE /api/v1/items/{item_id}/vote": rule(PARTICIPANT, "DELETE", tests=API_WRITE),
    "PUT /api/v1/items/{item_id}/grade": rule(PARTICIPANT, "PUT", tests=API_WRITE),
    "DELETE /api/v1/items/{item_id}/grade": rule(PARTICIPANT, "DELETE", tests=API_WRITE),
    "PUT /api/v1/consultations/{slug}/ballot": rule(PARTICIPANT, "PUT", tests=API_WRITE),
    "DELETE /api/v1/consultations/{slug}/ballot": rule(PARTICIPANT, "DELETE", tests=API_WRITE),
    "POST /api/v1/items/{item_id}/comments": rule(PARTICIPANT, "POST", tests=API_WRITE),
    "POST /api/v1/comments/{comment_id}/useful": rule(
        PARTICIPANT,
        "POST",
        tests=[*API_WRITE, f"{T_WRITES}::test_own_comment_cannot_be_marked_useful"],
    ),
    "PATCH /api/v1/comments/{comment_id}": rule(
        OWNER,
        "PATCH",
        tests=[
            f"{T_WRITES}::test_someone_elses_comment_cannot_be_edited_or_deleted",
            "tests/api/test_csrf.py::test_session_write_without_csrf_token_is_refused",
        ],
    ),
    "DELETE /api/v1/comments/{comment_id}": rule(
        OWNER,
        "DELETE",
        tests=[
            f"{T_WRITES}::test_someone_elses_comment_cannot_be_edited_or_deleted",
            "tests/api/test_csrf.py::test_session_write_without_csrf_token_is_refused",
        ],
    ),
    # consultation/api/moderating.py
    "POST /api/v1/comments/{comment_id}/reports": rule(
        REPORTER,
        "POST",
        tests=[
            f"{T_API_MODERATING}::test_a_report_is_refused_with_the_domains_code",
            f"{T_API_MODERATING}::test_a_suspended_person_is_refused_on_every_write_and_still_reads",
            "tests/api/test_csrf.py::test_session_write_without_csrf_token_is_refused",
        ],
    ),
    "GET /api/v1/consultations/{slug}/moderation-log": rule(
        PUBLIC_CONSULTATION,
        tests=[
            f"{T_API_MODERATING}::test_a_drafts_log_is_not_found",
            f"{T_API_MODERATING}::test_the_public_log_gives_role_and_rule_and_names_nobody",
        ],
    ),
    "GET /api/v1/me/notices": rule(
        LOGIN,
        tests=[f"{T_API_MODERATING}::test_my_notices_come_a_page_at_a_time_with_the_unread_count"],
    ),
    "POST /api/v1/me/notices/read": rule(
        LOGIN,
        "POST",
        tests=[
            f"{T_API_MODERATING}::test_marking_notices_read_touches_only_the_callers",
            "tests/api/test_csrf.py::test_session_write_without_csrf_token_is_refused",
        ],
    ),
    "POST /api/v1/moderation-decisions/{decision_id}/appeal": rule(
        CONCERNED,
        "POST",
        tests=[
            f"{T_API_MODERATING}::test_the_person_a_decision_is_about_appeals_it_once",
            "tests/api/test_csrf.py::test_session_write_without_csrf_token_is_refused",
        ],
    ),
}

# --- The websocket routes (realtime/routing.py) ----------------------------------------------
# Key: the route's path pattern.

T_STREAMS = "tests/realtime/test_streams.py"
T_LIVE_COUNTER = "tests/notices/test_live_counter.py"

WEBSOCKETS = {
    "ws/ping/": rule(
        PUBLIC,
        "CONNECT",
        tests=[
            "tests/realtime/test_ping.py::test_ping_is_answered",
            "tests/realtime/test_ping.py::test_foreign_origin_is_refused",
        ],
    ),
    "ws/me/": rule(
        LOGIN,
        "CONNECT",
        tests=[
            f"{T_LIVE_COUNTER}::test_the_personal_stream_opens_with_the_unread_count",
            f"{T_LIVE_COUNTER}::test_visitors_are_refused_the_personal_stream",
            f"{T_LIVE_COUNTER}::test_a_foreign_origin_is_refused_the_personal_stream",
        ],
    ),
    "ws/consultations/<slug:slug>/": rule(
        PUBLIC_CONSULTATION,
        "CONNECT",
        tests=[
            f"{T_STREAMS}::test_a_draft_is_refused_like_an_unknown_consultation",
            f"{T_STREAMS}::test_a_drafts_organiser_and_moderator_still_get_its_streams",
            f"{T_STREAMS}::test_hidden_results_never_travel_over_the_socket",
        ],
    ),
    "ws/consultations/<slug:slug>/moderation/": rule(
        MODERATOR,
        "CONNECT",
        tests=[
            f"{T_STREAMS}::test_moderators_get_the_moderation_stream_and_citizens_do_not",
            f"{T_STREAMS}::test_a_password_only_session_gets_no_moderation_stream",
            f"{T_STREAMS}::test_a_session_from_before_a_password_change_is_anonymous_on_the_socket",
            f"{T_STREAMS}::test_a_draft_is_refused_like_an_unknown_consultation",
        ],
    ),
}


# --- The bookkeeping -------------------------------------------------------------------------


def all_routes(resolver=None):
    urls = url_routes(resolver)
    operations = api_operations(api)
    served_by_operations = api_patterns_of_operations(urls, operations)
    urls = [route for route in urls if route.key not in served_by_operations]
    return urls, operations, websocket_routes(websocket_urlpatterns)


def problems_of(urls, operations, sockets, *, url_table=URLS, api_table=API, ws_table=WEBSOCKETS):
    check = {"policies": POLICIES, "itself": THIS_FILE}
    return [
        *coverage_problems(urls, url_table, kind="URL pattern", **check),
        *coverage_problems(operations, api_table, kind="API operation", **check),
        *coverage_problems(sockets, ws_table, kind="websocket route", **check),
    ]


def test_every_route_has_a_policy_and_a_test_that_checks_it():
    urls, operations, sockets = all_routes()
    # The enumeration itself must see the whole site (ours, allauth's, the admin's).
    keys = {route.key for route in urls}
    assert {"home", "account_login", "organiser:manage", "admin:index", "api:openapi-json"} <= keys
    assert len(urls) > 150 and len(operations) >= 20 and len(sockets) >= 3
    assert all(operation.detail for operation in operations), "every operation has an operationId"
    problems = problems_of(urls, operations, sockets)
    assert not problems, "\n".join(problems)


def _dummy_view(request):
    raise AssertionError("never called")


def test_a_new_route_a_stale_entry_or_a_missing_test_is_reported():
    """The meta-test's own guarantee: nothing new slips in unnoticed."""
    # A page added to the URL configuration, found by walking it like the real one.
    resolver = URLResolver(
        RegexPattern(r"^/"),
        [path("nouvelle-page/", _dummy_view, name="brand_new"), *get_resolver().url_patterns],
    )
    urls, operations, sockets = all_routes(resolver)
    operations = [*operations, Route("POST /api/v1/brand-new", "/api/v1/brand-new", "new_op")]
    sockets = [*sockets, Route("ws/brand-new/", "ws/brand-new/", "NewConsumer")]
    already = set(problems_of(*all_routes()))  # none, unless the real check fails too
    problems = [p for p in problems_of(urls, operations, sockets) if p not in already]
    assert len(problems) == 3, problems
    assert "URL pattern 'brand_new' (nouvelle-page/" in problems[0]
    assert "API operation 'POST /api/v1/brand-new'" in problems[1]
    assert "websocket route 'ws/brand-new/'" in problems[2]

    # An entry left behind, a test that does not exist, an unknown policy, a self-reference.
    url_table = {
        **URLS,
        "consultation:gone": rule(PUBLIC, tests=[f"{T_PAGES}::test_public_page_is_sound"]),
        "home": rule(PUBLIC, tests=[f"{T_PAGES}::test_no_such_test"]),
        "health": rule(
            "WHOEVER",
            tests=[f"{THIS_FILE}::test_every_route_has_a_policy_and_a_test_that_checks_it"],
        ),
        "privacy": rule(PUBLIC, tests=["tests/no_such_file.py::test_x"]),
    }
    urls, operations, sockets = all_routes()
    problems = "\n".join(problems_of(urls, operations, sockets, url_table=url_table))
    assert "'consultation:gone' matches no route any more (stale)" in problems
    assert "defines no test function test_no_such_test" in problems
    assert "unknown policy 'WHOEVER'" in problems
    assert "points at the meta-test itself" in problems
    assert "tests/no_such_file.py::test_x': no such file" in problems


# --- Trying every route ----------------------------------------------------------------------

# Routes whose sample consultation is one with published results (the others use an open one).
NEEDS_PUBLISHED = {
    "consultation:results",
    "consultation:results_version",
    "consultation:report",
    "consultation:report_version",
    "consultation:open_data",
    "GET /api/v1/consultations/{slug}/results/published",
    "GET /api/v1/consultations/{slug}/results/versions",
    "GET /api/v1/consultations/{slug}/open-data",
}


class World:
    """An open consultation with an item and a comment by someone else, a draft with the
    same, a consultation with published results, and the people who try the routes."""

    def __init__(self, make_user, organiser, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        self.author = make_user("auteur@example.org")
        self.open = make_consultation()
        add_member(self.open, organiser, Membership.Role.ORGANISER)
        item = self.open.items.first()
        self.comment = debate.post_comment(self.author, item, "Un avis.", "for")
        self.draft = make_consultation(status=Consultation.Status.DRAFT, organiser=organiser)
        draft_item = self.draft.items.first()
        draft_comment = Comment.objects.create(
            item=draft_item, author=self.author, body="Brouillon."
        )
        self.published = make_consultation(items=2)
        add_member(self.published, organiser, Membership.Role.ORGANISER)
        voting.cast_vote(self.author, self.published.items.first(), "for")
        lifecycle.transition(self.published.pk, "closed", reason="")
        computing.compute_results(self.published.pk, "final")
        publishing.publish(self.published, organiser)
        fixed = {
            "version": 1,
            "filename": "items.csv",
            "object_id": 1,
            "content_type_id": 1,
            "id": 1,
            "app_label": "auth",
            "url": "nowhere/",
            "provider_id": "agora_oidc",
            "key": "not-a-key",
            "uidb36": "zz",
            "token": "not-a-token",
        }
        membership = self.open.memberships.get()
        # A moderation decision about the author, and a notice for them: not the citizen's.
        decision = Decision.objects.create(
            consultation=self.open,
            comment=self.comment,
            subject=self.author,
            role=Decision.Role.MODERATOR,
            action=Decision.Action.WARN,
            rule=Rule.INSULT,
            rule_number=Rule.number(Rule.INSULT),
        )
        notice = Notice.objects.create(user=self.author, kind=Notice.Kind.MODERATION, data={})
        appeal = Appeal.objects.create(decision=decision, appellant=self.author, text="Non.")
        self.samples = {
            "open": {
                **fixed,
                "slug": self.open.slug,
                "item_id": item.pk,
                "comment_id": self.comment.pk,
                "membership_id": membership.pk,
                "decision_id": decision.pk,
                "notice_id": notice.pk,
                "appeal_id": appeal.pk,
            },
            "published": {
                **fixed,
                "slug": self.published.slug,
                "item_id": self.published.items.first().pk,
            },
            "draft": {
                **fixed,
                "slug": self.draft.slug,
                "item_id": draft_item.pk,
                "comment_id": draft_comment.pk,
            },
            "unknown": {
                **fixed,
                "slug": "nowhere-to-be-found",
                "item_id": 999_999,
                "comment_id": 999_999,
            },
        }

    def path(self, route: Route, sample: str | None = None) -> str:
        sample = sample or ("published" if route.key in NEEDS_PUBLISHED else "open")
        try:
            return fill(route.pattern, self.samples[sample])
        except MissingSample as missing:
            pytest.fail(
                f"{route.key}: no sample value for its argument {missing}: add one to World"
            )


@pytest.fixture
def world(make_user, organiser, settings, tmp_path):
    return World(make_user, organiser, settings, tmp_path)


class Writes:
    """The SQL statements a request runs that change the site's data (its sessions and
    the cache aside): a refused request must run none."""

    TABLES = (
        "consultation_",
        "accounts_",
        "account_",
        "mfa_",
        "socialaccount_",
        "django_admin_log",
    )

    def __init__(self):
        self.statements = []

    def __call__(self, execute, sql, params, many, context):
        verb = sql.lstrip().split(None, 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE") and any(table in sql for table in self.TABLES):
            self.statements.append(sql[:120])
        return execute(sql, params, many, context)


def send(client, method, url, *, data="", **extra):
    """The response, and the data-changing SQL statements the request ran."""
    writes = Writes()
    with connection.execute_wrapper(writes):
        response = client.generic(method, url, data, **extra)
    return response, writes.statements


def location(response) -> str:
    return response.get("Location", "").split("?")[0]


def sent_to(response, name) -> bool:
    return response.status_code == 302 and location(response) == reverse(name)


def refused(response) -> bool:
    return response.status_code in (401, 403) or sent_to(response, "account_login")


TURNED_AWAY = ("account_login", "admin:login", "mfa_reauthenticate", "mfa_activate_totp")


def served(response) -> bool:
    """Answered, not turned away: a page, or a redirect elsewhere than a login or MFA step."""
    return response.status_code in (200, 301, 302) and not any(
        sent_to(response, name) for name in TURNED_AWAY
    )


def kept_from_the_admin(response) -> bool:
    """Never an admin page: refused, or sent to the admin's (allauth's) login or its index
    (which sends on to the login)."""
    return response.status_code == 403 or (
        response.status_code == 302
        and location(response)
        in (reverse("admin:login"), reverse("admin:index"), reverse("account_login"))
    )


# What each policy implies for a visitor and for a signed-in citizen without roles (who is
# not the author of the sample comment).
EXPECTED_PAGE = {
    "anonymous": {
        PUBLIC: served,
        PUBLIC_CONSULTATION: served,
        ALLAUTH_FLOW: lambda r: r.status_code < 500 and r.status_code != 403,
        LOGIN: refused,
        PARTICIPANT: refused,
        OWNER: refused,
        ORGANISER: lambda r: sent_to(r, "account_login"),
        MODERATOR: lambda r: sent_to(r, "account_login"),
        STAFF: kept_from_the_admin,
        NOWHERE: lambda r: r.status_code == 404,
        REPORTER: refused,
        CONCERNED: lambda r: sent_to(r, "account_login"),
        SIGNED_LINK: lambda r: r.status_code == 400,
    },
    "citizen": {
        PUBLIC: served,
        PUBLIC_CONSULTATION: served,
        ALLAUTH_FLOW: lambda r: r.status_code < 500 and r.status_code != 403,
        LOGIN: lambda r: r.status_code < 500 and not refused(r),
        PARTICIPANT: lambda r: r.status_code < 500 and not refused(r),
        OWNER: lambda r: r.status_code == 403,
        ORGANISER: lambda r: r.status_code in (403, 404),
        MODERATOR: lambda r: r.status_code in (403, 404),
        STAFF: kept_from_the_admin,
        NOWHERE: lambda r: r.status_code == 404,
        REPORTER: lambda r: r.status_code < 500 and not refused(r),
        CONCERNED: lambda r: r.status_code == 404,
        SIGNED_LINK: lambda r: r.status_code == 400,
    },
}


def test_every_page_answers_visitors_and_citizens_as_its_policy_says(world, citizen):
    urls, _operations, _sockets = all_routes()
    failures = []
    for persona in ("anonymous", "citizen"):
        client = Client()
        if persona == "citizen":
            login(client, citizen)
        session = client.cookies.get("sessionid")
        for route in urls:
            rule_ = _rule_of(route, URLS)
            url = world.path(route)
            assert resolves_to(url, route), f"{route.key}: {url} reaches another route"
            for method in rule_.method_list():
                policy = rule_.policy_of(method)
                response, writes = send(client, method, url)
                if response.status_code == 405:
                    failures.append(f"{route.key}: {method} is refused (405): fix its methods")
                elif not EXPECTED_PAGE[persona][policy](response):
                    failures.append(
                        f"{route.key} [{policy}] {persona} {method} {url}: "
                        f"{response.status_code} {response.get('Location', '')}"
                    )
                if (persona == "anonymous" or policy in ROLES | {OWNER}) and writes:
                    failures.append(f"{route.key}: {persona} {method} changed the data: {writes}")
                if client.cookies.get("sessionid") != session:  # logged out, or in: start over
                    client = Client()
                    if persona == "citizen":
                        login(client, citizen)
                    session = client.cookies.get("sessionid")
    assert not failures, "\n".join(failures)


def test_a_draft_is_answered_like_an_unknown_address_on_every_public_page(client, world, citizen):
    urls, _operations, _sockets = all_routes()
    failures = []
    for route in urls:
        rule_ = _rule_of(route, URLS)
        if "GET" not in rule_.method_list() or rule_.policy_of("GET") != PUBLIC_CONSULTATION:
            continue
        for persona in ("anonymous", "citizen"):
            client.logout()
            if persona == "citizen":
                login(client, citizen)
            draft = client.get(world.path(route, "draft")).status_code
            unknown = client.get(world.path(route, "unknown")).status_code
            if not draft == unknown == 404:
                failures.append(f"{route.key} {persona}: draft {draft}, unknown {unknown}")
    assert not failures, "\n".join(failures)


def test_a_password_only_staff_session_reaches_no_role_page(client, world, staff):
    """Every organiser, moderation and admin route sends it to pass the second factor."""
    urls, _operations, _sockets = all_routes()
    failures = []
    login(client, staff, second_factor=False)
    for route in urls:
        rule_ = _rule_of(route, URLS)
        url = world.path(route)
        for method in rule_.method_list():
            if rule_.policy_of(method) not in ROLES:
                continue
            response, writes = send(client, method, url)
            if not sent_to(response, "mfa_reauthenticate") or writes:
                failures.append(
                    f"{route.key} {method} {url}: {response.status_code} "
                    f"{response.get('Location', '')} {writes}"
                )
    assert not failures, "\n".join(failures)


def _rule_of(route, table):
    entry, _wildcards = entry_for(route.key, table)
    assert entry is not None, f"{route.key} has no entry (see the bookkeeping test)"
    return table[entry]


# --- The API -----------------------------------------------------------------------------


def _json_code(response):
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def test_every_api_operation_answers_as_its_policy_says(world, citizen):
    _urls, operations, _sockets = all_routes()
    _token, secret = create_token(citizen, "meta-test")
    callers = {"anonymous": {}, "citizen": {"Authorization": f"Bearer {secret}"}}
    browser = Client(enforce_csrf_checks=True)
    failures = []
    for route in operations:
        rule_ = _rule_of(route, API)
        method = route.key.split()[0]
        policy = rule_.policy_of(method)
        for persona, headers in callers.items():
            response, writes = send(
                browser,
                method,
                world.path(route),
                data="{}",
                content_type="application/json",
                headers=headers,
            )
            status, code = response.status_code, _json_code(response)
            if policy in (PUBLIC, PUBLIC_CONSULTATION) or (
                policy == LOGIN and persona == "citizen"
            ):
                ok = status == 200
            elif persona == "anonymous":
                ok = status == 401 and code == "login_required"
            elif policy == OWNER:
                ok = status == 403
            elif policy == CONCERNED:  # someone else's decision: as if it did not exist
                ok = status == 404
            else:  # PARTICIPANT, as a verified citizen
                ok = status < 500 and status not in (401, 403)
            if not ok:
                failures.append(f"{route.key} [{policy}] {persona}: {status} {code}")
            if (persona == "anonymous" or policy == OWNER) and writes:
                failures.append(f"{route.key}: {persona} {method} changed the data: {writes}")
        if policy == PUBLIC_CONSULTATION:
            for sample in ("draft", "unknown"):
                response = browser.get(world.path(route, sample))
                if (response.status_code, _json_code(response)) != (404, "not_found"):
                    failures.append(f"{route.key} {sample}: {response.status_code}")
    assert not failures, "\n".join(failures)


# --- The websockets --------------------------------------------------------------------------


async def _answer(path, cookies=None):
    """('accepted', first frame type) or ('closed', close code)."""
    from tests.support.sockets import Socket

    socket = Socket(path, cookies=cookies)
    if not await socket.open():
        return ("refused at the handshake", None)
    await socket.send({"type": "ping"})
    output = await socket.communicator.receive_output(timeout=5)
    await socket.close()
    if output["type"] == "websocket.close":
        return ("closed", output.get("code"))
    return ("accepted", json.loads(output["text"]).get("type"))


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_every_websocket_route_answers_as_its_policy_says(client, make_user):
    from tests.support.sockets import in_thread, session_cookie

    def stage():
        open_ = make_consultation()
        draft = make_consultation(status=Consultation.Status.DRAFT)
        citizen = make_user("camille@example.org")
        return open_, draft, session_cookie(client, citizen)

    open_, draft, citizen_cookie = await in_thread(stage)()
    samples = {"open": open_.slug, "draft": draft.slug, "unknown": "nowhere-to-be-found"}
    failures = []
    for route in websocket_routes(websocket_urlpatterns):
        policy = _rule_of(route, WEBSOCKETS).policy_of("CONNECT")
        for persona, cookies in (("anonymous", None), ("citizen", citizen_cookie)):
            answers = {
                sample: await _answer(fill(route.pattern, {"slug": slug}), cookies)
                for sample, slug in samples.items()
            }
            opened = answers["open"]
            if policy in (PUBLIC, PUBLIC_CONSULTATION) or (policy == LOGIN and cookies):
                ok = opened[0] == "accepted"
                if policy == PUBLIC_CONSULTATION:
                    ok = ok and opened[1] == "snapshot"
            else:
                ok = opened[0] == "closed" and opened[1] in (4403, 4404)
            if not ok:
                failures.append(f"{route.key} [{policy}] {persona} open consultation: {opened}")
            if "<slug" in route.pattern and policy != PUBLIC:
                # As the pages answer 404 for both: another answer would tell a draft exists.
                draft_answer, unknown_answer = answers["draft"], answers["unknown"]
                if draft_answer != unknown_answer or draft_answer[0] != "closed":
                    failures.append(
                        f"{route.key} {persona}: draft {draft_answer}, unknown {unknown_answer}"
                    )
    assert not failures, "\n".join(failures)
