"""The emulator's data plane (tools/emulator/dataplane.py) and S3's policy gate (services/s3.py):
their pure parts, and the refusal to start on ports another program holds."""

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

EMULATOR = Path(__file__).resolve().parents[3] / "tools/emulator"
sys.path.insert(0, str(EMULATOR))

import dataplane  # noqa: E402
from services import s3  # noqa: E402


@pytest.mark.parametrize("pattern, path, matches", [
    ("/static/*", "/static/shop.css", True), ("/static/*", "/static/", True), ("/static/*", "/statics/x", False),
    ("static/*", "/static/a/b.css", True), ("/img/?.png", "/img/a.png", True), ("/img/?.png", "/img/ab.png", False),
    ("/a.b", "/aXb", False), ("/Static/*", "/static/x", False),
])
def test_path_patterns_match_as_cloudfront_and_elb_read_them(pattern, path, matches):
    regex = dataplane._wildcard(pattern, leading_slash=True).strip('"')
    assert dataplane._wildcard(pattern, leading_slash=True, haproxy=True).strip("'") == regex
    assert bool(re.fullmatch(regex, path)) is matches


@pytest.mark.parametrize("text, message", [
    ("8080", "must be START-END"), ("9000-8000", "at least 8 ports"), ("80-120", "within 1024-65535"),
    ("8080-8083", "at least 8 ports"),
])
def test_a_bad_port_range_is_refused_naming_the_option_and_the_value(text, message):
    with pytest.raises(ValueError, match=message) as raised:
        dataplane.parse_ports(text)
    assert "--dataplane-ports" in str(raised.value) and text in str(raised.value)


def test_the_fleet_refuses_to_start_on_a_port_another_program_holds(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        ports = f"{taken - 4}-{taken + 4}"
        run = subprocess.run([sys.executable, str(EMULATOR / "awsemu.py"), "start", "--fleet", "--port", "1",
                              "--state-dir", str(tmp_path), "--dataplane-ports", ports],
                             capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 1
    # The held port is named; others of the range may be held too on a busy machine (tests in parallel).
    named = re.search(rf"--dataplane-ports {ports}: port\(s\) ([0-9, ]+) already in use by another process", run.stderr)
    assert named and str(taken) in named.group(1).split(", "), run.stderr
    assert not (tmp_path / "emulator.pid").exists()  # nothing was started


def test_redirects_keep_path_and_query_and_land_on_the_local_port_of_the_target_listener():
    plane = dataplane.DataPlane.__new__(dataplane.DataPlane)
    balancer = {"listeners": [{"port": 80, "local_port": 8100, "scheme": "http"},
                              {"port": 443, "local_port": 8101, "scheme": "https"}]}
    https = {"Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}",
             "StatusCode": "HTTP_301"}
    assert plane._redirect(balancer, balancer["listeners"][0], https) == \
        "prefix https://%[req.hdr(host),field(1,:)]:8101 code 301"
    moved = {"Protocol": "#{protocol}", "Port": "#{port}", "Path": "/new/#{path}", "StatusCode": "HTTP_302"}
    assert plane._redirect(balancer, balancer["listeners"][0], moved) == \
        "location http://%[req.hdr(host),field(1,:)]:8100/new/%[path,regsub(^/,)]?%[query] code 302"


OAC_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
     "Resource": "arn:aws:s3:::shop-static/static/*",
     "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"}}},
    {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::shop-static/*"],
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
OAC = {"Service": "cloudfront.amazonaws.com"}


def context(arn=None):
    found = {"aws:securetransport": "true"}
    if arn:
        found.update({"aws:sourcearn": arn, "aws:sourceaccount": "123456789012"})
    return found


def test_the_bucket_policy_admits_its_distribution_only():
    resource = "arn:aws:s3:::shop-static/static/shop.css"
    distribution = "arn:aws:cloudfront::123456789012:distribution/E1"
    assert s3.evaluate(OAC_POLICY, OAC, "s3:GetObject", resource, context(distribution)) == "allow"
    other = "arn:aws:cloudfront::123456789012:distribution/E2"
    assert s3.evaluate(OAC_POLICY, OAC, "s3:GetObject", resource, context(other)) == "implicit"
    assert s3.evaluate(OAC_POLICY, "anonymous", "s3:GetObject", resource, context()) == "implicit"
    outside = "arn:aws:s3:::shop-static/releases/app.tar.gz"
    assert s3.evaluate(OAC_POLICY, OAC, "s3:GetObject", outside, context(distribution)) == "implicit"
    insecure = {**context(distribution), "aws:securetransport": "false"}
    assert s3.evaluate(OAC_POLICY, OAC, "s3:GetObject", resource, insecure) == "deny"
    # Signed writes over the emulator's endpoint count as HTTPS: the Deny does not apply.
    assert s3.evaluate(OAC_POLICY, "signed", "s3:PutObject", resource, context()) == "implicit"


def test_a_public_policy_admits_everyone_and_an_unknown_operator_fails_closed():
    public = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}
    assert s3.evaluate(public, "anonymous", "s3:GetObject", "arn:aws:s3:::b/k", context()) == "allow"
    odd = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                          "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}}]}
    assert s3.evaluate(odd, "signed", "s3:GetObject", "arn:aws:s3:::b/k", context()) == "deny"


@pytest.mark.parametrize("environ, found", [
    ({"REQUEST_METHOD": "GET", "PATH_INFO": "/shop-static/static/a.css", "HTTP_HOST": "127.0.0.1:5000"},
     ("shop-static", "static/a.css")),
    ({"REQUEST_METHOD": "HEAD", "PATH_INFO": "/static/a.css", "HTTP_HOST": "shop-static.s3.us-east-1.amazonaws.com"},
     ("shop-static", "static/a.css")),
    ({"REQUEST_METHOD": "PUT", "PATH_INFO": "/shop-static/a", "HTTP_HOST": "127.0.0.1:5000"}, None),
    ({"REQUEST_METHOD": "GET", "PATH_INFO": "/shop-static/a", "HTTP_HOST": "x", "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 ..."},
     None),
    ({"REQUEST_METHOD": "GET", "PATH_INFO": "/shop-static/a", "HTTP_HOST": "x", "QUERY_STRING": "X-Amz-Signature=abc"},
     None),
    ({"REQUEST_METHOD": "GET", "PATH_INFO": "/shop-static", "HTTP_HOST": "127.0.0.1:5000"}, None),
])
def test_only_unsigned_object_reads_pass_the_gate(environ, found):
    assert s3.unsigned_object_read(environ) == found


@pytest.mark.skipif(not dataplane.shutil.which("haproxy", path="/usr/sbin:/usr/bin"), reason="haproxy is not installed")
def test_haproxy_accepts_the_configuration_of_a_listener_with_rules(tmp_path):
    plane = dataplane.DataPlane.__new__(dataplane.DataPlane)
    plane.directory, plane.lock = tmp_path, __import__("threading").Lock()
    plane.log_address = "127.0.0.1:5514"  # each request logged for the CloudWatch metrics (metrics.py)
    rules = [
        {"conditions": [{"Field": "path-pattern", "Values": ["/old/*", "/a?c"]}],
         "action": {"type": "redirect", "Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}},
        {"conditions": [{"Field": "host-header", "Values": ["*.example.com"]},
                        {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Origin-Verify", "Values": ["s$cr'et"]}}],
         "action": {"type": "fixed-response", "StatusCode": "403", "ContentType": "text/plain", "MessageBody": 'no "way" $HOME'}},
        {"conditions": [{"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["GET", "HEAD"]}},
                        {"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/8"]}}],
         "action": {"type": "forward", "target_group": "tg-a"}},
        {"conditions": [], "action": {"type": "forward", "target_group": "tg-b"}},
    ]
    balancer = {"name": "shop", "arn": "arn:alb", "idle_timeout": 60,
                "listeners": [{"port": 80, "local_port": 18080, "scheme": "http", "ssl_policy": "", "rules": rules},
                              {"port": 443, "local_port": 18081, "scheme": "https", "ssl_policy": "", "rules": rules[3:]}],
                "groups": {"tg-a": {"name": "a", "servers": [("i-1", "10.88.0.2:80")], "algorithm": "leastconn",
                                    "sticky_seconds": 3600, "drain_seconds": 30},
                           "tg-b": {"name": "b", "servers": [], "algorithm": "roundrobin", "sticky_seconds": 0,
                                    "drain_seconds": 300}}}
    config = tmp_path / "haproxy.conf"
    config.write_text(plane._haproxy_config([balancer]))  # the HTTPS listener has no certificate: left out
    checked = subprocess.run([dataplane._program("haproxy"), "-c", "-f", str(config)], capture_output=True, text=True,
                             check=False)
    assert checked.returncode == 0, checked.stderr + config.read_text()
    text = config.read_text()
    assert "bind 127.0.0.1:18081" not in text and "hard-stop-after 305s" in text
    assert "    log 127.0.0.1:5514 local0 info" in text and f'log-format "{dataplane.LOG_FORMAT}"' in text
    # The metrics read the frontends and backends HAProxy logs by these names.
    assert sorted(plane.names().values()) == [("balancer", "arn:alb"), ("group", "tg-a"), ("group", "tg-b")]


def test_a_proxy_with_nothing_left_to_serve_stops(tmp_path):
    class Recorder:
        def __init__(self):
            self.calls = []

        def apply(self, text):
            self.calls.append("apply")

        def stop(self):
            self.calls.append("stop")

    plane = dataplane.DataPlane.__new__(dataplane.DataPlane)
    plane.lock = __import__("threading").Lock()
    plane.haproxy, plane.nginx = Recorder(), Recorder()
    balancer = {"name": "b", "dns_name": "b.elb", "idle_timeout": 60, "listeners": []}
    plane._load_balancers = lambda: [balancer]
    plane._distributions = lambda balancers: []
    plane._haproxy_config = lambda balancers: "config"
    plane.sync()
    plane._load_balancers = list
    plane.sync()
    assert plane.haproxy.calls == ["apply", "stop"] and plane.nginx.calls == ["stop", "stop"]
    assert plane.listing() == {"load_balancers": {}, "distributions": {}}


@pytest.mark.skipif(not dataplane._which("nginx"), reason="nginx is not installed")
def test_nginx_accepts_the_configuration_of_a_distribution(tmp_path):
    plane = dataplane.DataPlane.__new__(dataplane.DataPlane)
    plane.directory, plane.emulator_port = tmp_path, 5000
    plane.cache, plane.temp = tmp_path / "cache", tmp_path / "temp"
    plane.cache.mkdir()
    plane.temp.mkdir()
    (tmp_path / "cert.pem").write_text("unused by nginx -t's syntax pass")
    s3 = {"kind": "s3", "domain": "shop-static.s3.us-east-1.amazonaws.com", "path": "", "oac": True}
    alb = {"kind": "alb", "domain": "shop-1.us-east-1.elb.amazonaws.com", "path": "", "policy": "http",
           "targets": {"http": "http://127.0.0.1:8100"}, "read_timeout": 30, "headers": [("X-Origin-Verify", "s3cret")]}
    security = dataplane.RESPONSE_HEADERS_POLICIES[dataplane.SECURITY_HEADERS]
    behaviours = [
        {"pattern": "/static/*", "origin": s3, "viewer": "redirect-to-https", "methods": ["GET", "HEAD"], "ttl": 86400,
         "compress": True, "request_policy": "", "response_headers": security},
        {"pattern": "", "origin": alb, "viewer": "redirect-to-https", "methods": ["GET", "HEAD", "POST"], "ttl": 0,
         "compress": False, "request_policy": dataplane.ALL_VIEWER_EXCEPT_HOST, "response_headers": []}]
    distribution = {"id": "E1", "arn": "arn:aws:cloudfront::123456789012:distribution/E1", "domain": "d1.cloudfront.net",
                    "enabled": True, "http_port": 18080, "https_port": 18081, "behaviours": behaviours,
                    "certificate": (str(tmp_path / "cert.pem"), str(tmp_path / "cert.pem"))}
    text = plane._nginx_config([distribution])
    edge = dataplane._edge(distribution)
    assert f'add_header Via "1.1 {edge}.cloudfront.net (CloudFront)"' in text
    assert f'proxy_set_header Via "2.0 {edge}.cloudfront.net (CloudFront)"' in text
    assert "proxy_set_header X-Emulator-Cloudfront-Source-Arn arn:aws:cloudfront::123456789012:distribution/E1;" in text
    assert "return 301 https://$host:18081$request_uri;" in text
    assert "proxy_set_header Host shop-1.us-east-1.elb.amazonaws.com;" in text
    # The origin's custom header towards the ALB; the security headers on the static behaviour
    # only, nosniff replacing the origin's, the others kept when the origin sent them.
    assert 'proxy_set_header X-Origin-Verify "s3cret";' in text
    assert text.count('add_header X-Content-Type-Options "nosniff" always;') == 2  # viewer http and https
    assert "add_header Strict-Transport-Security $cloudfront_strict_transport_security always;" in text
    assert 'map $upstream_http_x_frame_options $cloudfront_x_frame_options {\n        "" "SAMEORIGIN";' in text
    # The syntax without the certificates (nginx -t would load them): ssl lines left out.
    config = tmp_path / "nginx.conf"
    config.write_text("\n".join(line for line in text.splitlines() if "ssl_certificate" not in line).replace(" ssl;", ";"))
    checked = subprocess.run([dataplane._program("nginx"), "-q", "-t", "-p", str(tmp_path), "-c", str(config)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
