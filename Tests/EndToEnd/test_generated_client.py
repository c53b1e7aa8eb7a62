"""The committed Swift client (Sources/MusicStreamClient/Generated) was generated from the files
as they are: each generated file's first line names the sha256 of openapi.yaml, the generator's
configuration and the spec filter, and the generator's version, as scripts/generate-client wrote
them. A change to any of them without regenerating fails here, in a few milliseconds; the full
regenerate-and-compare is `scripts/generate-client --check`."""
import copy
import glob
import hashlib
import importlib.util
import os
import re

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GENERATED = os.path.join(ROOT, "Sources", "MusicStreamClient", "Generated")
INPUTS = {
    "openapi.yaml": os.path.join(ROOT, "openapi.yaml"),
    "openapi-generator-config.yaml": os.path.join(ROOT, "Sources", "MusicStreamClient", "openapi-generator-config.yaml"),
    "spec_for_generator.py": os.path.join(ROOT, "scripts", "client-generator", "spec_for_generator.py"),
}
GENERATOR_PACKAGE = os.path.join(ROOT, "scripts", "client-generator", "Package.swift")


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def generator_version():
    with open(GENERATOR_PACKAGE, encoding="utf-8") as handle:
        match = re.search(r'swift-openapi-generator", exact: "([0-9.]+)"', handle.read())
    assert match, "scripts/client-generator/Package.swift pins no exact generator version"
    return match.group(1)


def expected_header():
    fields = ["%s=%s" % (name, sha256(path)) for name, path in INPUTS.items()]
    fields.append("swift-openapi-generator=%s" % generator_version())
    return "// musicstream-client-inputs: " + " ".join(fields)


def test_the_generated_client_is_generated_from_the_files_as_they_are():
    files = sorted(glob.glob(os.path.join(GENERATED, "*.swift")))
    assert {os.path.basename(path) for path in files} >= {"Client.swift", "Types.swift"}
    header = expected_header()
    for path in files:
        with open(path, encoding="utf-8") as handle:
            first = handle.readline().rstrip("\n")
        assert first == header, (
            "%s is stale: run scripts/generate-client and commit the result\n  has:  %s\n  want: %s"
            % (os.path.relpath(path, ROOT), first, header))


def load_filter():
    spec = importlib.util.spec_from_file_location("spec_for_generator", INPUTS["spec_for_generator.py"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def null_schemas(node, path="#"):
    """Paths of every `{type: 'null'}` schema under `node`."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "null":
            found.append(path)
        for key, value in node.items():
            found += null_schemas(value, path + "/" + str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += null_schemas(value, "%s/%d" % (path, index))
    return found


def test_the_spec_filter_only_makes_nullable_properties_optional():
    """What the generator is given differs from the contract only where the contract says
    "present, may be null": there the property is its non-null schema and not required."""
    with open(INPUTS["openapi.yaml"], encoding="utf-8") as handle:
        original = yaml.safe_load(handle)
    filtered = copy.deepcopy(original)
    load_filter().rewrite(filtered)
    assert null_schemas(original), "the contract has nullable properties; the filter is for them"
    assert null_schemas(filtered) == []
    changed = []
    for name, schema in original["components"]["schemas"].items():
        if schema != filtered["components"]["schemas"][name]:
            changed.append(name)
    assert sorted(changed) == ["EventDetail", "HistoryStatus", "Status", "UserListens", "UserSummary"]
    detail = filtered["components"]["schemas"]["EventDetail"]
    assert detail["properties"]["kafka"]["$ref"] == "#/components/schemas/KafkaPosition"
    assert "kafka" not in detail["required"]
    assert "kafka" in original["components"]["schemas"]["EventDetail"]["required"]
    for name in original["components"]["schemas"]:
        if name not in changed:
            assert original["components"]["schemas"][name] == filtered["components"]["schemas"][name]
    assert original["paths"] == filtered["paths"]
