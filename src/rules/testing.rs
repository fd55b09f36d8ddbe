//! Test helpers: a hardened container and a clean engine that no rule should
//! flag, so each rule test changes exactly one thing.

use chrono::{DateTime, TimeZone, Utc};

use super::{Check, Ctx, Hit, Rule};
use crate::model::policy::Policy;
use crate::model::*;

pub const IMAGE_ID: &str =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

/// A container every container rule should leave alone.
pub fn hardened() -> Container {
    Container {
        id: "c0ffee".repeat(10) + "abcd",
        name: "hardened".into(),
        image: IMAGE_ID.into(),
        image_id: IMAGE_ID.into(),
        state: ContainerState::Running,
        user: "10001:10001".into(),
        cap_drop: vec!["ALL".into()],
        network_mode: "appnet".into(),
        networks: vec!["appnet".into()],
        security_opt: vec!["no-new-privileges:true".into()],
        readonly_rootfs: true,
        apparmor_profile: "docker-default".into(),
        limits: Limits {
            memory_bytes: 64 << 20,
            nano_cpus: 500_000_000,
            cpu_quota: 0,
            cpu_shares: 0,
            pids: Some(64),
            memory_swap: 0,
        },
        restart: RestartPolicy {
            name: "on-failure".into(),
            max_retries: 3,
        },
        healthcheck: Some(Healthcheck {
            test: vec!["CMD".into(), "true".into()],
        }),
        processes: Some(vec![Process {
            user: "10001".into(),
            pid: "42".into(),
            comm: "app".into(),
            command: "/app/server".into(),
            cap_eff: None,
        }]),
        ..Container::default()
    }
}

/// A recent, tagged, non-root image with a healthcheck and clean history.
pub fn clean_image() -> Image {
    Image {
        id: IMAGE_ID.into(),
        tags: vec!["registry.example/app:1.0".into()],
        created: Some(now() - chrono::Duration::days(3)),
        user: "app".into(),
        healthcheck: Some(Healthcheck {
            test: vec!["CMD".into(), "true".into()],
        }),
        history: vec![
            HistoryEntry {
                created_by: "/bin/sh -c #(nop)  CMD [\"app\"]".into(),
                created: None,
                size: 0,
            },
            HistoryEntry {
                created_by: "COPY app /app # buildkit".into(),
                created: None,
                size: 10,
            },
            HistoryEntry {
                created_by: "/bin/sh -c #(nop) ADD file:abc in / ".into(),
                created: None,
                size: 100,
            },
        ],
        ..Image::default()
    }
}

/// An engine with every daemon-level protection turned on.
pub fn hardened_engine() -> EngineInfo {
    EngineInfo {
        found_by: "test".into(),
        endpoint: "unix:///run/user/1000/docker.sock".into(),
        version: "28.1.0".into(),
        api_version: "1.49".into(),
        security: SecurityOptions::parse(&[
            "name=apparmor",
            "name=seccomp,profile=builtin",
            "name=rootless",
            "name=userns",
            "name=no-new-privileges",
        ]),
        logging_driver: "syslog".into(),
        live_restore: true,
        swarm_state: "inactive".into(),
        authorization_plugins: vec!["opa-docker-authz".into()],
        insecure_registry_cidrs: vec!["127.0.0.0/8".into()],
        default_bridge: Some(BridgeNetwork {
            name: "bridge".into(),
            icc: Some(false),
        }),
        client_content_trust: true,
        docker_root_dir: "/var/lib/docker".into(),
        ..EngineInfo::default()
    }
}

pub fn inventory_with(containers: Vec<Container>, images: Vec<Image>) -> Inventory {
    Inventory {
        engine: hardened_engine(),
        containers,
        images,
        ..Inventory::default()
    }
}

/// Run one container rule on one container with a default policy.
pub fn run_container(rule: &Rule, c: &Container) -> Vec<Hit> {
    let inv = inventory_with(vec![c.clone()], vec![clean_image()]);
    run_container_in(rule, c, &inv, &Policy::default())
}

pub fn run_container_in(rule: &Rule, c: &Container, inv: &Inventory, policy: &Policy) -> Vec<Hit> {
    let index = crate::model::InventoryIndex::new(inv);
    let ctx = Ctx {
        inventory: inv,
        index: &index,
        policy,
        now: now(),
    };
    match rule.check {
        Check::Container(f) => f(&ctx, c),
        _ => panic!("{} is not a container rule", rule.id),
    }
}

pub fn run_image(rule: &Rule, img: &Image) -> Vec<Hit> {
    let inv = inventory_with(vec![hardened()], vec![img.clone()]);
    run_image_in(rule, img, &inv, &Policy::default())
}

pub fn run_image_in(rule: &Rule, img: &Image, inv: &Inventory, policy: &Policy) -> Vec<Hit> {
    let index = crate::model::InventoryIndex::new(inv);
    let ctx = Ctx {
        inventory: inv,
        index: &index,
        policy,
        now: now(),
    };
    match rule.check {
        Check::Image(f) => f(&ctx, img),
        _ => panic!("{} is not an image rule", rule.id),
    }
}

/// Run one engine rule on an inventory (rules that count its containers).
pub fn run_engine_in(rule: &Rule, inv: &Inventory) -> Vec<Hit> {
    let policy = Policy::default();
    let index = crate::model::InventoryIndex::new(inv);
    let ctx = Ctx {
        inventory: inv,
        index: &index,
        policy: &policy,
        now: now(),
    };
    match rule.check {
        Check::Engine(f) => f(&ctx, &inv.engine),
        _ => panic!("{} is not an engine rule", rule.id),
    }
}

pub fn run_engine(rule: &Rule, e: &EngineInfo) -> Vec<Hit> {
    let inv = Inventory {
        engine: e.clone(),
        ..Inventory::default()
    };
    let policy = Policy::default();
    let index = crate::model::InventoryIndex::new(&inv);
    let ctx = Ctx {
        inventory: &inv,
        index: &index,
        policy: &policy,
        now: now(),
    };
    match rule.check {
        Check::Engine(f) => f(&ctx, e),
        _ => panic!("{} is not an engine rule", rule.id),
    }
}

/// Every container rule is silent on the hardened container, every image
/// rule on the clean image, every engine rule on the hardened engine.
#[test]
fn baselines_are_clean() {
    let c = hardened();
    let img = clean_image();
    let e = hardened_engine();
    for rule in super::ALL {
        let hits = match rule.check {
            Check::Container(_) => run_container(rule, &c),
            Check::Image(_) => run_image(rule, &img),
            Check::Engine(_) => run_engine(rule, &e),
            Check::Policy | Check::Workload(_) => vec![],
        };
        assert!(
            hits.is_empty(),
            "{} fired on the clean baseline: {hits:?}",
            rule.id
        );
    }
}
