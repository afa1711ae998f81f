#!/usr/bin/env python3
"""Static checks of the Dockerfiles in docker/ (hadolint is not available here).

  check_dockerfiles.py [DOCKERFILE ...]   default: docker/*.Dockerfile
  check_dockerfiles.py --self-test        the checks catch known-bad Dockerfiles

Rules:
  pinned-base     every FROM names a tag with a version (or a digest); never
                  :latest, no tag, or a bare codename such as bookworm-slim
  multi-stage     a builder stage and a runtime stage
  non-root-user   the final stage sets USER to a non-root user, last
  healthcheck     the final stage has a HEALTHCHECK (not NONE)
  no-secrets      no ENV or ARG names a secret or holds a credential
  apt-clean       a RUN with apt-get install also removes /var/lib/apt/lists
                  and uses --no-install-recommends; apt-get update never alone
  no-remote-add   ADD fetches no URL (use a checked download in RUN instead)
  entrypoint      the final stage has an ENTRYPOINT or CMD
"""
from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SECRET_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|DATABASE_URL|(^|_)AUTH(_|$))", re.I)
CREDENTIAL_VALUE = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@|-----BEGIN [A-Z ]*PRIVATE KEY", re.I)
ROOT_USERS = {"root", "0"}


@dataclass
class Instruction:
    line: int
    keyword: str
    args: str


@dataclass
class Stage:
    line: int
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, with continuation lines joined."""
    logical: list[tuple[int, str]] = []
    buf, start = "", 0
    for n, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue  # comment lines inside a continuation are dropped by Docker
        if not buf:
            start = n
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        logical.append((start, buf))
        buf = ""
    if buf:
        logical.append((start, buf))

    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for n, line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        args = args.strip()
        if keyword == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            image = words[0] if words else ""
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(n, image, name))
        elif not stages:
            if keyword == "ARG":
                k, _, v = args.partition("=")
                global_args[k.strip()] = v.strip().strip('"')
        else:
            stages[-1].instructions.append(Instruction(n, keyword, args))
    return global_args, stages


def expand(value: str, variables: dict[str, str]) -> str:
    def sub(m: re.Match) -> str:
        name = m.group(1) or m.group(2)
        return variables.get(name, m.group(0))
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", sub, value)


def env_pairs(args: str) -> list[tuple[str, str]]:
    """ENV a=b c="d e"  |  ENV a b  (legacy form)."""
    try:
        words = shlex.split(args)
    except ValueError:
        words = args.split()
    if words and "=" not in words[0]:
        return [(words[0], " ".join(words[1:]))]
    return [tuple(w.split("=", 1)) if "=" in w else (w, "") for w in words]  # type: ignore[misc]


def check(text: str, label: str) -> list[str]:
    errors: list[str] = []
    err = lambda n, rule, msg: errors.append(f"{label}:{n}: [{rule}] {msg}")
    global_args, stages = parse(text)
    if not stages:
        return [f"{label}: no FROM instruction"]
    names = set()
    for st in stages:
        image = expand(st.image, global_args)
        if image.lower() in names or image == "scratch":
            pass  # an earlier stage, or the empty image
        elif "$" in image:
            err(st.line, "pinned-base", f"FROM {st.image}: unresolved variable (give the ARG a default)")
        else:
            ref, _, digest = image.partition("@")
            last = ref.rsplit("/", 1)[-1]
            tag = last.partition(":")[2]
            if digest:
                if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
                    err(st.line, "pinned-base", f"FROM {image}: malformed digest")
            elif not tag:
                err(st.line, "pinned-base", f"FROM {image}: no tag (means :latest)")
            elif tag == "latest":
                err(st.line, "pinned-base", f"FROM {image}: :latest is not pinned")
            elif not re.search(r"\d", tag):
                err(st.line, "pinned-base", f"FROM {image}: tag {tag!r} floats; pin a version (e.g. 12.11-slim) or a digest")
        if st.name:
            names.add(st.name.lower())

        for ins in st.instructions:
            if ins.keyword in ("ENV", "ARG"):
                pairs = env_pairs(ins.args) if ins.keyword == "ENV" else [tuple((ins.args.split("=", 1) + [""])[:2])]
                for k, v in pairs:
                    if SECRET_NAME.search(k):
                        err(ins.line, "no-secrets", f"{ins.keyword} {k}: secrets must not be baked into the image "
                                                    f"(pass them at run time; at build time use --mount=type=secret)")
                    elif CREDENTIAL_VALUE.search(v):
                        err(ins.line, "no-secrets", f"{ins.keyword} {k}: value holds a credential")
            if ins.keyword == "RUN":
                cmd = ins.args
                if re.search(r"\bapt(-get)?\s+(-\S+\s+)*install\b", cmd):
                    if not re.search(r"rm\s+-(rf|fr|r)\s+(\S+\s+)*/var/lib/apt/lists", cmd):
                        err(ins.line, "apt-clean", "apt-get install without `rm -rf /var/lib/apt/lists/*` in the same RUN")
                    if "--no-install-recommends" not in cmd:
                        err(ins.line, "apt-clean", "apt-get install without --no-install-recommends")
                    if not re.search(r"\bapt(-get)?\s+update\b", cmd):
                        err(ins.line, "apt-clean", "apt-get install without apt-get update in the same RUN (stale lists)")
                elif re.search(r"\bapt(-get)?\s+update\b", cmd):
                    err(ins.line, "apt-clean", "apt-get update alone in a RUN: its cached layer goes stale")
            if ins.keyword == "ADD" and re.search(r"(^|\s)(https?|git)://|\.git(\s|$)", ins.args):
                err(ins.line, "no-remote-add", "ADD of a URL: download in RUN with a checksum instead")

    if len(stages) < 2:
        err(stages[0].line, "multi-stage", "one stage only: build in a builder stage, ship a slim runtime stage")
    final = stages[-1]
    users = [i for i in final.instructions if i.keyword == "USER"]
    if not users:
        err(final.line, "non-root-user", "the final stage sets no USER (runs as root)")
    else:
        user = users[-1].args.split(":")[0].strip()
        if user in ROOT_USERS or not user:
            err(users[-1].line, "non-root-user", f"USER {users[-1].args}: root")
    health = [i for i in final.instructions if i.keyword == "HEALTHCHECK"]
    if not health:
        err(final.line, "healthcheck", "the final stage has no HEALTHCHECK")
    elif health[-1].args.strip().upper() == "NONE":
        err(health[-1].line, "healthcheck", "HEALTHCHECK NONE")
    if not any(i.keyword in ("ENTRYPOINT", "CMD") for i in final.instructions):
        err(final.line, "entrypoint", "the final stage has no ENTRYPOINT or CMD")
    return errors


GOOD = """
ARG DEBIAN_RELEASE=12.11
FROM debian:${DEBIAN_RELEASE} AS builder
RUN apt-get update && apt-get install -y --no-install-recommends g++ && rm -rf /var/lib/apt/lists/*
FROM debian:${DEBIAN_RELEASE}-slim
COPY --from=builder /out/app /usr/local/bin/app
USER 1000:1000
HEALTHCHECK CMD ["/usr/local/bin/app", "--version"]
ENTRYPOINT ["/usr/local/bin/app"]
"""

# (Dockerfile, the rules it must break)
BAD = [
    ("FROM debian\nRUN true\n", {"pinned-base", "multi-stage", "non-root-user", "healthcheck", "entrypoint"}),
    ("FROM debian:latest AS b\nFROM debian:bookworm-slim\nUSER root\nHEALTHCHECK NONE\nCMD x\n",
     {"pinned-base", "non-root-user", "healthcheck"}),
    ("FROM debian:12.11 AS b\nRUN apt-get update\nRUN apt-get install -y curl\n"
     "FROM debian:12.11-slim\nENV BETTER_AUTH_SECRET=abc\nARG GITHUB_TOKEN\n"
     "ENV DB=postgresql://u:hunter2@db/x\nUSER 1000\nHEALTHCHECK CMD true\nCMD x\n",
     {"apt-clean", "no-secrets"}),
    ("FROM debian:12.11 AS b\nRUN apt-get update && \\\n  apt-get install -y --no-install-recommends curl\n"
     "FROM debian:12.11-slim\nADD https://example.invalid/x.tgz /x\nUSER app\nUSER 0\nHEALTHCHECK CMD true\nCMD x\n",
     {"apt-clean", "no-remote-add", "non-root-user"}),
    ("ARG BASE\nFROM debian:${BASE} AS b\nFROM b\nUSER 1000\nHEALTHCHECK CMD true\nCMD x\n", {"pinned-base"}),
]


def self_test() -> int:
    failures = []
    if check(GOOD, "good"):
        failures.append(f"the good Dockerfile was flagged: {check(GOOD, 'good')}")
    for i, (text, rules) in enumerate(BAD):
        found = {m.group(1) for e in check(text, f"bad{i}") for m in [re.search(r"\[([a-z-]+)\]", e)] if m}
        if found != rules:
            failures.append(f"bad{i}: expected rules {sorted(rules)}, got {sorted(found)}")
    for f in failures:
        print(f"check_dockerfiles self-test: {f}")
    if not failures:
        print(f"check_dockerfiles self-test: 1 good and {len(BAD)} bad Dockerfiles judged as expected")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv and argv[0] == "--self-test":
        return self_test()
    files = [Path(a) for a in argv] or sorted((REPO / "docker").glob("*.Dockerfile"))
    if not files:
        print("check_dockerfiles: no Dockerfiles found in docker/")
        return 1
    errors = []
    for f in files:
        problems = check(f.read_text(), str(f.relative_to(REPO) if f.is_absolute() and REPO in f.parents else f))
        errors += problems
        print(f"{f.name}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
    for e in errors:
        print(f"  {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
