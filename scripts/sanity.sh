#!/usr/bin/env bash
# ansible-test sanity on the collection shop.aws as it ships: built from this tree, installed into
# a scratch ansible_collections folder beside links to the collections the venv bundles, tested
# there (ansible-test runs only from such a folder). Each test's virtualenv gets its
# requirements from PyPI; the pip bootstrap ansible-test would download from a host out of
# reach here is scripts/sanity_get_pip.py.
#   scripts/sanity.sh [ansible-test sanity options, e.g. --test validate-modules]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=$root/.venv
bundled=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections

work=$(mktemp -d "${TMPDIR:-/tmp}/shop-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
# What the collection ships (galaxy.yml's build_ignore leaves out the emulator, the test suites
# and the maintainers' scripts), installed as an execution environment would install it.
"$venv/bin/ansible-galaxy" collection build --output-path "$work" . >/dev/null
"$venv/bin/ansible-galaxy" collection install --force --no-deps --offline -p "$work" "$work"/shop-aws-*.tar.gz >/dev/null
collection=$work/ansible_collections/shop/aws
for dependency in amazon community ansible; do
  ln -s "$bundled/$dependency" "$work/ansible_collections/$dependency"
done

cd "$collection"
# Its own HOME, kept with this checkout: two checkouts never share ~/.ansible/test, and the
# sanity tests' virtualenvs are built once. Their pip bootstrap is ours (offline).
export HOME=$root/.cache/ansible-test-home
# The pip version ansible-test pins for its virtualenvs (python_requirements.get_venv_packages).
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',$/\1/p" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -1)
mkdir -p "$HOME/.ansible/test/cache"
cp "$root/scripts/sanity_get_pip.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
PATH="$venv/bin:$PATH" ansible-test sanity --local --python 3.11 --color no "$@"
