"""The collection's one retry style for AWS calls.

Every module makes its clients with ``client(module, service)``: calls given ``aws_retry=True``
are retried with jittered backoff on throttling and transient errors (amazon.aws's
RetryingBotoClientWrapper), and every call is given it. A paginated read is retried whole by
``paginate`` (its pages are not calls the client can retry one by one), and a call that must
also wait out a service's own passing refusal (a CloudFront resource still in use, an ETag not
yet current) goes through ``retry_on`` with those error codes.
"""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def client(module, service):
    """A client of ``service`` whose calls retry when given aws_retry=True."""
    return module.client(service, retry_decorator=AWSRetry.jittered_backoff())


@AWSRetry.jittered_backoff()
def paginate(aws_client, operation, **params):
    """Every page of ``operation`` merged (botocore's build_full_result), the read retried whole."""
    return aws_client.get_paginator(operation).paginate(**params).build_full_result()


def retry_on(codes, call, **params):
    """``call(**params)``, retried on ``codes`` as well as on throttling and transient errors."""
    return AWSRetry.jittered_backoff(catch_extra_error_codes=list(codes))(call)(**params)
