//! The two workers under test: writing the shared worker properties, spawning Apache Connect's
//! `ConnectStandalone` or `causeway standalone` on them, timing the first answered `GET /`, reading RSS
//! from `/proc`, and the REST calls the phases make.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Which implementation a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Impl {
    /// Apache Kafka Connect, `org.apache.kafka.connect.cli.ConnectStandalone` from Maven Central jars.
    Apache,
    /// `target/release/causeway standalone`.
    Causeway,
}

impl Impl {
    /// Short name for connector and topic names.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Impl::Apache => "apache",
            Impl::Causeway => "causeway",
        }
    }
}

/// Where the two implementations live.
#[derive(Debug, Clone)]
pub(crate) struct Binaries {
    /// `target/release/causeway`.
    pub(crate) causeway: PathBuf,
    /// Directory of Apache Connect's jars (`testing/connect/pom.xml`).
    pub(crate) connect_libs: PathBuf,
}

/// `kafka-run-class.sh`'s default `KAFKA_JVM_PERFORMANCE_OPTS`, which Apache's scripts give every Kafka JVM.
pub(crate) const KAFKA_JVM_PERFORMANCE_OPTS: &[&str] = &[
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15",
    "-Djava.awt.headless=true",
];

/// `connect-standalone.sh`'s heap (`KAFKA_HEAP_OPTS`), so the worker runs as the distribution starts it.
const CONNECT_HEAP_OPTS: &[&str] = &["-Xms256M", "-Xmx2G"];

/// A running worker, killed when dropped.
pub(crate) struct Worker {
    child: Child,
    /// Base URL of its REST listener, `http://127.0.0.1:<port>`.
    pub(crate) url: String,
    /// Milliseconds from spawn to the first `GET /` answered with 2xx.
    pub(crate) startup_ms: f64,
    http: reqwest::blocking::Client,
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound, then released for the worker to take).
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("local_addr: {e}"))
}

/// Writes the worker properties both implementations start with and returns the REST port.
fn write_worker_properties(dir: &Path, bootstrap: &str) -> Result<(PathBuf, u16), String> {
    let port = free_port()?;
    let props = format!(
        "bootstrap.servers={bootstrap}\n\
         listeners=http://127.0.0.1:{port}\n\
         key.converter=org.apache.kafka.connect.storage.StringConverter\n\
         value.converter=org.apache.kafka.connect.storage.StringConverter\n\
         offset.storage.file.filename={}\n\
         offset.flush.interval.ms=10000\n",
        dir.join("connect.offsets").display()
    );
    let path = dir.join("worker.properties");
    fs::write(&path, props).map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok((path, port))
}

/// A log4j2 configuration sending Apache Connect's INFO log to a file (Causeway logs INFO too).
fn write_log4j2(dir: &Path) -> Result<PathBuf, String> {
    let path = dir.join("log4j2.properties");
    let text = format!(
        "status = warn\n\
         appender.file.type = File\n\
         appender.file.name = file\n\
         appender.file.fileName = {}\n\
         appender.file.layout.type = PatternLayout\n\
         appender.file.layout.pattern = [%d] %p %m (%c)%n\n\
         rootLogger.level = info\n\
         rootLogger.appenderRef.file.ref = file\n",
        dir.join("worker.log").display()
    );
    fs::write(&path, text).map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok(path)
}

impl Worker {
    /// Starts `which` on fresh worker properties in `dir` and waits (up to 120 s) for `GET /`.
    pub(crate) fn start(
        which: Impl,
        bins: &Binaries,
        bootstrap: &str,
        dir: &Path,
    ) -> Result<Worker, String> {
        fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let (props, port) = write_worker_properties(dir, bootstrap)?;
        let stdout_log = fs::File::create(dir.join("stdout.log")).map_err(|e| e.to_string())?;
        let stderr_log = fs::File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
        let mut cmd = match which {
            Impl::Apache => {
                let log4j = write_log4j2(dir)?;
                let mut cmd = Command::new("java");
                cmd.args(CONNECT_HEAP_OPTS)
                    .args(KAFKA_JVM_PERFORMANCE_OPTS)
                    .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
                    .arg("-cp")
                    .arg(format!("{}/*", bins.connect_libs.display()))
                    .arg("org.apache.kafka.connect.cli.ConnectStandalone")
                    .arg(&props);
                cmd
            }
            Impl::Causeway => {
                let mut cmd = Command::new(&bins.causeway);
                cmd.arg("standalone").arg(&props).env("RUST_LOG", "info");
                cmd
            }
        };
        cmd.current_dir(dir)
            .stdin(Stdio::null())
            .stdout(stdout_log)
            .stderr(stderr_log);
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("http client: {e}"))?;
        let url = format!("http://127.0.0.1:{port}");
        let t0 = Instant::now();
        let child = causeway_testkit::kafka::spawn_tied_to_process(cmd)
            .map_err(|e| format!("spawn {which:?} worker: {e}"))?;
        let mut worker = Worker {
            child,
            url,
            startup_ms: 0.0,
            http,
        };
        let probe = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("http client: {e}"))?;
        loop {
            if let Ok(resp) = probe.get(format!("{}/", worker.url)).send()
                && resp.status().is_success()
            {
                break;
            }
            if let Ok(Some(status)) = worker.child.try_wait() {
                return Err(format!(
                    "{which:?} worker exited with {status} before answering GET / (logs in {})",
                    dir.display()
                ));
            }
            if t0.elapsed() > Duration::from_secs(120) {
                return Err(format!(
                    "{which:?} worker did not answer GET / within 120 s (logs in {})",
                    dir.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        worker.startup_ms = t0.elapsed().as_secs_f64() * 1000.0;
        Ok(worker)
    }

    /// The worker's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the worker process has exited.
    pub(crate) fn check_alive(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(format!("worker exited with {status}")),
            Ok(None) => Ok(()),
            Err(e) => Err(format!("wait on worker: {e}")),
        }
    }

    /// `PUT /connectors/{name}/config`.
    pub(crate) fn put_connector(&self, name: &str, config: &Value) -> Result<(), String> {
        let resp = self
            .http
            .put(format!("{}/connectors/{name}/config", self.url))
            .json(config)
            .send()
            .map_err(|e| format!("PUT connector {name}: {e}"))?;
        expect_success(resp, &format!("PUT connector {name}"))
    }

    /// `DELETE /connectors/{name}`.
    pub(crate) fn delete_connector(&self, name: &str) -> Result<(), String> {
        let resp = self
            .http
            .delete(format!("{}/connectors/{name}", self.url))
            .send()
            .map_err(|e| format!("DELETE connector {name}: {e}"))?;
        expect_success(resp, &format!("DELETE connector {name}"))
    }

    /// `GET <path>` as JSON.
    pub(crate) fn get_json(&self, path: &str) -> Result<Value, String> {
        let resp = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("GET {path}: {status}"));
        }
        resp.json().map_err(|e| format!("GET {path}: {e}"))
    }
}

/// `Ok` for a 2xx response, else an error naming `what`, the status and the body.
fn expect_success(resp: reqwest::blocking::Response, what: &str) -> Result<(), String> {
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let body = resp.text().unwrap_or_default();
    Err(format!("{what}: {status} {body}"))
}

/// A field of `/proc/<pid>/status` in MB (`VmRSS` now, `VmHWM` the peak since start).
pub(crate) fn proc_status_mb(pid: u32, field: &str) -> Result<f64, String> {
    let path = format!("/proc/{pid}/status");
    let text = fs::read_to_string(&path).map_err(|e| format!("read {path}: {e}"))?;
    let line = text
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .ok_or_else(|| format!("{path} has no {field}"))?;
    let kb: f64 = line[field.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .map_err(|e| format!("{path} {field}: {e}"))?;
    Ok(kb / 1024.0)
}
