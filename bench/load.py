"""A small, bounded HTTP load generator: a fixed number of threads on loopback.

Each thread keeps one HTTP/1.1 connection open (gunicorn's gthread workers
keep it alive) and sends GET requests one after another, so ``concurrency``
requests are in flight at any moment.  It stops after ``requests`` requests
or ``seconds`` seconds, whichever comes first.  Latency is measured at the
client, from sending the request to reading the last byte of the answer.
"""

import http.client
import itertools
import threading
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, of answers served (200)
    errors: dict[int | str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies) + sum(self.errors.values())

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def hammer(
    port: int,
    paths: list[str],
    *,
    headers: dict[str, str],
    concurrency: int = 8,
    requests: int = 2000,
    seconds: float = 20.0,
    method: str = "GET",
    bodies: list[bytes] | None = None,
    ok: int = 200,
) -> LoadResult:
    """GET ``paths`` (in turn) from 127.0.0.1:``port``; or send ``method`` with
    ``bodies`` (in turn), counting answers with status ``ok`` as served."""
    result = LoadResult()
    counter = itertools.count()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies: list[float] = []
        errors: dict[int | str, int] = {}
        while True:
            number = next(counter)
            if number >= requests or time.perf_counter() > deadline:
                break
            path = paths[number % len(paths)]
            started = time.perf_counter()
            try:
                body = bodies[number % len(bodies)] if bodies else None
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                status = type(error).__name__
            if status == ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors[status] = errors.get(status, 0) + 1
        connection.close()
        with lock:
            result.latencies.extend(latencies)
            for key, count in errors.items():
                result.errors[key] = result.errors.get(key, 0) + count

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result
