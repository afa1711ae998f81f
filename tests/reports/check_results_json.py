#!/usr/bin/env python3
"""Validates results.json against docs/results-schema.json.

usage: check_results_json.py RESULTS_JSON SCHEMA_JSON

Uses the jsonschema package (Draft 2020-12) when it is installed; otherwise a small built-in
validator for the keywords the schema uses (type, const, enum, required, properties,
additionalProperties, items, minimum, $ref to #/$defs). Also checks that the summary agrees
with the checks. Prints which validator ran; exits 1 with the problems otherwise.
"""
import json
import sys

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "null": lambda v: v is None,
}
HANDLED = {"$schema", "$id", "$defs", "$ref", "title", "description", "type", "const", "enum",
           "required", "properties", "additionalProperties", "items", "minimum"}


def mini_validate(value, schema, root, path, problems):
    unknown = set(schema) - HANDLED
    if unknown:
        problems.append(f"{path}: built-in validator does not know {sorted(unknown)}")
    if "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/$defs/"), ref
        mini_validate(value, root["$defs"][ref[len("#/$defs/"):]], root, path, problems)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[t](value) for t in types):
            problems.append(f"{path}: {value!r} is not of type {types}")
            return
    if "const" in schema and value != schema["const"]:
        problems.append(f"{path}: {value!r} != const {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} not in {schema['enum']}")
    if "minimum" in schema and TYPES["number"](value) and value < schema["minimum"]:
        problems.append(f"{path}: {value!r} < minimum {schema['minimum']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                problems.append(f"{path}: missing required {key!r}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, sub in value.items():
            if key in props:
                mini_validate(sub, props[key], root, f"{path}.{key}", problems)
            elif extra is False:
                problems.append(f"{path}: additional property {key!r}")
            elif isinstance(extra, dict):
                mini_validate(sub, extra, root, f"{path}.{key}", problems)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            mini_validate(item, schema["items"], root, f"{path}[{i}]", problems)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        schema = json.load(f)

    problems = []
    try:
        import jsonschema  # noqa: PLC0415
    except ImportError:
        jsonschema = None
    if jsonschema is not None:
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
            problems.append(f"$ {path}: {err.message}")
        how = "jsonschema Draft202012Validator"
    else:
        mini_validate(doc, schema, schema, "$", problems)
        how = "built-in validator (jsonschema not installed)"

    checks = doc.get("checks", [])
    summary = doc.get("summary", {})
    for status, key in (("passed", "passed"), ("failed", "failed"), ("skipped", "skipped"),
                        ("warning", "warnings"), ("inconclusive", "inconclusive"),
                        ("error", "errors")):
        n = sum(1 for c in checks if c.get("status") == status)
        if summary.get(key) != n:
            problems.append(f"summary.{key}={summary.get(key)} but {n} checks are {status}")
    if summary.get("total") != len(checks):
        problems.append(f"summary.total={summary.get('total')} but {len(checks)} checks")
    # Series are pairs: one time per value in line charts, none in bar charts.
    for c in checks + doc.get("suite_results", []):
        for chart in c.get("charts", []):
            for s in chart.get("series", []):
                want = 0 if chart.get("labels") else len(s.get("values", []))
                if len(s.get("t", [])) != want:
                    problems.append(f"{c.get('id', c.get('name'))}: series {s.get('name')!r} has "
                                    f"{len(s.get('t', []))} times for {len(s.get('values', []))} "
                                    "values")
        times = [e.get("t") for e in c.get("events", [])]
        if times != sorted(times):
            problems.append(f"{c.get('id', c.get('name'))}: events out of time order")

    if problems:
        print(f"results.json does not match the schema ({how}):")
        print("\n".join(problems))
        return 1
    print(f"results.json valid ({how})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
