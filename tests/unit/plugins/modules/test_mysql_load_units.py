"""The loader's parallel path (plugins/modules/mysql_load_units.py): a failure among units
loading at once stops new ones, lets those under way finish and records them."""

import threading
import time

import pytest


@pytest.fixture(scope="module")
def mod(plugin):
    return plugin("plugins/modules/mysql_load_units.py")


class FakeModule:
    """run_command as the loader calls it: each unit 'loads' for its seconds; one fails."""

    def __init__(self, loaded_file, seconds: dict, failing: str):
        self.params = {"tool": "mydumper", "defaults_file": "/dev/null", "loaded_file": str(loaded_file), "threads": 1}
        self.seconds, self.failing = seconds, failing
        self.started: list[str] = []
        self.lock = threading.Lock()

    def run_command(self, command):
        unit = next(name for name in self.seconds if f"/units/{name}" in command[-1])
        with self.lock:
            self.started.append(unit)
        time.sleep(self.seconds[unit])
        if unit == self.failing:
            return 1, "", "ERROR 1062 (23000) at line 9: Duplicate entry '7' for key 'PRIMARY'\n"
        return 0, "", ""


def units(*names):
    return [{"unit": name, "kind": "table", "path": f"/work/units/{name}", "bytes": 1} for name in names]


def test_a_failure_among_parallel_loads_starts_no_other_and_records_those_under_way(mod, tmp_path):
    loaded = tmp_path / "loaded.list"
    # Two at once: a fails first (0.05 s) while b is under way (0.3 s); c and d never start.
    fake = FakeModule(loaded, {"a": 0.05, "b": 0.3, "c": 0.05, "d": 0.05}, failing="a")
    loader = mod.Loader(fake)
    loader.run(units("a", "b", "c", "d"), width=2)
    assert sorted(fake.started) == ["a", "b"]
    assert loader.loaded == ["b"] and loaded.read_text() == "b\n"
    assert loader.failed == ["a (exit 1: ERROR 1062 (23000) at line 9: Duplicate entry '7' for key 'PRIMARY')"]


def test_parallel_loads_record_every_unit_once(mod, tmp_path):
    loaded = tmp_path / "loaded.list"
    fake = FakeModule(loaded, {name: 0.02 for name in "abcdef"}, failing="")
    loader = mod.Loader(fake)
    loader.run(units(*"abcdef"), width=3)
    assert sorted(loaded.read_text().split()) == list("abcdef") and not loader.failed
