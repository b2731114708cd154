"""trigger/contract/ is a current copy of contract/ (the function is deployed as its folder)."""

from __future__ import annotations

from pathlib import Path

from contract import vendor

REPO = Path(__file__).resolve().parents[2]


def test_the_trigger_carries_a_current_copy_of_the_contract():
    assert vendor.differences(REPO / "trigger") == []


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


def test_every_module_the_copy_imports_is_copied():
    imported = set()
    for name in vendor.MODULES:
        for line in (REPO / "contract" / name).read_text().splitlines():
            if line.startswith("from contract."):
                imported.add(line.split()[1].split(".")[1] + ".py")
    assert imported <= set(vendor.MODULES)


def test_the_spark_package_carries_a_current_copy_of_the_output_manifest():
    # churn.zip is all a Dataproc batch gets: the manifest format travels inside the package
    assert vendor.modules_for(REPO / "spark" / "churn") == ("__init__.py", "outputs.py")
    assert vendor.differences(REPO / "spark" / "churn") == []


def test_a_stale_spark_copy_is_named(tmp_path, monkeypatch):
    folder = tmp_path / "spark" / "churn"
    folder.mkdir(parents=True)
    monkeypatch.setattr(vendor, "SOURCE", tmp_path / "contract")
    (tmp_path / "contract").mkdir()
    for name in ("__init__.py", "outputs.py"):
        (tmp_path / "contract" / name).write_text(f"# {name}\n")
    vendor.write(folder)
    assert sorted(p.name for p in (folder / "contract").iterdir()) == ["__init__.py", "outputs.py"]
    (tmp_path / "contract" / "outputs.py").write_text("# edited\n")
    assert vendor.differences(folder) == [
        f"{folder}/contract/outputs.py: differs from contract/outputs.py"
    ]
