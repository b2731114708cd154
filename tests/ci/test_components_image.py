"""images/components/Dockerfile, checked statically (no Docker engine here), and its requirements.

What a hadolint-style review would check, plus what only this repository knows: the base is
pinned by digest and is the Python the project locks; pip installs only uv.lock's pins, by hash,
from wheels that exist for the image's platform; every COPY source exists and survives
.dockerignore; the code it copies and the step bodies import nothing the image lacks.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.metadata
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import parse_wheel_filename

from ci import image_requirements
from tests.ci.flows import REPO

IMAGE_DIR = REPO / "images" / "components"
DOCKERFILE = IMAGE_DIR / "Dockerfile"
REQUIREMENTS = IMAGE_DIR / "requirements.txt"
DOCKERIGNORE = REPO / ".dockerignore"
#: Vertex AI runs linux/amd64 containers; bookworm has glibc 2.36.
PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(36, 4, -1)] + [
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
]
IMAGE_TAGS: set[Tag] = {
    *cpython_tags((3, 11), platforms=PLATFORMS),
    *compatible_tags((3, 11), "cp311", platforms=PLATFORMS),
}


def instructions(text: str) -> list[tuple[int, str, str]]:
    """(line, INSTRUCTION, arguments) of a Dockerfile, continuations joined, comments dropped."""
    found: list[tuple[int, str, str]] = []
    pending, start = "", 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = (pending + stripped).strip()
        pending = ""
        keyword, _, rest = whole.partition(" ")
        found.append((start, keyword.upper(), rest.strip()))
    assert not pending, "Dockerfile ends inside a continued line"
    return found


STEPS = instructions(DOCKERFILE.read_text())


def of(keyword: str) -> list[tuple[int, str]]:
    return [(line, args) for line, kw, args in STEPS if kw == keyword]


def dockerignored(path: str) -> bool:
    """Whether the build context leaves `path` out (Docker's rules: last matching line wins)."""
    excluded = False
    for raw in DOCKERIGNORE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        parts = Path(path).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatchcase(p, pattern) for p in prefixes):
            excluded = not negate
    return excluded


def lock_text() -> str:
    return (REPO / "uv.lock").read_text()


# -- the Dockerfile ------------------------------------------------------------------------------


def test_one_stage_from_python_311_pinned_by_digest():
    (line, base), *others = of("FROM")
    assert not others, "one stage: nothing built here needs a second"
    match = re.fullmatch(r"python:(\d+\.\d+)-slim-bookworm@sha256:[0-9a-f]{64}", base)
    assert match, f"Dockerfile:{line}: base '{base}' is not python:X.Y-slim-bookworm@sha256:…"
    # The image runs what the tests ran: the Python of this venv, which pyproject allows.
    assert match.group(1) == f"{sys.version_info.major}.{sys.version_info.minor}"
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == f">={match.group(1)}"


def test_pip_installs_only_the_locked_requirements_by_hash_from_wheels():
    runs = [args for _line, args in of("RUN")]
    installs = [args for args in runs if "pip" in args and "install" in args]
    assert len(installs) == 1, installs
    words = shlex.split(installs[0].split("&&")[0])
    assert words[:4] == ["python", "-m", "pip", "install"]
    options = words[4:]
    assert {"--no-deps", "--require-hashes", "--only-binary=:all:"} <= set(options)
    assert sorted(re.findall(r"--no-binary=(\S+)", installs[0])) == sorted(source_only())
    requirement = options[options.index("--requirement") + 1]
    # Every argument is an option or the requirements file: no package named on the line.
    assert all(o.startswith("--") or o == requirement for o in options), options
    (_line, copy) = next((ln, a) for ln, a in of("COPY") if a.endswith(requirement))
    assert copy.split()[0] == str(REQUIREMENTS.relative_to(REPO))


def test_nothing_is_fetched_outside_pip_and_the_base_image():
    first = DOCKERFILE.read_text().splitlines()[0]
    # A `# syntax=` directive makes BuildKit pull a frontend image: only pinned, if ever.
    assert not first.startswith("# syntax=") or "@sha256:" in first, first
    for line, keyword, args in STEPS:
        assert keyword != "ADD", f"Dockerfile:{line}: ADD can fetch URLs; use COPY"
        if keyword == "RUN":
            for tool in ("curl", "wget", "apt-get", "apk", "git clone", "uv pip", "pip3 install"):
                assert tool not in args, f"Dockerfile:{line}: RUN uses {tool}"


def test_copy_sources_exist_and_reach_the_build_context():
    copies = of("COPY")
    assert copies
    for line, args in copies:
        *sources, _dest = args.split()
        assert not any(s.startswith("--") for s in sources), f"Dockerfile:{line}: {args}"
        for source in sources:
            assert (REPO / source).exists(), f"Dockerfile:{line}: COPY {source}: no such path"
            assert not dockerignored(source.rstrip("/")), f"{source} is left out by .dockerignore"


def test_dockerignore_keeps_the_venv_and_build_outputs_out_of_the_context():
    for path in (".venv", "build", "runs", "spark", "tests", ".git", "schedules"):
        assert dockerignored(path), path


def test_copied_packages_are_on_pythonpath():
    env = " ".join(args for _line, args in of("ENV"))
    pythonpath = re.search(r"PYTHONPATH=(\S+)", env)
    assert pythonpath, "no PYTHONPATH: steps could not import the copied packages"
    packages = {}
    for _line, args in of("COPY"):
        source, dest = args.split()
        if source != str(REQUIREMENTS.relative_to(REPO)):
            packages[source.rstrip("/")] = dest.rstrip("/")
    for source, dest in packages.items():
        assert dest == f"{pythonpath.group(1)}/{source}", (source, dest)
    assert set(packages) >= {"contract", "components"}


# -- requirements.txt ----------------------------------------------------------------------------


def test_requirements_are_current_with_uv_lock():
    expected = image_requirements.render(image_requirements.export_lock(), lock_text())
    assert REQUIREMENTS.read_text() == expected, "run `python -m ci.image_requirements`"


def pins() -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9][\w.-]*)==([^\s;\\]+)", REQUIREMENTS.read_text(), re.M)
    return {image_requirements.normalise(name): version for name, version in found}


def test_kfp_is_the_version_that_compiled_the_templates():
    locked = image_requirements.lock_packages(lock_text())
    assert pins()["kfp"] == locked["kfp"]["version"] == importlib.metadata.version("kfp")


def test_every_pin_is_uv_lock_version_with_its_hashes():
    locked = image_requirements.lock_packages(lock_text())
    blocks = image_requirements.entries(REQUIREMENTS.read_text())
    for name, version in pins().items():
        assert locked[name]["version"] == version, name
        hashes = set(re.findall(r"--hash=(sha256:[0-9a-f]{64})", blocks[name]))
        artefacts = [*locked[name].get("wheels", []), locked[name].get("sdist") or {}]
        assert hashes and hashes <= {a.get("hash") for a in artefacts}, name


def test_project_only_packages_stay_out_of_the_image():
    # google-cloud-aiplatform is in: register_dataset's DatasetService GAPIC (aiplatform_v1)
    # ships only in it. duckdb stays out: only the local warehouse target imports it.
    for name in ("pyspark", "numpy", "matplotlib", "duckdb", "pytest", "google-cloud-scheduler"):
        assert name not in pins(), f"{name} is not needed by a lightweight step"


def source_only() -> list[str]:
    """Pinned packages that uv.lock knows only as a source distribution."""
    locked = image_requirements.lock_packages(lock_text())
    return [name for name in pins() if not locked[name].get("wheels")]


def test_every_package_has_a_wheel_for_the_image_platform():
    """--only-binary: a package without a cp311 linux/amd64 (or pure) wheel would fail the build,
    unless it is a source-only package the Dockerfile lets pip build (--no-binary)."""
    locked = image_requirements.lock_packages(lock_text())
    for name in set(pins()) - set(source_only()):
        wheels = [w["url"].rsplit("/", 1)[-1] for w in locked[name].get("wheels", [])]
        tags = {tag for wheel in wheels for tag in parse_wheel_filename(wheel)[3]}
        assert tags & IMAGE_TAGS, f"{name}: no wheel for cp311 manylinux x86_64 among {wheels}"


def test_closure_follows_extras_and_names_a_missing_root():
    lock = """
[[package]]
name = "a"
version = "1"
dependencies = [{ name = "b", extra = ["fast"] }]
[[package]]
name = "b"
version = "1"
dependencies = [{ name = "c" }]
[package.optional-dependencies]
fast = [{ name = "d" }]
[[package]]
name = "c"
version = "1"
[[package]]
name = "d"
version = "1"
[[package]]
name = "unused"
version = "1"
"""
    packages = image_requirements.lock_packages(lock)
    assert image_requirements.closure(packages, ("A",)) == {"a", "b", "c", "d"}
    with pytest.raises(KeyError, match="no package 'zz'"):
        image_requirements.closure(packages, ("zz",))


# -- what runs in the image imports only what the image has ---------------------------------------

COPIED = ("contract", "components", "model_registry", "warehouse")
#: Libraries copied code imports only where no step in the image runs it, with the reason.
NOT_IN_STEPS = {
    "duckdb": "the warehouse's local target (runs/warehouse.duckdb) and its query CLI; a cloud "
    "step's bq_dataset is project.dataset, which loads BigQuery",
    "google_cloud_pipeline_components": "components/spark_step.py's Dataproc task factory runs "
    "when a pipeline is compiled; the Dataproc step itself runs in GCPC's own launcher image",
}


def image_top_levels() -> set[str]:
    """Importable top-level names in the image: stdlib, the pinned distributions, copied code."""
    distributions = set(pins())
    names = {
        top
        for top, dists in importlib.metadata.packages_distributions().items()
        if any(image_requirements.normalise(d) in distributions for d in dists)
    }
    return names | set(sys.stdlib_module_names) | set(COPIED) | {"__future__"}


def step_bodies() -> list[tuple[Path, ast.FunctionDef]]:
    """Functions decorated as KFP components: their bodies are what runs in the image."""
    found = []
    for path in sorted((REPO / "components").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    target = decorator.func if isinstance(decorator, ast.Call) else decorator
                    name = target.attr if isinstance(target, ast.Attribute) else target.id
                    if name.endswith("component"):
                        found.append((path, node))
    return found


def test_step_bodies_import_only_what_the_image_has():
    bodies = step_bodies()
    assert bodies, "no @component functions found in components/"
    allowed = image_top_levels()
    for path, function in bodies:
        for node in ast.walk(function):
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                assert top in allowed, f"{path.name}:{node.lineno}: {function.name} imports {top}"


BLOCKER = """
import importlib, importlib.abc, pkgutil, sys
allowed = set(sys.argv[1].split(","))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        # `_`-names are the interpreter's own (_sysconfigdata_*, C accelerators).
        if top not in allowed and not top.startswith("_"):
            raise ModuleNotFoundError(f"not in the components image: {name}")
        return None
sys.meta_path.insert(0, Block())
for package in sys.argv[2].split(","):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
print("ok")
"""


def test_the_copied_packages_import_with_only_the_image_packages():
    """Every module the image copies imports in an interpreter that can see nothing else."""
    present = [name for name in COPIED if (REPO / name).is_dir()]
    done = subprocess.run(
        [sys.executable, "-c", BLOCKER, ",".join(sorted(image_top_levels())), ",".join(present)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def lightweight_executors() -> list[tuple[str, str, dict]]:
    """(template, executor, container) of every step that runs in the components image."""
    from components.images import COMPONENTS_IMAGE

    found = []
    for path in sorted((REPO / "build" / "vertex").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        for name, executor in spec["deploymentSpec"]["executors"].items():
            container = executor.get("container") or {}
            if container.get("image") == COMPONENTS_IMAGE:
                found.append((path.name, name, container))
    return found


def test_compiled_steps_install_nothing_and_import_only_what_the_image_has():
    """What really runs: the compiled vertex templates' lightweight executors."""
    executors = lightweight_executors()
    assert executors, "no executor uses the components image"
    allowed = image_top_levels()
    for template, name, container in executors:
        shell, flags, script = container["command"][:3]
        assert (shell, flags) == ("sh", "-ec"), f"{template}:{name}"
        assert not re.search(r"\bpip\b|install", script), f"{template}:{name} installs: {script}"
        assert "python3 -m kfp.dsl.executor_main" in script, f"{template}:{name}"
        # KFP puts the step's module source in the command, after `sh -ec <script>`.
        source = next((a for a in container.get("command", []) if "def " in a), "")
        assert source, f"{template}:{name}: no step source in the command"
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                assert top in allowed, f"{template}:{name} imports {top}, not in the image"


def image_modules() -> set[str]:
    """Dotted names of the modules and packages the image's pinned distributions install."""
    provided: set[str] = set()
    for name in pins():
        for file in importlib.metadata.distribution(name).files or []:
            parts = Path(str(file)).with_suffix("").parts
            if str(file).endswith(".py") and all(p.isidentifier() for p in parts):
                dotted = ".".join(parts).removesuffix(".__init__")
                provided.add(dotted)
    return provided


def _importable(name: str, provided: set[str]) -> bool:
    """`name` is an installed module, or a (namespace) package holding one."""
    return name in provided or any(p.startswith(name + ".") for p in provided)


def test_every_import_of_the_copied_code_is_in_the_image_wherever_it_sits():
    """Lazy imports too (inside functions): a cloud step reaching one the image lacks would fail
    at run time, after the top-level import checks above passed. Only NOT_IN_STEPS may be
    absent, and it must really be absent (else the exception is stale)."""
    provided = image_modules()
    local = set(sys.stdlib_module_names) | set(COPIED) | {"__future__"}
    missing = []
    for package in COPIED:
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    module = node.module
                    names = [
                        f"{module}.{a.name}"
                        if _importable(f"{module}.{a.name}", provided)
                        else module
                        for a in node.names
                    ]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in local or top in NOT_IN_STEPS or _importable(name, provided):
                        continue
                    missing.append(f"{path.relative_to(REPO)}:{node.lineno}: {name}")
    assert not missing, "not in the components image:\n" + "\n".join(missing)
    for name in NOT_IN_STEPS:
        assert not _importable(name, provided), f"{name} is in the image: drop it from NOT_IN_STEPS"
