#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: mysql_dump_units
short_description: Cut a mysqldump file or a mydumper folder into units that load, and reload, on their own
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - A unit is what a resumed load repeats whole - C(schema:<db>) (the database), C(table:<db>.<table>)
    (the table dropped, created and filled - loading it twice never duplicates a row),
    C(post:<db>) (triggers, routines, events and views, created once every row is in, so that no
    trigger fires on a loaded row).
  - A mysqldump file (taken with C(--databases) and comments on) becomes one SQL file a unit,
    each starting with the dump's session settings. A mydumper folder becomes one folder a
    table unit and a post unit (links to the dump's files, for myloader) and one SQL file a
    schema unit.
  - Also reads the snapshot's binary log position (C(--master-data)/C(--source-data) comment,
    mydumper's metadata) and, with I(rewrite_definers), writes every DEFINER as CURRENT_USER.
  - Idempotent - a manifest in I(dest) records the dump it was made from.
options:
  format:
    description: What made the dump.
    type: str
    choices: [mysqldump, mydumper]
    required: true
  src:
    description: The mysqldump file, or mydumper's output folder.
    type: path
    required: true
  dest:
    description: Folder of the units (made anew when the dump or the options changed).
    type: path
    required: true
  rewrite_definers:
    description: Make the account that loads a unit the definer of its objects.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Cut the dump into units
  shop.aws.mysql_dump_units:
    format: mysqldump
    src: /var/tmp/shop-migrate/dump.sql
    dest: /var/tmp/shop-migrate/units
    rewrite_definers: true
  register: units
"""

RETURN = r"""
units:
  description: Units in load order - unit (kind:name), kind, path (file or folder), bytes.
  returned: always
  type: list
  elements: dict
position:
  description: Binary log file and position of the snapshot (null when the dump has none).
  returned: always
  type: dict
definers_rewritten:
  description: How many DEFINER clauses became CURRENT_USER.
  returned: always
  type: int
"""

import json
import os
import re
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.shop.aws.plugins.module_utils.mysql_migration import DumpSplitter, rewrite_definers, snapshot_position, unit_order

MANIFEST = "manifest.json"
# Bumped when the units this module writes change: older units are made again.
LAYOUT = 1
_MYDUMPER_FILE = re.compile(
    r"^(?P<db>[^.]+?)(?:\.(?P<table>.+?))?(?P<suffix>-schema-create|-schema-post|-schema-triggers|-schema-view|-schema|\.\d+)?\.sql$")


def _signature(src: str) -> dict:
    stat = os.stat(src if os.path.isfile(src) else os.path.join(src, "metadata"))
    count = 0 if os.path.isfile(src) else len(os.listdir(src))
    return {"size": stat.st_size, "mtime": stat.st_mtime, "files": count}


def _safe_name(unit: str) -> str:
    return re.sub(r"[^\w.-]", "_", unit.replace(":", "-"))


def split_mysqldump(src: str, dest: str, rewrite: bool):
    rewritten = 0
    paths = {}

    def open_unit(unit):
        path = os.path.join(dest, f"{len(paths):04d}-{_safe_name(unit)}.sql")
        paths[unit] = path
        return open(path, "w", encoding="utf-8", newline="")

    splitter = DumpSplitter(open_unit)
    position = None
    with open(src, encoding="utf-8", errors="surrogateescape", newline="") as dump:
        for number, line in enumerate(dump):
            if position is None and number < 100:
                position = snapshot_position(line)
            if rewrite and "DEFINER" in line:
                line, count = rewrite_definers(line)
                rewritten += count
            splitter.feed(line)
    order = splitter.close()
    units = [{"unit": unit, "kind": unit.split(":", 1)[0], "path": paths[unit]} for unit in unit_order(order)]
    return units, position, rewritten


def split_mydumper(src: str, dest: str, rewrite: bool):
    with open(os.path.join(src, "metadata"), encoding="utf-8") as handle:
        metadata = handle.read()
    if "Finished dump at" not in metadata:
        raise ValueError(f"{src} is an unfinished mydumper dump (no 'Finished dump at' in its metadata)")
    databases, tables, post = {}, {}, {}
    for name in sorted(os.listdir(src)):
        match = _MYDUMPER_FILE.match(name)
        if not match:
            continue
        db, table, suffix = match.group("db"), match.group("table"), match.group("suffix")
        if suffix == "-schema-create":
            databases[db] = name
        elif suffix in ("-schema-post", "-schema-triggers", "-schema-view"):
            post.setdefault(db, []).append(name)
        elif table:
            tables.setdefault((db, table), []).append(name)
    rewritten = 0
    units = []
    for db, name in sorted(databases.items()):
        with open(os.path.join(src, name), encoding="utf-8") as handle:
            text = handle.read()
        path = os.path.join(dest, f"schema-{_safe_name(db)}.sql")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(re.sub(r"CREATE DATABASE (?!IF NOT EXISTS)", "CREATE DATABASE IF NOT EXISTS ", text, count=1))
        units.append({"unit": f"schema:{db}", "kind": "schema", "path": path})
    for (db, table), names in sorted(tables.items()):
        folder = os.path.join(dest, f"table-{_safe_name(db + '.' + table)}")
        os.mkdir(folder)
        for name in ["metadata", *names]:
            os.symlink(os.path.join(src, name), os.path.join(folder, name))
        units.append({"unit": f"table:{db}.{table}", "kind": "table", "path": folder})
    for db, names in sorted(post.items()):
        folder = os.path.join(dest, f"post-{_safe_name(db)}")
        os.mkdir(folder)
        os.symlink(os.path.join(src, "metadata"), os.path.join(folder, "metadata"))
        for name in names:
            with open(os.path.join(src, name), encoding="utf-8", errors="surrogateescape") as handle:
                text = handle.read()
            if rewrite:
                text, count = rewrite_definers(text)
                rewritten += count
            with open(os.path.join(folder, name), "w", encoding="utf-8", errors="surrogateescape") as handle:
                handle.write(text)
        units.append({"unit": f"post:{db}", "kind": "post", "path": folder})
    return units, snapshot_position(metadata), rewritten


def _size(path: str) -> int:
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(path, name)) for name in os.listdir(path))


def main():
    module = AnsibleModule(
        argument_spec={
            "format": {"type": "str", "choices": ["mysqldump", "mydumper"], "required": True},
            "src": {"type": "path", "required": True},
            "dest": {"type": "path", "required": True},
            "rewrite_definers": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    src, dest = params["src"], params["dest"]
    if not os.path.exists(src):
        module.fail_json(msg=f"no dump at {src}")
    wanted = {"layout": LAYOUT, "format": params["format"], "src": src, "signature": _signature(src), "rewrite_definers": params["rewrite_definers"]}
    manifest_path = os.path.join(dest, MANIFEST)
    if os.path.exists(manifest_path):
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = json.load(handle)
        if manifest.get("made_from") == wanted:
            module.exit_json(changed=False, **{k: manifest[k] for k in ("units", "position", "definers_rewritten")})
    if module.check_mode:
        module.exit_json(changed=True, units=[], position=None, definers_rewritten=0)
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest, mode=0o700)
    split = split_mysqldump if params["format"] == "mysqldump" else split_mydumper
    try:
        units, position, rewritten = split(src, dest, params["rewrite_definers"])
    except (ValueError, OSError) as error:
        shutil.rmtree(dest, ignore_errors=True)
        module.fail_json(msg=f"cannot cut {src} into units: {error}")
    for unit in units:
        unit["bytes"] = _size(unit["path"])
    manifest = {"made_from": wanted, "units": units, "position": position, "definers_rewritten": rewritten}
    with open(manifest_path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1)
    os.replace(manifest_path + ".tmp", manifest_path)
    module.exit_json(changed=True, units=units, position=position, definers_rewritten=rewritten)


if __name__ == "__main__":
    main()
