//! Test harness for Causeway's integration tests: free ports, temp dirs, real worker processes
//! ([`WorkerProcess`]), a small REST client ([`Rest`]) and [`wait_for`] with a deadline.
//!
//! Tests drive the real `causeway` binary over real HTTP, as a user would.
//!
//! [`kafka()`] and [`KafkaBroker`] run a real Apache Kafka broker (see [`mod@kafka`]).
#![warn(missing_docs)]

pub mod kafka;

pub use kafka::{
    KafkaBroker, KafkaCluster, ProduceRecord, ReadRecord, kafka, probe, spawn_tied_to_process,
    unique_name,
};

use std::collections::BTreeMap;
use std::future::Future;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use serde_json::{Value, json};

/// A TCP port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral port")
}

/// Polls `check` every 50–500 ms until it returns `Some`, or panics after `timeout` with `what`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(50);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(500));
    }
}

/// An HTTP response: status and JSON body (`Value::Null` when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Parsed body.
    pub body: Value,
    /// Raw body text.
    pub text: String,
    /// Response headers (lower-case names).
    pub headers: BTreeMap<String, String>,
}

/// A minimal REST client for one worker.
#[derive(Clone)]
pub struct Rest {
    base: String,
    client: reqwest::Client,
}

impl Rest {
    /// A client for `http://127.0.0.1:<port>`.
    pub fn new(port: u16) -> Self {
        Rest {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("http client"),
        }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends a request with an optional JSON body.
    pub async fn request(&self, method: &str, path: &str, body: Option<Value>) -> Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        self.send(req).await
    }

    /// Sends a request with a raw body and content type.
    pub async fn request_raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header("Content-Type", content_type)
            .body(body.to_owned());
        self.send(req).await
    }

    /// Sends a JSON body with extra request headers.
    pub async fn request_with_headers(
        &self,
        method: &str,
        path: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header("Content-Type", "application/json")
            .body(body.to_owned());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Response {
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response {
            status,
            body,
            text,
            headers,
        }
    }

    /// `GET`.
    pub async fn get(&self, path: &str) -> Response {
        self.request("GET", path, None).await
    }

    /// `PUT` with a JSON body.
    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.request("PUT", path, Some(body)).await
    }

    /// `POST` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.request("POST", path, Some(body)).await
    }

    /// `DELETE`.
    pub async fn delete(&self, path: &str) -> Response {
        self.request("DELETE", path, None).await
    }

    /// Waits until the connector and `tasks` tasks are all in `state`.
    pub async fn wait_connector_state(
        &self,
        name: &str,
        state: &str,
        tasks: usize,
        timeout: Duration,
    ) -> Value {
        let path = format!("/connectors/{name}/status");
        wait_for(
            &format!("{name} {state} with {tasks} task(s)"),
            timeout,
            || async {
                let r = self.get(&path).await;
                let ok = r.status == 200
                    && r.body["connector"]["state"] == state
                    && r.body["tasks"]
                        .as_array()
                        .is_some_and(|t| t.len() == tasks && t.iter().all(|t| t["state"] == state));
                ok.then_some(r.body)
            },
        )
        .await
    }
}

/// What to start a worker with.
#[derive(Debug, Clone, Default)]
pub struct WorkerSpec {
    /// Extra or overriding worker properties.
    pub props: Vec<(String, String)>,
    /// Connector config files passed on the command line.
    pub connector_files: Vec<PathBuf>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Runs `causeway distributed` instead of `causeway standalone` (connector files are not passed).
    pub distributed: bool,
}

/// A running `causeway standalone` or `causeway distributed` process with its own data directory.
pub struct WorkerProcess {
    child: Option<Child>,
    /// REST port.
    pub port: u16,
    /// Directory holding worker.properties, the embedded log, offsets and the worker log.
    pub dir: PathBuf,
    /// REST client.
    pub rest: Rest,
    /// Milliseconds from spawn until `GET /` answered.
    pub startup_ms: u128,
}

impl WorkerProcess {
    /// The worker properties used by default: JSON converters without schemas, fast offset commits.
    pub fn default_props(dir: &Path, port: u16) -> Vec<(String, String)> {
        [
            ("listeners", format!("http://127.0.0.1:{port}")),
            (
                "key.converter",
                "org.apache.kafka.connect.storage.StringConverter".into(),
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.storage.StringConverter".into(),
            ),
            (
                "offset.storage.file.filename",
                dir.join("connect.offsets").display().to_string(),
            ),
            ("offset.flush.interval.ms", "1000".into()),
            ("embedded.log.dir", dir.join("log").display().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Writes `worker.properties` into `dir` and starts the binary; waits until `GET /` answers.
    pub async fn start(bin: &Path, dir: &Path, spec: &WorkerSpec) -> WorkerProcess {
        Self::start_on_port(bin, dir, spec, free_port()).await
    }

    /// As [`WorkerProcess::start`] on a given port (to restart a worker where it was).
    pub async fn start_on_port(
        bin: &Path,
        dir: &Path,
        spec: &WorkerSpec,
        port: u16,
    ) -> WorkerProcess {
        std::fs::create_dir_all(dir).expect("worker dir");
        let mut props: BTreeMap<String, String> =
            Self::default_props(dir, port).into_iter().collect();
        if spec.distributed {
            // Offsets live in the offsets topic; Apache would also pass `offset.storage.*` keys on to that
            // topic's settings, which a broker rejects.
            props.remove("offset.storage.file.filename");
            props.remove("embedded.log.dir");
        }
        for (k, v) in &spec.props {
            props.insert(k.clone(), v.clone());
        }
        let text: String = props.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        let worker_file = dir.join("worker.properties");
        std::fs::write(&worker_file, text).expect("write worker.properties");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("worker.log"))
            .expect("worker log");
        let mut cmd = Command::new(bin);
        if spec.distributed {
            cmd.arg("distributed").arg(&worker_file);
        } else {
            cmd.arg("standalone")
                .arg(&worker_file)
                .args(&spec.connector_files);
        }
        cmd.current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log fd"))
            .stderr(log)
            .env("RUST_LOG", "info");
        for (k, v) in &spec.env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let child = cmd.spawn().expect("spawn causeway");
        let mut w = WorkerProcess {
            child: Some(child),
            port,
            dir: dir.to_path_buf(),
            rest: Rest::new(port),
            startup_ms: 0,
        };
        let rest = w.rest.clone();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(c) = w.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!("causeway exited early with {status}; log:\n{}", w.log());
            }
            let ok = reqwest::get(format!("{}/", rest.base()))
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                break;
            }
            if Instant::now() > deadline {
                panic!("worker did not answer GET / within 30 s; log:\n{}", w.log());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        w.startup_ms = started.elapsed().as_millis();
        w
    }

    /// The worker's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("worker.log")).unwrap_or_default()
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the process with SIGKILL and waits for it.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM and waits up to `timeout` for a clean exit; returns the exit code.
    pub fn terminate(&mut self, timeout: Duration) -> Option<i32> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = c.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Resident set size in kB, from `/proc/<pid>/status`.
    pub fn rss_kb(&self) -> Option<u64> {
        let pid = self.pid()?;
        let f = std::fs::File::open(format!("/proc/{pid}/status")).ok()?;
        std::io::BufReader::new(f)
            .lines()
            .map_while(Result::ok)
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
    }

    /// Open file descriptors of the process.
    pub fn open_fds(&self) -> Option<usize> {
        let pid = self.pid()?;
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .ok()
            .map(|d| d.count())
    }

    /// What each open file descriptor of the process refers to (`readlink /proc/<pid>/fd/*`: paths, or
    /// `socket:[…]`, `pipe:[…]`, `anon_inode:…`).
    pub fn fd_targets(&self) -> Option<Vec<PathBuf>> {
        let pid = self.pid()?;
        let dir = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        Some(
            dir.filter_map(Result::ok)
                .filter_map(|e| std::fs::read_link(e.path()).ok())
                .collect(),
        )
    }

    /// Threads of the process.
    pub fn threads(&self) -> Option<usize> {
        let pid = self.pid()?;
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .ok()
            .map(|d| d.count())
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A fresh temporary directory, removed on drop.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("causeway-test-")
        .tempdir()
        .expect("temp dir")
}

/// Writes `n` lines `line-<i>` padded to `width` characters to `path`.
pub fn write_lines(path: &Path, start: usize, n: usize, width: usize) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open input"),
    );
    for i in start..start + n {
        let mut line = format!("line-{i:08}-");
        while line.len() < width {
            line.push('x');
        }
        writeln!(f, "{line}").expect("write line");
    }
    f.flush().expect("flush");
}

/// Lines of a file (empty if it does not exist).
pub fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|s| s.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}
