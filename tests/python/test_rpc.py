"""The generated RPC surface (`codex_app_server_types.rpc`) on the pinned schema: the tables hold every
method of the schema, messages decode into their types and encode back unchanged, the typed methods send
exactly the params asked for, and the handlers answer with the right envelope."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from conftest import REPO
from pydantic import ValidationError

import codex_app_server_types as pkg
from codex_app_server_types import rpc, v2
from codex_app_server_types._base import UnknownVariant

SCHEMA = json.loads((REPO / "schema" / "codex_app_server_protocol.schemas.json").read_text())


def methods_in_schema(union: str) -> list[str]:
    """The methods of one message union, read straight from the schema JSON."""
    return [v["properties"]["method"]["enum"][0] for v in SCHEMA["definitions"][union]["oneOf"]]


@pytest.mark.parametrize(
    ("table", "union"),
    [
        (rpc.CLIENT_REQUESTS, "ClientRequest"),
        (rpc.CLIENT_NOTIFICATIONS, "ClientNotification"),
        (rpc.SERVER_REQUESTS, "ServerRequest"),
        (rpc.SERVER_NOTIFICATIONS, "ServerNotification"),
    ],
)
def test_tables_list_every_method_in_schema_order(table: Any, union: str) -> None:
    assert list(table) == methods_in_schema(union)
    assert all(spec.method == method for method, spec in table.items())


def test_every_request_has_a_result_type_that_builds() -> None:
    for spec in [*rpc.CLIENT_REQUESTS.values(), *rpc.SERVER_REQUESTS.values()]:
        assert spec.response is not None, spec.method
        spec.response_adapter.core_schema  # noqa: B018 - builds the validator
        if spec.params is not None:
            spec.params_adapter.core_schema  # noqa: B018
    assert rpc.CLIENT_REQUESTS["thread/start"].response is v2.ThreadStartResponse
    assert rpc.CLIENT_REQUESTS["account/rateLimits/read"].params_optional


def test_every_client_method_has_its_function() -> None:
    for spec in [*rpc.CLIENT_REQUESTS.values(), *rpc.CLIENT_NOTIFICATIONS.values()]:
        assert callable(getattr(rpc.ClientMethods, spec.function)), spec.method
        assert asyncio.iscoroutinefunction(getattr(rpc.AsyncClientMethods, spec.function)), spec.method
    for spec in rpc.SERVER_REQUESTS.values():
        assert callable(getattr(rpc.ServerRequestHandler, spec.function)), spec.method


# -- decoding -------------------------------------------------------------------------------------------------

def test_a_notification_decodes_into_its_class_and_back() -> None:
    line = json.dumps({"method": "turn/started", "params": {"threadId": "t", "turn": {"id": "u", "items": [], "status": "inProgress"}}})
    message = rpc.decode(line)
    assert rpc.is_notification(message)
    assert not rpc.is_server_request(message)
    assert type(message).__name__ == "TurnStartedNotification"
    assert rpc.encode(message) == json.loads(line)


def test_an_unknown_notification_is_kept() -> None:
    raw = {"method": "thread/teleported", "params": {"threadId": "t", "to": [1, None]}, "emittedAtMs": 3, "jsonrpc": "2.0"}
    message = rpc.decode(json.dumps(raw).encode())
    assert isinstance(message, pkg.UnknownServerNotification)
    assert message.method == "thread/teleported"
    assert message.model_extra is not None and message.model_extra["params"] == raw["params"]
    assert rpc.is_notification(message)
    assert rpc.encode(message) == raw


def test_an_unknown_server_request_is_kept_and_answered_method_not_found() -> None:
    raw = {"id": 7, "method": "item/teleport/requestApproval", "params": {"x": None}}
    message = rpc.decode(raw)
    assert isinstance(message, UnknownVariant)
    assert rpc.is_server_request(message)
    assert rpc.encode(message) == raw
    answer = rpc.ServerRequestHandler().handle(message)
    assert answer["id"] == 7
    assert answer["error"]["code"] == rpc.METHOD_NOT_FOUND
    assert "item/teleport/requestApproval" in answer["error"]["message"]


APPROVAL = {
    "id": 0,
    "method": "item/commandExecution/requestApproval",
    "params": {"threadId": "t", "turnId": "u", "itemId": "i", "startedAtMs": 1, "command": "echo hi", "reason": None},
}


def test_a_server_request_decodes_into_its_class() -> None:
    message = rpc.decode(json.dumps(APPROVAL))
    assert isinstance(message, pkg.ItemCommandExecutionRequestApprovalRequest)
    assert rpc.is_server_request(message)
    assert isinstance(message.params, pkg.CommandExecutionRequestApprovalParams)
    assert rpc.encode(message) == APPROVAL


def test_a_response_is_typed_by_the_pending_method() -> None:
    pending = rpc.PendingRequests()
    request = pending.request("account/logout")
    assert request == {"id": 0, "method": "account/logout"}
    other = pending.request("thread/list", v2.ThreadListParams(limit=None, cursor="c"))
    assert other == {"id": 1, "method": "thread/list", "params": {"limit": None, "cursor": "c"}}
    raw = {"id": 1, "result": {"data": [], "nextCursor": None}, "jsonrpc": "2.0"}
    response = rpc.decode(json.dumps(raw), pending)
    assert isinstance(response, rpc.Response)
    assert response.method == "thread/list"
    assert isinstance(response.result, v2.ThreadListResponse)
    assert rpc.encode(response) == raw
    assert 1 not in pending and list(pending) == [0]


def test_a_response_to_an_unknown_id_or_method_keeps_the_raw_result() -> None:
    raw = {"id": "x", "result": {"anything": [1, 2]}}
    response = rpc.decode(raw, rpc.PendingRequests())
    assert isinstance(response, rpc.Response)
    assert response.method is None and response.result == {"anything": [1, 2]}
    assert rpc.encode(response) == raw
    response = rpc.decode(raw, {"x": "future/method"})
    assert isinstance(response, rpc.Response)
    assert response.method == "future/method" and response.result == {"anything": [1, 2]}
    assert rpc.encode(response) == raw


def test_a_null_error_beside_a_result_is_no_error() -> None:
    raw = {"id": 0, "result": {}, "error": None}
    response = rpc.decode(json.dumps(raw), {0: "account/logout"})
    assert isinstance(response, rpc.Response)
    assert response.method == "account/logout"
    assert rpc.encode(response) == raw


def test_an_error_response_is_typed() -> None:
    raw = {"id": 3, "error": {"code": -32600, "message": "bad", "data": None}}
    error = rpc.decode(json.dumps(raw))
    assert isinstance(error, rpc.ErrorResponse)
    assert (error.id, error.error.code, error.error.message, error.error.data) == (3, -32600, "bad", None)
    assert rpc.encode(error) == raw
    exception = rpc.RpcError.from_response(error)
    assert (exception.code, exception.data) == (-32600, None)
    assert rpc.encode_error(3, -32600, "bad", None) == raw
    assert rpc.encode_error(3, -32600, "bad") == {"id": 3, "error": {"code": -32600, "message": "bad"}}


def test_encoders_write_what_the_client_sends() -> None:
    assert rpc.encode_request(4, "thread/start", {"model": None}) == {"id": 4, "method": "thread/start", "params": {"model": None}}
    assert rpc.encode_notification("initialized") == {"method": "initialized"}
    result = pkg.CommandExecutionRequestApprovalResponse(decision="accept")
    assert rpc.encode_response(0, result) == {"id": 0, "result": {"decision": "accept"}}


# -- the typed client surface ---------------------------------------------------------------------------------


class Recorded(Exception):
    """Raised by `Recorder` after recording a request it has no result for."""


class Recorder(rpc.ClientMethods):
    """Records what the typed methods send; answers with the results it is given."""

    def __init__(self, results: dict[str, dict[str, Any]] | None = None) -> None:
        self.sent: list[tuple[str, dict[str, Any] | None]] = []
        self.results = results or {}

    def _request(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        self.sent.append((method, params))
        if method not in self.results:
            raise Recorded
        return self.results[method]

    def _notify(self, method: str, params: dict[str, Any] | None) -> None:
        self.sent.append((method, params))


def test_keyword_arguments_become_exactly_the_wire_params() -> None:
    client = Recorder({"thread/name/set": {}, "thread/list": {"data": []}})
    client.thread_name_set(thread_id="t", name="n")
    # Left out stays out; `None` is sent as null.
    client.thread_list(limit=None, cursor="c")
    client.thread_list()
    with pytest.raises(Recorded):
        client.thread_start(sandbox=v2.SandboxMode.READ_ONLY, model_provider_="p", config={"a": [1]})
    assert client.sent == [
        ("thread/name/set", {"threadId": "t", "name": "n"}),
        ("thread/list", {"limit": None, "cursor": "c"}),
        ("thread/list", {}),
        ("thread/start", {"sandbox": "read-only", "modelProvider": "p", "config": {"a": [1]}}),
    ]


def test_methods_without_params_send_none() -> None:
    client = Recorder({"account/logout": {}})
    client.account_logout()
    with pytest.raises(Recorded):
        client.account_rate_limits_read()
    client.initialized()
    assert client.sent == [("account/logout", None), ("account/rateLimits/read", None), ("initialized", None)]


def test_required_fields_are_required_and_values_are_validated() -> None:
    client = Recorder()
    with pytest.raises(TypeError):
        client.thread_name_set(name="n")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        client.thread_name_set(thread_id=3, name="n")  # type: ignore[arg-type]
    assert client.sent == []


def test_results_are_validated_into_their_type() -> None:
    client = Recorder({"thread/list": {"data": [], "nextCursor": "n", "new": 1}})
    listed = client.thread_list()
    assert isinstance(listed, v2.ThreadListResponse)
    assert listed.next_cursor == "n" and listed.model_extra == {"new": 1}
    client = Recorder({"thread/list": {"data": 3}})
    with pytest.raises(ValidationError):
        client.thread_list()


def test_a_union_params_type_is_taken_whole() -> None:
    client = Recorder()
    with pytest.raises(Recorded):
        client.account_login_start({"type": "apiKey", "apiKey": "k"})
    assert client.sent == [("account/login/start", {"type": "apiKey", "apiKey": "k"})]


def test_the_async_surface_sends_the_same() -> None:
    sent: list[tuple[str, dict[str, Any] | None]] = []

    class AsyncRecorder(rpc.AsyncClientMethods):
        async def _request(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
            sent.append((method, params))
            return {}

        async def _notify(self, method: str, params: dict[str, Any] | None) -> None:
            sent.append((method, params))

    async def main() -> Any:
        client = AsyncRecorder()
        await client.initialized()
        return await client.thread_name_set(thread_id="t", name="n")

    assert asyncio.run(main()) == {}
    assert sent == [("initialized", None), ("thread/name/set", {"threadId": "t", "name": "n"})]


# -- server-request handlers ----------------------------------------------------------------------------------


class Approver(rpc.ServerRequestHandler):
    def item_command_execution_request_approval(
        self, params: pkg.CommandExecutionRequestApprovalParams
    ) -> pkg.CommandExecutionRequestApprovalResponse:
        assert params.command == "echo hi"
        return pkg.CommandExecutionRequestApprovalResponse(decision="accept")

    def item_file_change_request_approval(
        self, params: pkg.FileChangeRequestApprovalParams
    ) -> pkg.FileChangeRequestApprovalResponse:
        raise rpc.RpcError(rpc.INVALID_PARAMS, "no", {"why": None})


def test_the_handler_answers_with_the_response_envelope() -> None:
    request = rpc.decode(APPROVAL)
    assert rpc.is_server_request(request)
    assert Approver().handle(request) == {"id": 0, "result": {"decision": "accept"}}


def test_a_handler_error_and_a_method_not_handled_answer_with_errors() -> None:
    change = {"id": "c", "method": "item/fileChange/requestApproval", "params": {"threadId": "t", "turnId": "u", "itemId": "i", "startedAtMs": 1}}
    request = rpc.decode(change)
    assert rpc.is_server_request(request)
    assert Approver().handle(request) == {"id": "c", "error": {"code": rpc.INVALID_PARAMS, "message": "no", "data": {"why": None}}}
    not_handled = rpc.ServerRequestHandler().handle(rpc.decode(APPROVAL))
    assert not_handled["id"] == 0 and not_handled["error"]["code"] == rpc.METHOD_NOT_FOUND


def test_the_async_handler_dispatches() -> None:
    class AsyncApprover(rpc.AsyncServerRequestHandler):
        async def item_command_execution_request_approval(
            self, params: pkg.CommandExecutionRequestApprovalParams
        ) -> pkg.CommandExecutionRequestApprovalResponse:
            return pkg.CommandExecutionRequestApprovalResponse(decision="decline")

    request = rpc.decode(APPROVAL)
    assert rpc.is_server_request(request)
    assert asyncio.run(AsyncApprover().handle(request)) == {"id": 0, "result": {"decision": "decline"}}


def test_the_rpc_module_is_not_imported_with_the_package() -> None:
    import subprocess
    import sys

    code = "import sys, codex_app_server_types; print('codex_app_server_types.rpc' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"
