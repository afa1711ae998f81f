#!/usr/bin/env python3
"""Reads kgate's JUnit XML with junitparser (a real consumer) and compares it with expectations.

usage: check_junit.py JUNIT_XML EXPECTED_JSON

EXPECTED_JSON:
  {"totals": {"tests": N, "failures": N, "errors": 0, "skipped": N},
   "suites": [{"name": ..., "tests": N, "failures": N, "skipped": N,
               "properties": {name: value}}, ...],            # in document order
   "cases": {"<classname>.<name>": {"status": "passed"|"failed"|"skipped",
                                    "message": ..., "text_contains": [...],
                                    "system_out_contains": [...],
                                    "properties": {name: value}}},
   "root_properties": {name: value}}                          # optional
Exits 0 when everything matches, 1 with one line per mismatch otherwise.
"""
import json
import sys

from junitparser import Failure, JUnitXml, Skipped

problems = []


def expect(cond, what):
    if not cond:
        problems.append(what)


def props(elem):
    """name -> value of the <properties> directly under an lxml/ElementTree element."""
    node = elem.find("properties")
    if node is None:
        return {}
    return {p.get("name"): p.get("value") for p in node.findall("property")}


def main():
    xml = JUnitXml.fromfile(sys.argv[1])
    with open(sys.argv[2], encoding="utf-8") as f:
        exp = json.load(f)

    expect(xml._elem.tag == "testsuites", f"root is <{xml._elem.tag}>")
    expect(xml.name == "kgate", f"testsuites name {xml.name!r}")
    for key, want in exp["totals"].items():
        got = getattr(xml, key)
        expect(got == want, f"testsuites {key}={got}, want {want}")
    expect(xml.time is not None and xml.time >= 0, f"testsuites time {xml.time!r}")
    for name, want in exp.get("root_properties", {}).items():
        got = props(xml._elem).get(name)
        expect(got == want, f"testsuites property {name}={got!r}, want {want!r}")

    suites = list(xml)
    expect([s.name for s in suites] == [s["name"] for s in exp["suites"]],
           f"suite order {[s.name for s in suites]}")
    seen = {}
    for suite, want in zip(suites, exp["suites"]):
        cases = list(suite)
        expect(suite.tests == want["tests"] == len(cases),
               f"suite {suite.name}: tests={suite.tests}, cases={len(cases)}, want {want['tests']}")
        failed = sum(1 for c in cases if any(isinstance(r, Failure) for r in c.result))
        skipped = sum(1 for c in cases if c.is_skipped)
        expect(suite.failures == want["failures"] == failed,
               f"suite {suite.name}: failures={suite.failures}, failed cases={failed}")
        expect(suite.skipped == want["skipped"] == skipped,
               f"suite {suite.name}: skipped={suite.skipped}, skipped cases={skipped}")
        expect(suite.errors == 0, f"suite {suite.name}: errors={suite.errors}")
        expect(bool(suite.hostname), f"suite {suite.name}: no hostname")
        expect(bool(suite.timestamp), f"suite {suite.name}: no timestamp")
        suite_props = {p.name: p.value for p in suite.properties()}
        for name, value in want.get("properties", {}).items():
            expect(suite_props.get(name) == value,
                   f"suite {suite.name}: property {name}={suite_props.get(name)!r}, want {value!r}")
        for case in cases:
            seen[f"{case.classname}.{case.name}"] = case

    expect(set(seen) == set(exp["cases"]), f"cases {sorted(seen)} != {sorted(exp['cases'])}")
    for key, want in exp["cases"].items():
        case = seen.get(key)
        if case is None:
            continue
        expect(case.time is not None and case.time >= 0, f"{key}: time {case.time!r}")
        results = case.result
        if want["status"] == "passed":
            expect(case.is_passed, f"{key}: not passed: {results}")
        elif want["status"] == "failed":
            fails = [r for r in results if isinstance(r, Failure)]
            expect(len(fails) == 1, f"{key}: {len(fails)} <failure> elements")
            if fails:
                expect(fails[0].message == want["message"],
                       f"{key}: failure message {fails[0].message!r}, want {want['message']!r}")
                for part in want.get("text_contains", []):
                    expect(part in (fails[0].text or ""), f"{key}: failure text lacks {part!r}")
        elif want["status"] == "skipped":
            skips = [r for r in results if isinstance(r, Skipped)]
            expect(len(skips) == 1, f"{key}: {len(skips)} <skipped> elements")
            if skips:
                expect(skips[0].message == want["message"],
                       f"{key}: skip reason {skips[0].message!r}, want {want['message']!r}")
        out = case.system_out or ""
        for part in want.get("system_out_contains", []):
            expect(part in out, f"{key}: system-out lacks {part!r}")
        got_props = props(case._elem)
        for name, value in want.get("properties", {}).items():
            expect(got_props.get(name) == value,
                   f"{key}: property {name}={got_props.get(name)!r}, want {value!r}")

    if problems:
        print("\n".join(problems))
        return 1
    print(f"junitparser: {len(suites)} suites, {len(seen)} cases as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
