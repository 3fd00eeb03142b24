"""schemathesis over the contract's openapi.yaml, and over each app's own API description
(`<app>/openapi.yaml`: votr's polls, the Sanic starter's notes), against the served app.

Schema-valid requests (positive) must get a documented status, content type and body;
schema-violating ones (negative) must never get a 5xx. Bounded: EXAMPLES per operation and
mode, no shrinking (the first failing request is reported as sent).
"""

from __future__ import annotations

import time
from pathlib import Path

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import record
from harness.http import leaks
from harness.tolerances import traceback_in

CONTRACT = Path(__file__).parent / "contract" / "openapi.yaml"
EXAMPLES = 25
CHECKS = {
    GenerationMode.POSITIVE: [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    GenerationMode.NEGATIVE: [not_a_server_error],
}


def descriptions(spec) -> list[Path]:
    own = Path(spec.path) / "openapi.yaml"
    return [CONTRACT, own] if own.exists() else [CONTRACT]


def exercise(operation, mode: GenerationMode, base_url: str, session: requests.Session, sent: list) -> None:
    """EXAMPLES generated requests for one operation; raises on the first failing one."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        response = case.call(base_url=base_url, session=session, timeout=10)
        sent.append(response.status_code)
        case.validate_response(response, checks=CHECKS[mode])
        assert not leaks(response.text), response.text[:300]

    check()


def test_openapi_descriptions_hold(spec, served):
    failures: list[str] = []
    sent: list[int] = []
    log_start = len(served.output())
    with requests.Session() as session:
        for description in descriptions(spec):
            schema = schemathesis.openapi.from_path(description)
            for result in schema.get_all_operations():
                operation = result.ok()
                for mode in CHECKS:
                    try:
                        exercise(operation, mode, served.url, session, sent)
                    except Unsatisfiable:
                        continue  # nothing schema-violating to send (e.g. no parameters at all)
                    # schemathesis raises its check failures as an exception group.
                    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every operation is tried
                        failures.append(
                            f"{description.parent.name}/{description.name} {operation.label} ({mode.value}): {str(exc)[:1500]}"
                        )
    record(spec, "schemathesis_requests", len(sent))
    time.sleep(0.3)  # the log line of the last request
    logged = traceback_in(served.output()[log_start:])
    if logged:
        failures.append(f"the process log has a traceback (contract must-have 8):\n{logged}")
    assert not failures, f"{len(failures)} operation(s) failed:\n" + "\n\n".join(failures)
    assert len(sent) >= EXAMPLES
