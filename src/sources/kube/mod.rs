//! Kubernetes clusters, read through their API server with kube-rs: the
//! contexts of the kubeconfig, and the pods (with the ReplicaSets and Jobs
//! that say which workload owns them) and namespaces of one context.
//!
//! Read-only: shipshape only ever gets, lists and watches (the smallest
//! ClusterRole is in docs/kubernetes.md). A resource or namespace it may
//! not read becomes a note in the inventory, not a failure.
//!
//! The API server is outside input: every answer, listing and read is
//! bounded ([`limits`]), and a list cut at a ceiling is kept as far as it
//! was read, with a note naming the ceiling.

pub mod convert;
pub mod limits;
pub mod pss;
pub mod spec;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ListMeta, ObjectMeta};
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

pub use convert::{ClusterId, Lists};
pub use limits::{Ceiling, LIMITS, Limits};

use crate::model::{Warning, WarningKind};

/// One request may take this long before the cluster counts as unreachable.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Pods are listed in pages of this many.
const PAGE: u32 = 500;

/// One context of the kubeconfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The context's name.
    pub name: String,
    /// The cluster it names.
    pub cluster: String,
    /// The cluster's API server.
    pub server: String,
    /// The user it names.
    pub user: String,
    /// The context's default namespace.
    pub namespace: Option<String>,
    /// kubeconfig's `current-context`.
    pub current: bool,
}

/// What went wrong reaching a cluster, for people.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// The kubeconfig could not be read.
    #[error("kubeconfig: {0}")]
    Config(String),
    /// No context of that name.
    #[error("no context named '{0}' in the kubeconfig (`shipshape contexts` lists them)")]
    NoSuchContext(String),
    #[error(
        "context '{context}' needs a login shipshape cannot do: {detail}. Log in with your \
         cluster's own tool (kubectl, `aws sso login`, `gcloud auth login`, kubelogin…), then retry"
    )]
    /// Logging in failed.
    Login {
        /// The context.
        context: String,
        /// What failed.
        detail: String,
    },
    /// The API server did not answer.
    #[error("cannot reach the API server of '{context}' ({server}): {detail}")]
    Unreachable {
        /// The context.
        context: String,
        /// The server's address.
        server: String,
        /// What failed.
        detail: String,
    },
    /// An answer could not be used: over a ceiling, or not what
    /// Kubernetes sends.
    #[error("'{context}': {detail}")]
    Unreadable {
        /// The context.
        context: String,
        /// What was wrong with it.
        detail: String,
    },
    #[error("'{context}': {detail}")]
    /// The API server answered with an error.
    Api {
        /// The context.
        context: String,
        /// What it said.
        detail: String,
    },
}

/// Read the kubeconfig: `path` (`--kubeconfig`), else `KUBECONFIG` (every
/// file it lists, merged), else `~/.kube/config`. `None`: there is none.
pub fn read_kubeconfig(path: Option<&std::path::Path>) -> Result<Option<Kubeconfig>, KubeError> {
    if let Some(p) = path {
        return Kubeconfig::read_from(p)
            .map(Some)
            .map_err(|e| KubeError::Config(format!("{}: {e}", p.display())));
    }
    let has_env = std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty());
    let default = directories::BaseDirs::new().map(|d| d.home_dir().join(".kube/config"));
    if !has_env && !default.as_ref().is_some_and(|p| p.exists()) {
        return Ok(None);
    }
    Kubeconfig::read()
        .map(Some)
        .map_err(|e| KubeError::Config(e.to_string()))
}

/// Every context of the kubeconfig. No kubeconfig at all is an empty list,
/// not an error.
pub fn contexts(path: Option<&std::path::Path>) -> Result<Vec<Context>, KubeError> {
    Ok(read_kubeconfig(path)?
        .map(|kc| contexts_of(&kc))
        .unwrap_or_default())
}

/// The contexts of a kubeconfig.
pub fn contexts_of(kc: &Kubeconfig) -> Vec<Context> {
    kc.contexts
        .iter()
        .map(|nc| {
            let ctx = nc.context.as_ref();
            let cluster = ctx.map(|c| c.cluster.clone()).unwrap_or_default();
            let server = kc
                .clusters
                .iter()
                .find(|c| c.name == cluster)
                .and_then(|c| c.cluster.as_ref())
                .and_then(|c| c.server.clone())
                .unwrap_or_default();
            Context {
                name: nc.name.clone(),
                cluster,
                server,
                user: ctx.and_then(|c| c.user.clone()).unwrap_or_default(),
                namespace: ctx.and_then(|c| c.namespace.clone()),
                current: kc.current_context.as_deref() == Some(nc.name.as_str()),
            }
        })
        .collect()
}

/// A connection to one context's API server.
#[derive(Clone)]
pub struct Cluster {
    /// The client, logged in, each answer bounded to
    /// `limits.answer_bytes`.
    pub client: kube::Client,
    /// The context it was made from.
    pub context: Context,
    /// The ceilings of its reads ([`LIMITS`]; tests lower them).
    limits: Limits,
    /// Bytes received from the API server so far (every answer).
    received: Arc<AtomicU64>,
}

/// Build a client for a context, with shipshape's ceilings ([`LIMITS`]).
/// Nothing is sent yet.
pub async fn connect(
    kubeconfig: Option<&std::path::Path>,
    context: &str,
) -> Result<Cluster, KubeError> {
    connect_with(kubeconfig, context, LIMITS).await
}

/// [`connect`] with other ceilings (tests lower them).
pub async fn connect_with(
    kubeconfig: Option<&std::path::Path>,
    context: &str,
    limits: Limits,
) -> Result<Cluster, KubeError> {
    let kc = read_kubeconfig(kubeconfig)?
        .ok_or_else(|| KubeError::Config("no kubeconfig (KUBECONFIG, ~/.kube/config)".into()))?;
    let ctx = contexts_of(&kc)
        .into_iter()
        .find(|c| c.name == context)
        .ok_or_else(|| KubeError::NoSuchContext(context.to_string()))?;
    let options = KubeConfigOptions {
        context: Some(context.to_string()),
        ..KubeConfigOptions::default()
    };
    let mut config = kube::Config::from_custom_kubeconfig(kc, &options)
        .await
        .map_err(|e| KubeError::Config(format!("context '{context}': {e}")))?;
    config.read_timeout = Some(REQUEST_TIMEOUT);
    let received = Arc::new(AtomicU64::new(0));
    // kube's own stack (auth, base URI, tracing) with every answer's
    // bytes bounded beneath it.
    let client = kube::client::ClientBuilder::try_from(config)
        .map_err(|e| classify(&ctx, &e))?
        .with_layer(&limits::CapLayer::new(
            limits.answer_bytes,
            received.clone(),
        ))
        .build();
    Ok(Cluster {
        client,
        context: ctx,
        limits,
        received,
    })
}

/// The first auth error in an error's chain.
fn auth_error(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(a) = err.downcast_ref::<kube::client::AuthError>() {
            return Some(a.to_string());
        }
        cur = err.source();
    }
    None
}

/// The HTTP status of an API error, if it is one.
pub fn status_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

fn classify(ctx: &Context, e: &kube::Error) -> KubeError {
    if let Some(detail) = auth_error(e) {
        return KubeError::Login {
            context: ctx.name.clone(),
            detail: said(&detail),
        };
    }
    if let Some(t) = limits::too_large(e) {
        return KubeError::Unreadable {
            context: ctx.name.clone(),
            detail: t.to_string(),
        };
    }
    // What the server wrote (a Status message, or the whole body of an
    // error page it sent instead) is shown bounded and escaped.
    match e {
        kube::Error::Api(s) if s.code == 401 => KubeError::Login {
            context: ctx.name.clone(),
            detail: format!(
                "the API server refused the credentials (401 {})",
                said(&s.message)
            ),
        },
        kube::Error::Api(s) => KubeError::Api {
            context: ctx.name.clone(),
            detail: format!("{} ({} {})", said(&s.message), s.code, said(&s.reason)),
        },
        kube::Error::SerdeError(_) | kube::Error::FromUtf8(_) => KubeError::Unreadable {
            context: ctx.name.clone(),
            detail: format!(
                "the API server's answer is not what Kubernetes sends: {}",
                said(&chain(e))
            ),
        },
        other => KubeError::Unreachable {
            context: ctx.name.clone(),
            server: ctx.server.clone(),
            detail: said(&chain(other)),
        },
    }
}

/// What a server wrote, for one line of an error: control and bidi
/// characters escaped, at most [`SAID_BYTES`] of it.
fn said(text: &str) -> String {
    let text = text.trim();
    let shown = if text.len() > SAID_BYTES {
        let mut cut = SAID_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!(
            "{}… [{} more bytes not shown]",
            &text[..cut],
            text.len() - cut
        )
    } else {
        text.to_string()
    };
    crate::model::visible(&shown).into_owned()
}

/// How much of a server's own error text is shown.
const SAID_BYTES: usize = 1024;

/// An error and its causes on one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

async fn timed<T>(
    ctx: &Context,
    f: impl std::future::Future<Output = Result<T, kube::Error>>,
) -> Result<T, kube::Error> {
    match tokio::time::timeout(REQUEST_TIMEOUT, f).await {
        Ok(r) => r,
        Err(_) => Err(no_answer(ctx)),
    }
}

fn no_answer(ctx: &Context) -> kube::Error {
    kube::Error::Service(
        format!(
            "no answer from {} in {} s",
            ctx.server,
            REQUEST_TIMEOUT.as_secs()
        )
        .into(),
    )
}

/// One resource's listing: what was read, and the ceiling that cut it.
struct Listing<T> {
    items: Vec<T>,
    resource_version: Option<String>,
    cut: Option<Ceiling>,
}

/// What one resource's listing may spend: the time of the whole read
/// (shared by every list), and bytes counted from `since`.
#[derive(Clone, Copy)]
struct Budget {
    deadline: tokio::time::Instant,
    /// [`Cluster::received`] when the resource's listing began.
    since: u64,
}

/// What the cluster did not let shipshape see (a forbidden resource).
fn note(text: impl Into<String>) -> Warning {
    Warning::new(WarningKind::Cluster, text)
}

/// The objects of a listing, with a note when it was cut.
fn kept<T>(listing: Listing<T>, what: &str, notes: &mut Vec<Warning>) -> Vec<T> {
    if let Some(c) = &listing.cut {
        notes.push(limits::cut_note(what, listing.items.len(), c));
    }
    listing.items
}

impl Cluster {
    /// Who answers: version and platform. Fails when nobody does, or the
    /// credentials are refused.
    pub async fn identify(&self) -> Result<ClusterId, KubeError> {
        let v = timed(&self.context, self.client.apiserver_version())
            .await
            .map_err(|e| classify(&self.context, &e))?;
        Ok(ClusterId {
            context: self.context.name.clone(),
            server: self.context.server.clone(),
            version: v.git_version,
            platform: v.platform,
        })
    }

    /// Every page of a list, within the ceilings: `limits.pages` pages,
    /// `max_items` objects, `limits.list_bytes` of answers, the read's
    /// deadline; a `continue` token given twice or over
    /// `limits.token_bytes` ends it too. What was read before a ceiling
    /// is kept, and the ceiling named. `fetch` asks for one page.
    async fn pages<T, F, Fut>(
        &self,
        budget: Budget,
        max_items: usize,
        mut fetch: F,
    ) -> Result<Listing<T>, kube::Error>
    where
        F: FnMut(ListParams) -> Fut,
        Fut: std::future::Future<Output = Result<(Vec<T>, ListMeta), kube::Error>>,
    {
        let l = &self.limits;
        let mut out = Listing {
            items: Vec::new(),
            resource_version: None,
            cut: None,
        };
        let mut lp = ListParams::default().limit(PAGE);
        let mut tokens = HashSet::new();
        let mut pages = 0;
        let cut = loop {
            if pages >= l.pages {
                break Ceiling::Pages(l.pages);
            }
            let now = tokio::time::Instant::now();
            let until = budget.deadline.min(now + REQUEST_TIMEOUT);
            let page = match tokio::time::timeout_at(until, fetch(lp.clone())).await {
                Ok(Ok(page)) => page,
                Ok(Err(e)) => match limits::too_large(&e) {
                    Some(t) => break Ceiling::Answer(t.0),
                    None => return Err(e),
                },
                Err(_) if until == budget.deadline => break Ceiling::Time(l.read_time),
                Err(_) => return Err(no_answer(&self.context)),
            };
            pages += 1;
            let (items, meta) = page;
            let room = max_items.saturating_sub(out.items.len());
            let over = items.len() > room;
            out.items.extend(items.into_iter().take(room));
            out.resource_version = meta.resource_version;
            if over {
                break Ceiling::Items(max_items);
            }
            let bytes = self
                .received
                .load(Ordering::Relaxed)
                .saturating_sub(budget.since);
            let Some(token) = meta.continue_.filter(|c| !c.is_empty()) else {
                return Ok(out);
            };
            if bytes > l.list_bytes {
                break Ceiling::Bytes(l.list_bytes);
            }
            if token.len() > l.token_bytes {
                break Ceiling::LongToken(l.token_bytes);
            }
            if !tokens.insert(token.clone()) {
                break Ceiling::RepeatedToken;
            }
            lp = lp.continue_token(&token);
        };
        out.cut = Some(cut);
        Ok(out)
    }

    /// Every page of a list of whole objects, without their
    /// `managedFields` (often the larger half of a real pod, and never
    /// used).
    async fn list_all<K>(
        &self,
        api: &Api<K>,
        budget: Budget,
        max_items: usize,
    ) -> Result<Listing<K>, kube::Error>
    where
        K: Clone + serde::de::DeserializeOwned + std::fmt::Debug + kube::Resource,
    {
        self.pages(budget, max_items, |lp| async move {
            api.list(&lp).await.map(|l| {
                let mut items = l.items;
                for item in &mut items {
                    item.meta_mut().managed_fields = None;
                }
                (items, l.metadata)
            })
        })
        .await
    }

    /// Every page of a metadata-only list (`PartialObjectMetadataList`):
    /// owners and labels without the objects' specs.
    async fn list_meta_all<K>(
        &self,
        api: &Api<K>,
        budget: Budget,
    ) -> Result<Listing<ObjectMeta>, kube::Error>
    where
        K: Clone + serde::de::DeserializeOwned + std::fmt::Debug + kube::Resource,
    {
        self.pages(budget, self.limits.items, |lp| async move {
            api.list_metadata(&lp).await.map(|l| {
                (
                    l.items.into_iter().map(|m| m.metadata).collect(),
                    l.metadata,
                )
            })
        })
        .await
    }

    /// What one resource's listing may spend, starting now.
    fn budget(&self, deadline: tokio::time::Instant) -> Budget {
        Budget {
            deadline,
            since: self.received.load(Ordering::Relaxed),
        }
    }

    /// The ceilings of this cluster's reads.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Read pods, owners and namespaces, within [`Limits`]. A resource it
    /// may not list is a note; the pods of namespaces it may not list are
    /// notes too, and so is each list cut at a ceiling. Returns the pod
    /// list's resourceVersion when every pod was listed cluster-wide (what
    /// a watch resumes from; a cut list is polled, not watched). No pod
    /// read at all because of a ceiling is an error, not an empty cluster.
    pub async fn read(&self) -> Result<(Lists, Option<String>), KubeError> {
        let client = &self.client;
        let ctx = &self.context;
        let mut lists = Lists::default();
        let forbidden = |e: &kube::Error| status_code(e) == Some(403);
        let deadline = tokio::time::Instant::now() + self.limits.read_time;

        match self
            .list_meta_all(
                &Api::<Namespace>::all(client.clone()),
                self.budget(deadline),
            )
            .await
        {
            Ok(ns) => lists.namespaces = kept(ns, "namespaces", &mut lists.notes),
            Err(e) if forbidden(&e) => lists.notes.push(note(
                "may not list namespaces: Pod Security labels are not shown, and only the \
                 context's namespace is read if pods cannot be listed cluster-wide",
            )),
            Err(e) => return Err(classify(ctx, &e)),
        }

        let mut rv = None;
        let mut cut = None;
        let all = Api::<Pod>::all(client.clone());
        match self
            .list_all(&all, self.budget(deadline), self.limits.items)
            .await
        {
            Ok(listing) => {
                lists.pods = listing.items;
                rv = listing.resource_version;
                cut = listing.cut;
            }
            Err(e) if forbidden(&e) => {
                // Namespace by namespace, as far as allowed, within one
                // budget for them all.
                let names: Vec<String> = if lists.namespaces.is_empty() {
                    vec![ctx.namespace.clone().unwrap_or_else(|| "default".into())]
                } else {
                    lists
                        .namespaces
                        .iter()
                        .filter_map(|n| n.name.clone())
                        .collect()
                };
                let budget = self.budget(deadline);
                let mut denied = Vec::new();
                for ns in names {
                    let room = self.limits.items.saturating_sub(lists.pods.len());
                    let api = Api::<Pod>::namespaced(client.clone(), &ns);
                    match self.list_all(&api, budget, room).await {
                        Ok(listing) => {
                            lists.pods.extend(listing.items);
                            cut = listing.cut.map(|c| match c {
                                Ceiling::Items(_) => Ceiling::Items(self.limits.items),
                                c => c,
                            });
                            if cut.is_some() {
                                break;
                            }
                        }
                        Err(e) if forbidden(&e) => denied.push(ns),
                        Err(e) => return Err(classify(ctx, &e)),
                    }
                }
                lists.notes.push(note(
                    "may not list pods cluster-wide: read namespace by namespace, and polled \
                     instead of watched",
                ));
                if !denied.is_empty() {
                    lists.notes.push(note(format!(
                        "may not list pods in namespace{} {}: not shown",
                        if denied.len() == 1 { "" } else { "s" },
                        denied.join(", ")
                    )));
                }
            }
            Err(e) => return Err(classify(ctx, &e)),
        }
        if let Some(c) = cut {
            if lists.pods.is_empty() {
                return Err(KubeError::Unreadable {
                    context: ctx.name.clone(),
                    detail: format!("no pod could be read: the list was cut {c}"),
                });
            }
            lists
                .notes
                .push(limits::cut_note("pods", lists.pods.len(), &c));
            rv = None;
        }

        match self
            .list_meta_all(
                &Api::<ReplicaSet>::all(client.clone()),
                self.budget(deadline),
            )
            .await
        {
            Ok(rs) => lists.replica_sets = kept(rs, "replicasets", &mut lists.notes),
            Err(e) if forbidden(&e) => {
                lists.no_replica_sets = true;
                lists.notes.push(note(
                    "may not list replicasets: Deployments are recognised by the pods' \
                     pod-template-hash label",
                ));
            }
            Err(e) => return Err(classify(ctx, &e)),
        }
        match self
            .list_meta_all(&Api::<Job>::all(client.clone()), self.budget(deadline))
            .await
        {
            Ok(jobs) => lists.jobs = kept(jobs, "jobs", &mut lists.notes),
            Err(e) if forbidden(&e) => lists.notes.push(note(
                "may not list jobs: pods of CronJobs are shown under their Job",
            )),
            Err(e) => return Err(classify(ctx, &e)),
        }
        Ok((lists, rv))
    }

    /// Pod changes from `resource_version` on, until the server ends the
    /// watch (it does every few minutes) or the connection drops.
    pub async fn watch_pods(
        &self,
        resource_version: &str,
    ) -> Result<impl Stream<Item = Result<WatchEvent<Pod>, kube::Error>> + use<>, KubeError> {
        let api = Api::<Pod>::all(self.client.clone());
        let wp = WatchParams::default().timeout(290);
        let stream = timed(&self.context, api.watch(&wp, resource_version))
            .await
            .map_err(|e| classify(&self.context, &e))?;
        Ok(stream.boxed())
    }

    /// What a client error means, for a person.
    pub fn describe_error(&self, e: &kube::Error) -> KubeError {
        classify(&self.context, e)
    }
}

/// One read of a context, assessed nowhere: for `scan --kube-context`.
pub async fn scan(
    kubeconfig: Option<&std::path::Path>,
    context: &str,
) -> Result<crate::model::Inventory, KubeError> {
    let cluster = connect(kubeconfig, context).await?;
    let id = cluster.identify().await?;
    let (lists, _) = cluster.read().await?;
    Ok(convert::inventory(&id, &lists, chrono::Utc::now()))
}
