"""IAM in the emulator: in realistic mode, a new instance profile is not yet usable by EC2.

"Changes that you make [in IAM] are not always immediately visible ... because IAM uses a
distributed computing model called eventual consistency" (IAM User Guide, "Troubleshoot IAM",
"Changes that I make are not always immediately visible"). An EC2 launch that names an
instance profile created seconds before fails with InvalidParameterValue "Invalid IAM Instance
Profile name" (seen for about ten seconds; terraform-provider-aws retries launches for it).
"""

from __future__ import annotations

import realism

PROFILE_LAG_SECONDS = 10

VISIBILITY = realism.Visibility()


def install() -> None:
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.responses import instances as ec2_instance_responses
    from moto.iam.models import IAMBackend

    original_create = IAMBackend.create_instance_profile
    original_add_role = IAMBackend.add_role_to_instance_profile

    def create_instance_profile(self, name, *args, **kwargs):
        profile = original_create(self, name, *args, **kwargs)
        VISIBILITY.hide(profile.name, PROFILE_LAG_SECONDS)
        VISIBILITY.hide(profile.arn, PROFILE_LAG_SECONDS)
        return profile

    def add_role_to_instance_profile(self, profile_name, role_name):
        original_add_role(self, profile_name, role_name)
        profile = self.get_instance_profile(profile_name)
        VISIBILITY.hide(profile.name, PROFILE_LAG_SECONDS)
        VISIBILITY.hide(profile.arn, PROFILE_LAG_SECONDS)

    IAMBackend.create_instance_profile = create_instance_profile
    IAMBackend.add_role_to_instance_profile = add_role_to_instance_profile

    # RunInstances validates the profile before it launches (moto's response does the same
    # look-up): a profile IAM has not yet propagated to EC2 is refused as unknown.
    original_filter = ec2_instance_responses.filter_iam_instance_profiles

    def filter_iam_instance_profiles(account_id, partition, iam_instance_profile_arn, iam_instance_profile_name):
        for key, parameter in ((iam_instance_profile_name, "iamInstanceProfile.name"),
                               (iam_instance_profile_arn, "iamInstanceProfile.arn")):
            if key and VISIBILITY.hidden(key):
                raise EC2ClientError(
                    "InvalidParameterValue",
                    f"Value ({key}) for parameter {parameter} is invalid. Invalid IAM Instance Profile "
                    f"{'name' if parameter.endswith('name') else 'ARN'}")
        return original_filter(account_id, partition, iam_instance_profile_arn, iam_instance_profile_name)

    ec2_instance_responses.filter_iam_instance_profiles = filter_iam_instance_profiles
