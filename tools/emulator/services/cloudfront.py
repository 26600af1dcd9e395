"""CloudFront in the emulator: Origin Access Control on origins, complete distribution
summaries and, in realistic mode, the InProgress -> Deployed propagation of every change."""

from __future__ import annotations

import realism

# "Deployed" within about 5 minutes of a change since 2020 (AWS blog, "Slashing CloudFront
# change propagation times in 2020"); the issue's typical figure is 4 minutes.
DEPLOY_SECONDS = 240


def install() -> None:
    from moto.cloudfront import models as cf_models

    # CloudFront Origin.OriginAccessControlId: "The unique identifier of an origin access
    # control for this origin." (CloudFront API reference, Origin). An S3 origin that uses
    # OAC carries S3OriginConfig.OriginAccessIdentity = "".
    original_origin_init = cf_models.Origin.__init__

    def origin_init(self, origin):
        original_origin_init(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId") or ""
        # An S3 origin returns its S3OriginConfig (OriginAccessIdentity "" with OAC).
        if "S3OriginConfig" in origin:
            self.s3_origin_config = {"OriginAccessIdentity": self.s3_access_identity or ""}

    cf_models.Origin.__init__ = origin_init

    # ListDistributions: a DistributionSummary carries the distribution's Aliases, Origins,
    # behaviours, Comment, PriceClass... (CloudFront API reference, DistributionSummary);
    # moto 5.2 leaves out those it keeps on the config. Fall back to the config for them.
    def distribution_getattr(self, name):
        if name.startswith("__") or name == "distribution_config":
            raise AttributeError(name)
        return getattr(self.distribution_config, name)

    cf_models.Distribution.__getattr__ = distribution_getattr

    _install_propagation(cf_models)


def _install_propagation(cf_models) -> None:
    """Realistic mode: a created or updated distribution is "InProgress" until its change has
    reached the edge locations, then "Deployed" (CloudFront API reference, Distribution.Status:
    "When the status is Deployed, the distribution's information is fully propagated to all
    CloudFront edge locations"). moto's state manager can model this transition too, but only
    per model and by request count; here it follows the emulator's one clock."""
    backend_class = cf_models.CloudFrontBackend
    original_create = backend_class.create_distribution
    original_update = backend_class.update_distribution

    managed_status = cf_models.Distribution.status  # moto's state manager: "Deployed" at once

    def status(self):
        own = self.__dict__.get("shop_status")
        return own if own is not None else managed_status.fget(self)

    cf_models.Distribution.status = property(status, managed_status.fset)

    def deploying(distribution):
        if realism.SETTINGS.latency_scale <= 0:
            return distribution
        distribution.__dict__["shop_status"] = "InProgress"
        realism.later(DEPLOY_SECONDS, lambda: distribution.__dict__.update(shop_status="Deployed"))
        return distribution

    def create_distribution(self, *args, **kwargs):
        result = original_create(self, *args, **kwargs)
        deploying(result[0] if isinstance(result, tuple) else result)
        return result

    def update_distribution(self, *args, **kwargs):
        result = original_update(self, *args, **kwargs)
        deploying(result[0] if isinstance(result, tuple) else result)
        return result

    backend_class.create_distribution = create_distribution
    backend_class.update_distribution = update_distribution
