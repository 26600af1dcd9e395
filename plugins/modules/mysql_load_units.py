#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: mysql_load_units
short_description: Load a dump's units into MySQL, several tables at once, each recorded once loaded
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Loads the units M(shop.aws.mysql_dump_units) cut - the C(schema) units first, one after
    another, then the C(table) units, I(parallel) at once (the largest first, so that the last to
    finish is a small one), then the C(post) units (triggers, routines, events, views), once
    every row is in.
  - A unit that loads is appended to I(loaded_file) at once; units listed there are skipped, so a
    run stopped anywhere reloads exactly the units it did not finish (a table unit drops and
    creates its table first, so a row is never doubled).
  - After a unit fails no other one starts; those under way finish and are recorded, and the
    module fails naming each failed unit with the end of its client's error output.
  - I(parallel) is bounded by the host's cores - each load is a client process (C(mysql) or
    C(myloader)) beside the server's own work.
  - A mysqldump's table units load one after another - each wraps its rows in C(LOCK TABLES), and
    two of them loading at once fail on a table the other's foreign key names (MariaDB, error
    1100 "Table ... was not locked with LOCK TABLES"; seen in tests/integration/test_migrate_db.py).
options:
  units:
    description: The units, as M(shop.aws.mysql_dump_units) returns them (unit, kind, path, bytes).
    type: list
    elements: dict
    required: true
  tool:
    description: What made the dump - C(mysqldump) units load with C(mysql), C(mydumper) table and post units with C(myloader).
    type: str
    choices: [mysqldump, mydumper]
    required: true
  defaults_file:
    description: Client option file of the target (host, port, user, password, TLS), read by C(mysql) and C(myloader).
    type: path
    required: true
  loaded_file:
    description: The list of units loaded, one a line.
    type: path
    required: true
  parallel:
    description: Table units loading at once (1 to 64; at most the host's cores; mydumper's only).
    type: int
    default: 4
  threads:
    description: C(myloader)'s threads within one table unit.
    type: int
    default: 4
"""

EXAMPLES = r"""
- name: Load the units, four tables at once
  shop.aws.mysql_load_units:
    units: "{{ units.units }}"
    tool: mydumper
    defaults_file: /var/tmp/shop-migrate/target.cnf
    loaded_file: /var/tmp/shop-migrate/loaded.list
    parallel: 4
"""

RETURN = r"""
loaded:
  description: The units this run loaded, in the order they finished.
  returned: always
  type: list
  elements: str
skipped:
  description: How many units an earlier run had loaded.
  returned: always
  type: int
bytes:
  description: The size of the units this run loaded.
  returned: always
  type: int
seconds:
  description: How long the loading took.
  returned: always
  type: float
parallel:
  description: Table units that loaded at once (I(parallel) bounded by the host's cores; 1 for mysqldump's).
  returned: always
  type: int
"""

import os
import shlex
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from ansible.module_utils.basic import AnsibleModule

PHASES = ("schema", "table", "post")


def command(unit: dict, tool: str, defaults_file: str, threads: int) -> list[str]:
    """The unit's load, in bash: its path stays on the command line, so a process list shows
    which unit a client loads."""
    if unit["kind"] == "schema" or tool == "mysqldump":
        line = f"mysql --defaults-extra-file={shlex.quote(defaults_file)} --batch < {shlex.quote(unit['path'])}"
    else:
        line = (f"myloader --defaults-file={shlex.quote(defaults_file)} --directory={shlex.quote(unit['path'])} "
                f"--overwrite-tables --enable-binlog --threads={threads} --verbose=1")
    return ["/bin/bash", "-c", f"set -o pipefail; {line}; exit $?"]


class Loader:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.loaded: list[str] = []
        self.failed: list[str] = []
        self.bytes = 0
        self.lock = threading.Lock()

    def load(self, unit: dict) -> None:
        code, out, err = self.module.run_command(
            command(unit, self.params["tool"], self.params["defaults_file"], self.params["threads"]))
        with self.lock:
            if code != 0:
                tail = (err or out).strip().splitlines()[-3:]
                self.failed.append(f"{unit['unit']} (exit {code}: {' / '.join(tail) or 'no output'})")
                return
            with open(self.params["loaded_file"], "a", encoding="utf-8") as handle:
                handle.write(unit["unit"] + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            self.loaded.append(unit["unit"])
            self.bytes += int(unit.get("bytes") or 0)

    def run(self, units: list[dict], width: int) -> None:
        """The units, ``width`` at once; none started after a failure."""
        pending = list(units)
        with ThreadPoolExecutor(max_workers=width) as pool:
            running = set()
            while pending or running:
                while pending and len(running) < width and not self.failed:
                    running.add(pool.submit(self.load, pending.pop(0)))
                if not running:
                    break
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()


def main():
    module = AnsibleModule(
        argument_spec={
            "units": {"type": "list", "elements": "dict", "required": True},
            "tool": {"type": "str", "choices": ["mysqldump", "mydumper"], "required": True},
            "defaults_file": {"type": "path", "required": True},
            "loaded_file": {"type": "path", "required": True},
            "parallel": {"type": "int", "default": 4},
            "threads": {"type": "int", "default": 4},
        },
        supports_check_mode=True,
    )
    params = module.params
    if not 1 <= params["parallel"] <= 64:
        module.fail_json(msg=f"parallel must be 1-64 (got {params['parallel']})")
    unknown = sorted({str(unit.get("kind")) for unit in params["units"]} - set(PHASES))
    unnamed = sum(1 for unit in params["units"] if not unit.get("unit") or not unit.get("path"))
    if unknown or unnamed:
        module.fail_json(msg="units must be mysql_dump_units' (unit, kind schema/table/post, path): "
                             + "; ".join(([f"kinds {unknown} are none of those"] if unknown else [])
                                         + ([f"{unnamed} unit(s) lack a unit or a path"] if unnamed else [])))
    try:
        with open(params["loaded_file"], encoding="utf-8") as handle:
            done = {line.strip() for line in handle if line.strip()}
    except FileNotFoundError:
        done = set()
    todo = [unit for unit in params["units"] if unit["unit"] not in done]
    parallel = max(1, min(params["parallel"], os.cpu_count() or 1)) if params["tool"] == "mydumper" else 1
    skipped = len(params["units"]) - len(todo)
    if module.check_mode or not todo:
        module.exit_json(changed=bool(todo), loaded=[], skipped=skipped, bytes=0, seconds=0.0, parallel=parallel,
                         would_load=[unit["unit"] for unit in todo])
    loader = Loader(module)
    started = time.monotonic()
    for phase in PHASES:
        units = [unit for unit in todo if unit["kind"] == phase]
        if phase == "table":
            units.sort(key=lambda unit: -int(unit.get("bytes") or 0))
        loader.run(units, parallel if phase == "table" else 1)
        if loader.failed:
            break
    seconds = round(time.monotonic() - started, 1)
    if loader.failed:
        module.fail_json(msg=f"not loaded: {'; '.join(loader.failed)}; {len(loader.loaded)} unit(s) loaded and recorded, "
                             "the next run loads the others", loaded=loader.loaded, skipped=skipped, bytes=loader.bytes,
                         seconds=seconds, parallel=parallel)
    module.exit_json(changed=True, loaded=loader.loaded, skipped=skipped, bytes=loader.bytes, seconds=seconds,
                     parallel=parallel)


if __name__ == "__main__":
    main()
