#!/bin/sh
# The mutation lane (issue 16): every mutant of mutants/catalogue.yaml built
# in build-mut/ and run against the suite; see scripts/mutate.py for the
# options (--subset, --out FILE, --dir DIR, -j N, mutant IDs).
exec python3 "$(dirname "$0")/mutate.py" "$@"
