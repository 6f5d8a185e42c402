"""What the client answers an approval request nobody handles: a refusal its result type accepts, never an
approval; everything else is left to "method not found"."""

from __future__ import annotations

import pytest
from codex_app_server_types import rpc
from codex_app_server_types.client._common import decline
from codex_app_server_types.client._generated import DECLINES


def test_every_refusal_is_a_result_of_its_request() -> None:
    assert set(DECLINES) <= set(rpc.SERVER_REQUESTS)
    for method, result in DECLINES.items():
        rpc.SERVER_REQUESTS[method].response_adapter.validate_python(result)


@pytest.mark.parametrize(
    ("method", "result"),
    [
        ("item/commandExecution/requestApproval", {"decision": "decline"}),
        ("item/fileChange/requestApproval", {"decision": "decline"}),
        ("mcpServer/elicitation/request", {"action": "decline"}),
        ("item/permissions/requestApproval", {"permissions": {}}),
        ("execCommandApproval", {"decision": "abort"}),
    ],
)
def test_approvals_are_refused(method: str, result: dict[str, object]) -> None:
    assert decline(method) == result


def test_other_requests_and_unknown_methods_are_not_answered_with_a_refusal() -> None:
    assert decline("item/tool/requestUserInput") is None
    assert decline("zz/approve") is None


def test_a_refusal_handed_out_cannot_change_the_table() -> None:
    first = decline("item/permissions/requestApproval")
    assert first is not None
    first["permissions"]["network"] = {"enabled": True}
    assert decline("item/permissions/requestApproval") == {"permissions": {}}
