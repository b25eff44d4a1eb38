#!/usr/bin/env bash
# Validate threadlint's SARIF for the demo against the official SARIF 2.1.0 schema and with
# Microsoft's SARIF multitool (the rules GitHub code scanning applies). Run after `cargo test`
# (it uses target/debug/threadlint); needs python3 and npm.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/target/debug/threadlint"
schema="$root/../shared/schemas/sarif-schema-2.1.0.json"
# A checkout without the shared folder beside it uses the copy kept here (the same OASIS schema).
[ -f "$schema" ] || schema="$root/scripts/sarif-schema-2.1.0.json"
[ -x "$bin" ] || { echo "validate-sarif: $bin not built (run cargo test first)" >&2; exit 1; }
[ -f "$schema" ] || { echo "validate-sarif: schema not found at $schema" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
"$bin" check "$root/fixtures/chat-platform" --format sarif -o "$work/demo.sarif" >/dev/null || status=$?
[ "$status" -eq 1 ] || { echo "validate-sarif: expected exit status 1 (findings), got $status" >&2; exit 1; }

python3 -m pip install --quiet --disable-pip-version-check jsonschema >/dev/null 2>&1 || true
python3 - "$schema" "$work/demo.sarif" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
validator = jsonschema.validators.validator_for(schema)(schema)
errors = list(validator.iter_errors(doc))
for e in errors[:20]:
    print("schema:", "/".join(map(str, e.path)), e.message[:200])
results = doc["runs"][0]["results"]
assert len(results) == 8, f"expected 8 results, got {len(results)}"
print(f"validate-sarif: schema OK ({len(results)} results)" if not errors else "validate-sarif: schema errors")
sys.exit(1 if errors else 0)
PY

npm install --prefix "$work/tools" --silent --no-audit --no-fund @microsoft/sarif-multitool-linux >/dev/null 2>&1
mt="$work/tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
chmod +x "$mt"
DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 "$mt" validate --rule-kind "Gh;Sarif" -o "$work/validation.sarif" "$work/demo.sarif" >/dev/null
python3 - "$work/validation.sarif" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["runs"][0].get("results", [])
bad = [r for r in results if r.get("level", "warning") in ("error", "warning")]
for r in bad:
    print("multitool:", r.get("level"), r.get("ruleId"), json.dumps(r.get("message", {}))[:200])
print("validate-sarif: multitool OK" if not bad else f"validate-sarif: multitool found {len(bad)} problems")
sys.exit(1 if bad else 0)
PY
