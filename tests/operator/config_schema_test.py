#!/usr/bin/python3
"""docs/sublink-config.schema.json as a JSON Schema validator reads it: the
sample configuration and the README's hand set-up configuration validate,
and configurations sublinkd refuses (a mistyped key, a missing required one,
a port out of range, an unknown log level) do not.

    config_schema_test.py SOURCE_DIR
"""
import json
import re
import sys
import unittest

import jsonschema

SOURCE = sys.argv.pop(1) if len(sys.argv) > 1 else "."


def load(path):
    with open(f"{SOURCE}/{path}") as f:
        return json.load(f)


def readme_config():
    """The JSON the README's hand set-up writes, $LAB filled in."""
    with open(f"{SOURCE}/README.md") as f:
        readme = f.read()
    found = re.search(r'cat >"\$LAB/sublink.json" <<END\n(.*?)\nEND\n', readme, re.S)
    if found is None:
        raise AssertionError("the README's hand set-up writes no sublink.json")
    return json.loads(found.group(1).replace("$LAB", "/tmp/lab"))


class ConfigSchema(unittest.TestCase):
    def setUp(self):
        self.schema = load("docs/sublink-config.schema.json")
        jsonschema.Draft202012Validator.check_schema(self.schema)
        self.validator = jsonschema.Draft202012Validator(self.schema)

    def errors(self, config):
        return [e.message for e in self.validator.iter_errors(config)]

    def test_the_sample_configuration_validates(self):
        self.assertEqual(self.errors(load("boards/host/sublink.sample.json")), [])

    def test_the_readme_configuration_validates(self):
        self.assertEqual(self.errors(readme_config()), [])

    def test_what_sublinkd_refuses_does_not_validate(self):
        sample = load("boards/host/sublink.sample.json")
        cases = {
            "a mistyped key": dict(sample, retry_mx_s=5),
            "no system_id": {k: v for k, v in sample.items() if k != "system_id"},
            "port 0": dict(sample, ports=[0]),
            "a port twice": dict(sample, ports=[443, 443]),
            "an unknown log level": dict(sample, log_level="loud"),
            "seconds as text": dict(sample, retry_min_s="1"),
            "a feature without qty": dict(sample, features=[{"name": "trunks"}]),
            "an empty system_id": dict(sample, system_id=""),
        }
        for what, config in cases.items():
            with self.subTest(what):
                self.assertNotEqual(self.errors(config), [], what)


if __name__ == "__main__":
    unittest.main()
