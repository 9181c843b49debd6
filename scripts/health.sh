#!/usr/bin/env bash
# Checks the system under test: the gateway and each app instance. Exit 0 when all
# answer, 4 when the gateway does not (the same code load_test.sh uses).
set -uo pipefail
HOST="${HOST:-http://localhost:8080}"
fetch() { curl -fsS --max-time 5 "$1" 2>/dev/null; }
if ! out=$(fetch "$HOST/gateway-health"); then
  echo "health: the gateway at $HOST is not answering (GET /gateway-health failed)." >&2
  echo "health: is the system running? Check 'docker-compose ps' and 'docker-compose logs'." >&2
  exit 4
fi
echo "gateway: $out"
status=0
for app in app1 app2 app3; do
  if out=$(fetch "$HOST/$app/health"); then echo "$app: $out"; else echo "$app: not answering"; status=1; fi
done
exit $status
