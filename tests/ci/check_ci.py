#!/usr/bin/env python3
"""Checks of the CI templates in ci/ (label: ci).

  check_ci.py actionlint [WORKFLOW ...]   actionlint (pinned, scripts/install-actionlint.sh;
                                          $KGATE_ACTIONLINT overrides) on ci/github/*.yml
  check_ci.py actionlint-self-test        actionlint catches a known-bad workflow
  check_ci.py gitlab [FILE]               the GitLab file: stages exist, every job has a
                                          stage among them and a script, artifact paths
                                          are what kgate writes
  check_ci.py gitlab-self-test            the GitLab checks catch known-bad files
  check_ci.py extract github|gitlab       prints the gate's shell (the step / script entry
                                          that runs `kgate collect`), for running it as is
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
GITHUB = REPO / "ci" / "github" / "kgate.yml"
GITLAB = REPO / "ci" / "gitlab" / "kgate.gitlab-ci.yml"
# What `kgate collect --report-dir D` and `kgate run --report-dir D` write in D.
KGATE_FILES = ("junit.xml", "report.html", "results.json")
# Top-level keys of a .gitlab-ci.yml that are not jobs.
GITLAB_GLOBAL = {"stages", "variables", "include", "default", "workflow", "image", "services",
                 "before_script", "after_script", "cache", "spec"}


def actionlint(files: list[str]) -> int:
    tool = os.environ.get("KGATE_ACTIONLINT") or str(Path.home() / ".cache/kgate/bin/actionlint")
    if not Path(tool).is_file():
        print(f"check_ci: {tool} is missing: run scripts/install-actionlint.sh")
        return 1
    files = files or [str(p) for p in sorted((REPO / "ci" / "github").glob("*.yml"))]
    if not shutil.which("shellcheck"):
        print("check_ci: note: shellcheck is not installed; actionlint skips the run: scripts")
    r = subprocess.run([tool, "-no-color", *files], capture_output=True, text=True)
    print(r.stdout + r.stderr, end="")
    print(f"actionlint {subprocess.run([tool, '-version'], capture_output=True, text=True).stdout.split()[0]}: "
          f"{'clean' if r.returncode == 0 else 'problems'} ({', '.join(Path(f).name for f in files)})")
    return r.returncode


def actionlint_self_test() -> int:
    """actionlint as installed here fails a workflow with an unknown context property and a
    shell error in a run: script (so a clean result means something)."""
    import tempfile
    bad = ("on: push\njobs:\n  gate:\n    runs-on: ubuntu-24.04\n    steps:\n"
           "      - run: echo ${{ github.no_such_property }}\n"
           "      - run: if [ -n \"$X\" ]; then echo x\n")
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        f.write(bad)
    tool = os.environ.get("KGATE_ACTIONLINT") or str(Path.home() / ".cache/kgate/bin/actionlint")
    try:
        r = subprocess.run([tool, "-no-color", "-oneline", f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    out = r.stdout + r.stderr
    ok = r.returncode == 1 and "no_such_property" in out and (
        not shutil.which("shellcheck") or "shellcheck" in out)
    print(out, end="")
    print(f"check_ci actionlint self-test: {'caught both' if ok else 'MISSED'}")
    return 0 if ok else 1


def check_gitlab(doc: object, label: str) -> list[str]:
    errors: list[str] = []
    if not isinstance(doc, dict):
        return [f"{label}: not a mapping"]
    stages = doc.get("stages")
    if not isinstance(stages, list) or not stages or not all(isinstance(s, str) for s in stages):
        errors.append(f"{label}: 'stages' must be a non-empty list of names")
        stages = None  # said once, not again for every job
    report_dir = str((doc.get("variables") or {}).get("REPORT_DIR", "kgate-report"))
    allowed = {f"{report_dir}/{f}" for f in KGATE_FILES} | {f"{report_dir}/disruptive/{f}" for f in KGATE_FILES}
    allowed |= {f"{report_dir}/", f"{report_dir}/disruptive/"}
    jobs = {k: v for k, v in doc.items() if k not in GITLAB_GLOBAL and not str(k).startswith(".")}
    if not jobs:
        errors.append(f"{label}: no jobs")
    for name, job in jobs.items():
        where = f"{label}: job '{name}'"
        if not isinstance(job, dict):
            errors.append(f"{where}: not a mapping")
            continue
        if stages is not None and job.get("stage", "test") not in stages:
            errors.append(f"{where}: stage '{job.get('stage', 'test')}' is not in stages {stages}")
        script = job.get("script")
        if not isinstance(script, (list, str)) or not script or (
                isinstance(script, list) and not all(isinstance(s, str) and s.strip() for s in script)):
            errors.append(f"{where}: needs a script (a non-empty list of commands)")
        art = job.get("artifacts") or {}
        paths = art.get("paths") or []
        junit = ((art.get("reports") or {}).get("junit")) or []
        junit = [junit] if isinstance(junit, str) else junit
        for p in list(paths) + list(junit):
            if p not in allowed:
                errors.append(f"{where}: artifact path '{p}' is not something kgate writes in {report_dir}/")
        for p in junit:
            if not p.endswith("junit.xml"):
                errors.append(f"{where}: JUnit report '{p}' is not a kgate junit.xml")
        if "kgate collect" in str(script):
            if not junit:
                errors.append(f"{where}: runs kgate but publishes no artifacts:reports:junit")
            if "expose_as" in art and f"{report_dir}/report.html" not in paths:
                errors.append(f"{where}: expose_as without the HTML report {report_dir}/report.html")
            if '--report-dir "$REPORT_DIR"' not in str(script):
                errors.append(f"{where}: kgate collect must write to --report-dir \"$REPORT_DIR\"")
            if art.get("when") != "always":
                errors.append(f"{where}: artifacts must be kept when the gate fails (when: always)")
    return errors


def gitlab(path: str | None) -> int:
    f = Path(path) if path else GITLAB
    errors = check_gitlab(yaml.safe_load(f.read_text()), f.name)
    for e in errors:
        print(e)
    print(f"{f.name}: {'ok' if not errors else f'{len(errors)} problem(s)'}")
    return 1 if errors else 0


def gitlab_self_test() -> int:
    good = yaml.safe_load(GITLAB.read_text())
    def mutated(change):
        doc = yaml.safe_load(GITLAB.read_text())
        change(doc)
        return doc
    cases = [
        ("no stages", mutated(lambda d: d.pop("stages")), "'stages' must be"),
        ("unknown stage", mutated(lambda d: d["kgate"].update(stage="deploy")), "is not in stages"),
        ("no script", mutated(lambda d: d["kgate"].pop("script")), "needs a script"),
        ("wrong junit path", mutated(lambda d: d["kgate"]["artifacts"]["reports"].update(junit=["report/junit.xml"])),
         "not something kgate writes"),
        ("HTML not exposed", mutated(lambda d: d["kgate"]["artifacts"]["paths"].remove("kgate-report/report.html")),
         "expose_as without the HTML report"),
        ("artifacts lost on failure", mutated(lambda d: d["kgate"]["artifacts"].pop("when")), "when: always"),
    ]
    failures = []
    if check_gitlab(good, "good"):
        failures.append(f"the template was flagged: {check_gitlab(good, 'good')}")
    for name, doc, expected in cases:
        got = check_gitlab(doc, name)
        if len(got) != 1 or expected not in got[0]:
            failures.append(f"{name}: expected one problem with '{expected}', got {got}")
    for f in failures:
        print(f"check_ci gitlab self-test: {f}")
    if not failures:
        print(f"check_ci gitlab self-test: the template and {len(cases)} broken variants judged as expected")
    return 1 if failures else 0


def extract(which: str) -> int:
    """The shell of the gate, exactly as the template has it."""
    if which == "github":
        doc = yaml.safe_load(GITHUB.read_text())
        for job in doc["jobs"].values():
            for step in job.get("steps", []):
                if "kgate collect" in step.get("run", ""):
                    print(step["run"], end="")
                    return 0
    elif which == "gitlab":
        doc = yaml.safe_load(GITLAB.read_text())
        for name, job in doc.items():
            if isinstance(job, dict) and name not in GITLAB_GLOBAL:
                for entry in job.get("script", []):
                    if "kgate collect" in entry:
                        print(entry, end="")
                        return 0
    print(f"check_ci: no gate script (one that runs `kgate collect`) in the {which} template", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "actionlint":
        return actionlint(rest)
    if cmd == "gitlab":
        return gitlab(rest[0] if rest else None)
    if cmd == "actionlint-self-test":
        return actionlint_self_test()
    if cmd == "gitlab-self-test":
        return gitlab_self_test()
    if cmd == "extract" and len(rest) == 1:
        return extract(rest[0])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
