# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup plugin: one SHA-256 over the files of folders (names and contents)."""

DOCUMENTATION = r"""
name: tree_digest
short_description: One SHA-256 over the names and contents of the files under paths
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Walks each path (a file or a folder, recursively, in name order) and returns one
    hexadecimal SHA-256 of every file's path relative to its root and content.
  - Modification times and permissions do not count, so a fresh checkout of the same
    files gives the same digest. C(__pycache__) folders are skipped.
  - Used by the web_image role to bake again only when what goes into the image changed.
options:
  _terms:
    description: Files or folders on the control machine.
    required: true
    type: list
    elements: path
"""

EXAMPLES = r"""
- name: Digest the role and the application
  ansible.builtin.set_fact:
    inputs_digest: "{{ lookup('shop.aws.tree_digest', 'roles/webstack', 'app/demo-shop') }}"
"""

RETURN = r"""
_raw:
  description: The hexadecimal SHA-256, one string.
  type: list
  elements: str
"""

import hashlib
from pathlib import Path

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase


def tree_digest(paths):
    digest = hashlib.sha256()
    for term in paths:
        root = Path(term)
        if not root.exists():
            raise FileNotFoundError(term)
        files = [root] if root.is_file() else sorted(
            p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for path in files:
            name = path.name if path == root else path.relative_to(root).as_posix()
            digest.update(f"{root.name}/{name}".encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        try:
            return [tree_digest(terms)]
        except FileNotFoundError as error:
            raise AnsibleLookupError(f"tree_digest: no such file or folder: {error}") from error
