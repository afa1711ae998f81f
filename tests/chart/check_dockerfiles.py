#!/usr/bin/env python3
"""Static checks of the Dockerfiles in docker/ (hadolint is not available here).

  check_dockerfiles.py [DOCKERFILE ...]   default: docker/*.Dockerfile
  check_dockerfiles.py --self-test        the checks catch known-bad Dockerfiles
  check_dockerfiles.py --libraries DOCKERFILE BINARY [BINARY ...]
                                          the runtime stage installs exactly the
                                          packages of the shared libraries the
                                          built binaries link (Debian 12 host)
  check_dockerfiles.py --libraries-self-test BINARY
                                          that check catches a missing and an
                                          extra package

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
  libraries       (--libraries) every library a binary links directly (its
                  DT_NEEDED entries, resolved by ldd) comes from a package the
                  final stage's apt-get install names, or from the slim base;
                  every lib* package it names is linked by one of the binaries.
                  So a missing library fails here, without a container engine.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
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


# Libraries debian:12-slim already has (apt itself links them): never listed.
SLIM_BASE = {"libc6", "libgcc-s1", "libstdc++6"}


def runtime_packages(text: str) -> set[str]:
    """The packages the final stage's apt-get install lines name."""
    global_args, stages = parse(text)
    if not stages:
        return set()
    out: set[str] = set()
    for ins in stages[-1].instructions:
        if ins.keyword != "RUN":
            continue
        for part in re.split(r"&&|;", expand(ins.args, global_args)):
            words = part.split()
            if "apt-get" in words and "install" in words:
                out |= {w for w in words[words.index("install") + 1:] if not w.startswith("-")}
    return out


def linked_packages(binary: str) -> dict[str, str]:
    """{package: soname} of the libraries the binary links directly (DT_NEEDED), on this host."""
    dynamic = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
    resolved = {}
    for line in subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout.splitlines():
        m = re.match(r"\s*(\S+) => (\S+)", line)
        if m:
            resolved[m.group(1)] = m.group(2)
    out: dict[str, str] = {}
    for soname in needed:
        path = resolved.get(soname)
        if not path or path == "not":
            raise SystemExit(f"{binary}: {soname} is not found on this host (ldd)")
        real = os.path.realpath(path)
        # usrmerge: dpkg may know the file under /lib rather than /usr/lib, or by its symlink.
        candidates = [path, real] + [c.replace("/usr/lib/", "/lib/", 1) for c in (path, real)]
        owner = None
        for c in candidates:
            r = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
            if r.returncode == 0:
                owner = r.stdout.split(":")[0].strip()
                break
        if not owner:
            raise SystemExit(f"{binary}: no Debian package owns {path} (is this a Debian 12 host?)")
        out[owner] = soname
    return out


def check_libraries(text: str, label: str, binaries: list[str]) -> list[str]:
    errors = []
    listed = runtime_packages(text)
    needed: dict[str, str] = {}
    for b in binaries:
        for pkg, soname in linked_packages(b).items():
            needed.setdefault(pkg, f"{soname} of {Path(b).name}")
    for pkg, why in sorted(needed.items()):
        if pkg not in listed and pkg not in SLIM_BASE:
            errors.append(f"{label}: [libraries] the runtime stage does not install {pkg} ({why})")
    for pkg in sorted(listed):
        if pkg.startswith("lib") and pkg not in needed:
            errors.append(f"{label}: [libraries] the runtime stage installs {pkg}, which no binary links")
    return errors


def libraries_self_test(binary: str) -> int:
    pkgs = sorted(p for p in linked_packages(binary) if p not in SLIM_BASE)
    if not pkgs:
        print(f"check_dockerfiles libraries self-test: {binary} links nothing beyond the base")
        return 1
    def dockerfile(packages):
        return ("FROM debian:12.11 AS b\nFROM debian:12.11-slim\nRUN apt-get update \\\n"
                " && apt-get install -y --no-install-recommends ca-certificates " + " ".join(packages) +
                " \\\n && rm -rf /var/lib/apt/lists/*\nUSER 1000\nHEALTHCHECK CMD true\nCMD x\n")
    cases = [
        (pkgs, set()),
        (pkgs[1:], {f"does not install {pkgs[0]}"}),
        (pkgs + ["libboost-system1.81.0"], {"installs libboost-system1.81.0, which no binary links"}),
    ]
    failures = []
    for packages, expected in cases:
        got = check_libraries(dockerfile(packages), "case", [binary])
        found = {e for e in got for x in expected if x in e}
        if len(got) != len(expected) or len(found) != len(expected):
            failures.append(f"packages {packages}: expected {sorted(expected)}, got {got}")
    for f in failures:
        print(f"check_dockerfiles libraries self-test: {f}")
    if not failures:
        print(f"check_dockerfiles libraries self-test: {len(cases)} cases on {binary} ({', '.join(pkgs)}) judged as expected")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv and argv[0] == "--self-test":
        return self_test()
    if argv and argv[0] == "--libraries-self-test" and len(argv) == 2:
        return libraries_self_test(argv[1])
    if argv and argv[0] == "--libraries":
        if len(argv) < 3:
            print("usage: check_dockerfiles.py --libraries DOCKERFILE BINARY [BINARY ...]")
            return 2
        f = Path(argv[1])
        errors = check_libraries(f.read_text(), f.name, argv[2:])
        print(f"{f.name}: {'ok' if not errors else f'{len(errors)} problem(s)'} "
              f"(links of {', '.join(Path(b).name for b in argv[2:])})")
        for e in errors:
            print(f"  {e}")
        return 1 if errors else 0
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
