"""The vendoring the trigger's deploy command runs (`python -m contract.vendor trigger/`): a fresh
copy is the sources byte for byte after one header line, imports on its own, and holds every
module the trigger imports."""

from __future__ import annotations

import ast
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from contract import vendor

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO / "contract"
HEADER = "# Copied from contract/{name} by `python -m contract.vendor`; edit the original.\n"


def _contract_modules(path: Path) -> set[str]:
    """The `contract/<name>.py` files the module at `path` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "contract":
            found.update(f"{alias.name}.py" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("contract."):
            found.add(node.module.split(".")[1] + ".py")
        elif isinstance(node, ast.Import):
            found.update(
                a.name.split(".")[1] + ".py" for a in node.names if a.name.startswith("contract.")
            )
    return {name for name in found if (CONTRACT / name).is_file()}


def _needed_by_the_trigger() -> set[str]:
    """Every contract module the trigger's files import, directly or through another one."""
    needed: set[str] = set()
    todo = set().union(*(_contract_modules(p) for p in (REPO / "trigger").glob("*.py")))
    while todo:
        name = todo.pop()
        needed.add(name)
        todo |= _contract_modules(CONTRACT / name) - needed
    return needed | {"__init__.py"}


def test_the_trigger_imports_are_read():
    # what the scan must find for the completeness check below to mean anything
    direct = set().union(*(_contract_modules(p) for p in (REPO / "trigger").glob("*.py")))
    assert {"alerts.py", "environment.py", "naming.py", "params.py", "request.py"} <= direct


def test_the_copy_holds_exactly_what_the_trigger_imports():
    # A module the trigger imports (through another one or not) that the list lacks would be
    # missing from the deployed function; one it does not import has no business there.
    assert set(vendor.MODULES) == _needed_by_the_trigger()


def test_a_fresh_copy_is_the_sources_byte_for_byte_after_one_header(tmp_path):
    written = vendor.write(tmp_path)
    assert sorted(p.name for p in written) == sorted(vendor.MODULES)
    assert sorted(p.name for p in (tmp_path / "contract").iterdir()) == sorted(vendor.MODULES)
    for name in vendor.MODULES:
        copy = (tmp_path / "contract" / name).read_bytes()
        assert copy == HEADER.format(name=name).encode() + (CONTRACT / name).read_bytes(), name
    assert vendor.differences(tmp_path) == []


def _imports_alone(folder: Path, code: str) -> subprocess.CompletedProcess:
    """Run `code` in `folder` with nothing of the repository on the path (-E: no PYTHONPATH)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-E", "-s", "-c", code],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_fresh_copy_imports_on_its_own(tmp_path):
    vendor.write(tmp_path)
    names = " ".join(Path(n).stem for n in vendor.MODULES if n != "__init__.py")
    code = (
        "import importlib, contract\n"
        f"for name in {names!r}.split(): importlib.import_module('contract.' + name)\n"
        "print(contract.__file__)"
    )
    done = _imports_alone(tmp_path, code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "contract" / "__init__.py")


def test_a_copy_without_a_module_the_trigger_imports_does_not_run(tmp_path):
    # What the completeness check protects: the deployed function would not start.
    for path in (REPO / "trigger").glob("*.py"):
        shutil.copy(path, tmp_path / path.name)
    vendor.write(tmp_path, tuple(n for n in vendor.MODULES if n != "naming.py"))
    done = _imports_alone(tmp_path, "import main")
    assert done.returncode != 0 and "contract.naming" in done.stderr


def test_a_stale_or_extra_file_is_named_and_the_refresh_repairs_it(tmp_path):
    vendor.write(tmp_path)
    (tmp_path / "contract" / "naming.py").write_text("# edited by hand\n")
    (tmp_path / "contract" / "old.py").write_text("")

    assert vendor.main([str(tmp_path), "--check"]) == 1
    assert sorted(vendor.differences(tmp_path)) == [
        f"{tmp_path}/contract/naming.py: differs from contract/naming.py",
        f"{tmp_path}/contract/old.py: not a copied module",
    ]

    assert vendor.main([str(tmp_path)]) == 0
    assert vendor.differences(tmp_path) == []


def test_a_missing_copy_is_named_by_the_check(tmp_path):
    assert vendor.main([str(tmp_path), "--check"]) == 1
    assert f"{tmp_path}/contract/__init__.py: missing" in vendor.differences(tmp_path)


def test_the_contract_itself_is_never_written_over(tmp_path, monkeypatch, capsys):
    # A folder whose contract/ is a link to the sources (spark/churn/contract is one) is refused:
    # "refreshing" it would put headers into the sources and delete the modules not listed.
    source = tmp_path / "contract"
    source.mkdir()
    for name in ("__init__.py", "outputs.py", "naming.py"):
        (source / name).write_text(f"# {name}\n")
    monkeypatch.setattr(vendor, "SOURCE", source.resolve())
    folder = tmp_path / "package"
    folder.mkdir()
    (folder / "contract").symlink_to(source, target_is_directory=True)

    with pytest.raises(vendor.VendorError, match="is the contract itself"):
        vendor.write(folder, ("__init__.py", "outputs.py"))
    assert vendor.main([str(folder)]) == 2
    assert "is the contract itself" in capsys.readouterr().err
    assert sorted(p.name for p in source.iterdir()) == ["__init__.py", "naming.py", "outputs.py"]
    assert (source / "outputs.py").read_text() == "# outputs.py\n"


def test_the_spark_package_links_the_contract_instead_of_copying_it():
    # `python spark/<job>.py` finds `churn.contract` in a fresh clone with no step and no
    # PYTHONPATH; the link is relative, so the clone may live anywhere.
    link = REPO / "spark" / "churn" / "contract"
    assert link.is_symlink() and os.readlink(link) == "../../contract"
    assert link.resolve() == CONTRACT
    staged = subprocess.run(
        ["git", "ls-files", "-s", "spark/churn/contract"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert staged[:1] == ["120000"], "committed as a link, not as copied files"


def _churn_contract_imports() -> set[str]:
    """The `churn.contract` modules the Spark code imports (what churn.zip must carry)."""
    found = set()
    spark = REPO / "spark"
    for path in spark.rglob("*.py"):
        if "contract" in path.relative_to(spark).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "churn.contract":
                found.update(f"{alias.name}.py" for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "churn.contract."
            ):
                found.add(node.module.split(".")[2] + ".py")
    return found


def test_churn_zip_takes_what_the_spark_code_imports_and_nothing_that_needs_more():
    imported = _churn_contract_imports()
    assert "outputs.py" in imported  # the scan finds what churn/outputs.py imports
    # Through the link every contract module imports locally; on Dataproc only the zip's do.
    assert imported <= set(vendor.ZIP_MODULES)
    # In the zip the package is `churn.contract`: a module importing `contract.<x>` would look
    # for a top-level package a batch does not have.
    for name in vendor.ZIP_MODULES:
        assert _contract_modules(CONTRACT / name) == set(), name


def test_churn_zip_carries_the_modules_as_the_vendoring_copies_them():
    from tooling.publishing import spark_package_zip

    archive = zipfile.ZipFile(io.BytesIO(spark_package_zip(REPO / "spark")))
    inside = sorted(n for n in archive.namelist() if n.startswith("churn/contract/"))
    assert inside == [f"churn/contract/{name}" for name in sorted(vendor.ZIP_MODULES)]
    for name in vendor.ZIP_MODULES:
        expected = HEADER.format(name=name).encode() + (CONTRACT / name).read_bytes()
        assert archive.read(f"churn/contract/{name}") == expected
