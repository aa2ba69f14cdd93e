"""The admin of every model that needs more than its own app: the memoranda
with their measures inline and the spreadsheet import (memos), subjects and
listings with the look-up records and masking (subjects), divisions and
feedback (measures), users and groups (users), and the optimistic lock they
share (concurrency).  Django's autodiscover imports this package, which
registers them all; the apps' own admin modules register only what needs
nothing above them (memos/admin.py).
"""

from memo_registry.admin import measures, memos, subjects, users  # noqa: F401
