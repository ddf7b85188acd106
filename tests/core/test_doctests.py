"""The examples in the core's docstrings run and pass."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = {
    # module: whether it has examples (a module that has none still must not fail)
    "channels.repodata.records": True,
    "channels.repodata.shards": False,
    "channels.repodata.repodata": False,
    "channels.repodata.subdirs": True,
    "packages.artifact": True,
    "publishing.oidc.claims": True,
    "publishing.oidc.tokens": True,
    "publishing.snippets": True,
}


@pytest.mark.parametrize(("name", "has_examples"), MODULES.items())
def test_doctests_pass(name, has_examples):
    result = doctest.testmod(importlib.import_module(name), verbose=False)
    assert result.failed == 0
    assert (result.attempted > 0) == has_examples
