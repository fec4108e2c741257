#!/usr/bin/env bash
# Compile the locks: requirements/locks/<role>.txt pins every package, transitive ones
# included, with hashes, from requirements/<role>.txt (the top-level pins we choose).
#   ./scripts/lock.sh            every lock
#   ./scripts/lock.sh main ocr   some of them
# Run it after changing any requirements/*.txt; tests/test_requirements.py fails on a stale
# lock. The locks are for CPython 3.11 on Linux x86_64 (the images and CI). The Raspberry
# Pi's requirements/edge-pi.txt stays unlocked: numpy must be the one apt built picamera2 for.
. "$(dirname "$0")/lib/common.sh"
cd "$REPO_ROOT"
ensure_venv test
roles=("$@"); [ ${#roles[@]} -gt 0 ] || roles=(main ocr alert edge test)
for role in "${roles[@]}"; do
  log "locking requirements/$role.txt"
  "$VENV/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
    --no-emit-find-links --output-file "requirements/locks/$role.txt" "requirements/$role.txt"
done
