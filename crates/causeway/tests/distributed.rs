//! Three `causeway distributed` workers on the real broker form one cluster: any worker answers and
//! forwards, connectors and tasks spread over the workers, a killed worker's tasks move to the survivors
//! without losing records, a rolling restart keeps everything running, a new leader takes over, and a worker
//! of another group sees nothing of this one.
mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::*;

/// `scheduled.rebalance.max.delay.ms` of these tests: how long the group waits for a departed worker.
const REBALANCE_DELAY_MS: u64 = 4000;
/// `session.timeout.ms`: how long until the coordinator evicts a dead worker.
const SESSION_TIMEOUT_MS: u64 = 6000;

/// One cluster's settings: group and internal topics unique to the test.
struct ClusterSpec {
    group: String,
    props: Vec<(String, String)>,
}

impl ClusterSpec {
    async fn new(name: &str) -> ClusterSpec {
        let backend = Backend::Kafka;
        let group = backend.topic(name);
        let mut props = backend.props().await;
        for (k, v) in [
            ("group.id", group.clone()),
            ("config.storage.topic", format!("{group}-configs")),
            ("offset.storage.topic", format!("{group}-offsets")),
            ("status.storage.topic", format!("{group}-status")),
            ("config.storage.replication.factor", "1".into()),
            ("offset.storage.replication.factor", "1".into()),
            ("status.storage.replication.factor", "1".into()),
            ("offset.storage.partitions", "5".into()),
            ("status.storage.partitions", "3".into()),
            ("session.timeout.ms", SESSION_TIMEOUT_MS.to_string()),
            ("heartbeat.interval.ms", "1000".into()),
            ("rebalance.timeout.ms", "20000".into()),
            (
                "scheduled.rebalance.max.delay.ms",
                REBALANCE_DELAY_MS.to_string(),
            ),
            ("consumer.session.timeout.ms", "6000".into()),
            ("consumer.heartbeat.interval.ms", "1000".into()),
        ] {
            props.push((k.to_owned(), v));
        }
        ClusterSpec { group, props }
    }

    fn spec(&self) -> WorkerSpec {
        WorkerSpec {
            props: self.props.clone(),
            distributed: true,
            ..Default::default()
        }
    }

    async fn start(&self, dir: &Path, port: Option<u16>) -> WorkerProcess {
        match port {
            Some(p) => WorkerProcess::start_on_port(&bin(), dir, &self.spec(), p).await,
            None => WorkerProcess::start(&bin(), dir, &self.spec()).await,
        }
    }
}

/// Waits until the worker answers `GET /health` with 200 (it joined the group and has an assignment).
async fn wait_joined(worker: &WorkerProcess) {
    wait_for("worker joined its group", STATE_TIMEOUT, || async {
        (worker.rest.get("/health").await.status == 200).then_some(())
    })
    .await;
}

/// Creates a connector through `worker`, retrying while the group rebalances (409).
async fn create(worker: &WorkerProcess, name: &str, config: Value) {
    let body = json!({"name": name, "config": config});
    wait_for(
        &format!("connector {name} created"),
        STATE_TIMEOUT,
        || async {
            let r = worker.rest.post("/connectors", body.clone()).await;
            match r.status {
                201 => Some(()),
                409 => None,
                _ => panic!(
                    "create {name}: {} {}\n{}",
                    r.status,
                    r.body,
                    log_tail(&worker.log(), 40)
                ),
            }
        },
    )
    .await;
}

/// Waits until the connector and `tasks` tasks are RUNNING as seen from `worker`; returns the status.
async fn wait_running(
    worker: &WorkerProcess,
    name: &str,
    tasks: usize,
    timeout: Duration,
) -> Value {
    wait_for(
        &format!("{name} RUNNING with {tasks} tasks"),
        timeout,
        || async {
            let r = worker.rest.get(&format!("/connectors/{name}/status")).await;
            let running = r.status == 200
                && r.body["connector"]["state"] == "RUNNING"
                && r.body["tasks"]
                    .as_array()
                    .is_some_and(|t| t.len() == tasks && t.iter().all(|t| t["state"] == "RUNNING"));
            running.then_some(r.body)
        },
    )
    .await
}

fn worker_ids(status: &Value) -> Vec<String> {
    status["tasks"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|t| t["worker_id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn any_worker_answers_and_work_spreads_evenly() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let cluster = ClusterSpec::new("dist-spread").await;
    let a = cluster.start(&dir.join("a"), None).await;
    let b = cluster.start(&dir.join("b"), None).await;
    let c = cluster.start(&dir.join("c"), None).await;
    for w in [&a, &b, &c] {
        wait_joined(w).await;
    }

    // Create on A, read on C.
    let topic = Backend::Kafka.topic("dist-spread");
    let input = dir.join("in.txt");
    write_lines(&input, 0, 50, 20);
    create(&a, "src", source_config(&input, &topic)).await;
    let r = c.rest.get("/connectors/src").await;
    expect_status(&r, 200, "read on C");
    assert_eq!(r.body["name"], "src");
    assert_eq!(r.body["config"]["topic"], topic.as_str());

    // Three sinks with three tasks each: twelve items over three workers.
    let mut outputs = Vec::new();
    for i in 0..3 {
        let out = dir.join(format!("out{i}.txt"));
        let mut sink = sink_config(&out, &topic);
        sink["tasks.max"] = json!("3");
        create([&a, &b, &c][i], &format!("sink{i}"), sink).await;
        outputs.push(out);
    }
    for out in &outputs {
        let lines = wait_lines(out, 50, DATA_TIMEOUT).await;
        assert_eq!(lines, read_lines(&input));
    }
    let mut per_worker: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..3 {
        let status = wait_running(&b, &format!("sink{i}"), 3, STATE_TIMEOUT).await;
        for w in worker_ids(&status) {
            *per_worker.entry(w).or_default() += 1;
        }
    }
    let src = wait_running(&c, "src", 1, STATE_TIMEOUT).await;
    for w in worker_ids(&src) {
        *per_worker.entry(w).or_default() += 1;
    }
    assert_eq!(
        per_worker.len(),
        3,
        "every worker runs tasks: {per_worker:?}"
    );
    let counts: Vec<usize> = per_worker.values().copied().collect();
    assert!(
        counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1,
        "ten tasks spread evenly: {per_worker:?}"
    );

    // The same status from every worker.
    let from_a = a.rest.get("/connectors/sink0/status").await.body;
    let from_c = c.rest.get("/connectors/sink0/status").await.body;
    assert_eq!(from_a, from_c);

    // Pause through B; every worker sees PAUSED.
    let r = b.rest.put("/connectors/sink1/pause", json!(null)).await;
    assert_eq!(r.status, 202, "{}", r.body);
    wait_for("sink1 paused everywhere", STATE_TIMEOUT, || async {
        for w in [&a, &b, &c] {
            let s = w.rest.get("/connectors/sink1/status").await.body;
            if s["connector"]["state"] != "PAUSED"
                || !s["tasks"]
                    .as_array()
                    .is_some_and(|t| t.iter().all(|t| t["state"] == "PAUSED"))
            {
                return None;
            }
        }
        Some(())
    })
    .await;

    // Delete through C; gone everywhere.
    let r = c.rest.delete("/connectors/sink2").await;
    assert_eq!(r.status, 204, "{}", r.body);
    wait_for("sink2 gone everywhere", STATE_TIMEOUT, || async {
        for w in [&a, &b, &c] {
            if w.rest.get("/connectors/sink2").await.status != 404 {
                return None;
            }
        }
        Some(())
    })
    .await;
    let r = a.rest.get("/connectors").await;
    let mut names: Vec<String> = serde_json::from_value(r.body).unwrap();
    names.sort();
    assert_eq!(names, vec!["sink0", "sink1", "src"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_workers_tasks_move_to_the_survivors_without_loss() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let cluster = ClusterSpec::new("dist-kill").await;
    let mut workers = vec![
        cluster.start(&dir.join("w0"), None).await,
        cluster.start(&dir.join("w1"), None).await,
        cluster.start(&dir.join("w2"), None).await,
    ];
    for w in &workers {
        wait_joined(w).await;
    }
    let topic = Backend::Kafka.topic("dist-kill");
    let input = dir.join("in.txt");
    write_lines(&input, 0, 200, 20);
    let output = dir.join("out.txt");
    create(&workers[0], "src", source_config(&input, &topic)).await;
    let sink = Backend::Kafka.topic("dist-kill-sink");
    create(&workers[1], &sink, sink_config(&output, &topic)).await;
    wait_lines(&output, 200, DATA_TIMEOUT).await;

    // Kill the worker that runs the source task.
    let status = wait_running(&workers[2], "src", 1, STATE_TIMEOUT).await;
    let owner = worker_ids(&status)[0].clone();
    let victim = workers
        .iter()
        .position(|w| owner.ends_with(&format!(":{}", w.port)))
        .expect("the owner is one of the workers");
    workers[victim].kill9();
    let killed = std::time::Instant::now();
    let survivor = &workers[(victim + 1) % 3];

    // More input while the task has no home.
    write_lines(&input, 200, 100, 20);
    wait_for(
        "source task RUNNING on a survivor",
        Duration::from_millis(REBALANCE_DELAY_MS + SESSION_TIMEOUT_MS) + STATE_TIMEOUT,
        || async {
            let r = survivor.rest.get("/connectors/src/status").await;
            let t = &r.body["tasks"][0];
            (t["state"] == "RUNNING" && t["worker_id"] != owner.as_str()).then_some(())
        },
    )
    .await;
    eprintln!(
        "kill -9 to task RUNNING elsewhere: {} ms (scheduled.rebalance.max.delay.ms={REBALANCE_DELAY_MS}, session.timeout.ms={SESSION_TIMEOUT_MS})",
        killed.elapsed().as_millis()
    );
    let lines = wait_lines(&output, 300, DATA_TIMEOUT).await;
    let expected = read_lines(&input);
    redelivery_ranges(&expected, &lines).unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn rolling_restart_and_leader_failover_keep_everything_running() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let cluster = ClusterSpec::new("dist-roll").await;
    let mut workers = Vec::new();
    for i in 0..3 {
        workers.push(cluster.start(&dir.join(format!("w{i}")), None).await);
    }
    for w in &workers {
        wait_joined(w).await;
    }
    let topic = Backend::Kafka.topic("dist-roll");
    let input = dir.join("in.txt");
    write_lines(&input, 0, 100, 20);
    let output = dir.join("out.txt");
    create(&workers[0], "src", source_config(&input, &topic)).await;
    let sink = Backend::Kafka.topic("dist-roll-sink");
    create(&workers[0], &sink, sink_config(&output, &topic)).await;
    wait_lines(&output, 100, DATA_TIMEOUT).await;

    // Restart each worker in turn (SIGTERM, then start again on the same port).
    let mut written = 100;
    for i in 0..3 {
        let port = workers[i].port;
        assert_eq!(workers[i].terminate(Duration::from_secs(30)), Some(0));
        write_lines(&input, written, 50, 20);
        written += 50;
        workers[i] = cluster.start(&dir.join(format!("w{i}")), Some(port)).await;
        wait_joined(&workers[i]).await;
        wait_running(&workers[(i + 1) % 3], "src", 1, Duration::from_secs(60)).await;
        wait_running(&workers[(i + 1) % 3], &sink, 1, Duration::from_secs(60)).await;
    }
    let lines = wait_lines(&output, written, DATA_TIMEOUT).await;
    redelivery_ranges(&read_lines(&input), &lines).unwrap_or_else(|e| panic!("{e}"));

    // Kill the leader; a new one is elected and config writes work through any worker.
    let leader = leader_of(&workers).await;
    workers[leader].kill9();
    let other = &workers[(leader + 1) % 3];
    let out2 = dir.join("out2.txt");
    let sink2 = Backend::Kafka.topic("dist-roll-sink2");
    wait_for(
        "a config write after the leader died",
        Duration::from_millis(SESSION_TIMEOUT_MS) + STATE_TIMEOUT,
        || async {
            let r = other
                .rest
                .post(
                    "/connectors",
                    json!({"name": sink2, "config": sink_config(&out2, &topic)}),
                )
                .await;
            (r.status == 201).then_some(())
        },
    )
    .await;
    let lines = wait_lines(&out2, written, DATA_TIMEOUT).await;
    assert_eq!(lines, read_lines(&input));
}

/// Which worker leads: the one whose create request is not forwarded (`forward=false` succeeds there).
async fn leader_of(workers: &[WorkerProcess]) -> usize {
    wait_for("a leader", STATE_TIMEOUT, || async {
        for (i, w) in workers.iter().enumerate() {
            let r = w
                .rest
                .post("/connectors/src/restart?forward=false", json!(null))
                .await;
            if r.status == 204 {
                return Some(i);
            }
        }
        None
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_of_another_group_sees_nothing() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let first = ClusterSpec::new("dist-one").await;
    let second = ClusterSpec::new("dist-two").await;
    assert_ne!(first.group, second.group);
    let a = first.start(&dir.join("a"), None).await;
    let b = second.start(&dir.join("b"), None).await;
    wait_joined(&a).await;
    wait_joined(&b).await;
    let input = dir.join("in.txt");
    write_lines(&input, 0, 5, 10);
    create(
        &a,
        "src",
        source_config(&input, &Backend::Kafka.topic("dist-one")),
    )
    .await;
    assert_eq!(a.rest.get("/connectors").await.body, json!(["src"]));
    assert_eq!(b.rest.get("/connectors").await.body, json!([]));
    assert_eq!(b.rest.get("/connectors/src").await.status, 404);
}
