#!/usr/bin/env bash
# The Kubernetes test of tests/kube.rs, against a real cluster you have
# (kind, k3d, minikube, Docker Desktop): applies the kubectl fixtures of
# tests/fixtures/kube into fresh namespaces, waits for their pods, runs
# `shipshape scan --kube-context`, and compares the findings with
# tests/fixtures/kube/expected.txt (pod counts left out: a real cluster has
# its own). Deletes the namespaces it made, pass or fail.
#
#   scripts/kube-real-cluster.sh CONTEXT
#
# This script writes to the cluster (kubectl apply); shipshape itself only
# reads. The cluster must admit privileged pods (kind and k3d do).
set -euo pipefail
cd "$(dirname "$0")/.."
ctx=${1:?usage: scripts/kube-real-cluster.sh CONTEXT}
k() { kubectl --context "$ctx" "$@"; }
run=shipshape-e2e-$$
work=$(mktemp -d)
namespaces=(shop ops dev kube-system)
cleanup() {
  for ns in "${namespaces[@]}"; do k delete namespace "$run-$ns" --wait=false >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
cargo build --release -q
# Rewrite namespaces to this run's, scale web down, make the CronJob run
# now (a Job from its template, owned by it).
python3 - "$run" "$work" <<'PY'
import json, sys, pathlib
run, work = sys.argv[1], pathlib.Path(sys.argv[2])
src = pathlib.Path("tests/fixtures/kube")
for f in ["ns-shop", "ns-ops", "ns-dev", "ns-kube-system", "web", "api", "node-agent", "backup", "debug"]:
    d = json.loads((src / f"{f}.json").read_text())
    m = d["metadata"]
    if d["kind"] == "Namespace":
        m["name"] = f"{run}-{m['name']}"
    else:
        m["namespace"] = f"{run}-{m['namespace']}"
    if d["kind"] == "Deployment" and m["name"] == "web":
        d["spec"]["replicas"] = 3
    if d["kind"] == "Pod":
        # Ephemeral containers are added by `kubectl debug`, not by create.
        d["spec"].pop("ephemeralContainers", None)
    (work / f"{f}.json").write_text(json.dumps(d))
PY
for f in ns-shop ns-ops ns-dev ns-kube-system; do k apply -f "$work/$f.json" >/dev/null; done
for f in web api node-agent backup debug; do k apply -f "$work/$f.json" >/dev/null; done
k -n "$run-ops" create job backup-now --from=cronjob/backup >/dev/null
k -n "$run-dev" debug debug --image=busybox:1.36 --container=debugger --profile=general \
  --target=alpine -- sleep 600 >/dev/null 2>&1 || echo "note: kubectl debug failed; the ephemeral container's lines will differ"
echo "waiting for pods…"
for ns in shop kube-system dev; do k -n "$run-$ns" wait --for=condition=Ready pod --all --timeout=180s >/dev/null || true; done
./target/release/shipshape scan --kube-context "$ctx" --no-vulns -q >"$work/report.json"
# subject | rule | severity | evidence, for this run's namespaces, pod
# counts and the run prefix removed.
python3 - "$run" "$work/report.json" >"$work/got.txt" <<'PY'
import json, re, sys
run, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
out = []
for c in r["containers"]:
    if not c["name"].startswith(run + "-"):
        continue
    name = c["name"][len(run) + 1:]
    for f in c["findings"]:
        out.append(f"{name} | {f['rule_id']} | {f['severity']} | {re.sub(r' [(][0-9]+ pods?[)]$', '', f['evidence'])}")
print("\n".join(sorted(out)))
PY
sed -E 's/ \([0-9]+ pods?\)$//' tests/fixtures/kube/expected.txt | sort >"$work/want.txt"
if diff -u "$work/want.txt" "$work/got.txt"; then
  echo "PASS: the real cluster gives exactly the findings of the fixtures"
else
  echo "FAIL: findings differ (- expected, + this cluster)"; exit 1
fi
