"""Prints openapi.yaml as swift-openapi-generator 1.14.3 is given it (scripts/generate-client).

The contract states "this property is always present and may be null" as
`oneOf: [<schema>, {type: 'null'}]` next to `required`, which is exact JSON Schema and what
schemathesis checks answers against. The generator does not support a `null` schema: it drops the
whole property with a warning, and the generated type then refuses every answer that has the
property ("unknown key"). Here each such property becomes its non-null schema and leaves
`required`, so the generated Swift property is an Optional: `null` (and absence) decode as nil.
Nothing else is changed; `type: [X, 'null']` the generator supports as it is.
"""
import sys

import yaml

NULL = {"type": "null"}


def non_null_alternative(schema):
    """The other schema of a two-way oneOf/anyOf with `null`, with the property's own keywords
    (description, ...) kept; None when `schema` is not of that shape."""
    for keyword in ("oneOf", "anyOf"):
        options = schema.get(keyword) if isinstance(schema, dict) else None
        if isinstance(options, list) and len(options) == 2 and NULL in options:
            other = options[1 - options.index(NULL)]
            siblings = {key: value for key, value in schema.items() if key != keyword}
            if "$ref" in other:
                # A $ref with siblings is fine in OpenAPI 3.1/3.2 (JSON Schema 2020-12).
                return {**siblings, **other}
            return {**other, **siblings}
    return None


def rewrite(node):
    """Rewrites every object schema under `node` in place."""
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, schema in properties.items():
                replacement = non_null_alternative(schema)
                if replacement is not None:
                    properties[name] = replacement
                    if name in node.get("required", []):
                        node["required"] = [other for other in node["required"] if other != name]
        for value in node.values():
            rewrite(value)
    elif isinstance(node, list):
        for value in node:
            rewrite(value)


def main(path):
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    rewrite(document)
    yaml.safe_dump(document, sys.stdout, sort_keys=False, allow_unicode=True, width=120)


if __name__ == "__main__":
    main(sys.argv[1])
