"""The load balancer with a certificate: HTTP redirects to HTTPS under a TLS 1.3 policy."""

import pytest
from helpers import import_self_signed_certificate, run_playbook

pytestmark = pytest.mark.integration
STACK = "shop-local"


def test_https_listener_with_a_certificate(emulator):
    """With a certificate: HTTP redirects to HTTPS, and HTTPS uses the TLS 1.3 policy."""
    emulator.reset()
    assert run_playbook(emulator, "site.yml", "--tags", "role::network,role::security,role::loadbalancer").rc == 0

    arn = import_self_signed_certificate(emulator.client("acm"), "shop.example.com")
    run = run_playbook(emulator, "site.yml", "--tags", "role::loadbalancer", extra={"loadbalancer_certificate_arn": arn})
    assert run.rc == 0, run.output[-4000:]
    elb = emulator.client("elbv2")
    alb = elb.describe_load_balancers(Names=[STACK])["LoadBalancers"][0]
    listeners = {lst["Port"]: lst for lst in elb.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]}
    assert set(listeners) == {80, 443}
    redirect = listeners[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect" and redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    assert redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"
    assert listeners[443]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listeners[443]["Certificates"][0]["CertificateArn"] == arn
    # The origin lock on the HTTPS listener: 403 by default, forwarded with CloudFront's header.
    assert listeners[443]["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "403"
    (rule,) = [r for r in elb.describe_rules(ListenerArn=listeners[443]["ListenerArn"])["Rules"] if not r["IsDefault"]]
    assert rule["Conditions"][0]["HttpHeaderConfig"]["HttpHeaderName"] == "X-Origin-Verify"
    assert [r for r in elb.describe_rules(ListenerArn=listeners[80]["ListenerArn"])["Rules"] if not r["IsDefault"]] == []
    again = run_playbook(emulator, "site.yml", "--tags", "role::loadbalancer", extra={"loadbalancer_certificate_arn": arn})
    assert again.rc == 0 and again.recap["changed"] == 0, again.output[-4000:]
