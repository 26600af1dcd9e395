#!/usr/bin/env bash
# The whole shop on this machine: the local AWS emulator with its fleet and data plane, the
# web image baked, the stack built (its outputs printed), the release's static files uploaded
# to the bucket, the application's own database account made; it ends with the address to open in a browser, where CloudFront's stand-in
# serves the shop from the Auto Scaling group's instances behind the ALB.
#   ./scripts/demo.sh [site.yml options]   build (or converge) and print the addresses
#   ./scripts/demo.sh stop                 stop the emulator: its containers and proxies go with it
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ${1:-} == stop ]]; then
  exec .venv/bin/python tools/emulator/awsemu.py stop
fi
started=$(date +%s)
./scripts/setup.sh
./scripts/containers.sh
export PATH="$PWD/.venv/bin:$PATH"
export CONTAINERS_CONF="$PWD/tools/podman/containers.conf"
python tools/emulator/awsemu.py start --fleet

# The bake first: the group then boots the baked image at once (no rolling update needed).
ansible-playbook playbooks/bake_ami.yml -i inventories/local
ansible-playbook site.yml -i inventories/local "$@"
ansible-playbook playbooks/release_static.yml -i inventories/local
# The application's own database account, made from the first web instance; the fleet switches to it.
ansible-playbook playbooks/database_app_user.yml -i inventories/local

# The instances configure themselves once the stack's settings are published (the end of
# site.yml), then pass the ALB's health checks: wait for the shop to answer through CloudFront.
python - "$started" <<'PY'
import json, ssl, sys, time, urllib.request

listing = json.load(urllib.request.urlopen("http://127.0.0.1:5000/_emulator/dataplane", timeout=10))
(cdn,) = [d for d in listing["distributions"].values()]
alb = [b["listeners"] for b in listing["load_balancers"].values()]
context = ssl._create_unverified_context()
deadline = time.monotonic() + 300
while True:
    try:
        with urllib.request.urlopen(cdn["https"] + "/", context=context, timeout=10) as page:
            if b"Demo shop" in page.read():
                break
    except OSError as error:
        last = error
    if time.monotonic() > deadline:
        sys.exit(f"error: the shop did not answer at {cdn['https']}/ within 5 minutes ({last}); "
                 "see .emulator/emulator.log and .emulator/dataplane-5000/")
    time.sleep(2)
minutes = (time.time() - int(sys.argv[1])) / 60
print(f"""
The shop is up ({minutes:.1f} min). Open it through CloudFront's local stand-in:

    {cdn['https']}/

(its certificate is the stand-in's own, self-signed: accept it in the browser), or
{cdn['http']}/ which redirects there, as the distribution's viewer protocol policy says.
The ALB's listeners: {', '.join(f'{port} -> {url}' for listeners in alb for port, url in listeners.items())}.
Stop everything (emulator, containers, proxies): ./scripts/demo.sh stop
""")
PY
