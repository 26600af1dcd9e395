"""DeleteLaunchTemplateVersions on the emulator (tools/emulator/services/ec2.py), as the EC2 API
reference describes it: the versions named go, the default one cannot, numbers are never reused."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from helpers import Emulator, free_port  # noqa: E402


@pytest.fixture(scope="module")
def ec2(tmp_path_factory):
    emu = Emulator(port=free_port(), state_dir=tmp_path_factory.mktemp("launch-templates"))
    emu.start()
    yield emu.client("ec2")
    emu.stop()


def test_versions_other_than_the_default_are_deleted_and_numbers_not_reused(ec2):
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    template = ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": image})
    template_id = template["LaunchTemplate"]["LaunchTemplateId"]
    ec2.create_launch_template_version(LaunchTemplateId=template_id, SourceVersion="1", LaunchTemplateData={})
    ec2.modify_launch_template(LaunchTemplateId=template_id, DefaultVersion="2")

    answer = ec2.delete_launch_template_versions(LaunchTemplateId=template_id, Versions=["1", "2", "7"])
    assert [v["VersionNumber"] for v in answer["SuccessfullyDeletedLaunchTemplateVersions"]] == [1]
    refused = {v["VersionNumber"]: v["ResponseError"]["Code"] for v in answer["UnsuccessfullyDeletedLaunchTemplateVersions"]}
    assert refused == {2: "unexpectedError", 7: "launchTemplateVersionDoesNotExist"}
    described = ec2.describe_launch_template_versions(LaunchTemplateId=template_id)["LaunchTemplateVersions"]
    assert [v["VersionNumber"] for v in described] == [2]
    with pytest.raises(ec2.exceptions.ClientError, match="VersionNotFound"):
        ec2.describe_launch_template_versions(LaunchTemplateId=template_id, Versions=["1"])
    added = ec2.create_launch_template_version(LaunchTemplateId=template_id, SourceVersion="2", LaunchTemplateData={})
    assert added["LaunchTemplateVersion"]["VersionNumber"] == 3
    ec2.delete_launch_template(LaunchTemplateId=template_id)
