//! Prometheus metrics (`GET /metrics`): every name starts with `rally_`. The recorder is
//! global to the process (the `metrics` crate's design), installed once by [`install`] when the
//! HTTP server starts; until then every call here is a no-op, so the command line and tests that
//! never serve HTTP pay nothing.
//!
//! The names, in one place so the README and the tests can list them:

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::store::Store;

/// HTTP requests by `route` (the matched route pattern) and `status`.
pub const HTTP_REQUESTS: &str = "rally_http_requests_total";
/// HTTP request latency by `route`.
pub const HTTP_DURATION: &str = "rally_http_request_duration_seconds";
/// Chat messages received by `platform`.
pub const UPDATES_RECEIVED: &str = "rally_updates_received_total";
/// Chat commands by `command` and `outcome` (`ok`, `refused`, `error`, `unparsed`).
pub const COMMANDS: &str = "rally_commands_total";
/// Chat handler latency by `command`.
pub const HANDLER_DURATION: &str = "rally_handler_duration_seconds";
/// Outbox rows queued, sent and failed for good, by `platform`.
pub const OUTBOX_QUEUED: &str = "rally_outbox_queued_total";
pub const OUTBOX_SENT: &str = "rally_outbox_sent_total";
pub const OUTBOX_FAILED: &str = "rally_outbox_failed_total";
/// 429 answers from a platform, and the seconds waited because of them, by `platform`.
pub const OUTBOX_RATE_LIMITED: &str = "rally_outbox_rate_limited_total";
pub const OUTBOX_RATE_LIMIT_WAIT: &str = "rally_outbox_rate_limit_wait_seconds";
/// Scheduled job runs by `job` and `outcome`, and how late each started.
pub const JOB_RUNS: &str = "rally_job_runs_total";
pub const JOB_LAG: &str = "rally_job_lag_seconds";
/// Sales stored, by `source`, and sales approved (on arrival or by a manager), by `source`.
pub const SALES_REPORTED: &str = "rally_sales_reported_total";
pub const SALES_APPROVED: &str = "rally_sales_approved_total";
/// Database pool: open connections, idle ones and the maximum.
pub const DB_POOL_CONNECTIONS: &str = "rally_db_pool_connections";
pub const DB_POOL_IDLE: &str = "rally_db_pool_idle_connections";
pub const DB_POOL_MAX: &str = "rally_db_pool_max_connections";
/// Open TV page event streams.
pub const TV_STREAMS: &str = "rally_tv_streams";
/// Items per group commit (one transaction) by `path` (`chat`: `/report`s, `api`:
/// `POST /api/v1/sales`).
pub const GROUP_COMMIT_SIZE: &str = "rally_group_commit_size";

/// Every metric name, for the documentation test.
pub const ALL: &[&str] = &[
    HTTP_REQUESTS,
    HTTP_DURATION,
    UPDATES_RECEIVED,
    COMMANDS,
    HANDLER_DURATION,
    OUTBOX_QUEUED,
    OUTBOX_SENT,
    OUTBOX_FAILED,
    OUTBOX_RATE_LIMITED,
    OUTBOX_RATE_LIMIT_WAIT,
    JOB_RUNS,
    JOB_LAG,
    SALES_REPORTED,
    SALES_APPROVED,
    DB_POOL_CONNECTIONS,
    DB_POOL_IDLE,
    DB_POOL_MAX,
    TV_STREAMS,
    GROUP_COMMIT_SIZE,
];

/// Latency buckets, seconds: 1 ms to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Job lag buckets, seconds: 1 s to 1 h.
const LAG_BUCKETS: &[f64] = &[1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0];
/// Group size buckets: 1 to the most a group takes (`store::group::MAX_GROUP`).
const GROUP_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder on first call and returns its handle; later calls return
/// the same handle. `None` if another recorder was installed first (metrics are then not served).
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(JOB_LAG.into()), LAG_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(GROUP_COMMIT_SIZE.into()), GROUP_BUCKETS)
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                })
                .and_then(|b| b.install_recorder());
            match built {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .clone()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HTTP_REQUESTS, "HTTP requests by route and status");
    describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "HTTP request latency"
    );
    describe_counter!(UPDATES_RECEIVED, "Chat messages received by platform");
    describe_counter!(COMMANDS, "Chat commands by name and outcome");
    describe_histogram!(
        HANDLER_DURATION,
        metrics::Unit::Seconds,
        "Chat handler latency"
    );
    describe_counter!(OUTBOX_QUEUED, "Outbox messages queued");
    describe_counter!(OUTBOX_SENT, "Outbox messages delivered");
    describe_counter!(OUTBOX_FAILED, "Outbox messages given up on");
    describe_counter!(OUTBOX_RATE_LIMITED, "429 answers from a platform");
    describe_histogram!(
        OUTBOX_RATE_LIMIT_WAIT,
        metrics::Unit::Seconds,
        "Waits a 429 answer asked for"
    );
    describe_counter!(JOB_RUNS, "Scheduled job runs by job and outcome");
    describe_histogram!(
        JOB_LAG,
        metrics::Unit::Seconds,
        "How late a job run started"
    );
    describe_counter!(SALES_REPORTED, "Sales stored, by source");
    describe_counter!(SALES_APPROVED, "Sales approved, by source");
    describe_gauge!(DB_POOL_CONNECTIONS, "Open database connections");
    describe_gauge!(DB_POOL_IDLE, "Idle database connections");
    describe_gauge!(DB_POOL_MAX, "Most database connections the pool opens");
    describe_gauge!(TV_STREAMS, "Open TV page event streams");
    describe_histogram!(
        GROUP_COMMIT_SIZE,
        metrics::Unit::Count,
        "Items stored per group commit (one transaction)"
    );
}

/// The Prometheus text for `GET /metrics`, with the pool's gauges read now.
pub fn render(handle: &PrometheusHandle, store: &Store) -> String {
    let pool = store.pool();
    gauge!(DB_POOL_CONNECTIONS).set(f64::from(pool.size()));
    gauge!(DB_POOL_IDLE).set(pool.num_idle() as f64);
    gauge!(DB_POOL_MAX).set(f64::from(pool.options().get_max_connections()));
    handle.run_upkeep();
    handle.render()
}

pub fn http_request(route: &str, status: u16, took: Duration) {
    counter!(HTTP_REQUESTS, "route" => route.to_string(), "status" => status.to_string())
        .increment(1);
    histogram!(HTTP_DURATION, "route" => route.to_string()).record(took.as_secs_f64());
}

pub fn update_received(platform: &'static str) {
    counter!(UPDATES_RECEIVED, "platform" => platform).increment(1);
}

pub fn command(name: &'static str, outcome: &'static str, took: Duration) {
    counter!(COMMANDS, "command" => name, "outcome" => outcome).increment(1);
    histogram!(HANDLER_DURATION, "command" => name).record(took.as_secs_f64());
}

pub fn outbox_queued(platform: &str, rows: u64) {
    counter!(OUTBOX_QUEUED, "platform" => platform.to_string()).increment(rows);
}

pub fn outbox_sent(platform: &str) {
    counter!(OUTBOX_SENT, "platform" => platform.to_string()).increment(1);
}

pub fn outbox_failed(platform: &str) {
    counter!(OUTBOX_FAILED, "platform" => platform.to_string()).increment(1);
}

pub fn outbox_rate_limited(platform: &str, wait: Duration) {
    counter!(OUTBOX_RATE_LIMITED, "platform" => platform.to_string()).increment(1);
    histogram!(OUTBOX_RATE_LIMIT_WAIT, "platform" => platform.to_string())
        .record(wait.as_secs_f64());
}

pub fn job_run(job: &str, outcome: &'static str, lag: Duration) {
    counter!(JOB_RUNS, "job" => job.to_string(), "outcome" => outcome).increment(1);
    histogram!(JOB_LAG, "job" => job.to_string()).record(lag.as_secs_f64());
}

pub fn sale_reported(source: &'static str) {
    counter!(SALES_REPORTED, "source" => source).increment(1);
}

pub fn sale_approved(source: &'static str) {
    counter!(SALES_APPROVED, "source" => source).increment(1);
}

pub fn tv_streams(change: f64) {
    gauge!(TV_STREAMS).increment(change);
}

pub fn group_commit(path: &'static str, items: usize) {
    histogram!(GROUP_COMMIT_SIZE, "path" => path).record(items as f64);
}
