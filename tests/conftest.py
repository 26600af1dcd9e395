import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# The benchmarks' modules a test runs scaled down (spike_replay); after ours, so none shadows them.
sys.path.append(str(Path(__file__).parents[1] / "benchmarks"))

from helpers import REALISTIC, Emulator, free_port  # noqa: E402


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """One emulator for the session, on a free port; tests reset it as they need."""
    emu = Emulator(port=free_port(), state_dir=tmp_path_factory.mktemp("emulator"))
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def realistic(tmp_path_factory):
    """An emulator of the test file's own in realistic mode (helpers.REALISTIC): AWS's latencies
    at 1/20, throttling, lost answers."""
    emu = Emulator(port=free_port(), state_dir=tmp_path_factory.mktemp("realistic"), options=REALISTIC)
    emu.start()
    yield emu
    emu.stop()


# Longest file first. xdist's loadfile hands each worker one file at a time, by default the files
# with the most tests first: the unit files, while the integration files of one or two tests that
# take ten minutes each start last and the run ends on one busy worker. tests/durations.json holds
# each file's seconds from a whole run (written to logs/test-durations.json at the end of every
# run: copy it over when the files change much); a file it does not know counts a minute a test.
DURATIONS = Path(__file__).parent / "durations.json"
RECORDED = Path(__file__).parents[1] / "logs" / "test-durations.json"


def pytest_collection_modifyitems(config, items):
    """Files in the order of their seconds, longest first (a stable sort: a file's tests keep theirs)."""
    import json

    seconds = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    counts: dict[str, int] = {}
    for item in items:
        counts[item.nodeid.split("::", 1)[0]] = counts.get(item.nodeid.split("::", 1)[0], 0) + 1
    items.sort(key=lambda item: -seconds.get(item.nodeid.split("::", 1)[0], 60.0 * counts[item.nodeid.split("::", 1)[0]]))


class LongestFileFirstPlugin:
    """xdist's scheduler hook, registered only when xdist runs (a single file runs with -p no:xdist)."""

    @staticmethod
    def pytest_xdist_make_scheduler(config, log):
        if config.getvalue("dist") != "loadfile":
            return None
        from xdist.scheduler import LoadFileScheduling

        class LongestFileFirst(LoadFileScheduling):
            def _reschedule(self, node):
                # A worker starts its next file only when its last test waits for one (a worker runs
                # a test once it knows the next): xdist's own threshold of two queued a second long
                # file behind the first on one worker while another ran out of work.
                if node.shutting_down:
                    return
                if not self.workqueue:
                    node.shutdown()
                    return
                if self._pending_of(self.assigned_work[node]) > 1:
                    return
                self._assign_work_unit(node)

        return LongestFileFirst(config, log)


def pytest_configure(config):
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(LongestFileFirstPlugin(), "longest-file-first")


_file_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    _file_seconds[path] = _file_seconds.get(path, 0.0) + report.duration


def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput") or not _file_seconds:
        return
    import json

    RECORDED.parent.mkdir(exist_ok=True)
    RECORDED.write_text(json.dumps(dict(sorted(_file_seconds.items(), key=lambda kv: -kv[1])), indent=1) + "\n")
