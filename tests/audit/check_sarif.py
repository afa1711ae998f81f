#!/usr/bin/env python3
"""Validates a SARIF file against the SARIF 2.1.0 JSON schema (jsonschema, draft 4).

  check_sarif.py SARIF_FILE [SCHEMA]     exit 0 valid, 1 invalid (each error printed), 2 setup

The schema is $KGATE_SARIF_SCHEMA, else ~/.cache/kgate/sarif/sarif-schema-2.1.0.json
(scripts/setup.sh puts it there).
"""
import json
import os
import sys
from pathlib import Path

try:
    import jsonschema
except ImportError:
    sys.exit("check_sarif: jsonschema is missing: run scripts/setup.sh (it builds the venv)")


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    schema_path = Path(argv[2] if len(argv) > 2 else os.environ.get(
        "KGATE_SARIF_SCHEMA", Path.home() / ".cache" / "kgate" / "sarif" / "sarif-schema-2.1.0.json"))
    if not schema_path.is_file():
        print(f"check_sarif: no schema at {schema_path}: run scripts/setup.sh", file=sys.stderr)
        return 2
    schema = json.loads(schema_path.read_text())
    log = json.loads(Path(argv[1]).read_text())
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    for e in errors:
        print(f"{argv[1]}: /{'/'.join(str(p) for p in e.path)}: {e.message}")
    print(f"check_sarif: {argv[1]}: {'valid' if not errors else f'{len(errors)} error(s)'} "
          f"against {schema.get('title', schema_path.name)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
