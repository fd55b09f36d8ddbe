#!/usr/bin/env bash
# Rebuild assets/demo/lab.json: create a lab of risky containers on a real
# engine, capture what the engine says about them (the same JSON shipshape
# reads), and remove the lab again. The demo is real engine output, run
# through the same conversion and rules as a live scan.
#
# Secrets in the lab are fake values; shipshape never shows them anyway.
#
#   scripts/capture-demo.sh           capture into assets/demo/lab.json, then remove the lab
#   scripts/capture-demo.sh --keep    only create the lab and leave it running (to try the
#                                     live dashboard); remove it with --remove
#   scripts/capture-demo.sh --remove  remove a kept lab
set -euo pipefail
MODE=${1:-capture}
cd "$(dirname "$0")/.."
./scripts/engine-up.sh
P=lab
names=()
c() { local n=$1 verb=$2; shift 2; docker rm -f "$P-$n" >/dev/null 2>&1 || true; docker "$verb" --name "$P-$n" "$@" >/dev/null; names+=("$P-$n"); }
cleanup() { docker rm -f "${names[@]}" >/dev/null 2>&1 || true; docker network rm lab-backend >/dev/null 2>&1 || true; docker rmi lab/api:2.3 >/dev/null 2>&1 || true; }
if [ "$MODE" = "--remove" ]; then
  docker ps -aq --filter name=^lab- | xargs -r docker rm -f >/dev/null
  cleanup; exit 0
fi
[ "$MODE" = "--keep" ] || trap cleanup EXIT
docker network create lab-backend >/dev/null 2>&1 || true
docker tag shipshape-test/base:1 lab/api:2.3

c legacy-admin-panel create --privileged -v /:/host -v /var/run/docker.sock:/var/run/docker.sock \
  -l com.example.team=platform shipshape-test/base:latest
c web-frontend create -p 80:8080 -p 443:8443 --restart always --cap-add NET_ADMIN --cap-add NET_BIND_SERVICE \
  -l com.example.team=web shipshape-test/base:1
c metrics-agent run -d --pid host --network host --ipc host -v /proc:/host/proc:ro -v /sys:/host/sys:ro \
  --memory 256m shipshape-test/base:1
c postgres run -d -e POSTGRES_PASSWORD=demo-password-not-real -e AWS_SECRET_ACCESS_KEY=demoNotARealKey0123456789abcdEFGH \
  -e POSTGRES_DB=app -p 5432:5432 shipshape-test/base:1
c ci-runner run -d -v /var/run/docker.sock:/var/run/docker.sock --security-opt seccomp=unconfined \
  --cap-add SYS_ADMIN --cap-add SYS_PTRACE shipshape-test/base:1
c ssh-jumpbox run -d -p 2222:22 shipshape-test/base:1 /usr/sbin/sshd
c cache run -d --read-only --user 10001:10001 --memory 128m --cpus 0.5 --pids-limit 100 \
  --security-opt no-new-privileges --cap-drop ALL --network lab-backend -p 127.0.0.1:6379:6379 shipshape-test/hardened:1
c debug-sidecar create --network container:lab-cache --pid container:lab-cache shipshape-test/base:1
c api create --memory 512m --restart unless-stopped -e API_TOKEN=demo-token-not-real lab/api:2.3
docker tag shipshape-test/hardened:1 lab/api:2.3   # the tag moves on; lab-api still runs the old image
c nightly-batch run -d --restart on-failure:20 --device /dev/null:/dev/xnull --cgroup-parent /batch \
  shipshape-test/base:1 true
c dev-shell create -v /root/.ssh:/root/.ssh:ro --userns host --uts host \
  --mount type=bind,src=/tmp,dst=/scratch,bind-propagation=rshared -v /etc:/host-etc shipshape-test/base:1
c leaky-app create shipshape-test/leaky:1
c hardened-worker run -d --read-only --user 10001:10001 --memory 64m --cpus 0.25 --pids-limit 64 \
  --security-opt no-new-privileges --cap-drop ALL --network lab-backend --restart on-failure:3 \
  "$(docker image inspect -f '{{.Id}}' shipshape-test/hardened:1)"
sleep 2
if [ "$MODE" = "--keep" ]; then
  echo "lab running: ${names[*]}"; exit 0
fi

# --- activity: what an attacker (or a hurried admin) does after the fact ------
SINCE=$(date +%s)
sleep 1
# A one-second job that removes itself: shipshape must still score it.
docker rm -f "$P-oneshot-migrate" >/dev/null 2>&1 || true
docker run --name "$P-oneshot-migrate" --cap-add SYS_ADMIN -e DB_PASSWORD=demo-not-real \
  shipshape-test/base:1 sh -c 'sleep 1'
docker inspect "$P-oneshot-migrate" > /tmp/lab-gone.json
docker rm "$P-oneshot-migrate" >/dev/null
# Admin access: exec as root, with a tty, and a privileged exec (the sandbox
# here refuses to start it; the request itself is what gets audited).
docker exec "$P-postgres" sh -c 'cat /proc/1/environ > /dev/null' || true
docker exec -t "$P-ssh-jumpbox" sh -c 'id' >/dev/null || true
docker exec --privileged "$P-metrics-agent" sh -c 'mount' >/dev/null 2>&1 || true
docker exec -u 10001 "$P-cache" sh -c 'true' || true
# Drift: tooling dropped into /tmp, a persistence key and a cron job.
docker exec "$P-ci-runner" sh -c 'printf "#!/bin/sh\n" > /tmp/.kworker && chmod +x /tmp/.kworker &&
  mkdir -p /root/.ssh /etc/cron.d &&
  echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDemoKeyNotReal attacker" >> /root/.ssh/authorized_keys &&
  echo "* * * * * root /tmp/.kworker" > /etc/cron.d/kworker'
docker cp /etc/hostname "$P-ci-runner":/tmp/hostname.txt
sleep 1
UNTIL=$(date +%s)
export SINCE UNTIL

python3 - "${names[@]}" <<'PY'
import json, subprocess, sys, urllib.parse
import http.client, socket

class UnixHTTP(http.client.HTTPConnection):
    def __init__(self): super().__init__("localhost")
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); self.sock.connect("/var/run/docker.sock")

def raw(path):
    c = UnixHTTP(); c.request("GET", path); r = c.getresponse(); return json.loads(r.read())

# The API version shipshape speaks with this engine: the engine's own, up to
# bollard's default (1.53), as its negotiation does.
def _v(s): return tuple(int(x) for x in s.split("."))
API = "/v" + min(raw("/version")["ApiVersion"], "1.53", key=_v)

def get(path):
    c = UnixHTTP(); c.request("GET", API + path); r = c.getresponse(); body = r.read()
    if r.status != 200: raise SystemExit(f"GET {path}: {r.status} {body[:200]}")
    return json.loads(body)

names = sys.argv[1:]
containers = [get(f"/containers/{n}/json") for n in names]
top = {}
for c in containers:
    if c["State"]["Status"] == "running":
        q = urllib.parse.quote("-e -o user,pid -o comm=COMM -o args=ARGS")
        top[c["Id"]] = get(f"/containers/{c['Id']}/top?ps_args={q}")
# Events of the activity phase (the engine's own buffer), without our top calls.
def get_lines(path):
    c = UnixHTTP(); c.request("GET", API + path); r = c.getresponse(); body = r.read().decode()
    return [json.loads(l) for l in body.splitlines() if l.strip()]
import os
events = [e for e in get_lines(f"/events?since={os.environ['SINCE']}&until={os.environ['UNTIL']}")
          if e.get("Action") != "top"]
execs = {}
for e in events:
    x = e.get("Actor", {}).get("Attributes", {}).get("execID")
    if x and x not in execs:
        try: execs[x] = get(f"/exec/{x}/json")
        except SystemExit: pass
gone = json.load(open("/tmp/lab-gone.json"))
changes, modes = {}, {}
for c in containers:
    if c["State"]["Status"] != "running" or c["HostConfig"].get("ReadonlyRootfs"): continue
    ch = get(f"/containers/{c['Id']}/changes") or []
    changes[c["Id"]] = ch
    for item in ch:
        if item["Kind"] == 2: continue
        h = UnixHTTP(); h.request("HEAD", API + "/containers/%s/archive?path=%s" % (c["Id"], urllib.parse.quote(item["Path"])))
        r = h.getresponse(); r.read()
        st = r.getheader("X-Docker-Container-Path-Stat")
        if st:
            import base64
            modes.setdefault(c["Id"], {})[item["Path"]] = json.loads(base64.b64decode(st))["mode"]
image_ids = sorted({c["Image"] for c in containers} | {get(f"/images/{t}/json")["Id"] for t in ["shipshape-test/leaky:1", "lab/api:2.3"]})
images = [{"inspect": get(f"/images/{i}/json"), "history": get(f"/images/{i}/history")} for i in image_ids]
lab = {"info": get("/info"), "version": get("/version"), "bridge": get("/networks/bridge"),
       "containers": containers, "top": top, "images": images,
       "events": events, "execs": execs, "gone": gone, "changes": changes, "modes": modes}
json.dump(lab, open("assets/demo/lab.json", "w"), indent=1, sort_keys=True)
print(f"captured {len(containers)} containers, {len(images)} images, {len(events)} events, "
      f"{len(execs)} execs, {sum(map(len, changes.values()))} changed paths")
PY
