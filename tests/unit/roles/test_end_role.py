"""`meta: end_role` skips the role's tasks up to the next role-end marker, and every imported
role leaves one where it ends: a role imported after an end_role in the same task file would
stop the skip there and let the rest of the calling role run (found in check mode on an empty
account). Such imports go before the end_role, or are includes."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
TASK_FILES = sorted(ROOT.glob("roles/*/tasks/*.yml"))


def tasks(items):
    for item in items or []:
        yield item
        for key in ("block", "rescue", "always"):
            yield from tasks(item.get(key))


@pytest.mark.parametrize("path", TASK_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_role_is_imported_after_an_end_role(path):
    seen_end = None
    for task in tasks(yaml.safe_load(path.read_text())):
        if task.get("ansible.builtin.meta") == "end_role":
            seen_end = task.get("name")
        if "ansible.builtin.import_role" in task and seen_end:
            pytest.fail(f"{path.relative_to(ROOT)}: '{task['name']}' imports a role after '{seen_end}'")
