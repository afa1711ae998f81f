#!/usr/bin/env python3
"""Reads the `criteria` testsuite of kgate's JUnit XML with junitparser, as a CI plugin would.

usage: check_criteria_junit.py JUNIT_XML EXPECTED_JSON

EXPECTED_JSON: {"<criterion id>": {"status": "passed"|"failed"|"skipped",
                                   "message_contains": "...", "type": "..."}, ...}
The suite must hold exactly these testcases (classname "criteria"), its counts must agree with
them, and the totals of <testsuites> must add up over every suite. Exits 1 with the mismatches.
"""
import json
import sys

from junitparser import Failure, JUnitXml, Skipped

problems = []


def expect(cond, what):
    if not cond:
        problems.append(what)


def main():
    xml = JUnitXml.fromfile(sys.argv[1])
    with open(sys.argv[2], encoding="utf-8") as f:
        exp = json.load(f)
    suites = list(xml)
    crit = [s for s in suites if s.name == "criteria"]
    expect(len(crit) == 1, f"{len(crit)} criteria testsuites")
    if not crit:
        return
    suite = crit[0]
    cases = {c.name: c for c in suite}
    expect(sorted(cases) == sorted(exp), f"criteria cases {sorted(cases)} != {sorted(exp)}")
    failed = skipped = 0
    for name, want in exp.items():
        case = cases.get(name)
        if case is None:
            continue
        expect(case.classname == "criteria", f"{name}: classname {case.classname!r}")
        failures = [r for r in case.result if isinstance(r, Failure)]
        skips = [r for r in case.result if isinstance(r, Skipped)]
        status = "failed" if failures else "skipped" if skips else "passed"
        failed += status == "failed"
        skipped += status == "skipped"
        expect(status == want["status"], f"{name}: {status}, want {want['status']}")
        result = (failures or skips or [None])[0]
        if "message_contains" in want:
            msg = result.message if result is not None else ""
            expect(want["message_contains"] in (msg or ""),
                   f"{name}: message {msg!r} lacks {want['message_contains']!r}")
        if "type" in want:
            typ = result.type if result is not None else None
            expect(typ == want["type"], f"{name}: type {typ!r}, want {want['type']!r}")
    expect(suite.tests == len(cases), f"criteria tests={suite.tests}, cases={len(cases)}")
    expect(suite.failures == failed, f"criteria failures={suite.failures}, failed={failed}")
    expect(suite.skipped == skipped, f"criteria skipped={suite.skipped}, skipped={skipped}")
    expect(xml.tests == sum(s.tests for s in suites), f"testsuites tests={xml.tests}")
    expect(xml.failures == sum(s.failures for s in suites), f"testsuites failures={xml.failures}")
    print(f"junitparser {sys.modules['junitparser'].version}: criteria suite, {len(cases)} cases")


if __name__ == "__main__":
    main()
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)
