"""The demo's fifth prompt, `answer-from-docs` (the search-answer feature): answers from the
help-center articles retrieved for a question, over a long product guide that every call sends
first. Its v3 marks the guide, the format and the examples cacheable (the version F5's savings
view shows realised against potential savings for); prompt_cache_traffic.py gives the feature's
calls requested of Claude its versions (its other models still send the feature's built-in
prompt, without the guide). Data only, like prompt_history.

The guide stays clear of the word "refund": the demo's image call is the newest call that
mentions one (media_call.py), and every search-answer call carries the guide."""

from __future__ import annotations

from llmbench.core.models import Variable
from llmbench.demo.catalog import SONNET
from llmbench.demo.prompt_history import PromptSpec, VersionSpec
from llmbench.demo.traffic_mix import FEATURES_BY_NAME

NAME = "answer-from-docs"
FEATURE = "search-answer"
SERVED_MODEL = SONNET  # the feature's calls requested of this model go through the prompt
CACHED_VERSION = 3
CACHEABLE = ("role", "format", "examples")  # every system section: the request's fixed head
# The feature's own parameters, which its calls were drawn with (max_tokens cut them off).
PARAMS = dict(FEATURES_BY_NAME[FEATURE].params)

PRODUCT_GUIDE = """PRODUCT GUIDE (Northwind, current release)

Plans. Starter is free for up to 5 members and 3 projects. Team adds unlimited projects,
timelines, guests and integrations. Business adds reports, custom fields, workload views and
SAML single sign-on. Enterprise adds the audit log, data residency (EU or US), SCIM
provisioning, a 99.9% uptime commitment and a named success manager. Plans are billed per
member per month; annual billing takes two months off. Changing plan takes effect at once and
the difference is prorated on the next invoice. Invoices are under Settings → Billing, where an
owner can add a VAT number and a billing e-mail.

Workspaces and members. A workspace has owners, admins, members and guests. Owners manage
billing and can delete the workspace; admins manage members, integrations and security
settings; members create and edit projects they belong to; guests see only the projects they
are invited to and never private projects. Seats are counted for owners, admins and members,
not guests. Removing a member keeps their tasks and comments and reassigns their open tasks to
the project owner. A workspace can have up to 5,000 members.

Projects. A project has a list, a board, a timeline and a calendar view of the same tasks.
Private projects are visible only to invited members. Templates copy a project's sections,
tasks, custom fields and automations but not its comments or files. Archived projects are
read-only and do not count towards Starter's project limit. Deleted projects and tasks stay in
the trash for 30 days, then they are purged and cannot be brought back.

Tasks. A task has one assignee, any number of followers, a start and a due date, a priority,
labels, subtasks up to three levels deep, dependencies and attachments of up to 250 MB each.
Recurring tasks repeat daily, weekly, monthly or on custom rules; the next one is created when
the current one is completed. Time entries can be logged on tasks on Team and above; reports
sum them per person, project and label. Custom fields (text, number, date, dropdown, person)
are available on Business and Enterprise.

Automations. Rules run when a task is created, moved, completed or overdue, and can assign,
label, move, comment or notify. Team includes 250 automation runs per member per month,
Business 2,500 and Enterprise an unlimited number. Runs that fail are listed under
Automations → History with the reason.

Integrations. Slack posts task updates to a channel and creates tasks from messages. Jira and
GitHub link issues and pull requests to tasks and sync their status. Google Drive attaches
files that stay in Drive. Salesforce and HubSpot create projects from won deals. An
integration is connected by an admin under Integrations and uses that admin's token: when the
admin leaves or the token expires, the integration pauses and admins get an e-mail. Webhooks
fire on task, comment and project events and are retried for 24 hours.

API. The REST API uses personal access tokens or OAuth apps. It allows 600 requests per
minute per workspace; above that it answers HTTP 429 with a Retry-After header. Pagination
uses cursors; lists return at most 100 items per page. The API changelog lists breaking
changes 90 days ahead.

Security. Two-factor authentication is under Settings → Security, and admins can require it.
SAML single sign-on works with Okta, Azure AD, Google Workspace and OneLogin; once it is
enforced, members sign in only through it, while guests keep passwords. Sessions expire after
30 days, or sooner if an admin sets a shorter limit. Enterprise's audit log, under
Settings → Audit, keeps sign-ins, permission changes, exports and deletions for one year.

Data. Exports (CSV for tasks and time entries, JSON for whole projects) are under
Reports → Export; admins can export every project at once. The importer reads Trello JSON,
Asana CSV and Jira XML, with checklists, labels and assignees matched by e-mail. Data is
encrypted at rest and in transit. Backups are kept for 35 days.

Mobile and desktop. The iOS and Android apps cover tasks, comments, the inbox and time
tracking, and work offline, syncing when back online; reports and automations are web only.
The desktop apps for macOS and Windows are the web app with notifications and shortcuts.

Support. Starter has the help center and community forum; Team and Business have e-mail
support with a reply within one working day; Enterprise has a 4-hour response for urgent
issues and a named success manager. The status page lists incidents and maintenance windows.
"""

_V1 = {
    "role": "You answer Northwind customers' product questions from the help-center articles "
    "retrieved for them.",
    "task": "Articles:\n{{ articles }}\n\nQuestion: {{ question }}",
    "format": "Answer using only the numbered articles. Cite them as [n]. If they do not "
    "answer the question, say so.",
}
_V2 = {
    **_V1,
    "role": "You answer Northwind customers' product questions from the product guide below and "
    f"the help-center articles retrieved for them.\n\n{PRODUCT_GUIDE}",
    "format": "At most 60 words. Cite articles as [n] and the guide as [guide]. If neither "
    "answers the question, say so and offer a human agent.",
    "examples": "Question: Do guests take a seat?\nAnswer: No, guests are free: seats count "
    "owners, admins and members [guide].\n\nQuestion: Why did our Slack updates stop?\n"
    "Answer: The admin who connected Slack probably left or their token expired, which pauses "
    "the integration; another admin can reconnect it under Integrations [guide].",
}

PROMPT = PromptSpec(
    name=NAME,
    description="Help-center answers from the retrieved articles and the Northwind guide "
    "(search-answer feature).",
    tags=("search", "customer-facing"),
    created_days_ago=45,
    variables=(Variable("articles", "retrieved", 2000), Variable("question", "untrusted", 300)),
    versions=(
        VersionSpec(1, 44, "devon.lee", "Answer from the retrieved articles, with citations",
                    "gpt-4o", PARAMS, _V1),
        VersionSpec(2, 38, "devon.lee",
                    "Add the product guide for questions no article covers; Claude",
                    SONNET, PARAMS, _V2, 1),
        VersionSpec(3, 31, "alex.kim",
                    "Mark the guide, format and examples cacheable: the same head on every call",
                    SONNET, PARAMS, _V2, 2, CACHEABLE),
    ),
    moves=(
        ("production", 1, 43, "devon.lee"),
        ("staging", 2, 38, "devon.lee"),
        ("production", 2, 36, "devon.lee"),
        ("staging", 3, 31, "alex.kim"),
        ("production", 3, 29.5, "alex.kim"),
    ),
    notes=(
        ("lesson", 2, 35, "devon.lee",
         "With the guide in the prompt, 'no article answers this' dropped from 22% to 6% of "
         "answers, but every call now sends about 1,500 more tokens."),
        ("pattern", 3, 29, "alex.kim",
         "Keep everything that varies (articles, question) after the cached head: one changed "
         "character in the head and the provider writes the cache again."),
        ("model-quirk", None, 20, "alex.kim",
         "Claude's cache lasts 5 minutes after its last use: overnight every first call writes "
         "it again, so realised savings trail the potential on quiet hours."),
    ),
)  # fmt: skip
