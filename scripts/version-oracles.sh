#!/usr/bin/env bash
# Regenerate tests/data/versions/oracle.tsv: pairs of versions compared by
# each ecosystem's own tool, the oracle the version-order tests check
# shipshape's comparators against (src/vulndb/version/).
#
#   rpm      rpm 4.18's rpm.vercmp (Debian's `rpm` package)
#   maven    maven-artifact's ComparableVersion (Debian's `maven`)
#   pep440   Python's `packaging` (pip install packaging)
#
# Deterministic: the random pairs come from a fixed seed. Run it where the
# three tools are installed; the test itself needs none of them.
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/data/versions/oracle.tsv
jar=$(ls /usr/share/maven/lib/maven-artifact-3*.jar | head -1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

python3 - "$tmp" <<'PY'
import random, sys
d = sys.argv[1]
rnd = random.Random(440)
hand = {
 "rpm": [("1.0","1.0"),("1.0","1.0.0"),("1.0~rc1","1.0"),("1.0^git1","1.0"),("1.0^git1","1.0.1"),
         ("1.0~rc1^git1","1.0~rc1"),("1:1.0","2.0"),("0:1.0","1.0"),("1.0-1","1.0-2"),("1.0-1.el9","1.0-1.el9_2"),
         ("2.5.1-3.el9_4","2.5.1-3.el9"),("1.a","1.1"),("1.001","1.1"),("1.0a","1.0.a"),("1_0","1.0"),
         ("3.0.7-27.el9","3.0.7-28.el9"),("1.2.3-4.fc39","1.2.3-4.fc40"),("10","9"),("abc","abd"),("1.0.","1.0"),
         ("~","~~"),("^","^^"),("1.0~","1.0"),("2.02-150.el8","1:2.02-150.el8"),("7.76.1-26.el9_3.2","7.76.1-26.el9_3.3")],
 "maven": [("1","1.0"),("1.0","1.0.0"),("1-SNAPSHOT","1"),("1-alpha","1-beta"),("1-a1","1-alpha-1"),("1-rc","1-cr"),
           ("1-ga","1"),("1-final","1"),("1-sp","1"),("1.0.0.RELEASE","1.0.0"),("1-foo","1-bar"),("1-foo","1"),
           ("1-1","1.1"),("1.1","1-1"),("1.0-alpha1","1.0-alpha-1"),("2.0.0.M1","2.0.0"),("1.2.3-jre","1.2.3-android"),
           ("31.1-jre","32.0.0-android"),("2.17.1","2.17.0"),("2.12.7.1","2.12.7"),("1.0.0.X1","1.0.0-X2"),
           ("1-milestone-1","1-rc-1"),("1.0-20231010.123456-1","1.0-SNAPSHOT"),("1.0.0-b2","1.0.0-beta-2"),("0.9","1-alpha")],
 "pep440": [("1.0","1.0.0"),("1.0a1","1.0"),("1.0.dev1","1.0a1"),("1.0.post1","1.0"),("1!1.0","2.0"),("1.0+local","1.0"),
            ("1.0rc1","1.0c1"),("1.0-1","1.0.post1"),("1.0.0.0","1.0"),("2.31.0","2.32.0"),("1.0a1.dev1","1.0a1"),
            ("1.0.post1.dev1","1.0.post1"),("1.0+abc.5","1.0+abc.10"),("v1.0","1.0"),("1.0_alpha_1","1.0a1"),
            ("0.9.9","0.10"),("24.0","23.3.2"),("1.0b2","1.0rc1"),("1.0.dev0","1.0.dev1"),("3.1.4","3.1.4.post0")],
}
def num(): return str(rnd.choice([0,0,1,1,2,3,9,10,11,99,100,2024]))
def rpm_v():
    parts=[num() for _ in range(rnd.randint(1,4))]
    v=".".join(parts)
    for _ in range(rnd.randint(0,2)):
        v+=rnd.choice(["~rc1","^git1","a","b2",".el9","_2",".fc39","~beta","^20240101"])
    if rnd.random()<0.5: v+="-"+num()+rnd.choice(["",".el9",".el9_3",".fc40",".1"])
    if rnd.random()<0.15: v=num()+":"+v
    return v
def maven_v():
    v=".".join(num() for _ in range(rnd.randint(1,4)))
    for _ in range(rnd.randint(0,2)):
        v+=rnd.choice(["-SNAPSHOT","-alpha","-alpha1","-beta-2","-rc1","-RC2","-M3","-ga","-final",".Final","-sp1","-jre","-android","-1","-foo","a1","b2",".RELEASE","-cr1",".0"])
    return v
def pep_v():
    v=".".join(num() for _ in range(rnd.randint(1,4)))
    if rnd.random()<0.1: v=num()+"!"+v
    if rnd.random()<0.3: v+=rnd.choice(["a","b","rc","c","alpha","beta","pre"])+num()
    if rnd.random()<0.2: v+=rnd.choice([".post",".post","-","_post"])+num()
    if rnd.random()<0.2: v+=".dev"+num()
    if rnd.random()<0.1: v+="+"+rnd.choice(["local","ubuntu1","abc.5","10"])
    return v
gen={"rpm":rpm_v,"maven":maven_v,"pep440":pep_v}
for k,g in gen.items():
    pairs=list(hand[k])+[(g(),g()) for _ in range(200)]
    # Close pairs: the same version and a near neighbour of it (what
    # decides a match), not just two unrelated versions.
    for _ in range(250):
        a=g(); b=g()
        cut=rnd.randint(0,len(a))
        pairs.append((a, a[:cut]+b[:rnd.randint(0,4)]+a[cut:]))
    with open(f"{d}/{k}.pairs","w") as f:
        for a,b in pairs: f.write(f"{a}\t{b}\n")
PY

{
  printf '# scheme\ta\tb\tverdict (<, = or >), as the ecosystem'"'"'s own tool says: scripts/version-oracles.sh\n'
  # rpm: one lua call for every pair.
  lua='%{lua: '
  while IFS=$'\t' read -r a b; do lua+="print(rpm.vercmp([[$a]],[[$b]]) .. \"\\n\") "; done < "$tmp/rpm.pairs"
  lua+='}'
  rpm --eval "$lua" | grep . | paste "$tmp/rpm.pairs" - | awk -F'\t' '{v=($3<0)?"<":($3>0)?">":"="; print "rpm\t"$1"\t"$2"\t"v}'
  # maven: ComparableVersion compares each argument with the next.
  while IFS=$'\t' read -r a b; do
    java -cp "$jar" org.apache.maven.artifact.versioning.ComparableVersion "$a" "$b" \
      | awk '/^   / {op=$2; if (op=="==") op="="; print "maven\t"$1"\t"$3"\t"op}'
  done < "$tmp/maven.pairs"
  # PEP 440: pairs where both are valid versions.
  python3 - "$tmp/pep440.pairs" <<'PY'
import sys
from packaging.version import Version, InvalidVersion
for line in open(sys.argv[1]):
    a, b = line.rstrip("\n").split("\t")
    try:
        x, y = Version(a), Version(b)
    except InvalidVersion:
        continue
    print(f"pep440\t{a}\t{b}\t{'<' if x < y else '>' if x > y else '='}")
PY
} > "$out"
echo "version-oracles: $(grep -vc '^#' "$out") pairs in $out"
