"""tree_digest: same files, same digest; any name or content change, another."""

import os

import pytest


@pytest.fixture(scope="module")
def td(plugin):
    return plugin("plugins/lookup/tree_digest.py")


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "role"
    (root / "tasks").mkdir(parents=True)
    (root / "tasks/main.yml").write_text("---\n- name: One\n")
    (root / "defaults.yml").write_text("a: 1\n")
    return root


def test_same_files_same_digest_whatever_the_times(td, tree):
    before = td.tree_digest([str(tree)])
    os.utime(tree / "defaults.yml", (0, 0))
    (tree / "__pycache__").mkdir()
    (tree / "__pycache__/x.pyc").write_bytes(b"\0")
    assert td.tree_digest([str(tree)]) == before


@pytest.mark.parametrize("change", [
    lambda root: (root / "defaults.yml").write_text("a: 2\n"),
    lambda root: (root / "defaults.yml").rename(root / "vars.yml"),
    lambda root: (root / "tasks/extra.yml").write_text(""),
])
def test_any_change_changes_the_digest(td, tree, change):
    before = td.tree_digest([str(tree)])
    change(tree)
    assert td.tree_digest([str(tree)]) != before


def test_files_and_order_of_terms_count(td, tree, tmp_path):
    artifact = tmp_path / "release.tar.gz"
    artifact.write_bytes(b"release")
    assert td.tree_digest([str(tree), str(artifact)]) != td.tree_digest([str(artifact), str(tree)])


def test_missing_path_is_a_clear_error(td, tmp_path):
    from ansible.errors import AnsibleLookupError

    with pytest.raises(AnsibleLookupError, match="no such file or folder"):
        td.LookupModule().run([str(tmp_path / "missing")])
