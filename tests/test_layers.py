"""The layers of docs/ARCHITECTURE.md, as the import-linter contracts of pyproject.toml.

moisson → portal | crawlers → pipelines → storage → records: a package imports only
packages below it (at any depth, in functions too), and only storage imports the database
libraries. The contracts are checked on the real import graph; to show they would catch a
new violation, the same check runs on that graph with one forbidden import added.
"""

from __future__ import annotations

import grimp
import pytest
from importlinter.adapters.building import GraphBuilder
from importlinter.application.app_config import settings
from importlinter.cli import lint_imports

from tests.conftest import ROOT

CONFIG = str(ROOT / "pyproject.toml")


class _WithImport(GraphBuilder):
    """Builds the real graph, then adds one import as if a module had it."""

    def __init__(self, importer: str, imported: str):
        self.importer, self.imported = importer, imported

    def build(self, *args, **kwargs) -> grimp.ImportGraph:
        graph = super().build(*args, **kwargs)
        graph.add_import(
            importer=self.importer,
            imported=self.imported,
            line_number=1,
            line_contents=f"import {self.imported}",
        )
        return graph


LAYERS, SQL = "layers", "sql-in-storage"  # the contracts' ids in pyproject.toml


def kept(contract: str, builder: GraphBuilder | None = None) -> bool:
    """Whether the contract holds on the graph ``builder`` builds (the real one: None)."""
    saved = settings.GRAPH_BUILDER
    if builder is not None:
        settings.configure(GRAPH_BUILDER=builder)
    try:
        status = lint_imports(CONFIG, limit_to_contracts=(contract,), no_cache=True)
    finally:
        settings.configure(GRAPH_BUILDER=saved)
    return status == 0


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
    assert not kept(contract, _WithImport(importer, imported))
    other = SQL if contract == LAYERS else LAYERS
    assert kept(other, _WithImport(importer, imported))
