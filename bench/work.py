"""``make bench``, issue 14: the work list (/work/) and the statistics
(/stats/) on the listings the run has loaded (a million by default).

A clerk of the division with the most measures in the current list opens
/work/ (its items, overdue first, 50 a page) and the head opens /stats/;
each is asked a few times and the median kept, with /work/'s queries
counted.  ``work_vs_api_memos`` compares /work/ with /api/memos/ at 1,000
memos (``list_pages`` measured it).
"""

import statistics
import time


def work_figures(api_memos_ms: float | None) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.db.models import Count, Q
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from measures.models import Division

    division = (
        Division.objects.annotate(
            n=Count("measures", filter=Q(measures__memo__responsibility_list__is_current=True))
        )
        .order_by("-n", "pk")
        .first()
    )
    user, _ = get_user_model().objects.get_or_create(username="bench_clerk")
    user.groups.add(Group.objects.get(name="查阅"))
    division.members.add(user)
    client = Client()
    client.force_login(user)

    def timed(path: str, runs: int):
        client.get(path)  # warm: the process's caches, PostgreSQL's buffers
        times, queries = [], 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
            queries = len(captured)
        return round(statistics.median(times), 1), queries

    work_ms, work_queries = timed("/work/", 5)
    stats_ms, _ = timed("/stats/", 3)
    figures = {
        "work_ms": work_ms,
        "work_queries": work_queries,
        "work_division": division.name,
        "stats_ms": stats_ms,
    }
    if api_memos_ms:
        figures["work_vs_api_memos"] = round(work_ms / api_memos_ms, 2)
    return figures
