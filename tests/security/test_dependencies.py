"""Issue 11, point 9: dependency floors past known advisories, and a lock file with hashes that
`make` (and so `.ci/run`) installs from, after upgrading pip and setuptools."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"
# the first release past the advisories the issue names (and the Flask stack's own)
FLOORS = {
    "requests": "2.32.4",
    "gunicorn": "23.0.0",
    "cryptography": "44.0.0",
    "jinja2": "3.1.6",
    "werkzeug": "3.0.6",
    "flask": "3.1.1",
}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$")


def project() -> dict[str, object]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]  # type: ignore[no-any-return]


def declared(extra: str | None = None) -> dict[str, Requirement]:
    meta = project()
    lines = meta["optional-dependencies"][extra] if extra else meta["dependencies"]  # type: ignore[index]
    return {canonicalize_name(r.name): r for r in map(Requirement, lines)}  # type: ignore[arg-type]


def locked(name: str) -> dict[str, Version]:
    """name -> version of every pin in requirements/<name>.txt; each must carry hashes."""
    pins: dict[str, Version] = {}
    lines = (LOCKS / f"{name}.txt").read_text().splitlines()
    for index, line in enumerate(lines):
        match = PIN.match(line)
        if match:
            assert lines[index + 1].strip().startswith("--hash=sha256:"), line
            pins[canonicalize_name(match.group(1))] = Version(match.group(2))
        else:
            assert not re.match(r"^[A-Za-z0-9]", line), f"not pinned with hashes: {line}"
    return pins


@pytest.mark.parametrize(("name", "floor"), FLOORS.items())
def test_each_floor_is_past_the_advisories_and_named_explicitly(name: str, floor: str) -> None:
    requirement = declared()[name]
    assert requirement.specifier.contains(floor)
    below = Version(floor).release
    just_below = ".".join(map(str, (*below[:-1], below[-1] - 1))) if below[-1] else None
    if just_below is not None:
        assert not requirement.specifier.contains(just_below), requirement
    assert not requirement.specifier.contains("0.1"), requirement


@pytest.mark.parametrize(("lock", "extra"), [("main", None), ("dev", "dev")])
def test_the_lock_pins_every_dependency_with_hashes_and_keeps_the_floors(
    lock: str, extra: str | None
) -> None:
    pins = locked(lock)
    wanted = declared() | (declared(extra) if extra else {})
    for name, requirement in wanted.items():
        assert name in pins, f"{name} is not in requirements/{lock}.txt"
        assert requirement.specifier.contains(pins[name]), (name, pins[name])
    for name, floor in FLOORS.items():
        assert pins[name] >= Version(floor), (name, pins[name])


def test_pip_and_setuptools_are_upgraded_from_a_hashed_lock() -> None:
    pins = locked("bootstrap")
    assert {"pip", "setuptools", "wheel"} <= set(pins)
    assert pins["setuptools"] >= Version("78.1.1")  # the path-traversal advisory
    assert pins["pip"] >= Version("25.1")


def test_make_installs_from_the_locks_only() -> None:
    recipe = (ROOT / "Makefile").read_text()
    steps = [line.strip() for line in recipe.splitlines() if "pip install" in line]
    assert steps[:3] == [
        "$(BIN)/python -m pip install --quiet --require-hashes -r requirements/bootstrap.txt",
        "$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt",
        "$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .",
    ]
    assert "$(STAMP): pyproject.toml $(LOCKS)" in recipe
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_this_environment_runs_the_locked_versions() -> None:
    """What the tests run on is what the lock says (make installed it)."""
    differing = {}
    for name, pinned in locked("main").items():
        try:
            installed = Version(version(name))
        except PackageNotFoundError:
            installed = None
        if installed != pinned:
            differing[name] = (str(pinned), str(installed))
    assert differing == {}
