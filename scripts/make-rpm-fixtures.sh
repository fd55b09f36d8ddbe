#!/usr/bin/env bash
# Make the RPM database fixtures of tests/fixtures/rpm with rpm's own tools
# (Debian's `rpm` 4.18 and BerkeleyDB 5.3's `db_load`), and the list rpm
# itself reads from each — the oracle the parser is checked against:
#
#   rpmdb.sqlite      rpm --initdb (sqlite backend) + rpm -i --justdb of the
#                     packages built below
#   Packages          the same headers in a BerkeleyDB hash database, written
#                     by db_load and read back by rpm's own bdb_ro backend
#   expected.txt      rpm -qa --qf '%{NAME} %{EPOCH} %{VERSION} %{RELEASE}
#                     %{SOURCERPM}' of each, sorted (one list: both agree)
#
# Needs: apt-get install rpm db5.3-util. Run from anywhere; rewrites the
# fixtures. The packages: a source with a sub-package whose name differs
# (openssl → openssl-libs), epochs, a tilde and a caret version, a
# package built from another version of its source (python3.9 → python3-libs).
set -euo pipefail
out="$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/rpm"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/top/SPECS" "$out"

spec() { # name version release epoch license [subpackage]
  local sub=""
  [ -n "${6:-}" ] && sub="%package -n $6
Summary: sub
%description -n $6
sub
%files -n $6"
  cat > "$work/top/SPECS/$1.spec" <<SPEC
Name: $1
Version: $2
Release: $3
$( [ "$4" != 0 ] && echo "Epoch: $4" )
Summary: shipshape test package
License: $5
BuildArch: noarch
%description
test
%files
$sub
SPEC
  rpmbuild -bb --quiet --define "_topdir $work/top" "$work/top/SPECS/$1.spec" >/dev/null 2>&1
}
spec openssl 3.0.7 24.el9 1 "Apache-2.0" openssl-libs
spec sudo 1.9.5p2 9.el9 0 "ISC"
spec python3.9 3.9.18 1.el9_3 0 "Python-2.0" python3-libs
spec tzdata 2024a 1.el9 0 "Public Domain"
spec libcaret 1.0^20230101git 1.el9 0 "MIT"
spec libtilde 2.0~rc1 3.el9 2 "MIT"

db="$work/db"
mkdir -p "$db"
rpm --initdb --dbpath "$db"
rpm -i --justdb --nodeps --noscripts --ignorearch --dbpath "$db" "$work"/top/RPMS/noarch/*.rpm
# Fold the write-ahead log into the file, as rpm does when it closes cleanly.
rpm --rebuilddb --dbpath "$db" >/dev/null 2>&1 || true
q() { rpm -qa --dbpath "$1" "${@:2}" --qf '%{NAME} %{EPOCH} %{VERSION} %{RELEASE} %{SOURCERPM} %{LICENSE}\n' | sort; }
q "$db" > "$out/expected.txt"
cp "$db/rpmdb.sqlite" "$out/rpmdb.sqlite"

# The same headers, BerkeleyDB hash, keyed by package number as rpm does.
python3 - "$db/rpmdb.sqlite" "$work/dump.txt" <<'PY'
import sqlite3, sys, struct
con = sqlite3.connect(sys.argv[1])
with open(sys.argv[2], "w") as f:
    f.write("VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize=4096\nHEADER=END\n")
    for hnum, blob in con.execute("select hnum, blob from Packages order by hnum"):
        f.write(" " + struct.pack("<I", hnum).hex() + "\n")
        f.write(" " + blob.hex() + "\n")
    f.write("DATA=END\n")
PY
bdb="$work/bdb"
mkdir -p "$bdb"
db5.3_load -f "$work/dump.txt" "$bdb/Packages"
q "$bdb" --define '_db_backend bdb_ro' > "$work/bdb.txt" 2>/dev/null
diff -u "$out/expected.txt" "$work/bdb.txt" >&2 || { echo "rpm reads the BerkeleyDB copy differently" >&2; exit 1; }
cp "$bdb/Packages" "$out/Packages"
echo "wrote $out: $(wc -l < "$out/expected.txt") packages; rpm reads the BerkeleyDB copy the same" >&2
