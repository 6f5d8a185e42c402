"""The pinned schema's package: cheap to import, every model builds, and forward compatible."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from conftest import REPO
from pydantic import TypeAdapter, ValidationError
from test_fixtures import build_everything

import codex_app_server_types as pkg
from codex_app_server_types import v2
from codex_app_server_types._base import UnknownVariant, WireEnum


def test_importing_the_package_builds_no_model() -> None:
    code = "import sys, codex_app_server_types; print(sorted(m for m in sys.modules if m.startswith('codex_app_server_types')))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert json.loads(out.replace("'", '"')) == ["codex_app_server_types"]


def test_every_model_builds() -> None:
    assert build_everything("codex_app_server_types") > 1000


def notification(value: Any) -> Any:
    return TypeAdapter(pkg.ServerNotification).validate_python(value)


def dump(value: Any) -> Any:
    return TypeAdapter(pkg.ServerNotification).dump_python(value, mode="json", by_alias=True, exclude_unset=True)


def test_unknown_method_is_kept() -> None:
    raw = {"method": "thread/teleported", "params": {"threadId": "t", "to": "mars"}, "emittedAtMs": 3}
    n = notification(raw)
    assert isinstance(n, UnknownVariant)
    assert dump(n) == raw


def test_unknown_thread_item_inside_a_notification() -> None:
    raw = {
        "method": "item/completed",
        "params": {
            "threadId": "t",
            "turnId": "u",
            "completedAtMs": 7,
            "item": {"type": "hologram", "id": "i", "startedAtMs": 1, "beams": [{"color": "red"}]},
            "futureTopLevel": True,
        },
    }
    n = notification(raw)
    assert isinstance(n, pkg.ItemCompletedNotification)
    assert isinstance(n.params.item, UnknownVariant)
    assert n.params.item.model_extra == {"id": "i", "beams": [{"color": "red"}]}
    assert n.params.item.started_at_ms == 1
    assert n.params.model_extra == {"futureTopLevel": True}
    assert dump(n) == raw


def test_unknown_fields_at_several_depths_are_kept() -> None:
    raw = {
        "type": "agentMessage",
        "id": "i",
        "text": "hi",
        "newTopLevel": 1,
        "memoryCitation": {"entries": [], "threadIds": [], "newNested": {"x": [None]}},
    }
    item = TypeAdapter(v2.ThreadItem).validate_python(raw)
    assert isinstance(item, v2.AgentMessageThreadItem)
    assert item.text == "hi"
    assert item.model_extra == {"newTopLevel": 1}
    assert item.memory_citation is not None and item.memory_citation.model_extra == {"newNested": {"x": [None]}}
    assert TypeAdapter(v2.ThreadItem).dump_python(item, mode="json", exclude_unset=True) == raw


def test_unknown_enum_value_is_kept() -> None:
    status = v2.TurnStatus("paused")
    assert isinstance(status, WireEnum) and status.is_unknown() and status.value == "paused"
    assert not v2.TurnStatus("completed").is_unknown()
    assert v2.TurnStatus("completed") is v2.TurnStatus.COMPLETED


def test_enums_print_as_on_the_wire() -> None:
    for status in (v2.TurnStatus.COMPLETED, v2.TurnStatus("paused")):
        assert str(status) == f"{status}" == "%s" % status == status.value
        assert f"{status:>12}" == f"{status.value:>12}"
    assert repr(v2.TurnStatus.COMPLETED) == "<TurnStatus.COMPLETED: 'completed'>"


def test_absent_and_null_stay_apart() -> None:
    absent = v2.ThreadMetadataGitInfoUpdateParams.model_validate({})
    null = v2.ThreadMetadataGitInfoUpdateParams.model_validate({"branch": None})
    assert absent.model_dump() == {}
    assert null.model_dump() == {"branch": None}
    assert null.model_dump_json() == '{"branch":null}'


def test_snake_case_in_code_wire_names_on_the_wire() -> None:
    by_name = v2.ThreadMetadataGitInfoUpdateParams(origin_url="u")
    by_alias = v2.ThreadMetadataGitInfoUpdateParams.model_validate({"originUrl": "u"})
    assert by_name.origin_url == by_alias.origin_url == "u"
    assert by_name.model_dump() == by_alias.model_dump() == {"originUrl": "u"}


def test_constructed_variants_carry_their_tag() -> None:
    item = v2.AgentMessageThreadItem(id="i", text="t")
    assert item.model_dump() == {"type": "agentMessage", "id": "i", "text": "t"}
    assert item.model_dump_json() == '{"type":"agentMessage","id":"i","text":"t"}'


def test_errors_in_a_known_variant_name_it() -> None:
    with pytest.raises(ValidationError) as e:
        TypeAdapter(v2.ThreadItem).validate_python({"type": "agentMessage", "id": "i"})
    assert "agentMessage.text" in str(e.value)


def test_a_variant_that_is_a_union_is_picked_by_its_tag() -> None:
    # `imageGeneration` items are one of two classes sharing the tag (a flattened object); the union still
    # dispatches on the tag in pydantic-core, from JSON text as from Python data.
    adapter = TypeAdapter(v2.ThreadItem)
    file_id = {"type": "imageGeneration", "id": "i", "status": "done", "fileId": "f"}
    result = {"type": "imageGeneration", "id": "i", "status": "done", "result": "r"}
    assert isinstance(adapter.validate_json(json.dumps(file_id)), v2.FileIdThreadItem)
    assert isinstance(adapter.validate_python(result), v2.ResultThreadItem)
    for raw in (file_id, result):
        assert adapter.dump_python(adapter.validate_json(json.dumps(raw)), mode="json", exclude_unset=True) == raw
    # By field name, and as an instance.
    by_name = adapter.validate_python({"type_": "agentMessage", "id": "i", "text": "t"})
    assert isinstance(by_name, v2.AgentMessageThreadItem)
    assert adapter.validate_python(by_name) is by_name
    unknown = adapter.validate_json('{"type":"hologram","id":"i"}')
    assert isinstance(unknown, v2.UnknownThreadItem) and unknown.type_ == "hologram"


def test_json_is_dispatched_by_the_wire_name_alone() -> None:
    # A property named like the tag's field (`type_`) is only an undeclared property on the wire.
    raw = {"type": "agentMessage", "id": "i", "text": "t", "type_": "plan"}
    adapter = TypeAdapter(v2.ThreadItem)
    item = adapter.validate_json(json.dumps(raw))
    assert isinstance(item, v2.AgentMessageThreadItem)
    assert item.model_extra == {"type_": "plan"}
    assert json.loads(adapter.dump_json(item, exclude_unset=True)) == raw


def test_integer_formats_are_bounded() -> None:
    adapter = TypeAdapter(v2.ItemCompletedNotification)
    base = {"threadId": "t", "turnId": "u", "item": {"type": "agentMessage", "id": "i", "text": "t"}}
    adapter.validate_python({**base, "completedAtMs": 2**63 - 1})
    with pytest.raises(ValidationError):
        adapter.validate_python({**base, "completedAtMs": 2**63})


def untracked_in_generated() -> list[str]:
    """Files below generated/ that git neither tracks nor ignores: what the drift check would call not generated."""
    out = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard", "generated"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    return out.splitlines()


def test_the_package_installs_from_generated_and_leaves_it_as_generated(tmp_path: Any) -> None:
    before = untracked_in_generated()
    source = REPO / "generated" / "python"
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(source)],
        check=True,
    )
    assert (target / "codex_app_server_types" / "py.typed").exists()
    # Every module is installed, the `_models` subpackages included.
    package = source / "codex_app_server_types"
    modules = sorted(p.relative_to(package) for p in package.rglob("*.py"))
    assert len(modules) > 100
    installed = sorted(p.relative_to(target / "codex_app_server_types") for p in target.glob("codex_app_server_types/**/*.py"))
    assert installed == modules
    # The build wrote nothing into the source folder that the drift check (`generate-types --check`) would see.
    assert untracked_in_generated() == before
