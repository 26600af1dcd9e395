import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load(relative):
    """Import a plugin of the collection as Ansible does (ansible_collections.shop.aws..., which
    scripts/setup.sh links to this tree), or another Python file of ours by its path."""
    if relative.startswith("plugins/"):
        return importlib.import_module("ansible_collections.shop.aws." + relative.removesuffix(".py").replace("/", "."))
    path = ROOT / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def plugin():
    return load
