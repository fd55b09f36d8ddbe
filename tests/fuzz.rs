//! A short fuzzing run of every target in `shipshape::fuzz`, in the normal
//! test suite (stable Rust, no extra tools). Inputs are structure-aware
//! mutations of real seeds — the engine JSON captured in `tests/fixtures`,
//! the golden report, a real audit log: a random subtree replaced by
//! arbitrary JSON (hostile strings, huge numbers, wrong types), keys copied
//! where they do not belong, then some raw byte flips. The long,
//! coverage-guided runs are `scripts/fuzz.sh` (libFuzzer, `fuzz/`).
//!
//! Every crash the fuzzers found is kept below as a regression test.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};
use shipshape::fuzz;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Seeds per target, from real engine output where we have it.
fn seeds(target: &str) -> Vec<Value> {
    match target {
        "container_inspect" => [
            "container-cap-hard.json",
            "container-cap-priv.json",
            "container-cap-run.json",
        ]
        .into_iter()
        .map(fixture)
        .collect(),
        "image_inspect" => vec![
            json!({ "image": fixture("image-leaky.json"), "history": fixture("history-leaky.json") }),
            json!({ "image": fixture("image-hardened.json") }),
        ],
        "engine_info" => {
            vec![json!({ "info": fixture("info.json"), "version": fixture("version.json") })]
        }
        "event" => vec![
            json!({"Type":"container","Action":"exec_create: sh -c id","Actor":{"ID":"4f1c0a9e8b7d","Attributes":{"execID":"9565f0c2ec4e","image":"shipshape-test/base:1","name":"web"}},"scope":"local","time":1764000000,"timeNano":1764000000123456789u64}),
            json!({"Type":"container","Action":"destroy","Actor":{"ID":"4f1c0a9e8b7d","Attributes":{"name":"web","exitCode":"137"}},"time":1764000001,"timeNano":1764000001000000000u64}),
            json!({"Type":"network","Action":"connect","Actor":{"ID":"abc","Attributes":{"container":"4f1c0a9e8b7d","name":"bridge"}},"time":1764000002}),
        ],
        "exec_inspect" => vec![
            json!({"ID":"9565f0c2ec4e","ContainerID":"4f1c0a9e8b7d","Running":false,"ExitCode":0,"ProcessConfig":{"entrypoint":"sh","arguments":["-c","DB_PASSWORD=x mysql -pSecret"],"privileged":true,"tty":true,"user":"root"}}),
        ],
        "changes" => vec![json!([
            ["/tmp", 0],
            ["/tmp/dropper", 1],
            ["/root/.ssh/authorized_keys", 1],
            ["/etc/passwd", 0],
            ["/usr/bin/x", 2]
        ])],
        "policy_toml" => vec![json!(
            "[images]\napproved = [\"docker.io/library/*\", \"ghcr.io/acme/*\"]\nmax_age_days = 90\n\n[severity]\n\"container.root-user\" = \"critical\"\n\n[[waiver]]\nrule = \"container.privileged\"\ntarget = \"legacy-*\"\nreason = \"SEC-1\"\nexpires = 2027-01-01\n"
        )],
        "report_json" => {
            let path = format!("{}/tests/golden/demo.json", env!("CARGO_MANIFEST_DIR"));
            vec![serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()]
        }
        "audit_log" => vec![json!(audit_seed())],
        "package_files" => [
            "debian12/os-release",
            "debian12/status",
            "alpine322/installed",
            "alpine322/repositories",
            "rocky9/os-release",
        ]
        .iter()
        .map(|f| {
            let p = format!("{}/tests/fixtures/packages/{f}", env!("CARGO_MANIFEST_DIR"));
            json!(std::fs::read_to_string(p).unwrap())
        })
        .chain(std::iter::once(json!(format!(
            "{}\n\n{}",
            std::fs::read_to_string(format!(
                "{}/tests/fixtures/packages/debian12/os-release",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap(),
            std::fs::read_to_string(format!(
                "{}/tests/fixtures/packages/debian12/status",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        ))))
        .collect(),
        "osv_record" => {
            let mut v: Vec<Value> = ["Debian", "Alpine"]
                .iter()
                .flat_map(|eco| {
                    let dir = format!("{}/tests/fixtures/osv/{eco}", env!("CARGO_MANIFEST_DIR"));
                    let mut files: Vec<_> = std::fs::read_dir(dir)
                        .unwrap()
                        .map(|e| e.unwrap().path())
                        .collect();
                    files.sort();
                    files.into_iter().take(6)
                })
                .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
                .collect();
            v.truncate(12);
            v
        }
        "versions" => vec![
            json!("3.0.11-1~deb12u2\n3.0.13-1~deb12u1"),
            json!("1:1.2.13.dfsg-1\n1.2.13.dfsg-2"),
            json!("1.37.0_rc1-r18\n1.37.0-r19"),
            json!("6.4_p20231125-r0\n6.4_p20240330-r0"),
        ],
        "seccomp_profile" => vec![
            json!({"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"]}],"syscalls":[{"names":["accept","read","write","clone"],"action":"SCMP_ACT_ALLOW"},{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"op":"SCMP_CMP_MASKED_EQ"}]}]}),
            json!({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}),
            json!({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["kexec_load","mount"],"action":"SCMP_ACT_ERRNO"},{"name":"bpf","action":"SCMP_ACT_KILL"}]}),
        ],
        "baked_secrets" => vec![
            json!("/app/.env\nDB_PASSWORD=hunter2hunter2\nexport API_TOKEN='s3cr3t-value'\n"),
            json!(
                "/root/.ssh/id_ed25519\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n"
            ),
            json!(
                "/root/.docker/config.json\n{\"auths\":{\"r.example\":{\"auth\":\"dXNlcjpwYXNz\"}}}"
            ),
            json!(
                "/root/.kube/config\napiVersion: v1\nkind: Config\nclusters:\n- name: c\nusers:\n- name: u\n  user:\n    token: abcdef0123456789\n"
            ),
            json!("/app/config.yml\ngithub:\n  token: ghp_abcdefghijklmnopqrstuvwxyz0123456789\n"),
        ],
        "app_packages" => vec![
            json!(
                "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nLicense: Apache 2.0\n\nbody"
            ),
            json!(r#"{"name":"@xmldom/xmldom","version":"0.8.3","license":"MIT"}"#),
            json!("node_modules/a/node_modules/@s/b/package.json\nName: x\nVersion: 1.0"),
        ],
        "redaction" => vec![
            json!("rotated ghp_0123456789abcdefghijABCDEFGHIJ012345 on monday"),
            json!(
                "sh -c 'mysql -uroot -pS3cret db && curl -u admin:pw https://x' --password\nhunter2"
            ),
            json!(
                "DB_URL=postgres://app:pw@db/app TOKEN=${TOKEN} {\"password\": \"x y\"} AKIAIOSFODNN7EXAMPLE"
            ),
            json!(
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY-----"
            ),
            json!(
                "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
            ),
        ],
        other => panic!("no seeds for {other}"),
    }
}

/// A real three-record log, as text.
fn audit_seed() -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.jsonl");
    let mut log = shipshape::audit::AuditLog::open(&p, 1 << 20).unwrap();
    log.append("session_start", json!({"mode":"watch"}))
        .unwrap();
    log.append("event", json!({"action":"create","name":"web"}))
        .unwrap();
    log.append("scan", json!({"findings":{"critical":1}}))
        .unwrap();
    drop(log);
    std::fs::read_to_string(p).unwrap()
}

/// Strings chosen by whoever built the container.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just("aaaaaaaaaaa€".to_string()),
        Just("\u{1b}]0;pwned\u{7}\u{1b}[2J".to_string()),
        Just("evil\u{202e}gpj.exe\u{2066}".to_string()),
        Just("=HYPERLINK(\"http://x\")".to_string()),
        Just("  @SUM(1)".to_string()),
        Just("<script>alert(1)</script>|`x`".to_string()),
        Just("sha256:".to_string()),
        Just("root".to_string()),
        Just("0".to_string()),
        Just("/var/run/docker.sock".to_string()),
        Just("seccomp=unconfined".to_string()),
        Just("name=apparmor,profile=unconfined".to_string()),
        "[a-zA-Z0-9:/._=-]{0,40}",
        "\\PC{0,200}",
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        prop_oneof![Just(u64::MAX), Just(0), Just(i64::MAX as u64)].prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        hostile_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(hostile_string(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every node's JSON pointer.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                let k = k.replace('~', "~0").replace('/', "~1");
                pointers(x, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

fn keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
        Value::Object(m) => {
            for (k, x) in m {
                out.push(k.clone());
                keys(x, out);
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the node at this (index into all pointers) with a value.
    Replace(usize, Value),
    /// Put a key seen elsewhere into the object at this pointer.
    Transplant(usize, usize, Value),
    /// Flip, insert or delete a raw byte.
    Byte(usize, u8, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), arb_json()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        2 => (any::<usize>(), any::<usize>(), arb_json()).prop_map(|(i, k, v)| Mutation::Transplant(i, k, v)),
        1 => (any::<usize>(), any::<u8>(), 0u8..3).prop_map(|(i, b, op)| Mutation::Byte(i, b, op)),
    ]
}

/// Apply the mutations to a seed; text seeds (policy, audit log) are
/// mutated as text.
fn mutate(seed: &Value, muts: &[Mutation]) -> Vec<u8> {
    let mut v = seed.clone();
    let mut bytes_ops = Vec::new();
    for m in muts {
        let mut ptrs = Vec::new();
        pointers(&v, String::new(), &mut ptrs);
        match m {
            Mutation::Replace(i, new) => {
                let p = &ptrs[i % ptrs.len()];
                if p.is_empty() {
                    if !v.is_string() {
                        v = new.clone();
                    }
                } else if let Some(slot) = v.pointer_mut(p) {
                    *slot = new.clone();
                }
            }
            Mutation::Transplant(i, k, new) => {
                let mut ks = Vec::new();
                keys(seed, &mut ks);
                let p = ptrs[i % ptrs.len()].clone();
                if let (false, Some(Value::Object(m))) = (ks.is_empty(), v.pointer_mut(&p)) {
                    m.insert(ks[k % ks.len()].clone(), new.clone());
                }
            }
            Mutation::Byte(i, b, op) => bytes_ops.push((*i, *b, *op)),
        }
    }
    let mut bytes = match &v {
        Value::String(s) => s.clone().into_bytes(),
        other => serde_json::to_vec(other).unwrap(),
    };
    for (i, b, op) in bytes_ops {
        let at = if bytes.is_empty() { 0 } else { i % bytes.len() };
        match op {
            0 if !bytes.is_empty() => bytes[at] = b,
            1 => bytes.insert(at, b),
            _ if !bytes.is_empty() => {
                bytes.remove(at);
            }
            _ => {}
        }
    }
    bytes
}

/// Seeds of the targets whose input is binary (databases, executables,
/// archives): mutated as bytes, not as JSON.
fn binary_seeds(target: &str) -> Option<Vec<Vec<u8>>> {
    let fixture = |name: &str| {
        std::fs::read(format!(
            "{}/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let tagged = |tag: u8, mut b: Vec<u8>| {
        b.insert(0, tag);
        b
    };
    Some(match target {
        "proc_files" => {
            let id = "4f1c0a9e8b7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170605a4b3";
            vec![
                format!("12:pids:/docker/{id}\n11:memory:/docker/{id}\n0::/\n").into_bytes(),
                format!("0::/system.slice/docker-{id}.scope/kubelet.slice/cri-containerd-{id}.scope\n").into_bytes(),
                format!("0::/machine.slice/libpod-{id}.scope/container\n").into_bytes(),
                b"42 (my (odd) name) S 7 42 42 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 123456 1 2 3".to_vec(),
                b"Name:\tsh\nUid:\t1000\t0\t0\t0\n".to_vec(),
                b"mysql\0--password\0hunter2\0".to_vec(),
            ]
        }
        // Raw text: byte flips, cuts and copied chunks of real compose files.
        "compose_file" => vec![
            Vec::from("name: shop\nx-base: &base\n  cap_add: [NET_ADMIN]\nservices:\n  api:\n    <<: *base\n    image: shop/api:${TAG:-1}\n    privileged: true\n    ports: [\"8080:80\", {target: 443, published: 8443}]\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n      - ./data:/data:ro\n    environment: [DB_PASSWORD=x]\n    deploy: {resources: {limits: {memory: 1g, cpus: \"0.5\"}}}\n  worker:\n    extends: api\n    network_mode: host\n    profiles: [jobs]\n".as_bytes()),
            Vec::from("services:\n  a:\n    image: x\n    read_only: true\n    security_opt: [\"seccomp=unconfined\"]\n---8<---\nservices:\n  a:\n    pid: host\n    mem_limit: 512m\n".as_bytes()),
            // Hostile names and values for harden's quoting (D2, D3).
            Vec::from("services:\n  \"app:\\n    privileged: true\\n  b\\e[2J\":\n    image: \"x\\e]0;t\\a\"\n    user: \"1000\\r\\u202e\"\n    command: [\"a'b\\n$(id)\", \"*x\"]\n    environment:\n      \"N\\n    privileged: true\": 1\n    tmpfs: [\"/c\\e[2K\\r  -v /:/h\"]\n".as_bytes()),
        ],
        // Raw text, the first byte picking the table: real lines of
        // /proc/PID/net/{tcp,tcp6,udp,udp6}.
        "proc_net_table" => vec![
            tagged(0, Vec::from("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:1B58 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0\n   1: 020013AC:D2B4 030013AC:1B58 01 00000000:00000000 00:00000000 00000000  1000        0 42 1 0000000000000000 20 4 30 10 -1\n   2: 020013AC:D2B5 010013AC:0016 01 00000000:00000000 00:00000000 00000000     0        0 43 1\n".as_bytes())),
            tagged(1, Vec::from("  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 1 0000000000000000 100 0 0 10 0\n   1: 0000000000000000FFFF0000030013AC:1F90 0000000000000000FFFF0000020013AC:A000 01 00000000:00000000 00:00000000 00000000     0        0 8 1\n".as_bytes())),
            tagged(2, Vec::from("   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n  123: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5 2 0000000000000000 0\n  124: 020013AC:9C40 0101A8C0:0035 01 00000000:00000000 00:00000000 00000000     0        0 6 2 0000000000000000 0\n".as_bytes())),
        ],
        // Raw bytes, the first picking the parser: a cosign .sig manifest,
        // a referrers index, a simple-signing payload, repository digests,
        // a bearer challenge and a token answer.
        "registry_answers" => {
            let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
            vec![
                tagged(0, format!(r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"{d}"}},"layers":[{{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":250,"digest":"{d}","annotations":{{"dev.cosignproject.cosign/signature":"MEUCIQ=="}}}}]}}"#).into_bytes()),
                tagged(0, format!(r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{d}","size":10,"artifactType":"application/vnd.dev.cosign.artifact.sig.v1+json"}}]}}"#).into_bytes()),
                tagged(1, fixture("integrity/payload.json")),
                tagged(2, format!("127.0.0.1:5000/integ-x/a@{d}").into_bytes()),
                tagged(2, format!("alpine@{d}").into_bytes()),
                tagged(3, Vec::from(r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#.as_bytes())),
                tagged(4, Vec::from(r#"{"token":"abc","access_token":"def"}"#.as_bytes())),
            ]
        }
        // PEM public keys of each algorithm (and their DER, after a cut).
        "public_key" => vec![
            fixture("integrity/a.pub"),
            fixture("integrity/e.pub"),
            fixture("integrity/r.pub"),
        ],
        // Raw bytes: the KEV catalogue and EPSS scores (gzip'd as served,
        // and as text, whose rows the mutations reach).
        "exploit_data" => vec![
            fixture("ecosystems/exploits/kev.json"),
            fixture("ecosystems/exploits/epss.csv.gz"),
            Vec::from(
                "#model_version:v2025.03.14,score_date:2026-12-06T00:00:00Z\ncve,epss,percentile\nCVE-2021-44228,0.94358,0.99961\nCVE-2024-0001,NaN,inf\nCVE-2024-0002,0.5,0.1\n"
                    .as_bytes(),
            ),
        ],
        // Raw bytes (a list may carry bytes that are not UTF-8): the
        // engine's own container and image lists.
        "engine_lists" => vec![
            fixture("containers-list.json"),
            fixture("images-list.json"),
        ],
        // The first byte picks the format: 0 SQLite, 1 NDB, 2 BerkeleyDB.
        "rpm_database" => {
            let ndb =
                shipshape::vulndb::rpmdb::ndb::write(&[shipshape::vulndb::rpmdb::header_blob(
                    "zypper",
                    "1.14.68",
                    "1.1",
                    "zypper-1.14.68-1.1.src.rpm",
                )]);
            vec![
                tagged(0, fixture("rpm/rpmdb.sqlite")),
                tagged(1, ndb),
                tagged(2, fixture("rpm/Packages")),
            ]
        }
        "binaries" => {
            use shipshape::vulndb::binaries::*;
            let go = synthetic_go_buildinfo(
                "go1.22.4",
                "path\texample.com/api\nmod\texample.com/api\t(devel)\t\ndep\tgolang.org/x/net\tv0.17.0\th1:x\n=>\tgolang.org/x/net\tv0.23.0\th1:y\n",
            );
            let dep = synthetic_dep_v0(
                r#"{"packages":[{"name":"svc","version":"0.1.0","source":"local","root":true},{"name":"time","version":"0.3.20","source":"crates.io","kind":"runtime","dependencies":[0]}]}"#,
            );
            vec![
                synthetic_elf(&[(".go.buildinfo", &go), (".dep-v0", &dep)]),
                synthetic_elf(&[(".data", &go)]),
            ]
        }
        "java_archive" => {
            use shipshape::vulndb::java::zip_of;
            let lib = zip_of(&[(
                "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
                b"groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n",
            )]);
            vec![zip_of(&[
                (
                    "META-INF/maven/com.example/app/pom.properties",
                    b"groupId=com.example\nartifactId=app\nversion=1.0\n",
                ),
                ("BOOT-INF/lib/log4j-core-2.14.1.jar", &lib),
            ])]
        }
        "image_export" => {
            // A legacy `docker save`: one layer tar with an os-release, a
            // dpkg database, an npm package and a whiteout.
            let tar_of = |entries: &[(&str, &[u8])]| {
                let mut b = tar::Builder::new(Vec::new());
                for (name, data) in entries {
                    let mut h = tar::Header::new_gnu();
                    h.set_size(data.len() as u64);
                    h.set_mode(0o644);
                    h.set_cksum();
                    b.append_data(&mut h, name, *data).unwrap();
                }
                b.into_inner().unwrap()
            };
            let layer = tar_of(&[
                ("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n"),
                (
                    "var/lib/dpkg/status",
                    b"Package: zlib1g\nStatus: install ok installed\nVersion: 1.2.13\n",
                ),
                (
                    "app/node_modules/a/package.json",
                    br#"{"name":"a","version":"1.0.0"}"#,
                ),
                ("app/.wh.gone", b""),
            ]);
            vec![tar_of(&[
                ("abc/layer.tar", &layer),
                ("manifest.json", br#"[{"Layers":["abc/layer.tar"]}]"#),
            ])]
        }
        _ => return None,
    })
}

fn run_bytes(f: fuzz::Target, seeds: Vec<Vec<u8>>, cases: u32) {
    for s in &seeds {
        f(s);
    }
    let n = seeds.len();
    let cfg = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    // Byte flips, inserts and deletes, a chunk copied over another place,
    // and a cut: what a damaged or hostile file looks like.
    let ops = prop::collection::vec((any::<usize>(), any::<u8>(), 0u8..5, any::<usize>()), 1..12);
    proptest!(cfg, |(pick in 0..n, ops in ops)| {
        let mut b = seeds[pick].clone();
        for (i, byte, op, j) in ops {
            if b.is_empty() { break; }
            let at = i % b.len();
            match op {
                0 => b[at] = byte,
                1 => b.insert(at, byte),
                2 => { b.remove(at); }
                3 => {
                    let from = j % b.len();
                    let len = (byte as usize * 16).min(b.len() - from).min(b.len() - at);
                    let chunk = b[from..from + len].to_vec();
                    b[at..at + len].copy_from_slice(&chunk);
                }
                _ => b.truncate(at.max(1)),
            }
        }
        f(&b);
    });
}

fn run(target: &str, cases: u32) {
    let f = fuzz::TARGETS
        .iter()
        .find(|(n, _)| *n == target)
        .map(|(_, f)| *f)
        .unwrap();
    if let Some(seeds) = binary_seeds(target) {
        return run_bytes(f, seeds, cases);
    }
    let seeds = seeds(target);
    // The seeds themselves, unmutated, must pass.
    for s in &seeds {
        f(&mutate(s, &[]));
    }
    let n = seeds.len();
    let cfg = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    proptest!(cfg, |(pick in 0..n, muts in prop::collection::vec(mutation(), 1..6))| {
        f(&mutate(&seeds[pick], &muts));
    });
}

#[test]
fn fuzz_container_inspect() {
    run("container_inspect", 200);
}

#[test]
fn fuzz_image_inspect() {
    run("image_inspect", 200);
}

#[test]
fn fuzz_engine_info() {
    run("engine_info", 200);
}

#[test]
fn fuzz_event() {
    run("event", 500);
}

#[test]
fn fuzz_exec_inspect() {
    run("exec_inspect", 500);
}

#[test]
fn fuzz_proc_files() {
    run("proc_files", 500);
}

#[test]
fn fuzz_changes() {
    run("changes", 500);
}

#[test]
fn fuzz_policy_toml() {
    run("policy_toml", 500);
}

#[test]
fn fuzz_exploit_data() {
    run("exploit_data", 500);
}

#[test]
fn fuzz_report_json() {
    run("report_json", 60);
}

#[test]
fn fuzz_audit_log() {
    run("audit_log", 200);
}

#[test]
fn fuzz_package_files() {
    run("package_files", 300);
}

#[test]
fn fuzz_osv_record() {
    run("osv_record", 300);
}

#[test]
fn fuzz_app_packages() {
    run("app_packages", 500);
}

#[test]
fn fuzz_rpm_database() {
    run("rpm_database", 200);
}

#[test]
fn fuzz_binaries() {
    run("binaries", 500);
}

#[test]
fn fuzz_java_archive() {
    run("java_archive", 300);
}

#[test]
fn fuzz_image_export() {
    run("image_export", 200);
}

#[test]
fn fuzz_compose_file() {
    run("compose_file", 400);
}

#[test]
fn fuzz_baked_secrets() {
    run("baked_secrets", 500);
}

#[test]
fn fuzz_engine_lists() {
    run("engine_lists", 2000);
}

#[test]
fn fuzz_registry_answers() {
    run("registry_answers", 1000);
}

#[test]
fn fuzz_public_key() {
    run("public_key", 1000);
}

#[test]
fn fuzz_redaction() {
    run("redaction", 1000);
}

#[test]
fn fuzz_versions() {
    run("versions", 1000);
}

#[test]
fn fuzz_proc_net_table() {
    run("proc_net_table", 300);
}

#[test]
fn fuzz_seccomp_profile() {
    run("seccomp_profile", 500);
}

/// Writes every target's seeds to `$SHIPSHAPE_FUZZ_SEEDS/<target>/` for
/// the coverage-guided runs (`scripts/fuzz.sh`).
#[test]
#[ignore = "run by scripts/fuzz.sh"]
fn write_seed_corpus() {
    let dir = std::path::PathBuf::from(
        std::env::var("SHIPSHAPE_FUZZ_SEEDS").expect("SHIPSHAPE_FUZZ_SEEDS"),
    );
    for (name, _) in fuzz::TARGETS {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        let all: Vec<Vec<u8>> = binary_seeds(name)
            .unwrap_or_else(|| seeds(name).iter().map(|s| mutate(s, &[])).collect());
        for (i, s) in all.iter().enumerate() {
            std::fs::write(d.join(format!("seed-{i}")), s).unwrap();
        }
    }
}

#[test]
fn every_target_is_run_here() {
    let here = include_str!("fuzz.rs");
    for (name, _) in fuzz::TARGETS {
        assert!(
            here.contains(&format!("run(\"{name}\"")),
            "fuzz target {name} has no short run in tests/fuzz.rs"
        );
    }
}

// --- regressions: every crash found, kept ---------------------------------

/// Issue 17 (1): a multi-byte character across byte 12 of an id.
#[test]
fn regression_non_ascii_container_id() {
    fuzz::container_inspect(br#"{"Id":"aaaaaaaaaaa\u20ac"}"#);
    fuzz::container_inspect(r#"{"Id":"aaaaaaaaaaa€","Image":"sha256:bbbbbbbbbbb€"}"#.as_bytes());
}

/// Issue 17 (1), through `--baseline`: an untagged image with such an id
/// and a finding.
#[test]
fn regression_baseline_with_non_ascii_image_id() {
    let path = format!("{}/tests/golden/demo.json", env!("CARGO_MANIFEST_DIR"));
    let mut r: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let img = r["images"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| !i["findings"].as_array().unwrap().is_empty())
        .unwrap();
    img["id"] = json!("sha256:aaaaaaaaaaa€");
    img["tags"] = json!([]);
    fuzz::report_json(&serde_json::to_vec(&r).unwrap());
}

/// Issue 17 (7): network counters that sum past u64::MAX.
#[test]
fn regression_event_and_stats_overflow() {
    fuzz::event(br#"{"Type":"container","Action":"die","timeNano":18446744073709551615,"time":9223372036854775807}"#);
}
