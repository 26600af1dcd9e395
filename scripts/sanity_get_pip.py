"""ansible-test's pip bootstrap, offline: it installs the pip that Python bundles (ensurepip) into
the new virtualenv, then hands ansible-test's pip arguments to it (pip and wheels from PyPI, which
this machine reaches). ansible-test would download get-pip.py from ci-files.testing.ansible.com,
which it does not. scripts/sanity.sh puts it where ansible-test looks for its cached copy."""

import ensurepip
import os
import subprocess
import sys

# get-pip.py's own options, which pip install does not know.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

ensurepip.bootstrap(upgrade=True)
# ensurepip points PIP_CONFIG_FILE at /dev/null for its own run: the machine's pip.conf (its index
# and certificate authority) must apply to the install that follows.
os.environ.pop("PIP_CONFIG_FILE", None)
arguments = [argument for argument in sys.argv[1:] if argument not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--quiet", *arguments]))
