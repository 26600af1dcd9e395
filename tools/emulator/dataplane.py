"""The emulator's data plane: the Application Load Balancers and CloudFront distributions carry
real HTTP traffic to the local fleet.

With ``awsemu.py start --fleet`` the emulator keeps, beside the fleet (fleet.py):

- **HAProxy** (Debian's package) with a frontend for every listener of every Application Load
  Balancer, on a local port, forwarding by the listener's rules to its target groups' targets,
  the fleet's containers. What it does follows the ELB User Guide for Application Load
  Balancers (quoted where it matters below); what it cannot do is listed at the end.
- **nginx** (Debian's package) as a stand-in for every CloudFront distribution: a caching reverse
  proxy on two local ports (viewer HTTP and HTTPS) with the distribution's cache behaviours, their
  cache policies' TTLs, the viewer protocol policy and CloudFront's response headers. The S3
  origin is read as Origin Access Control does: the request carries the distribution's ARN, and
  the emulator's S3 admits it only if the bucket policy does (services/s3.py); an anonymous
  request straight to the bucket is refused.

Both are configured from the emulator's state once a second; a changed configuration is checked
and loaded without dropping a request (HAProxy's master-worker reload lets the old worker finish
its requests; nginx's reload does the same). Ports come from one range (``--dataplane-ports``,
8080-8119 by default): distributions take them from its start, load balancer listeners from its
middle, so the demo's single stack always answers at the same addresses. ``GET
/_emulator/dataplane`` on the emulator lists them.

Not modelled: HTTP/2 and HTTP/3 to viewers, CloudFront's edge locations, origin groups, Lambda@Edge
and functions, signed URLs, invalidations (the stand-in's cache lives as long as the emulator);
ALB authentication actions, weighted forwards across several target groups (the first one takes
all), slow start, and the connection timeout's 504 (a target that refuses or cannot be reached
gives 502).
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

log = logging.getLogger("awsemu.dataplane")

DEFAULT_PORTS = "8080-8119"
# What HAProxy logs of each request for the CloudWatch metrics (metrics.py parses it): frontend,
# backend, server, status, the target's response time in ms (-1: no answer), client address.
LOG_FORMAT = "shopreq %f %b %s %ST %Tr %ci"
# The AWS managed cache policies (CloudFront Developer Guide, "Use managed cache policies"):
# CachingOptimized: MinTTL 1 s, DefaultTTL 86,400 s, MaxTTL 31,536,000 s, gzip and Brotli, no
# header, cookie or query string in the key. CachingDisabled: every TTL 0.
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHE_POLICIES = {CACHING_OPTIMIZED: {"default_ttl": 86400, "compress": True},
                  CACHING_DISABLED: {"default_ttl": 0, "compress": False}}
# The managed origin request policies (CloudFront Developer Guide, "Use managed origin request
# policies"): AllViewer forwards every viewer header with the viewer's Host;
# AllViewerExceptHostHeader forwards them all but Host, which becomes the origin's domain name.
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
# The managed response headers policy SecurityHeadersPolicy (CloudFront Developer Guide, "Use
# managed response headers policies"): each header, its value, and whether it replaces the
# origin's (override) or is added only when the origin sent none.
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
RESPONSE_HEADERS_POLICIES = {SECURITY_HEADERS: [
    ("Referrer-Policy", "strict-origin-when-cross-origin", False),
    ("Strict-Transport-Security", "max-age=31536000", False),
    ("X-Content-Type-Options", "nosniff", True),
    ("X-Frame-Options", "SAMEORIGIN", False),
    ("X-XSS-Protection", "1; mode=block", False)]}
# The body an Application Load Balancer sends with an error it generates (ELB UG, "HTTP error
# codes" troubleshooting; its Server header is awselb/2.0).
ALB_ERROR = ("<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
             "<center><h1>{code} {reason}</h1></center>\r\n</body>\r\n</html>\r\n")
REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 502: "Bad Gateway",
           503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}


def parse_ports(text: str) -> range:
    """``START-END``: the data plane's ports; a clear error for anything else."""
    match = re.fullmatch(r"(\d+)-(\d+)", text.strip())
    if not match:
        raise ValueError(f"--dataplane-ports must be START-END, e.g. {DEFAULT_PORTS} (got '{text}')")
    start, end = int(match.group(1)), int(match.group(2))
    if not 1024 <= start < end <= 65535 or end - start + 1 < 8:
        raise ValueError(f"--dataplane-ports must span at least 8 ports within 1024-65535 (got '{text}')")
    return range(start, end + 1)


def ports_in_use(ports: range) -> list[int]:
    """The ports of the range another process already listens on (on 127.0.0.1)."""
    taken = []
    for port in ports:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                taken.append(port)
    return taken


def _which(name: str) -> str | None:
    """A program on the PATH or in /usr/sbin, where Debian puts haproxy and nginx."""
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin")


def missing_programs() -> list[str]:
    return [name for name in ("haproxy", "nginx") if not _which(name)]


def _program(name: str) -> str:
    return _which(name) or name


class Proxy:
    """One proxy server process: configured from a text, reloaded when the text changes."""

    def __init__(self, name: str, directory: Path, check: list[str], run: list[str], reload_signal: int):
        self.name, self.directory = name, directory
        self.config = directory / f"{name}.conf"
        self.check_args, self.run_args, self.reload_signal = check, run, reload_signal
        self.process: subprocess.Popen | None = None
        self.text = ""

    def apply(self, text: str) -> None:
        if text == self.text and self.process and self.process.poll() is None:
            return
        candidate = self.directory / f"{self.name}.conf.new"
        candidate.write_text(text)
        checked = subprocess.run([*self.check_args, str(candidate)], capture_output=True, text=True, check=False)  # noqa: S603
        if checked.returncode != 0:
            log.error("%s refused its new configuration, the old one stays: %s", self.name,
                      (checked.stderr or checked.stdout).strip()[-2000:])
            self.text = text  # not retried every second; the next change tries again
            return
        candidate.replace(self.config)
        self.text = text
        if self.process and self.process.poll() is None:
            self.process.send_signal(self.reload_signal)
            return
        output = open(self.directory / f"{self.name}.log", "ab")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen([*self.run_args, str(self.config)], stdin=subprocess.DEVNULL,  # noqa: S603
                                        stdout=output, stderr=subprocess.STDOUT)
        log.info("%s started (pid %s)", self.name, self.process.pid)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            log.info("%s stopped", self.name)
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
        self.text = ""


class DataPlane:
    def __init__(self, fleet, emulator_port: int, ports: range, directory: Path):
        self.fleet = fleet
        self.emulator_port = emulator_port
        self.ports = ports
        self.directory = directory
        self.lock = threading.Lock()
        self.allocated: dict[tuple, int] = {}
        self.published: dict = {"load_balancers": {}, "distributions": {}}
        self.idents: dict[str, tuple[str, str]] = {}  # HAProxy name -> ("balancer" | "group", ARN)
        self.log_address: str | None = None  # where HAProxy logs each request (metrics.py), when set
        self.stopping = threading.Event()
        directory.mkdir(parents=True, exist_ok=True)
        # nginx's workers (nobody, under a root master) write the cache and the buffered bodies:
        # folders of their own under /tmp, since the state folder's parents may be closed to them.
        self.scratch = Path(tempfile.mkdtemp(prefix=f"awsemu-{emulator_port}-cloudfront-"))
        self.cache = self.scratch / "cache"
        self.temp = self.scratch / "temp"
        for folder in (self.scratch, self.cache, self.temp):
            folder.mkdir(exist_ok=True)
            if os.geteuid() == 0:
                nobody = pwd.getpwnam("nobody")
                os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        self.haproxy = Proxy("haproxy", directory, [_program("haproxy"), "-c", "-f"],
                             [_program("haproxy"), "-W", "-db", "-f"], signal.SIGUSR2)
        self.nginx = Proxy("nginx", directory, [_program("nginx"), "-q", "-t", "-c"],
                           [_program("nginx"), "-g", "daemon off;", "-c"], signal.SIGHUP)

    # ------------------------------------------------------------------ life cycle
    def start(self) -> None:
        threading.Thread(target=self._loop, name="dataplane", daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()
        self.haproxy.stop()
        self.nginx.stop()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _loop(self) -> None:
        while not self.stopping.wait(1.0):
            try:
                self.sync()
            except Exception:  # the loop must outlive one bad pass
                log.exception("data plane pass failed")

    def names(self) -> dict[str, tuple[str, str]]:
        with self.lock:
            return dict(self.idents)

    def listing(self) -> dict:
        with self.lock:
            return json.loads(json.dumps(self.published))

    def _port(self, key: tuple, half: int) -> int | None:
        """A stable port for a listener (half 1) or a distribution's viewer side (half 0)."""
        with self.lock:
            if key in self.allocated:
                return self.allocated[key]
            middle = self.ports.start + len(self.ports) // 2
            candidates = range(self.ports.start, middle) if half == 0 else range(middle, self.ports.stop)
            used = set(self.allocated.values())
            for port in candidates:
                if port not in used and not ports_in_use(range(port, port + 1)):
                    self.allocated[key] = port
                    return port
        log.error("no free port left in %s-%s for %s", self.ports.start, self.ports.stop - 1, key)
        return None

    def sync(self) -> None:
        balancers = self._load_balancers()
        distributions = self._distributions(balancers)
        # A proxy with nothing left to serve (the stack destroyed) stops.
        if balancers:
            self.haproxy.apply(self._haproxy_config(balancers))
        else:
            self.haproxy.stop()
        if distributions:
            self.nginx.apply(self._nginx_config(distributions))
        else:
            self.nginx.stop()
        with self.lock:  # listed once their proxy has its configuration
            self.published = {
                "load_balancers": {b["dns_name"]: {"name": b["name"], "idle_timeout": b["idle_timeout"], "listeners": {
                    str(lst["port"]): f"{lst['scheme']}://127.0.0.1:{lst['local_port']}" for lst in b["listeners"]}}
                    for b in balancers},
                "distributions": {d["domain"]: {"id": d["id"], "http": f"http://127.0.0.1:{d['http_port']}",
                                                "https": f"https://127.0.0.1:{d['https_port']}"} for d in distributions}}

    # ------------------------------------------------------------------ load balancers
    def _load_balancers(self) -> list[dict]:
        from moto.acm.models import acm_backends
        from moto.elbv2.models import elbv2_backends

        found = []
        for account, regions in list(elbv2_backends.items()):
            for region, backend in list(regions.items()):
                for balancer in list(backend.load_balancers.values()):
                    if balancer.type != "application":
                        continue
                    listeners = []
                    for listener in sorted(list(balancer.listeners.values()), key=lambda x: int(x.port)):
                        local = self._port(("alb", balancer.arn, int(listener.port)), 1)
                        if local is None:
                            continue
                        entry = {"port": int(listener.port), "local_port": local, "arn": listener.arn,
                                 "scheme": "https" if listener.protocol == "HTTPS" else "http",
                                 "ssl_policy": listener.ssl_policy or "", "rules": self._rules(listener)}
                        if entry["scheme"] == "https":
                            entry["pem"] = self._certificate(acm_backends[account][region], listener, balancer.name)
                        listeners.append(entry)
                    groups = {}
                    for listener in listeners:
                        for rule in listener["rules"]:
                            arn = rule["action"].get("target_group")
                            if arn and arn in backend.target_groups:
                                groups[arn] = self._targets(backend.target_groups[arn])
                    found.append({"name": balancer.name, "arn": balancer.arn, "dns_name": balancer.dns_name,
                                  "idle_timeout": int(balancer.attrs.get("idle_timeout.timeout_seconds", 60)),
                                  "listeners": listeners, "groups": groups})
        return found

    @staticmethod
    def _rules(listener) -> list[dict]:
        """The listener's rules by priority, the default last; each a list of conditions and one action."""
        rules = sorted((r for r in listener.rules.values() if not r.is_default), key=lambda r: int(r.priority))
        rules += [r for r in listener.rules.values() if r.is_default]
        found = []
        for rule in rules:
            action = next((a for a in sorted(rule.actions, key=lambda a: int(getattr(a, "data", a).get("Order", 1)))
                           if getattr(a, "data", a).get("Type") in ("forward", "redirect", "fixed-response")), None)
            if action is None:
                continue
            data = getattr(action, "data", action)
            if data["Type"] == "forward":
                arn = data.get("TargetGroupArn") or next(
                    iter(g["TargetGroupArn"] for g in data.get("ForwardConfig", {}).get("TargetGroups", [])), None)
                entry = {"type": "forward", "target_group": arn}
            elif data["Type"] == "redirect":
                entry = {"type": "redirect", **data["RedirectConfig"]}
            else:
                entry = {"type": "fixed-response", **data["FixedResponseConfig"]}
            found.append({"conditions": [c if isinstance(c, dict) else c.__dict__ for c in (rule.conditions or [])],
                          "action": entry})
        return found

    def _certificate(self, acm, listener, name: str) -> str | None:
        """The listener's ACM certificate and key as one PEM file for HAProxy (0600)."""
        arn = (listener.certificates or [None])[0]
        arn = arn.get("CertificateArn") if isinstance(arn, dict) else arn
        bundle = acm._certificates.get(arn) if arn else None
        if bundle is None:
            log.error("listener %s of %s: certificate %s not found in ACM", listener.port, name, arn)
            return None
        pem = self.directory / f"cert-{hashlib.sha256(arn.encode()).hexdigest()[:16]}.pem"
        text = b"\n".join(part.strip() for part in (bundle.cert, bundle.chain or b"", bundle.key) if part) + b"\n"
        if not pem.exists() or pem.read_bytes() != text:
            pem.touch(mode=0o600)
            pem.write_bytes(text)
        return str(pem)

    def _targets(self, group) -> dict:
        """The servers a target group routes to, as ELB chooses them: its healthy targets; if it has
        registered targets but none healthy, all of them ("If a target group contains only unhealthy
        registered targets, the load balancer routes requests to all those targets", ELB UG,
        "Health checks for Application Load Balancer target groups"); with none registered, none
        (503). Draining targets get no new request; their open ones finish (the old HAProxy worker
        keeps them after a reload)."""
        healthy, unhealthy = [], []
        for target_id, target in sorted(group.targets.items()):
            health = self.fleet.target_health(group, target_id)
            with self.fleet.lock:
                address = self.fleet.addresses.get(target_id)
            if health is None or address is None:
                continue
            server = (target_id, f"{address}:{int(target.get('Port') or group.port)}")
            if health.state == "healthy":
                healthy.append(server)
            elif health.state == "unhealthy":
                unhealthy.append(server)
        attributes = group.attributes
        algorithm = {"least_outstanding_requests": "leastconn", "weighted_random": "random"}.get(
            attributes.get("load_balancing.algorithm.type", "round_robin"), "roundrobin")
        sticky = (str(attributes.get("stickiness.enabled", "false")).lower() == "true"
                  and attributes.get("stickiness.type", "lb_cookie") == "lb_cookie")
        return {"name": group.name, "servers": healthy or unhealthy, "algorithm": algorithm,
                "sticky_seconds": int(attributes.get("stickiness.lb_cookie.duration_seconds", 86400)) if sticky else 0,
                "drain_seconds": int(attributes.get("deregistration_delay.timeout_seconds", 300))}

    def _haproxy_config(self, balancers: list[dict]) -> str:
        drain = max([g["drain_seconds"] for b in balancers for g in b["groups"].values()] + [5])
        lines = [
            "# Written by the AWS emulator (tools/emulator/dataplane.py) from its load balancers; do not edit.",
            "global",
            f"    pidfile {self.directory / 'haproxy.pid'}",
            # A reloaded worker keeps its open requests for the deregistration delay, then stops.
            f"    hard-stop-after {drain + 5}s",
            "defaults",
            "    mode http",
            "    option http-server-close",
            "    retries 0",
            "    timeout connect 10s",  # "the connection timeout (10 seconds)" (ELB UG, HTTP 504)
        ]
        if self.log_address:
            # Each request, for the CloudWatch metrics (metrics.py reads these fields).
            lines[3:3] = [f"    log {self.log_address} local0 info"]
            lines += ["    log global", f'    log-format "{LOG_FORMAT}"']
        idents = {}
        for code in (502, 504):
            path = self.directory / f"alb-{code}.http"
            body = ALB_ERROR.format(code=code, reason=REASONS[code])
            path.write_text(f"HTTP/1.1 {code} {REASONS[code]}\r\nServer: awselb/2.0\r\nContent-Type: text/html\r\n"
                            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}")
        for balancer in balancers:
            for listener in balancer["listeners"]:
                frontend = self._frontend(balancer, listener)
                if frontend:
                    lines += frontend
                    idents[self._ident(balancer["arn"], str(listener["port"]))] = ("balancer", balancer["arn"])
            for arn, group in balancer["groups"].items():
                lines += self._backend(balancer, arn, group)
                idents[self._ident(arn)] = ("group", arn)
        with self.lock:
            self.idents = idents
        return "\n".join(lines) + "\n"

    @staticmethod
    def _ident(*parts: str) -> str:
        return "x" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]

    def _frontend(self, balancer: dict, listener: dict) -> list[str]:
        name = self._ident(balancer["arn"], str(listener["port"]))
        bind = f"    bind 127.0.0.1:{listener['local_port']}"
        if listener["scheme"] == "https":
            if not listener.get("pem"):
                return []
            # ELBSecurityPolicy-TLS13-1-3-*: TLS 1.3 only; -TLS13-1-2-* and -TLS-1-2-*: 1.2 and later.
            policy = listener["ssl_policy"]
            minimum = "TLSv1.3" if "TLS13-1-3" in policy else "TLSv1.2" if re.search(r"TLS13-1-2|TLS-1-2", policy) else "TLSv1.0"
            bind += f" ssl crt {listener['pem']} ssl-min-ver {minimum}"
        lines = [f"frontend {name}  # {balancer['name']} :{listener['port']}", bind,
                 f"    timeout client {balancer['idle_timeout']}s",
                 "    http-response set-header Server awselb/2.0 if !{ res.hdr(Server) -m found }",
                 # X-Forwarded-For: the client's address appended to what it sent, in one header
                 # (routing.http.xff_header_processing.mode "append", ELB UG "HTTP headers").
                 "    http-request set-header X-Forwarded-For \"%[req.fhdr(X-Forwarded-For)], %[src]\" "
                 "if { req.hdr(X-Forwarded-For) -m found }",
                 "    http-request set-header X-Forwarded-For %[src] unless { req.hdr(X-Forwarded-For) -m found }",
                 f"    http-request set-header X-Forwarded-Proto {listener['scheme']}",
                 f"    http-request set-header X-Forwarded-Port {listener['port']}",
                 # X-Amzn-Trace-Id: Root=1-<epoch seconds, 8 hex>-<24 hex> (ELB UG, "Request tracing"),
                 # kept when the client sent one.
                 "    http-request set-header X-Amzn-Trace-Id Root=1-%[date,bytes(4,4),hex,lower]-"
                 "%[uuid,regsub(-,,g),bytes(0,24)] unless { req.hdr(X-Amzn-Trace-Id) -m found }"]
        # Rules in priority order, the first whose conditions all match wins (ELB UG, "Listener rules").
        for index, rule in enumerate(listener["rules"]):
            condition = self._conditions(rule["conditions"])
            if condition is None:
                continue  # a condition the data plane cannot evaluate: the rule never matches
            lines.append(f"    http-request set-var(txn.rule) int({index}) if !{{ var(txn.rule) -m found }} {condition}".rstrip())
        for index, rule in enumerate(listener["rules"]):
            chosen = f"{{ var(txn.rule) -m int {index} }}"
            action = rule["action"]
            if action["type"] == "forward":
                group = balancer["groups"].get(action["target_group"])
                if group is not None:
                    lines.append(f"    use_backend {self._ident(action['target_group'])} if {chosen}")
            elif action["type"] == "redirect":
                lines.append(f"    http-request redirect {self._redirect(balancer, listener, action)} if {chosen}")
            else:
                code = int(action.get("StatusCode", 503))
                body = (action.get("MessageBody") or "").replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
                # A fixed response is the load balancer's own answer: Server awselb/2.0, as its errors.
                lines.append(f"    http-request return status {code} content-type \"{action.get('ContentType', 'text/plain')}\""
                             f" hdr Server awselb/2.0 string \"{body}\" if {chosen}")
        return lines

    @staticmethod
    def _conditions(conditions: list[dict]) -> str | None:
        """A rule's conditions as HAProxy ACLs: values of one condition OR, conditions AND."""
        parts = []
        for condition in conditions:
            field = condition.get("Field")
            values = (condition.get("Values")
                      or next((v.get("Values") for k, v in condition.items() if k.endswith("Config") and isinstance(v, dict)), None)
                      or [])
            if field == "path-pattern":
                parts.append("{ path -m reg " + " ".join(_wildcard(v, leading_slash=True, haproxy=True) for v in values) + " }")
            elif field == "host-header":
                parts.append("{ req.hdr(host),field(1,:) -m reg -i " + " ".join(_wildcard(v, haproxy=True) for v in values) + " }")
            elif field == "http-header":
                config = condition.get("HttpHeaderConfig", {})
                name = config.get("HttpHeaderName", "")
                if not re.fullmatch(r"[A-Za-z0-9-]+", name):
                    return None
                parts.append(f"{{ req.hdr({name}) -m reg -i " + " ".join(_wildcard(v, haproxy=True) for v in config.get("Values", []))
                             + " }")
            elif field == "http-request-method":
                methods = condition.get("HttpRequestMethodConfig", {}).get("Values", values)
                parts.append("{ method " + " ".join(m for m in methods if re.fullmatch(r"[A-Z_-]+", m)) + " }")
            elif field == "source-ip":
                cidrs = condition.get("SourceIpConfig", {}).get("Values", values)
                parts.append("{ src " + " ".join(c for c in cidrs if re.fullmatch(r"[0-9a-fA-F.:/]+", c)) + " }")
            else:
                log.warning("listener rule condition %s is not modelled by the data plane", field)
                return None
        return " ".join(parts)

    def _redirect(self, balancer: dict, listener: dict, config: dict) -> str:
        """A redirect action: #{protocol}, #{host}, #{port}, #{path}, #{query} as ELB expands them
        (ELB UG, "Redirect actions"). The port is the local port of the balancer's listener on it."""
        protocol = config.get("Protocol", "#{protocol}").replace("#{protocol}", listener["scheme"]).lower()
        port = config.get("Port", "#{port}").replace("#{port}", str(listener["port"]))
        local = next((str(lst["local_port"]) for lst in balancer["listeners"] if str(lst["port"]) == port), port)
        host = config.get("Host", "#{host}").replace("#{host}", "%[req.hdr(host),field(1,:)]")
        code = {"HTTP_301": 301, "HTTP_302": 302}.get(config.get("StatusCode"), 302)
        path, query = config.get("Path", "/#{path}"), config.get("Query", "#{query}")
        if path == "/#{path}" and query == "#{query}":
            return f"prefix {protocol}://{host}:{local} code {code}"
        path = path.replace("#{path}", "%[path,regsub(^/,)]").replace("#{host}", "%[req.hdr(host),field(1,:)]")
        query = query.replace("#{query}", "%[query]")
        return f"location {protocol}://{host}:{local}{path}{'?' + query if query else ''} code {code}"

    def _backend(self, balancer: dict, arn: str, group: dict) -> list[str]:
        lines = [f"backend {self._ident(arn)}  # {group['name']}", f"    balance {group['algorithm']}",
                 f"    timeout server {balancer['idle_timeout']}s",
                 f"    errorfile 503 {self.directory / 'alb-502.http'}",  # a target that refuses: 502
                 f"    errorfile 504 {self.directory / 'alb-504.http'}"]  # no answer within the idle timeout
        if not group["servers"]:
            # "HTTP 503: Service Unavailable. The target groups for the load balancer have no
            # registered targets" (ELB UG, troubleshooting): none that could take a request.
            body = ALB_ERROR.format(code=503, reason=REASONS[503]).replace("\r\n", "\\r\\n").replace('"', '\\"')
            return [*lines, "    http-request return status 503 content-type text/html hdr Server awselb/2.0 "
                    f"string \"{body}\""]
        if group["sticky_seconds"]:
            lines.append(f"    cookie AWSALB insert indirect nocache maxlife {group['sticky_seconds']}s")
        for target_id, address in group["servers"]:
            cookie = f" cookie {target_id}" if group["sticky_seconds"] else ""
            lines.append(f"    server {target_id} {address}{cookie}")
        return lines

    # ------------------------------------------------------------------ distributions
    def _distributions(self, balancers: list[dict]) -> list[dict]:
        from moto.cloudfront.models import cloudfront_backends

        origins_by_domain = {b["dns_name"].lower(): b for b in balancers}
        found = []
        for regions in list(cloudfront_backends.values()):
            for backend in list(regions.values()):
                for distribution in list(backend.distributions.values()):
                    config = distribution.distribution_config
                    http_port = self._port(("cloudfront", distribution.id, "http"), 0)
                    https_port = self._port(("cloudfront", distribution.id, "https"), 0)
                    if http_port is None or https_port is None:
                        continue
                    origins = {o.id: self._origin(o, origins_by_domain) for o in config.Origins["Items"]}
                    behaviours = [self._behaviour(b, origins) for b in (config.CacheBehaviors.get("Items") or [])]
                    behaviours.append(self._behaviour(config.DefaultCacheBehavior, origins))
                    found.append({"id": distribution.id, "arn": distribution.arn, "domain": distribution.domain_name,
                                  "enabled": bool(getattr(config, "Enabled", True)), "http_port": http_port,
                                  "https_port": https_port, "behaviours": behaviours,
                                  "certificate": self._viewer_certificate(distribution)})
        return found

    def _origin(self, origin, balancers: dict) -> dict:
        domain = origin.domain_name.lower()
        bucket = re.match(r"^(.+)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$", domain)
        if bucket and hasattr(origin, "s3_origin_config"):
            return {"kind": "s3", "domain": domain, "path": origin.origin_path or "",
                    "oac": bool(getattr(origin, "origin_access_control_id", ""))}
        balancer = balancers.get(domain)
        custom = getattr(origin, "custom_origin_config", None)
        if balancer is None or custom is None:
            return {"kind": "unknown", "domain": domain}
        policy = custom.origin_protocol_policy or "http-only"
        ports = {lst["port"]: lst for lst in balancer["listeners"]}
        chosen = {"http-only": "http", "https-only": "https"}.get(policy, "match-viewer")
        targets = {}
        for scheme, port in (("http", int(custom.http_port or 80)), ("https", int(custom.https_port or 443))):
            if port in ports and ports[port]["scheme"] == scheme:
                targets[scheme] = f"{scheme}://127.0.0.1:{ports[port]['local_port']}"
        # Origin custom headers: CloudFront adds each of them to every request it sends to the
        # origin, in place of a viewer's header of the same name (CloudFront Developer Guide,
        # "Add custom headers to origin requests").
        # Values nginx cannot quote ($, ", \\, ;, braces) are left out, and said so.
        headers = []
        for header in (getattr(origin, "custom_headers", {}) or {}).get("Items") or []:
            name, value = header.get("HeaderName", ""), header.get("HeaderValue", "")
            if re.fullmatch(r"[A-Za-z0-9-]+", name) and re.fullmatch(r"[A-Za-z0-9 !#%&'()*+,./:<=>?@\[\]^_`|~-]*", value):
                headers.append((name, value))
            else:
                log.warning("origin %s: custom header %r not modelled by the data plane (characters nginx cannot quote)", domain, name)
        return {"kind": "alb", "domain": domain, "path": origin.origin_path or "", "policy": chosen, "targets": targets,
                "read_timeout": int(custom.origin_read_timeout or 30), "headers": headers}

    @staticmethod
    def _behaviour(behaviour, origins: dict) -> dict:
        policy = CACHE_POLICIES.get(behaviour.cache_policy_id or "")
        if policy is None:  # a legacy behaviour (ForwardedValues and TTLs) or a custom cache policy
            policy = {"default_ttl": int(getattr(behaviour, "default_ttl", 0) or 0), "compress": False}
        return {"pattern": getattr(behaviour, "path_pattern", "") or "", "origin": origins.get(behaviour.target_origin_id),
                "viewer": behaviour.viewer_protocol_policy, "methods": list(behaviour.allowed_methods.items),
                "ttl": policy["default_ttl"], "compress": policy["compress"] and bool(behaviour.compress),
                "request_policy": behaviour.origin_request_policy_id or "",
                "response_headers": RESPONSE_HEADERS_POLICIES.get(getattr(behaviour, "response_headers_policy_id", "") or "", [])}

    def _viewer_certificate(self, distribution) -> tuple[str, str]:
        """The viewer side's certificate: a self-signed one for the distribution's *.cloudfront.net
        name and its aliases (the stand-in cannot hold CloudFront's own), made once."""
        cert = self.directory / f"cf-{distribution.id}.crt"
        key = self.directory / f"cf-{distribution.id}.key"
        if cert.exists() and key.exists():
            return str(cert), str(key)
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        private = ec.generate_private_key(ec.SECP256R1())
        aliases = list(distribution.distribution_config.Aliases.get("Items") or [])
        names = [distribution.domain_name, "*.cloudfront.net", *aliases, "localhost"]
        subject = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, distribution.domain_name)])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                       .public_key(private.public_key()).serial_number(x509.random_serial_number())
                       .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=30))
                       .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]
                                                                  + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                      critical=False)
                       .sign(private, hashes.SHA256()))
        key.touch(mode=0o600)
        key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
        cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return str(cert), str(key)

    def _nginx_config(self, distributions: list[dict]) -> str:
        temp = self.temp
        lines = [
            "# Written by the AWS emulator (tools/emulator/dataplane.py) from its distributions; do not edit.",
            f"pid {self.directory / 'nginx.pid'};",
            f"error_log {self.directory / 'nginx-error.log'} warn;",
            "worker_processes 1;",
            "events { worker_connections 4096; }",
            "http {",
            f"    access_log {self.directory / 'cloudfront-access.log'};",
            f"    client_body_temp_path {temp}/body;",
            f"    proxy_temp_path {temp}/proxy;",
            f"    fastcgi_temp_path {temp}/fastcgi;",
            f"    uwsgi_temp_path {temp}/uwsgi;",
            f"    scgi_temp_path {temp}/scgi;",
            "    server_tokens off;",
            "    types_hash_max_size 2048;",
            f"    proxy_cache_path {self.cache} levels=1:2 keys_zone=cloudfront:16m max_size=1g inactive=1d use_temp_path=off;",
            # X-Cache as CloudFront writes it (Developer Guide, "Viewer response headers").
            '    map "$upstream_cache_status:$status" $cloudfront_x_cache {',
            '        ~^HIT: "Hit from cloudfront";',
            '        ~^(REVALIDATED|UPDATING|STALE): "RefreshHit from cloudfront";',
            '        ~:[45] "Error from cloudfront";',
            '        default "Miss from cloudfront";',
            "    }",
            "    proxy_http_version 1.1;",
            "    proxy_buffering on;",
        ]
        # A response headers policy's header without override: the origin's value when it sent
        # one, else the policy's.
        for name, value, override in sorted({h for d in distributions for b in d["behaviours"] for h in b["response_headers"]}):
            if not override:
                variable = name.lower().replace("-", "_")
                lines += [f"    map $upstream_http_{variable} $cloudfront_{variable} {{", f'        "" "{value}";',
                          f"        default $upstream_http_{variable};", "    }"]
        for distribution in distributions:
            lines += self._nginx_servers(distribution)
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _nginx_servers(self, distribution: dict) -> list[str]:
        edge = _edge(distribution)
        headers = [f'add_header Via "1.1 {edge}.cloudfront.net (CloudFront)" always;',
                   'add_header X-Cache $cloudfront_x_cache always;',
                   'add_header X-Amz-Cf-Pop "LOCAL1-P1" always;',
                   'add_header X-Amz-Cf-Id $request_id always;']
        lines = []
        for scheme in ("http", "https"):
            port = distribution[f"{scheme}_port"]
            cert, key = distribution["certificate"]
            lines += [f"    server {{  # {distribution['domain']} ({distribution['id']}), viewer {scheme}",
                      f"        listen 127.0.0.1:{port}{' ssl' if scheme == 'https' else ''};",
                      "        server_name _;"]
            if scheme == "https":
                lines += [f"        ssl_certificate {cert};", f"        ssl_certificate_key {key};",
                          "        ssl_protocols TLSv1.2 TLSv1.3;"]
            if not distribution["enabled"]:
                lines += ["        location / { return 403; }", "    }"]
                continue
            # Cache behaviours in their order, the default last (Developer Guide, "Path pattern").
            for behaviour in distribution["behaviours"]:
                pattern = behaviour["pattern"]
                where = f"location ~ {_wildcard(pattern, leading_slash=True)}" if pattern else "location /"
                lines.append(f"        {where} {{")
                lines += ["            " + h for h in headers]
                for name, value, override in behaviour["response_headers"]:
                    chosen = f'"{value}"' if override else f"$cloudfront_{name.lower().replace('-', '_')}"
                    lines += [f"            proxy_hide_header {name};", f"            add_header {name} {chosen} always;"]
                lines += ["            " + line for line in self._behaviour_block(distribution, behaviour, scheme)]
                lines.append("        }")
            lines.append("    }")
        return lines

    def _behaviour_block(self, distribution: dict, behaviour: dict, scheme: str) -> list[str]:
        https_port = distribution["https_port"]
        if scheme == "http" and behaviour["viewer"] == "redirect-to-https":
            # "CloudFront returns HTTP status code 301 (Moved Permanently) along with the new HTTPS URL"
            # (CloudFront Developer Guide, "Viewer protocol policy"); https-only answers 403 to HTTP.
            return [f"return 301 https://$host:{https_port}$request_uri;"]
        if scheme == "http" and behaviour["viewer"] == "https-only":
            return ["return 403;"]
        methods = "|".join(re.escape(m) for m in behaviour["methods"])
        lines = [f"if ($request_method !~ ^({methods})$) {{ return 403; }}"]
        origin = behaviour["origin"] or {"kind": "unknown", "domain": "?"}
        if origin["kind"] == "unknown":
            return [*lines, "return 502;"]
        if behaviour["compress"]:
            lines += ["gzip on;", "gzip_proxied any;", "gzip_vary on;",
                      "gzip_types text/css application/javascript text/javascript application/json image/svg+xml text/plain;"]
        if behaviour["ttl"] > 0:
            lines += ["proxy_cache cloudfront;", f'proxy_cache_key "{distribution["id"]}$uri";',
                      "proxy_cache_methods GET HEAD;", "proxy_cache_lock on;",
                      f"proxy_cache_valid 200 206 301 {behaviour['ttl']}s;",
                      # Errors are cached 10 s (Developer Guide, "Error caching minimum TTL").
                      "proxy_cache_valid 400 403 404 405 414 500 501 502 503 504 10s;"]
        else:
            lines.append("proxy_cache off;")
        lines += [f'proxy_set_header Via "2.0 {_edge(distribution)}.cloudfront.net (CloudFront)";',
                  "proxy_set_header X-Amz-Cf-Id $request_id;"]
        if origin["kind"] == "s3":
            # What Origin Access Control sends: a request signed as cloudfront.amazonaws.com for this
            # distribution (SourceArn). The emulator's S3 reads the ARN from this header and applies
            # the bucket policy to it (services/s3.py). No viewer header, cookie or query goes on.
            lines += ["proxy_pass_request_headers off;", "proxy_pass_request_body off;",
                      f"proxy_set_header Host {origin['domain']};",
                      "proxy_set_header X-Forwarded-For $remote_addr;",
                      *([f"proxy_set_header X-Emulator-Cloudfront-Source-Arn {distribution['arn']};"] if origin["oac"] else []),
                      f"rewrite ^ {origin['path']}$uri break;" if origin["path"] else "rewrite ^ $uri break;",
                      f"proxy_pass http://127.0.0.1:{self.emulator_port};",
                      "proxy_hide_header x-amz-request-id;", "proxy_hide_header x-amz-id-2;"]
            return lines
        targets = origin["targets"]
        target = targets.get(scheme if origin["policy"] == "match-viewer" else origin["policy"])
        if target is None:
            log.warning("distribution %s: the ALB %s has no listener for %s", distribution["id"], origin["domain"], origin["policy"])
            return [*lines, "return 502;"]
        policy = behaviour["request_policy"]
        lines += ["proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                  f"proxy_read_timeout {origin['read_timeout']}s;", "proxy_connect_timeout 10s;",
                  "proxy_set_header Connection \"\";"]
        lines += [f'proxy_set_header {name} "{value}";' for name, value in origin.get("headers", [])]
        if policy == ALL_VIEWER:
            lines.append("proxy_set_header Host $http_host;")
        else:
            lines.append(f"proxy_set_header Host {origin['domain']};")
        if policy not in (ALL_VIEWER, ALL_VIEWER_EXCEPT_HOST):
            # No origin request policy: no cookie and no query string goes to the origin.
            lines += ['proxy_set_header Cookie "";', "rewrite ^ $uri break;"]
        if target.startswith("https"):
            lines.append("proxy_ssl_server_name on;")
            lines.append(f"proxy_ssl_name {origin['domain']};")
        lines.append(f"proxy_pass {target}{origin['path']};" if origin["path"] else f"proxy_pass {target};")
        return lines


def _edge(distribution: dict) -> str:
    """The edge server's name in the Via headers: stable per distribution."""
    return hashlib.sha256(distribution["id"].encode()).hexdigest()[:32]


def _wildcard(pattern: str, leading_slash: bool = False, haproxy: bool = False) -> str:
    """A CloudFront path pattern or an ELB condition value (``*`` any characters, ``?`` one) as an
    anchored regular expression, quoted for nginx (double quotes) or HAProxy (single quotes: in
    double quotes HAProxy reads ``$`` as an environment variable)."""
    if leading_slash and not pattern.startswith("/"):
        pattern = "/" + pattern
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    if haproxy:
        return "'^" + body.replace("'", "\\x27") + "$'"
    return '"^' + body.replace('"', '\\"') + '$"'

