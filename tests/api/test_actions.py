"""Actions that change state are applied exactly once, even when the answer is lost after
the server applied them and the client retries (Idempotency-Key, one per logical action)."""

from __future__ import annotations

import pytest

from tasktui.api import RetryPolicy, ServerError, TaskClient
from tasktui.domain import AuditStatus, OperatorStatus, TaskQuery
from tasktui.testing import Fault

#: Faults that strike AFTER the server applied the request: only the answer is lost.
LOST_ANSWERS = [
    Fault.error(500, forward=True, match="POST"),
    Fault.error(503, forward=True, match="POST"),
    Fault.drop("before", forward=True, match="POST"),
    Fault.drop("headers", match="POST"),
    Fault.drop("body", match="POST"),
    Fault.truncate(match="POST"),
    Fault.garbage(forward=True, match="POST"),
    Fault.html(forward=True, match="POST"),
    Fault.rate_limit(0, match="POST"),
]


async def _some(client: TaskClient, query: TaskQuery, n: int) -> list[str]:
    page = await client.list_tasks(query, limit=n)
    assert len(page.tasks) == n
    return [t.task_id for t in page.tasks]


async def test_each_fix_under_faults_adds_exactly_one_prior_response(server, proxy_for, fast_retry):
    proxy = await proxy_for(server)
    async with TaskClient(server.url, server.api_key) as direct, \
            TaskClient(proxy.url, server.api_key, retry=fast_retry) as c:
        [tid] = await _some(direct, TaskQuery(audit_statuses=frozenset({AuditStatus.READY_TO_AUDIT})), 1)
        start = len((await direct.get_task(tid)).prior_responses)
        for i, fault in enumerate(LOST_ANSWERS, 1):
            proxy.script(fault)
            fixed = await c.fix(tid, {"fix_number": i}, comments=f"fix {i}")
            assert fixed.response == {"fix_number": i}
            truth = await direct.get_task(tid)
            assert len(truth.prior_responses) == start + i, fault
            assert truth.response == {"fix_number": i} and truth.audit_status is AuditStatus.FIXED
            assert truth.customer_review_comments[-1] == f"fix {i}"
            assert len(truth.customer_review_comments) == i  # the comment too, once
    # every fault met a retry of the same request, which the server answered by replay
    assert proxy.scripted_left == 0 and proxy.stats.faults == len(LOST_ANSWERS)
    assert proxy.stats.forwarded >= 2 * len(LOST_ANSWERS) - 2  # (429 and plain 500s are not forwarded)


async def test_fixes_under_random_faults_are_each_applied_once(server, proxy_for, fast_retry):
    proxy = await proxy_for(server, seed=99, rate=0.5, kinds=tuple(LOST_ANSWERS), rate_match="POST")
    async with TaskClient(server.url, server.api_key) as direct, \
            TaskClient(proxy.url, server.api_key, retry=fast_retry) as c:
        [tid] = await _some(direct, TaskQuery(audit_statuses=frozenset({AuditStatus.READY_TO_AUDIT})), 1)
        start = len((await direct.get_task(tid)).prior_responses)
        for i in range(12):
            await c.fix(tid, {"round": i})
        truth = await direct.get_task(tid)
    assert len(truth.prior_responses) == start + 12
    assert [r.get("round") for r in truth.prior_responses[start + 1:]] == list(range(11))
    assert proxy.stats.faults >= 3


async def test_cancel_and_audits_under_faults_apply_once(server, proxy_for, fast_retry):
    proxy = await proxy_for(server)
    async with TaskClient(server.url, server.api_key) as direct, \
            TaskClient(proxy.url, server.api_key, retry=fast_retry) as c:
        queued = await _some(direct, TaskQuery(statuses=frozenset({OperatorStatus.QUEUED})), 4)
        for tid, fault in zip(queued, LOST_ANSWERS[2:6]):
            proxy.script(fault)
            # a second cancel would be refused (400): success means it was applied once
            task = await c.cancel(tid)
            assert task.operator_status is OperatorStatus.CANCELED
        [tid] = await _some(direct, TaskQuery(audit_statuses=frozenset({AuditStatus.READY_TO_AUDIT})), 1)
        proxy.script(Fault.drop("body", match="POST"))
        await c.accept(tid, "looks right")
        proxy.script(Fault.error(502, forward=True, match="POST"))
        await c.reject(tid, "on second look, no")
        truth = await direct.get_task(tid)
    assert truth.customer_review_comments == ["looks right", "on second look, no"]
    assert [a["audit_result"] for a in truth.audits][-2:] == ["accepted", "rejected"]
    assert truth.audit_status is AuditStatus.REJECTED


async def test_without_idempotency_a_lost_answer_is_not_retried(server, proxy_for):
    """Against a server that does not advertise idempotency (the real API), a POST whose
    answer was lost is not sent again: it may have been applied."""
    proxy = await proxy_for(server)
    policy = RetryPolicy(max_attempts=5, base_delay=0.001, max_delay=0.01)
    async with TaskClient(server.url, server.api_key) as direct, \
            TaskClient(proxy.url, server.api_key, retry=policy, ignore_extensions=True) as plain:
        [tid] = await _some(direct, TaskQuery(audit_statuses=frozenset({AuditStatus.READY_TO_AUDIT})), 1)
        proxy.script(Fault.error(500, forward=True, match="POST"))
        with pytest.raises(ServerError) as ei:
            await plain.accept(tid, "once")
        assert ei.value.attempts == 1
        # a refusal that proves nothing was applied (429 / connect failure) is retried
        proxy.script(Fault.rate_limit(0, match="POST"))
        await plain.accept(tid, "twice")
        truth = await direct.get_task(tid)
    assert truth.customer_review_comments == ["once", "twice"]
