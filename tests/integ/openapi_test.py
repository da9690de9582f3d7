#!/usr/bin/env python3
"""openapi_test.py -- static check of docs/openapi.json against the served route table.

  python3 tests/integ/openapi_test.py BUILD/voxclone [docs/openapi.json]

Checks, without starting a server: OpenAPI 3.x; every route of `voxclone serve --routes`
is documented with the same method and nothing extra is documented; path parameters are
declared; token routes document security and 401, public ones no security; every $ref
resolves.  The run-time half (every status code observed is documented, responses match
the schemas) is in api_test.py, which uses the same helpers.
Prints "ok - ..." / "FAIL - ..." lines and "N passed, M failed"; exit 1 on failure.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_test as T  # noqa: E402


def refs(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                out.append(v)
            else:
                refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    binary = sys.argv[1]
    path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(T.SRC, "docs", "openapi.json")
    out = subprocess.run([binary, "serve", "--routes"], capture_output=True, text=True)
    lines = [l for l in out.stdout.splitlines() if l.strip()]
    T.check("voxclone serve --routes lists routes (%d)" % len(lines), out.returncode == 0 and lines,
            out.stderr)
    if not T.check("%s exists" % path, os.path.exists(path)):
        sys.exit(1)
    try:
        doc = json.load(open(path))
    except ValueError as e:
        T.check("%s is valid JSON" % path, False, str(e))
        sys.exit(1)
    errs = T.openapi_static_errors(doc, lines)
    T.check("OpenAPI 3: exactly the served routes and methods, parameters, security",
            not errs, "; ".join(errs))
    rs = []
    refs(doc, rs)
    bad = [r for r in rs if T.resolve(doc, {"$ref": r}) is None]
    T.check("every $ref resolves (%d refs)" % len(rs), not bad, repr(sorted(set(bad))))
    print("%d passed, %d failed" % (T.PASSED, T.FAILED))
    sys.exit(1 if T.FAILED else 0)


if __name__ == "__main__":
    main()
