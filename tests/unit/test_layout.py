"""The README's layout section names what the tree holds, and the tree holds what it names."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTRY = re.compile(r"^    (\S+?)(?:, (\S+?))?\s{2,}")


def layout_entries() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Layout"):text.index("Each role's README lists")]
    entries = set()
    for line in section.splitlines():
        match = ENTRY.match(line)
        if match:
            entries.update(name.rstrip("/") for name in match.groups() if name)
    return entries


def tracked_top_level() -> set[str]:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return {name.split("/")[0] for name in files if "/" in name and not name.startswith(".")}


def test_every_entry_exists():
    entries = layout_entries()
    assert entries, "no layout entries found in README.md"
    missing = sorted(name for name in entries if "<" not in name and not (ROOT / name).exists())
    assert missing == [], f"README's layout names what the tree does not have: {missing}"


def test_every_top_level_folder_and_plugin_type_is_named():
    entries = layout_entries()
    named_roots = {name.split("/")[0] for name in entries}
    unnamed = sorted(tracked_top_level() - named_roots)
    assert unnamed == [], f"folders missing from README's layout: {unnamed}"
    plugin_types = sorted(path.name for path in (ROOT / "plugins").iterdir() if path.is_dir() and path.name != "__pycache__")
    assert sorted(f"plugins/{kind}" for kind in plugin_types if f"plugins/{kind}" not in entries) == []
