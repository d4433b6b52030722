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
    // Each worker answers reads from its own copy of the config topic (as Apache's herder does), which C
    // may not have read up to the new connector yet.
    let r = wait_for("C to know connector src", STATE_TIMEOUT, || async {
        let r = c.rest.get("/connectors/src").await;
        (r.status != 404).then_some(r)
    })
    .await;
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
    // The killed leader may have run the source and died before committing its last offsets: the survivor
    // that takes the task over sends those lines again (at least once, as Apache does after a crash).
    let expected = read_lines(&input);
    let lines = wait_for(
        "out2.txt to hold every input line",
        DATA_TIMEOUT,
        || async {
            let lines = read_lines(&out2);
            let seen: std::collections::HashSet<&String> = lines.iter().collect();
            expected.iter().all(|l| seen.contains(l)).then_some(lines)
        },
    )
    .await;
    redelivery_ranges(&expected, &lines).unwrap_or_else(|e| panic!("{e}"));
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

/// A cluster state written exactly as Apache Connect 4.x writes it (record bytes from the internals spec)
/// is picked up: the connector runs (its task configs regenerated by the connector, as Apache's herder does
/// when they differ), a paused one stays paused, and the source resumes from its stored offset.
#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_migrates_from_apache_connect_topics() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let cluster = ClusterSpec::new("dist-migrate").await;
    let kafka = Backend::Kafka.cluster().await;
    let prop = |k: &str| {
        cluster
            .props
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let (configs, offsets) = (prop("config.storage.topic"), prop("offset.storage.topic"));
    kafka.create_topic_with(&configs, 1, &[("cleanup.policy", "compact")]);
    kafka.create_topic_with(&offsets, 5, &[("cleanup.policy", "compact")]);

    let input = dir.join("in.txt");
    write_lines(&input, 0, 100, 20);
    let lines = read_lines(&input);
    // The first 40 lines were read by Apache's FileStreamSourceTask before the migration.
    let position: usize = lines[..40].iter().map(|l| l.len() + 1).sum();
    let file = input.display().to_string();
    let topic = Backend::Kafka.topic("dist-migrate");
    let connector = json!({"properties": {"connector.class": "FileStreamSource", "tasks.max": "1",
        "file": file, "topic": topic, "name": "src"}})
    .to_string();
    let task =
        json!({"properties": {"task.class": "org.apache.kafka.connect.file.FileStreamSourceTask",
        "file": file, "topic": topic, "batch.size": "2000"}})
        .to_string();
    let held = json!({"properties": {"connector.class": "FileStreamSource", "tasks.max": "1",
        "file": file, "topic": format!("{topic}-held"), "name": "held"}})
    .to_string();
    let held_task =
        json!({"properties": {"task.class": "org.apache.kafka.connect.file.FileStreamSourceTask",
        "file": file, "topic": format!("{topic}-held"), "batch.size": "2000"}})
        .to_string();
    let records: Vec<(String, String)> = vec![
        ("connector-src".into(), connector),
        ("task-src-0".into(), task),
        ("commit-src".into(), r#"{"tasks":1}"#.into()),
        (
            "target-state-held".into(),
            r#"{"state":"PAUSED","state.v2":"PAUSED"}"#.into(),
        ),
        ("connector-held".into(), held),
        ("task-held-0".into(), held_task),
        ("commit-held".into(), r#"{"tasks":1}"#.into()),
    ];
    let raw: Vec<(Option<&[u8]>, Option<&[u8]>)> = records
        .iter()
        .map(|(k, v)| (Some(k.as_bytes()), Some(v.as_bytes())))
        .collect();
    kafka.produce(&configs, &raw);
    let offset_key = format!(r#"["src",{{"filename":"{file}"}}]"#);
    let offset_value = format!(r#"{{"position":{position}}}"#);
    kafka.produce(
        &offsets,
        &[(Some(offset_key.as_bytes()), Some(offset_value.as_bytes()))],
    );

    let worker = cluster.start(&dir.join("w"), None).await;
    wait_joined(&worker).await;
    wait_running(&worker, "src", 1, STATE_TIMEOUT).await;
    let r = worker.rest.get("/connectors/src/tasks").await;
    assert_eq!(r.body[0]["config"]["file"], file.as_str(), "{}", r.body);
    let held_status = wait_for("held stays PAUSED", STATE_TIMEOUT, || async {
        let s = worker.rest.get("/connectors/held/status").await.body;
        (s["connector"]["state"] == "PAUSED").then_some(s)
    })
    .await;
    assert_eq!(held_status["connector"]["state"], "PAUSED");

    // The source went on from line 40: a sink reading the topic gets lines 40..100 only.
    let output = dir.join("out.txt");
    create(
        &worker,
        &Backend::Kafka.topic("dist-migrate-sink"),
        sink_config(&output, &topic),
    )
    .await;
    let got = wait_lines(&output, 60, DATA_TIMEOUT).await;
    assert_eq!(got, lines[40..].to_vec());
}

/// Writes through a follower are forwarded to the leader (and report how long that takes next to a write on
/// the leader itself); internal endpoints refuse unsigned and badly signed requests (KIP-507).
#[tokio::test(flavor = "multi_thread")]
async fn followers_forward_writes_and_internal_requests_must_be_signed() {
    let tmp = temp_dir();
    let dir = tmp.path();
    let cluster = ClusterSpec::new("dist-forward").await;
    let workers = vec![
        cluster.start(&dir.join("w0"), None).await,
        cluster.start(&dir.join("w1"), None).await,
    ];
    for w in &workers {
        wait_joined(w).await;
    }
    let input = dir.join("in.txt");
    write_lines(&input, 0, 10, 20);
    let topic = Backend::Kafka.topic("dist-forward");
    create(&workers[0], "src", source_config(&input, &topic)).await;
    let leader = leader_of(&workers).await;
    let follower = 1 - leader;

    // A follower refuses to forward when told not to.
    let r = workers[follower]
        .rest
        .put(
            "/connectors/src/config?forward=false",
            source_config(&input, &topic),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);

    // Updates through either worker succeed; time them (medians of 15).
    let mut timings = Vec::new();
    for w in [leader, follower] {
        let mut ms = Vec::new();
        for i in 0..15 {
            let mut config = source_config(&input, &topic);
            config["batch.size"] = json!((100 + i).to_string());
            let started = std::time::Instant::now();
            let r = workers[w].rest.put("/connectors/src/config", config).await;
            ms.push(started.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(r.status, 200, "{}", r.body);
        }
        ms.sort_by(f64::total_cmp);
        timings.push(ms[ms.len() / 2]);
    }
    eprintln!(
        "PUT /connectors/src/config median: on the leader {:.1} ms, forwarded by a follower {:.1} ms",
        timings[0], timings[1]
    );
    let r = workers[leader].rest.get("/connectors/src/config").await;
    assert_eq!(r.body["batch.size"], "114");

    // Internal endpoint: unsigned → 400, wrong signature → 403, on any worker.
    for w in &workers {
        let r = w
            .rest
            .post("/connectors/src/tasks", json!([{"task.class": "x"}]))
            .await;
        assert_eq!(r.status, 400, "{}", r.body);
        let r = w
            .rest
            .request_with_headers(
                "POST",
                "/connectors/src/tasks",
                r#"[{"task.class":"x"}]"#,
                &[
                    (
                        "X-Connect-Authorization",
                        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                    ),
                    ("X-Connect-Request-Signature-Algorithm", "HmacSHA256"),
                ],
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
}

/// The leader writes a session key, and a new one when `inter.worker.key.ttl.ms` has passed (KIP-507).
#[tokio::test(flavor = "multi_thread")]
async fn the_leader_rotates_the_session_key() {
    let tmp = temp_dir();
    let mut cluster = ClusterSpec::new("dist-keys").await;
    cluster
        .props
        .push(("inter.worker.key.ttl.ms".into(), "2000".into()));
    let configs = format!("{}-configs", cluster.group);
    let worker = cluster.start(&tmp.path().join("w"), None).await;
    wait_joined(&worker).await;
    let kafka = Backend::Kafka.cluster().await;
    let keys = wait_for("three session keys", STATE_TIMEOUT, || async {
        let records = kafka.read_to_end(&configs, Duration::from_secs(10));
        let keys: Vec<Value> = records
            .iter()
            .filter(|r| r.key_str().as_deref() == Some("session-key"))
            .filter_map(|r| serde_json::from_slice(r.value.as_deref()?).ok())
            .collect();
        (keys.len() >= 3).then_some(keys)
    })
    .await;
    for k in &keys {
        assert_eq!(k["algorithm"], "HmacSHA256");
        assert_eq!(
            k["key"].as_str().map(str::len),
            Some(44),
            "256-bit key, base64: {k}"
        );
    }
    let created: Vec<i64> = keys
        .iter()
        .map(|k| k["creation-timestamp"].as_i64().unwrap())
        .collect();
    assert!(
        created.windows(2).all(|w| w[1] - w[0] >= 2000),
        "{created:?}"
    );
}
