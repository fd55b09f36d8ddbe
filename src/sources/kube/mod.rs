//! Kubernetes clusters, read through their API server with kube-rs: the
//! contexts of the kubeconfig, and the pods (with the ReplicaSets and Jobs
//! that say which workload owns them) and namespaces of one context.
//!
//! Read-only: shipshape only ever gets, lists and watches (the smallest
//! ClusterRole is in docs/kubernetes.md). A resource or namespace it may
//! not read becomes a note in the inventory, not a failure.

pub mod convert;
pub mod pss;
pub mod spec;

use std::time::Duration;

use futures_util::{Stream, StreamExt};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

pub use convert::{ClusterId, Lists};

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
    /// The client, logged in.
    pub client: kube::Client,
    /// The context it was made from.
    pub context: Context,
}

/// Build a client for a context. Nothing is sent yet.
pub async fn connect(
    kubeconfig: Option<&std::path::Path>,
    context: &str,
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
    let client = kube::Client::try_from(config).map_err(|e| classify(&ctx, &e))?;
    Ok(Cluster {
        client,
        context: ctx,
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
            detail,
        };
    }
    match e {
        kube::Error::Api(s) if s.code == 401 => KubeError::Login {
            context: ctx.name.clone(),
            detail: format!("the API server refused the credentials (401 {})", s.message),
        },
        kube::Error::Api(s) => KubeError::Api {
            context: ctx.name.clone(),
            detail: format!("{} ({} {})", s.message, s.code, s.reason),
        },
        other => KubeError::Unreachable {
            context: ctx.name.clone(),
            server: ctx.server.clone(),
            detail: chain(other),
        },
    }
}

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
        Err(_) => Err(kube::Error::Service(
            format!(
                "no answer from {} in {} s",
                ctx.server,
                REQUEST_TIMEOUT.as_secs()
            )
            .into(),
        )),
    }
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

    /// Every page of a list.
    async fn list_all<K>(&self, api: &Api<K>) -> Result<(Vec<K>, Option<String>), kube::Error>
    where
        K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    {
        let mut items = Vec::new();
        let mut lp = ListParams::default().limit(PAGE);
        loop {
            let page = timed(&self.context, api.list(&lp)).await?;
            items.extend(page.items);
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(c) => lp = lp.continue_token(&c),
                None => return Ok((items, page.metadata.resource_version)),
            }
        }
    }

    /// Every page of a metadata-only list (`PartialObjectMetadataList`):
    /// owners and labels without the objects' specs.
    async fn list_meta_all<K>(&self, api: &Api<K>) -> Result<Vec<ObjectMeta>, kube::Error>
    where
        K: Clone + serde::de::DeserializeOwned + std::fmt::Debug + kube::Resource,
    {
        let mut items = Vec::new();
        let mut lp = ListParams::default().limit(PAGE);
        loop {
            let page = timed(&self.context, api.list_metadata(&lp)).await?;
            items.extend(page.items.into_iter().map(|m| m.metadata));
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(c) => lp = lp.continue_token(&c),
                None => return Ok(items),
            }
        }
    }

    /// Read pods, owners and namespaces. A resource it may not list is a
    /// note; the pods of namespaces it may not list are notes too. Returns
    /// the pod list's resourceVersion when pods were listed cluster-wide
    /// (what a watch resumes from).
    pub async fn read(&self) -> Result<(Lists, Option<String>), KubeError> {
        let client = &self.client;
        let ctx = &self.context;
        let mut lists = Lists::default();
        let forbidden = |e: &kube::Error| status_code(e) == Some(403);
        let mut fatal = None;

        match self
            .list_meta_all(&Api::<Namespace>::all(client.clone()))
            .await
        {
            Ok(ns) => lists.namespaces = ns,
            Err(e) if forbidden(&e) => lists.notes.push(
                "may not list namespaces: Pod Security labels are not shown, and only the \
                 context's namespace is read if pods cannot be listed cluster-wide"
                    .into(),
            ),
            Err(e) => fatal = Some(e),
        }
        if let Some(e) = fatal {
            return Err(classify(ctx, &e));
        }

        let mut rv = None;
        match self.list_all(&Api::<Pod>::all(client.clone())).await {
            Ok((pods, v)) => {
                lists.pods = pods;
                rv = v;
            }
            Err(e) if forbidden(&e) => {
                // Namespace by namespace, as far as allowed.
                let names: Vec<String> = if lists.namespaces.is_empty() {
                    vec![ctx.namespace.clone().unwrap_or_else(|| "default".into())]
                } else {
                    lists
                        .namespaces
                        .iter()
                        .filter_map(|n| n.name.clone())
                        .collect()
                };
                let mut denied = Vec::new();
                for ns in names {
                    match self
                        .list_all(&Api::<Pod>::namespaced(client.clone(), &ns))
                        .await
                    {
                        Ok((pods, _)) => lists.pods.extend(pods),
                        Err(e) if forbidden(&e) => denied.push(ns),
                        Err(e) => return Err(classify(ctx, &e)),
                    }
                }
                lists.notes.push(
                    "may not list pods cluster-wide: read namespace by namespace, and polled \
                     instead of watched"
                        .into(),
                );
                if !denied.is_empty() {
                    lists.notes.push(format!(
                        "may not list pods in namespace{} {}: not shown",
                        if denied.len() == 1 { "" } else { "s" },
                        denied.join(", ")
                    ));
                }
            }
            Err(e) => return Err(classify(ctx, &e)),
        }

        match self
            .list_meta_all(&Api::<ReplicaSet>::all(client.clone()))
            .await
        {
            Ok(rs) => lists.replica_sets = rs,
            Err(e) if forbidden(&e) => {
                lists.no_replica_sets = true;
                lists.notes.push(
                    "may not list replicasets: Deployments are recognised by the pods' \
                     pod-template-hash label"
                        .into(),
                );
            }
            Err(e) => return Err(classify(ctx, &e)),
        }
        match self.list_meta_all(&Api::<Job>::all(client.clone())).await {
            Ok(jobs) => lists.jobs = jobs,
            Err(e) if forbidden(&e) => lists
                .notes
                .push("may not list jobs: pods of CronJobs are shown under their Job".into()),
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
