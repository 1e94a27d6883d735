"""The lock (`requirements.lock`, what `make setup` installs with --require-hashes) pins every dependency that
pyproject.toml declares, at a version inside its bounds, with hashes: a dependency added to pyproject.toml alone
would install nowhere."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def _pins() -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of every `name==version` block in the lock."""
    pins = {}
    for block in re.split(r"\n(?=\S)", (ROOT / "requirements.lock").read_text(encoding="utf-8")):
        if m := re.match(r"([A-Za-z0-9._-]+)==(\S+)", block):
            pins[canonicalize_name(m.group(1))] = (m.group(2), block.count("--hash=sha256:"))
    return pins


def test_every_declared_dependency_is_pinned_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = [*project["project"]["dependencies"], *project["project"]["optional-dependencies"]["test"],
                *project["build-system"]["requires"]]
    pins = _pins()
    assert pins, "requirements.lock pins nothing"
    for text in declared:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is in pyproject.toml but not in requirements.lock: run `make lock P={req.name}`"
        version, hashes = pins[name]
        assert req.specifier.contains(version, prereleases=True), f"{req.name}=={version} is outside {req.specifier}"
    assert all(hashes for _, hashes in pins.values()), "every pin carries its hashes (--require-hashes)"
