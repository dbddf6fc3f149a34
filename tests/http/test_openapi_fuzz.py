"""schemathesis against the Worker: generated requests for every documented operation, each
response checked against the OpenAPI document (docs/openapi.md, docs/reliability.md).

`make test` runs FUZZ_CASES=300 cases in all (derandomised, so CI sees the same cases each run);
`make fuzz` runs FUZZ_CASES=10000 with fresh randomness and writes its figures to FUZZ_REPORT.
Two thirds of each operation's cases are valid per the document, one third invalid (negative
mode). Every failure is collected rather than stopping at the first, so one run lists them all.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from tests.http import openapi_contract

CASES = int(os.environ.get("FUZZ_CASES", "300"))
# ~10 cases a second on the local runtime; the suite's 120 s default would cut a long run short.
pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(max(300, CASES))]
SLOW_S = 10.0
MAX_ROUNDS = 1000  # runs of one operation, to reach its share of cases
# A 500 is a crash (`app.handle`'s last resort); 502/504 are Workers AI failures the Worker
# handled and documents, counted in the report and looked into, but not failures of the Worker.
CHECKS = (
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)


def _rss_kib(pid: int | None) -> int | None:
    """The runtime's resident set (local runtime only), from /proc."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _example(case: Any, response: requests.Response) -> str:
    sent = case.body if case.body is not None else case.query
    return f"  sent: {json.dumps(sent, default=repr)[:300]}\n  answer: {response.text[:300]}"


class Tally:
    """What the run saw: cases, statuses, the slowest responses, every distinct failure."""

    def __init__(self) -> None:
        self.cases = 0
        self.probes = 0  # requests with undocumented methods (`_probe_methods`)
        self.statuses: Counter[int] = Counter()
        self.server_errors = 0
        self.slow: list[str] = []
        self.max_s = 0.0
        self.failures: dict[str, str] = {}  # distinct (operation, check, status) -> example
        self.upstream_failures: dict[str, str] = {}  # 502/504: one example per operation

    def record(self, case: Any, response: requests.Response, elapsed: float, checks) -> None:
        self.cases += 1
        self.statuses[response.status_code] += 1
        self.max_s = max(self.max_s, elapsed)
        label = f"{case.method} {case.path}"
        if elapsed > SLOW_S:
            self.slow.append(f"{label}: {elapsed:.1f} s")
        if response.status_code in (502, 504):
            self.upstream_failures.setdefault(
                f"{label} {response.status_code}", _example(case, response)
            )
        if response.status_code == 500:
            self.server_errors += 1
            self.failures.setdefault(f"{label} 500", _example(case, response))
        try:
            case.validate_response(response, checks=checks)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = f"{label} [{failure.title}] {response.status_code}"
                self.failures.setdefault(
                    key, f"{failure.message[:300]}\n{_example(case, response)}"
                )


# Methods no route has: each documented path must answer 405 with `Allow`.
OTHER_METHODS = ("PUT", "PATCH", "DELETE", "PURGE", "PROPFIND", "TRACE")


def _probe_methods(run: Tally, base_url: str, headers: dict, paths: list[str]) -> None:
    """Each documented path with each method it does not have: a 405 in OpenAI's shape."""
    for path in paths:
        allowed = set(openapi_contract.document()["paths"][path])
        for method in OTHER_METHODS:
            if method.lower() in allowed:
                continue
            url = base_url + path.replace("{model}", "gpt-4o").replace("{key}", "abc.png")
            response = requests.request(method, url, headers=headers, timeout=30)
            run.probes += 1
            run.statuses[response.status_code] += 1
            problems = openapi_contract.violations(
                method, url, response.status_code, response.headers.get("content-type"),
                response.content,
            )  # fmt: skip
            if response.status_code != 405 or "allow" not in response.headers or problems:
                run.failures.setdefault(
                    f"{method} {path} {response.status_code}", f"{problems} {response.text[:300]}"
                )


def _run_operation(
    operation: Any, mode: GenerationMode, count: int, run: Tally, headers: dict, base_url: str
) -> int:
    """Up to `count` cases of `operation` in `mode`; how many ran."""
    checks = [getattr(schemathesis.checks, name) for name in CHECKS]
    before = run.cases

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize="FUZZ_CASES" not in os.environ,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def one(case: Any) -> None:
        started = time.monotonic()
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        run.record(case, response, time.monotonic() - started, checks)

    # Unsatisfiable: negative mode, on an operation without inputs to make invalid.
    with contextlib.suppress(Unsatisfiable):
        one()
    return run.cases - before


def test_generated_requests_conform_to_the_document(request, base_url, api_key):
    # The served document, loaded as a dict: `from_url` would leave its own URL out.
    document = requests.get(base_url + "/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    worker = None if os.environ.get("WORKER_BASE_URL") else request.getfixturevalue("worker")
    pid = worker.proc.pid if worker else None
    rss_before = _rss_kib(pid)
    run = Tally()
    headers = {"Authorization": f"Bearer {api_key}"}
    per_operation = -(-CASES // len(operations))
    started = time.monotonic()
    counts: dict[str, int] = {}
    for operation in operations:
        # A third invalid; an operation with nothing to make invalid gets valid cases instead.
        done = _run_operation(
            operation, GenerationMode.NEGATIVE, per_operation // 3, run, headers, base_url
        )
        # Hypothesis ends a run early once it has seen every distinct input (an operation
        # without parameters has one); later runs repeat them, as a client would.
        for _ in range(MAX_ROUNDS):
            if done >= per_operation:
                break
            done += _run_operation(
                operation, GenerationMode.POSITIVE, per_operation - done, run, headers, base_url
            )
        counts[f"{operation.method.upper()} {operation.path}"] = done
    _probe_methods(run, base_url, headers, list(openapi_contract.document()["paths"]))
    seconds = time.monotonic() - started
    health = requests.get(base_url + "/health", timeout=10)
    report = {
        "cases": run.cases,
        "operations": len(operations),
        "cases_per_operation": counts,
        "method_probes": run.probes,
        "seconds": round(seconds, 1),
        "cases_per_s": round((run.cases + run.probes) / seconds, 1),
        "statuses": dict(sorted(run.statuses.items())),
        "unhandled_5xx": run.server_errors,
        "slowest_s": round(run.max_s, 2),
        "slower_than_10s": run.slow,
        "failures": run.failures,
        "upstream_failures": run.upstream_failures,
        "health_after": health.status_code,
        "rss_kib_before": rss_before,
        "rss_kib_after": _rss_kib(pid),
    }
    if os.environ.get("FUZZ_REPORT"):
        Path(os.environ["FUZZ_REPORT"]).write_text(json.dumps(report, indent=2) + "\n")
    assert health.status_code == 200
    assert not run.slow, run.slow
    assert not run.failures, "\n".join(f"{k}: {v}" for k, v in run.failures.items())
    assert run.cases >= CASES, report
