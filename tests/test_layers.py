"""The layers of docs/ARCHITECTURE.md, as the import-linter contracts of pyproject.toml.

moisson → portal | crawlers → pipelines → storage → records: a package imports only
packages below it (at any depth, in functions too), and only storage imports the database
libraries. The contracts are checked on the real import graph; to show they would catch a
new violation, the same check runs on that graph with one forbidden import added.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

CONFIG = str(ROOT / "pyproject.toml")


# Each check runs in a fresh interpreter from the repository root: import-linter finds the
# packages through the interpreter's import system, which earlier tests of the same session
# may have changed (modules loaded from elsewhere); the verdict must not depend on them.
CHECK = """
import sys
import grimp
from importlinter.adapters.building import GraphBuilder
from importlinter.application.app_config import settings
from importlinter.cli import lint_imports

config, contract, importer, imported = sys.argv[1:5]


class WithImport(GraphBuilder):
    # builds the real graph, then adds one import as if a module had it
    def build(self, *args, **kwargs) -> grimp.ImportGraph:
        graph = super().build(*args, **kwargs)
        graph.add_import(
            importer=importer, imported=imported, line_number=1,
            line_contents="import " + imported,
        )
        return graph


if importer:
    settings.configure(GRAPH_BUILDER=WithImport())
sys.exit(lint_imports(config, limit_to_contracts=(contract,), no_cache=True))
"""

LAYERS, SQL = "layers", "sql-in-storage"  # the contracts' ids in pyproject.toml


def kept(contract: str, importer: str = "", imported: str = "") -> bool:
    """Whether the contract holds on the real import graph, with one import added if asked."""
    result = subprocess.run(
        [sys.executable, "-c", CHECK, CONFIG, contract, importer, imported],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 0


@pytest.mark.parametrize("contract", [LAYERS, SQL])
def test_every_package_keeps_to_its_layer(contract):
    assert kept(contract)


@pytest.mark.parametrize(
    ("importer", "imported", "contract"),
    [
        ("storage.topics", "portal", LAYERS),
        ("storage.catalogue", "pipelines.normalise.topics", LAYERS),
        ("records.course", "storage.models", LAYERS),
        ("pipelines.store", "crawlers.health", LAYERS),
        ("crawlers.offline", "moisson.crawl", LAYERS),
        ("crawlers.bases.common", "portal.app", LAYERS),  # siblings stay independent
        ("pipelines.store", "sqlalchemy", SQL),
        ("portal.api", "sqlalchemy", SQL),
    ],
)
def test_a_forbidden_import_breaks_its_contract(importer, imported, contract):
    assert not kept(contract, importer, imported)
    other = SQL if contract == LAYERS else LAYERS
    assert kept(other, importer, imported)
