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
