"""Local AWS emulator: moto's server, extended where moto lacks an API the toolkit needs.

Usage:
    python tools/emulator/awsemu.py start [--port 5000] [--state-dir .emulator]
    python tools/emulator/awsemu.py stop  [--state-dir .emulator]
    python tools/emulator/awsemu.py serve [--port 5000]      # foreground
    python tools/emulator/awsemu.py stats [--reset]          # AWS API calls counted so far

The server listens on 127.0.0.1 only. ``start`` runs it in the background, records its
PID in ``<state-dir>/emulator.pid`` and returns once it answers; ``stop`` ends exactly
that PID. Managed IAM policies are loaded (MOTO_IAM_LOAD_MANAGED_POLICIES=true).

Extensions: ``services/`` patches moto, one module per AWS service, each change after the AWS
API reference it names (see each module's docstring). ``realism.py`` is the realistic mode:
lifecycles with latency, eventual consistency, dependency violations, throttling and lost
responses (``start --latency-scale 0.05 --throttle --lost-responses 0.1``; off by default).
``/_emulator/stats`` counts every AWS API request by service and action, for benchmarks, and
reports what the realistic mode did (throttled, lost and replayed answers). With ``--fleet``,
``fleet.py`` runs the instances, databases and caches as containers and ``dataplane.py`` makes the
load balancers and distributions answer on local ports (``/_emulator/dataplane`` lists them);
unsigned S3 object reads are authorised by the bucket's policy (``services/s3.py``), ``metrics.py``
publishes the fleet's CloudWatch metrics, ``alarms.py`` evaluates the alarms on them and
``services/scaling.py`` scales the groups their target tracking policies drive, on the
emulator's clock (``clock.py``, ``--clock-rate``: ``/_emulator/clock``; the alarms' notifications
at ``/_emulator/notifications``); ``--instance-cpus`` bounds each instance's container to its type's
vCPUs times that many CPUs of this machine (``/_emulator/fleet`` changes it while the fleet runs).
The fleet's database stand-ins serve TLS under ``tls.py``'s authority, its certificate at
``/_emulator/tls/ca.pem``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

DEFAULT_PORT = 5000
HOST = "127.0.0.1"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import access  # noqa: E402 - the emulator's own modules, beside this script
import alarms  # noqa: E402
import clock  # noqa: E402
import dataplane  # noqa: E402
import metrics  # noqa: E402
import realism  # noqa: E402
import services  # noqa: E402
import tls  # noqa: E402
from services import ec2, elbv2, iam, rds, s3  # noqa: E402

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_ACCESS_KEY = re.compile(r"Credential=([^/&%]+)")


# --------------------------------------------------------------------------- front door
class Front:
    """WSGI middleware in front of moto: counts AWS API requests by ``service:action`` and, in
    realistic mode, runs due transitions, throttles, hides resources not yet visible and loses
    or replays the answers of idempotent creates (realism.py)."""

    def __init__(self, app):
        self.app = app
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.dataplane = None  # dataplane.DataPlane with --fleet: its addresses at /_emulator/dataplane

    @staticmethod
    def _action(environ, body: bytes) -> tuple[str, dict]:
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return target.split(".")[-1], {}
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if body and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            query.update({k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()})
        if "Action" in query:
            return query["Action"], query
        path = re.sub(r"/[^/]{12,}", "/{id}", environ.get("PATH_INFO", "/"))
        return f"{environ.get('REQUEST_METHOD', 'GET')} {path}", query

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_emulator/stats"):
            return self._stats(environ, start_response)
        if path.startswith("/_emulator/dataplane"):
            listing = self.dataplane.listing() if self.dataplane else {"load_balancers": {}, "distributions": {}}
            return self._answer(start_response, 200, "application/json", json.dumps(listing).encode())
        if path.startswith("/_emulator/clock"):
            return self._clock(environ, start_response)
        if path.startswith("/_emulator/fleet"):
            return self._fleet(environ, start_response)
        if path.startswith("/_emulator/iam"):
            return self._iam(environ, start_response)
        if path.startswith("/_emulator/tls/ca.pem"):
            return self._answer(start_response, 200, "application/x-pem-file", tls.AUTHORITY.ca_pem().encode())
        if path.startswith("/_emulator/notifications"):
            return self._answer(start_response, 200, "application/json", json.dumps(
                {"notifications": alarms.NOTIFICATIONS.listing()}, default=str).encode())
        if path.rstrip("/") == "/moto-api/reset":  # not /moto-api/reset-auth, which only turns IAM checks on
            metrics.STORE.clear()
            alarms.NOTIFICATIONS.clear()
            realism.clear()
            ec2.VISIBILITY.clear()
            iam.VISIBILITY.clear()
            realism.LOST.clear()
            access.ACCESS.clear()
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if path.startswith("/moto-api"):
            return self.app(environ, start_response)
        scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = scope.group(1) if scope else "unsigned"
        action, params = self._action(environ, body)
        key = f"{service}:{action}"
        with self.lock:
            self.calls[key] += 1
        refused = self._authorize(environ, body, service, action)
        if refused:
            return self._answer(start_response, *refused)
        realism.run_due()
        if service not in ("s3", "unsigned") and realism.THROTTLE.refuse(service, action):
            json_protocol = "HTTP_X_AMZ_TARGET" in environ or service in realism.REST_JSON_SERVICES
            return self._answer(start_response, *realism.throttling_answer(service, json_protocol))
        if service == "unsigned":
            denied = s3.refusal(environ)
            if denied:
                return self._answer(start_response, 403, "application/xml", denied)
        if service == "ec2":
            hidden = ec2.not_yet_visible(action, params)
            if hidden:
                return self._answer(start_response, 400, "text/xml", _ec2_error(*hidden))
        if key not in realism.IDEMPOTENT_CREATES:
            return self.app(environ, start_response)
        token = realism.LOST.token(key, params)
        if token:
            kept = realism.LOST.replay(key, token)
            if kept:
                status, headers, content = kept
                start_response(status, headers)
                return [content]
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        content = b"".join(self.app(environ, capture))
        ok = captured["status"].startswith("2")
        if ok and token:
            realism.LOST.keep(key, token, (captured["status"], captured["headers"], content))
        if ok and realism.LOST.lose():
            # The create happened; its answer is lost on the way (the SDK sees a server error
            # and retries). AWS's "InternalError: An internal error has occurred" (EC2 error codes).
            return self._answer(start_response, 500, "text/xml", _ec2_error(
                "InternalError", "An internal error has occurred (the emulator lost this answer)"))
        start_response(captured["status"], captured["headers"])
        return [content]

    @staticmethod
    def _authorize(environ, body: bytes, service: str, action: str):
        """access.py's check of the caller's IAM policies (refusing only when enforced)."""
        signed = _ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION", "")) or _ACCESS_KEY.search(
            environ.get("QUERY_STRING", ""))
        if not signed:
            return None
        if service == "unsigned":  # a presigned URL: the service is in its query string's scope
            scope = re.search(r"X-Amz-Credential=[^&]*?(?:/|%2F)([a-z0-9-]+)(?:/|%2F)aws4_request",
                              environ.get("QUERY_STRING", ""))
            service = scope.group(1) if scope else "s3"
        if " " in action:  # a REST request: its operation from the service's model
            operation = access.rest_operation(service, environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/"),
                                              environ.get("QUERY_STRING", ""))
            if operation is None:
                return None  # not an API operation of the service (moto answers it as it does)
            action = operation
        return access.ACCESS.check(environ, body, service, action, signed.group(1))

    def _iam(self, environ, start_response):
        """GET: whether IAM policies are enforced, what each principal used and what was denied;
        POST {"enforce": bool} turns enforcement on or off, {"clear": true} forgets the record."""
        if environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                asked = json.loads(environ["wsgi.input"].read(length) or b"{}")
                if "enforce" in asked:
                    access.ACCESS.enforce = bool(asked["enforce"])
                if asked.get("clear"):
                    access.ACCESS.clear()
            except (ValueError, AttributeError) as error:
                message = json.dumps({"error": f'POST {{"enforce": true|false, "clear": true|false}}: {error}'}).encode()
                return self._answer(start_response, 400, "application/json", message)
        return self._answer(start_response, 200, "application/json", json.dumps(access.ACCESS.listing()).encode())

    def _clock(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                clock.set_rate(float(json.loads(environ["wsgi.input"].read(length) or b"{}")["rate"]))
            except (ValueError, KeyError, TypeError) as error:
                message = json.dumps({"error": f'POST {{"rate": R}} with R above 0: {error}'}).encode()
                return self._answer(start_response, 400, "application/json", message)
        return self._answer(start_response, 200, "application/json", json.dumps(clock.describe()).encode())

    def _fleet(self, environ, start_response):
        """GET: the fleet's CPU bound; POST {"instance_cpus": C}: bound it (running instances too)."""
        fleet = self.dataplane.fleet if self.dataplane else None
        if fleet is None:
            return self._answer(start_response, 400, "application/json",
                                json.dumps({"error": "no fleet: start the emulator with --fleet"}).encode())
        applied = {}
        if environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                cpus = float(json.loads(environ["wsgi.input"].read(length) or b"{}")["instance_cpus"])
                if cpus < 0:
                    raise ValueError(f"{cpus:g} is below 0")
            except (ValueError, KeyError, TypeError) as error:
                message = json.dumps({"error": f'POST {{"instance_cpus": C}} with C 0 (a CPU per vCPU) or more: {error}'})
                return self._answer(start_response, 400, "application/json", message.encode())
            try:
                applied = fleet.bound_cpus(cpus)
            except RuntimeError as error:
                return self._answer(start_response, 500, "application/json", json.dumps({"error": str(error)}).encode())
        listing = {"instance_cpus": fleet.instance_cpus, "applied": applied}
        return self._answer(start_response, 200, "application/json", json.dumps(listing).encode())

    @staticmethod
    def _answer(start_response, status: int, content_type: str, body: bytes):
        reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 500: "Internal Server Error", 503: "Service Unavailable"}[status]
        start_response(f"{status} {reason}", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def _stats(self, environ, start_response):
        with self.lock:
            payload = {"total": sum(self.calls.values()), "calls": dict(sorted(self.calls.items())),
                       "realism": {**dataclasses.asdict(realism.SETTINGS), "throttled": realism.THROTTLE.throttled,
                                   "lost": realism.LOST.lost, "replayed": realism.LOST.replayed,
                                   "scheduled": realism.pending()}}
            if environ.get("REQUEST_METHOD") == "POST":
                self.calls.clear()
                realism.THROTTLE.throttled = realism.LOST.lost = realism.LOST.replayed = 0
        data = json.dumps(payload).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


def _ec2_error(code: str, message: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error></Errors><RequestID>emulated</RequestID></Response>").encode()


# --------------------------------------------------------------------------- commands
def serve(port: int, with_fleet: bool = False, settings: realism.Settings | None = None,
          state_dir: Path = Path(".emulator"), dataplane_ports: str = "", clock_rate: float = 1.0,
          instance_cpus: float = 0.0) -> None:
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    realism.configure(settings or realism.Settings())
    clock.configure(clock_rate)
    services.install()
    metrics.install()
    realism.start_scheduler()
    app = Front(DomainDispatcherApplication(create_backend_app))
    server = make_server(HOST, port, app, threaded=True)
    fleet = None
    if with_fleet:
        from fleet import Fleet

        def listen_on_gateway(address: str):
            # The containers reach the emulator where their network meets the host.
            gateway = make_server(address, port, app, threaded=True)
            threading.Thread(target=gateway.serve_forever, daemon=True).start()
            print(f"AWS emulator also listening on http://{address}:{port} for the local fleet", flush=True)
            return gateway

        from dataplane import DataPlane, parse_ports

        fleet = Fleet(port, instance_cpus=instance_cpus)
        fleet.on_gateway = listen_on_gateway
        elbv2.install_fleet(fleet)
        fleet.snapshot_dir = state_dir.resolve() / f"db-snapshots-{port}"
        rds.install_fleet(fleet)
        fleet.start()
        ports = parse_ports(dataplane_ports or dataplane.DEFAULT_PORTS)
        app.dataplane = DataPlane(fleet, port, ports, state_dir.resolve() / f"dataplane-{port}")
        # The fleet's CloudWatch metrics, and the alarms and scaling policies that act on them.
        collector = metrics.Collector(fleet, app.dataplane)
        app.dataplane.log_address = collector.log_address
        collector.start()
        from services import scaling

        scaling.FLEET = fleet
        evaluator = alarms.Evaluator(scaling.invoke)
        evaluator.start()
        app.dataplane.start()
        print(f"Data plane (load balancers, CloudFront) on 127.0.0.1:{ports.start}-{ports.stop - 1}", flush=True)
        if clock_rate != 1:
            print(f"Emulated clock at {clock_rate:g}x real time", flush=True)

    def shutdown(*_):
        if app.dataplane:
            app.dataplane.stop()
        if fleet:
            fleet.stop()
        server.shutdown()

    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=shutdown).start())
    # A daemon outlives the terminal or the task that started it: a hang-up is not a stop.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    mode = f" (realistic: {realism.SETTINGS})" if realism.SETTINGS.realistic or realism.SETTINGS.throttle else ""
    print(f"AWS emulator listening on http://{HOST}:{port}{mode}", flush=True)
    server.serve_forever()


def _url(port: int, path: str) -> str:
    return f"http://{HOST}:{port}{path}"


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(_url(port, "/_emulator/stats"), timeout=1):
            return True
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def fleet_problems(dataplane_ports: str) -> list[str]:
    """What stops the local fleet's data plane from starting, said before anything starts."""
    try:
        ports = dataplane.parse_ports(dataplane_ports)
    except ValueError as error:
        return [str(error)]
    problems = []
    missing = dataplane.missing_programs()
    if missing:
        problems.append(f"the data plane needs {' and '.join(missing)} (Debian packages haproxy, nginx-light; "
                        "scripts/containers.sh installs them)")
    taken = dataplane.ports_in_use(ports)
    if taken:
        problems.append(f"--dataplane-ports {ports.start}-{ports.stop - 1}: port(s) {', '.join(map(str, taken))} already "
                        "in use by another process; free them or choose another range (AWSEMU_DATAPLANE_PORTS)")
    return problems


def start(port: int, state_dir: Path, with_fleet: bool = False, realism_args: tuple[str, ...] = (),
          dataplane_ports: str = dataplane.DEFAULT_PORTS) -> int:
    state_dir.mkdir(parents=True, exist_ok=True)
    pidfile = state_dir / "emulator.pid"
    if pidfile.exists():
        pid = int(pidfile.read_text())
        if _pid_alive(pid) and _answers(port):
            print(f"AWS emulator already running (pid {pid}) on {_url(port, '')}")
            return 0
        pidfile.unlink()
    if _answers(port):
        print(f"error: port {port} already answers and is not ours; stop that process first", file=sys.stderr)
        return 1
    for problem in fleet_problems(dataplane_ports) if with_fleet else []:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    log = open(state_dir / "emulator.log", "ab")  # noqa: SIM115 - handed to the child
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, os.path.abspath(__file__), "serve", "--port", str(port), "--state-dir", str(state_dir),
         *(["--fleet", "--dataplane-ports", dataplane_ports] if with_fleet else []), *realism_args],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    pidfile.write_text(str(proc.pid))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print(f"error: emulator exited with {proc.returncode}; see {state_dir / 'emulator.log'}", file=sys.stderr)
            pidfile.unlink(missing_ok=True)
            return 1
        if _answers(port):
            print(f"AWS emulator started (pid {proc.pid}) on {_url(port, '')}")
            return 0
        time.sleep(0.2)
    proc.terminate()
    pidfile.unlink(missing_ok=True)
    print("error: emulator did not answer within 60 s", file=sys.stderr)
    return 1


def stop(state_dir: Path) -> int:
    pidfile = state_dir / "emulator.pid"
    if not pidfile.exists():
        print("AWS emulator not running (no pid file)")
        return 0
    pid = int(pidfile.read_text())
    if _pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 90  # a fleet removes its containers first
        while _pid_alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.1)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)
    print(f"AWS emulator stopped (pid {pid})")
    return 0


def stats(port: int, reset: bool) -> int:
    request = urllib.request.Request(_url(port, "/_emulator/stats"), method="POST" if reset else "GET")
    with urllib.request.urlopen(request, timeout=5) as response:
        print(response.read().decode())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "stop", "serve", "stats"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("AWSEMU_PORT", DEFAULT_PORT)))
    parser.add_argument("--state-dir", type=Path, default=Path(os.environ.get("AWSEMU_STATE_DIR", ".emulator")))
    parser.add_argument("--reset", action="store_true", help="stats: zero the counters after reading")
    parser.add_argument("--fleet", action="store_true", default=os.environ.get("AWSEMU_FLEET") == "1",
                        help="run the local fleet: podman containers for the instances (see fleet.py), and the "
                             "data plane: the load balancers and CloudFront distributions answer (see dataplane.py)")
    parser.add_argument("--dataplane-ports", default=os.environ.get("AWSEMU_DATAPLANE_PORTS", dataplane.DEFAULT_PORTS),
                        metavar="START-END", help="with --fleet: the local ports of the listeners and distributions")
    defaults = realism.Settings.from_env()
    parser.add_argument("--latency-scale", type=float, default=defaults.latency_scale, metavar="F",
                        help="realistic mode: real seconds per AWS second of every lifecycle (0: instant)")
    parser.add_argument("--throttle", action="store_true", default=defaults.throttle,
                        help="realistic mode: per-action token buckets (EC2's documented sizes)")
    parser.add_argument("--throttle-fraction", type=float, default=defaults.throttle_fraction, metavar="P",
                        help="realistic mode: a random fraction of requests throttled besides the buckets")
    parser.add_argument("--lost-responses", type=float, default=defaults.lost_responses, metavar="P",
                        help="realistic mode: fraction of idempotent creates whose answer is lost")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of the random faults")
    parser.add_argument("--clock-rate", type=float, default=float(os.environ.get("AWSEMU_CLOCK_RATE", "1")), metavar="R",
                        help="emulated seconds per real second: metric periods, alarms, scheduled actions, warm-ups "
                             "and cooldowns run R times as fast (see clock.py)")
    parser.add_argument("--instance-cpus", type=float, default=float(os.environ.get("AWSEMU_INSTANCE_CPUS", "0")),
                        metavar="C", help="with --fleet: CPUs of this machine per vCPU of an instance's type, the "
                                          "bound of each instance container (0: unbounded)")
    args = parser.parse_args(argv)
    if not args.clock_rate > 0:
        parser.error(f"--clock-rate must be above 0 (got {args.clock_rate:g})")
    if args.instance_cpus < 0:
        parser.error(f"--instance-cpus must be 0 (unbounded) or more (got {args.instance_cpus:g})")
    settings = realism.Settings(args.latency_scale, args.throttle, args.throttle_fraction, args.lost_responses, args.seed)
    try:
        settings.validate()
    except ValueError as error:
        parser.error(str(error))
    if args.command == "serve":
        serve(args.port, args.fleet, settings, args.state_dir, args.dataplane_ports, args.clock_rate, args.instance_cpus)
        return 0
    if args.command == "start":
        forwarded = ("--latency-scale", str(settings.latency_scale), "--throttle-fraction",
                     str(settings.throttle_fraction), "--lost-responses", str(settings.lost_responses),
                     *(["--throttle"] if settings.throttle else []),
                     *(["--seed", str(settings.seed)] if settings.seed is not None else []),
                     "--clock-rate", str(args.clock_rate), "--instance-cpus", str(args.instance_cpus))
        return start(args.port, args.state_dir, args.fleet, forwarded, args.dataplane_ports)
    if args.command == "stop":
        return stop(args.state_dir)
    return stats(args.port, args.reset)

if __name__ == "__main__":
    sys.exit(main())
