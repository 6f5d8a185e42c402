"""Which `codex` the client runs, and which version it reports: the package's one version."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import codex_app_server_types
import pytest
from codex_app_server_types.client import CodexConfig, CodexError
from conftest import REPO, codegen_binary


def test_the_package_version_is_its_codex_release_and_the_client_reports_it() -> None:
    pyproject = Path(codex_app_server_types.__file__).parent.parent / "pyproject.toml"
    assert (
        f'\nversion = "{codex_app_server_types.__version__}"\n' in pyproject.read_text()
    )
    assert (
        codex_app_server_types.__version__ == codex_app_server_types.CODEX_VERSION
    )  # a release, not a pre-release
    assert CodexConfig().client_version == codex_app_server_types.__version__


def test_the_client_reports_the_name_the_package_was_generated_as(
    tmp_path: Path,
) -> None:
    assert CodexConfig().client_name == "codex_app_server_types"
    schema = REPO / "schema" / "codex_app_server_protocol.schemas.json"
    generate = [
        codegen_binary(),
        "generate",
        "--schema",
        str(schema),
        "--out",
        str(tmp_path),
    ]
    subprocess.run(
        [*generate, "--lang", "python", "--python-package", "renamed_bindings"],
        check=True,
    )
    code = "from renamed_bindings.client import CodexConfig; print(CodexConfig().client_name)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path / "python",
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.strip() == "renamed_bindings"


@pytest.fixture
def runtime_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the `runtime` extra's `codex_cli_bin`, whose binary is a file under `tmp_path`."""
    binary = tmp_path / "bin" / "codex"
    binary.parent.mkdir()
    binary.write_text("")
    package = tmp_path / "site" / "codex_cli_bin"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        f"from pathlib import Path\n\ndef bundled_codex_path() -> Path:\n    return Path({str(binary)!r})\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "codex_cli_bin", raising=False)
    return binary


def test_the_runtime_extra_binary_comes_after_the_configured_one_and_codex_bin(
    runtime_package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CODEX_BIN", raising=False)
    monkeypatch.setenv("PATH", "")
    assert CodexConfig().command()[0] == str(runtime_package)
    monkeypatch.setenv("CODEX_BIN", "/from/env/codex")
    assert CodexConfig().command()[0] == "/from/env/codex"
    assert (
        CodexConfig(codex_bin="/configured/codex").command()[0] == "/configured/codex"
    )


def test_without_the_runtime_extra_path_is_searched_and_its_absence_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CODEX_BIN", raising=False)
    monkeypatch.setitem(
        sys.modules, "codex_cli_bin", None
    )  # importing it raises ImportError
    on_path = tmp_path / "codex"
    on_path.write_text("")
    on_path.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert CodexConfig().command()[0] == str(on_path)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(
        CodexError, match=r"install the package's `runtime` extra \(Codex "
    ):
        CodexConfig().command()


def test_a_runtime_package_without_its_binary_is_passed_over(
    runtime_package: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CODEX_BIN", raising=False)
    monkeypatch.setenv("PATH", "")
    runtime_package.unlink()
    with pytest.raises(CodexError):
        CodexConfig().command()
