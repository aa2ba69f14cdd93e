"""The count of open and overdue items in the navigation bar (处室待办),
for users who belong to a division: a context processor.

Which divisions the user belongs to is read when they sign in and again
whenever they open /work/, and kept in the session, so other pages cost no
query for it and a user in no division never pays for the count.
"""

from memo_registry.services import work, work_tally

SESSION_KEY = "_work_divisions"


def remember_divisions(request, ids: list[int]) -> list[int]:
    """Keep the user's division ids in the session (written only when they changed)."""
    session = getattr(request, "session", None)
    entry = {"user": request.user.pk, "ids": list(ids)}
    if session is not None and session.get(SESSION_KEY) != entry:
        session[SESSION_KEY] = entry
    return list(ids)


def on_sign_in(sender, request, user, **kwargs):
    """user_logged_in: read the user's divisions once."""
    if request is not None and getattr(request, "session", None) is not None:
        ids = list(work.member_divisions(user).values_list("pk", flat=True))
        request.session[SESSION_KEY] = {"user": user.pk, "ids": ids}


def user_division_ids(request) -> list[int]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    session = getattr(request, "session", None)
    cached = session.get(SESSION_KEY) if session is not None else None
    if cached and cached.get("user") == user.pk:
        return cached["ids"]
    return remember_divisions(
        request, list(work.member_divisions(user).values_list("pk", flat=True))
    )


def nav_counts(request):
    """The user's divisions' open and overdue items, once per request
    (None for a user in no division)."""
    if not hasattr(request, "_work_counts"):
        ids = user_division_ids(request)
        request._work_counts = work_tally.counts(ids) if ids else None
    return request._work_counts


def work_counts(request):
    """Context processor: ``work_counts`` (lazily: only a page that shows it asks)."""
    return {"work_counts": lambda: nav_counts(request)}
