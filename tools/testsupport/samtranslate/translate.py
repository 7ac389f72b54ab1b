"""Translate a SAM template into the CloudFormation that `sam deploy` submits, offline.

Usage: python translate.py TEMPLATE [Name=Value ...]

Prints the translated template as JSON. The parameters are those a deploy passes; the
pseudo parameters get fixed placeholder values. No AWS call is made: the template names no
managed policy by name, so the translator needs no IAM lookup.
"""
import json
import os
import sys

from samtranslator.parser.parser import Parser
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """Stands in for the IAM lookup of managed policies named in Policies: none are."""

    def load(self):
        return {}


def main(argv):
    with open(argv[1]) as f:
        template = yaml_parse(f.read())
    # SAM translates only its own transform; AWS::LanguageExtensions runs in CloudFormation
    # before it and leaves the rest as is.
    transforms = template.get("Transform")
    if isinstance(transforms, list):
        template["Transform"] = "AWS::Serverless-2016-10-31"
    # `sam package` uploads each function's code and puts its S3 location in CodeUri.
    for logical_id, resource in template.get("Resources", {}).items():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str) \
                and not props["CodeUri"].startswith("s3://"):
            props["CodeUri"] = "s3://packaged/" + logical_id + ".zip"
    # The translator reads the region from the environment (a boto session); no call is made.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    params = dict(a.split("=", 1) for a in argv[2:])
    # CloudFormation hands the transform a CommaDelimitedList's value as a list.
    for name, spec in (template.get("Parameters") or {}).items():
        if spec.get("Type") == "CommaDelimitedList" and isinstance(params.get(name), str):
            params[name] = params[name].split(",")
    params.setdefault("AWS::Region", "us-east-1")
    params.setdefault("AWS::AccountId", "123456789012")
    params.setdefault("AWS::Partition", "aws")
    params.setdefault("AWS::StackName", "lifecycle-test")
    params.setdefault("AWS::URLSuffix", "amazonaws.com")
    out = transform(template, params, NoManagedPolicies())
    json.dump(out, sys.stdout, indent=1, sort_keys=True, default=str)


if __name__ == "__main__":
    main(sys.argv)
