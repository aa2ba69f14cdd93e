"""``make bench``, issue 16: the embedded check through an API key, next to
the floor answering through the same key authentication.

An approval system's key (``checks:write``) posts ``POST /api/checks/`` for
enterprises of the loaded listings (a million by default) over HTTP against
the same gunicorn; ``/bench/check-floor/`` answers a constant through the
same view class, authentication (the key), permission and throttle.  Each
check is a real one: it reads the subject's status and writes its Check and
its 查询记录.  ``check_vs_floor`` is the ratio of requests per second.
"""

import json


def check_figures(bench, codes: list[str]) -> dict:
    from bench.load import hammer
    from memo_registry.clients.models import ClientKey

    _, key = ClientKey.objects.create_key(name="基准审批系统", scopes=["checks:write"])
    headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
    bodies = [
        json.dumps(
            {
                "code": code,
                "matter_code": "BENCH-1",
                "matter_name": "基准事项",
                "department": "基准",
            },
            ensure_ascii=False,
        ).encode()
        for code in codes
    ]

    def run(path: str, requests: int, concurrency: int, ok: int):
        hammer(bench.port, [path], headers=headers, concurrency=concurrency,
               requests=min(100, requests), method="POST", bodies=bodies, ok=ok)  # fmt: skip
        return bench.summary(
            hammer(bench.port, [path], headers=headers, concurrency=concurrency,
                   requests=requests, seconds=60, method="POST", bodies=bodies, ok=ok)
        )  # fmt: skip

    requests = max(bench.requests // 4, 100)
    check = run("/api/checks/", requests, bench.concurrency, 201)
    floor = run("/bench/check-floor/", requests, bench.concurrency, 201)
    single = run("/api/checks/", max(requests // 4, 50), 1, 201)
    floor_single = run("/bench/check-floor/", max(requests // 4, 50), 1, 201)
    return {
        "check_rps": check["rps"],
        "check_p95_ms": check["p95_ms"],
        "check_floor_rps": floor["rps"],
        "check_vs_floor": round(check["rps"] / floor["rps"], 2),
        "check_c1_p50_ms": single["p50_ms"],
        "check_floor_c1_p50_ms": floor_single["p50_ms"],
    }
