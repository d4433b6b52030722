//! The distributed worker's config and status topic stores and its internal-topic startup checks, against a
//! real broker: records as Apache Connect 4.x writes them are read, writes produce Apache's exact bytes and
//! sequences, and two workers' stores on one topic see each other's writes.
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use causeway_api::{ConnectError, Props};
use causeway_distributed::config_records::{SessionKey, TargetState as StoredTargetState};
use causeway_distributed::config_state::ConfigEvent;
use causeway_kafka::{KafkaLog, KafkaSettings};
use causeway_log::LogBackend;
use causeway_runtime::herder::distributed::{
    ConfigTopicStore, DistributedConfig, StatusTopicStore, ensure_internal_topics,
};
use causeway_runtime::herder::entities::{ConnectorTaskId, State, TargetState};
use causeway_runtime::status::{Status, StatusStore};
use causeway_testkit::kafka::{ReadRecord, kafka, unique_name};
use tokio::sync::mpsc::UnboundedReceiver;

const OPEN_TIMEOUT: Duration = Duration::from_secs(60);
const READ_TIMEOUT: Duration = Duration::from_secs(30);

async fn connect(bootstrap: &str) -> Arc<KafkaLog> {
    let props: HashMap<String, String> =
        [("bootstrap.servers".to_owned(), bootstrap.to_owned())].into();
    KafkaLog::connect(KafkaSettings::from_worker(props.iter()))
        .await
        .expect("connects")
}

async fn open_config(
    log: &KafkaLog,
    topic: &str,
) -> (Arc<ConfigTopicStore>, UnboundedReceiver<ConfigEvent>) {
    tokio::time::timeout(
        OPEN_TIMEOUT,
        ConfigTopicStore::open(log, topic, "connect-test-configs"),
    )
    .await
    .expect("opened in time")
    .expect("opens")
}

fn props(pairs: &[(&str, &str)]) -> Props {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn pairs(records: &[ReadRecord]) -> Vec<(String, Option<String>)> {
    records
        .iter()
        .map(|r| (r.key_str().unwrap_or_default(), r.value_str()))
        .collect()
}

fn pair(key: &str, value: Option<&str>) -> (String, Option<String>) {
    (key.to_owned(), value.map(str::to_owned))
}

/// Takes every event already queued, waiting briefly for the first.
async fn drain(events: &mut UnboundedReceiver<ConfigEvent>) -> Vec<ConfigEvent> {
    let mut out = Vec::new();
    if let Ok(Some(e)) = tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
        out.push(e);
    }
    while let Ok(e) = events.try_recv() {
        out.push(e);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn config_store_reads_apache_records() {
    let cluster = kafka();
    let topic = unique_name("connect-configs");
    cluster.create_topic_with(&topic, 1, &[("cleanup.policy", "compact")]);
    // As Apache Connect 4.x writes them (Java HashMap member order), tasks without their commit yet.
    let source = br#"{"properties":{"connector.class":"FileStreamSource","tasks.max":"1","file":"/tmp/test.txt","topic":"connect-test","name":"local-file-source"}}"#;
    let task0 = br#"{"properties":{"task.class":"org.apache.kafka.connect.file.FileStreamSourceTask","file":"/tmp/test.txt","topic":"connect-test","batch.size":"2000"}}"#;
    let sink = br#"{"properties":{"connector.class":"FileStreamSink","topics":"connect-test","name":"sink"}}"#;
    cluster.produce(
        &topic,
        &[
            (Some(&b"connector-local-file-source"[..]), Some(&source[..])),
            (Some(&b"connector-sink"[..]), Some(&sink[..])),
            (
                Some(&b"target-state-local-file-source"[..]),
                Some(&br#"{"state":"PAUSED"}"#[..]),
            ),
            (
                Some(&b"target-state-sink"[..]),
                Some(&br#"{"state":"PAUSED","state.v2":"STOPPED"}"#[..]),
            ),
            (Some(&b"task-local-file-source-0"[..]), Some(&task0[..])),
            (Some(&b"bogus-key"[..]), Some(&b"{}"[..])),
        ],
    );

    let log = connect(&cluster.bootstrap).await;
    let (store, mut events) = open_config(log.as_ref(), &topic).await;
    let snapshot = store.snapshot();
    assert_eq!(snapshot.offset, 6);
    assert_eq!(store.offset(), 6);
    let config = snapshot
        .connector_config("local-file-source")
        .expect("config");
    assert_eq!(config.get("file"), Some(&Some("/tmp/test.txt".to_owned())));
    assert_eq!(
        snapshot.target_state("local-file-source"),
        Some(StoredTargetState::Paused),
        "a v1 record (state only) is read"
    );
    assert_eq!(
        snapshot.target_state("sink"),
        Some(StoredTargetState::Stopped),
        "state.v2 wins over state"
    );
    assert!(
        snapshot.tasks("local-file-source").is_empty(),
        "task configs are not visible before their commit"
    );
    assert!(
        events.try_recv().is_err(),
        "records read at startup are not announced"
    );

    // Apache commits the task count; the tasks become visible and the commit is announced.
    cluster.produce(
        &topic,
        &[(
            Some(&b"commit-local-file-source"[..]),
            Some(&br#"{"tasks":1}"#[..]),
        )],
    );
    store.read_to_end().await.unwrap();
    let snapshot = store.snapshot();
    assert_eq!(
        snapshot.tasks("local-file-source"),
        vec![causeway_distributed::config_records::ConnectorTaskId::new(
            "local-file-source",
            0
        )]
    );
    assert_eq!(snapshot.offset, 7);
    assert_eq!(
        drain(&mut events).await,
        vec![ConfigEvent::TaskConfigsCommitted {
            connector: "local-file-source".into(),
            tasks: vec![causeway_distributed::config_records::ConnectorTaskId::new(
                "local-file-source",
                0
            )],
        }]
    );

    // Apache's deletion: connector tombstone, then target-state tombstone.
    cluster.produce(
        &topic,
        &[
            (Some(&b"connector-sink"[..]), None),
            (Some(&b"target-state-sink"[..]), None),
        ],
    );
    store.read_to_end().await.unwrap();
    let snapshot = store.snapshot();
    assert!(!snapshot.contains("sink"));
    assert_eq!(snapshot.target_state("sink"), None);
    assert!(snapshot.contains("local-file-source"));
    assert_eq!(
        drain(&mut events).await,
        vec![ConfigEvent::ConnectorConfigRemoved("sink".into())]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn config_store_writes_apache_sequences_and_bytes() {
    let cluster = kafka();
    let topic = unique_name("connect-configs");
    cluster.create_topic_with(&topic, 1, &[("cleanup.policy", "compact")]);
    let log = connect(&cluster.bootstrap).await;
    let (a, mut a_events) = open_config(log.as_ref(), &topic).await;
    let (b, mut b_events) = open_config(log.as_ref(), &topic).await;
    assert_eq!(a.offset(), -1, "nothing read yet");

    let config = props(&[
        ("connector.class", "FileStreamSource"),
        ("name", "c"),
        ("tasks.max", "2"),
    ]);
    a.put_connector_config("c", &config, Some(TargetState::Paused))
        .await
        .unwrap();
    assert!(
        a.snapshot().contains("c"),
        "the write is read back before returning"
    );
    a.put_task_configs(
        "c",
        &[
            props(&[("task.class", "T"), ("n", "0")]),
            props(&[("task.class", "T"), ("n", "1")]),
        ],
    )
    .await
    .unwrap();
    assert_eq!(a.snapshot().tasks("c").len(), 2);
    a.put_target_state("c", TargetState::Started).await.unwrap();
    a.stop_connector("c").await.unwrap();
    a.put_restart_request("c", false, true).await.unwrap();
    a.put_session_key(SessionKey {
        key: (0u8..32).collect(),
        algorithm: "HmacSHA256".into(),
        creation_timestamp: 1_729_800_000_000,
    })
    .await
    .unwrap();
    a.remove_connector("c").await.unwrap();

    let records = cluster.read_to_end(&topic, READ_TIMEOUT);
    assert_eq!(
        pairs(&records),
        vec![
            pair(
                "target-state-c",
                Some(r#"{"state":"PAUSED","state.v2":"PAUSED"}"#)
            ),
            pair(
                "connector-c",
                Some(
                    r#"{"properties":{"connector.class":"FileStreamSource","name":"c","tasks.max":"2"}}"#
                )
            ),
            pair(
                "task-c-0",
                Some(r#"{"properties":{"n":"0","task.class":"T"}}"#)
            ),
            pair(
                "task-c-1",
                Some(r#"{"properties":{"n":"1","task.class":"T"}}"#)
            ),
            pair("commit-c", Some(r#"{"tasks":2}"#)),
            pair(
                "target-state-c",
                Some(r#"{"state":"STARTED","state.v2":"STARTED"}"#)
            ),
            pair("commit-c", Some(r#"{"tasks":0}"#)),
            pair(
                "target-state-c",
                Some(r#"{"state":"PAUSED","state.v2":"STOPPED"}"#)
            ),
            pair(
                "restart-connector-c",
                Some(r#"{"include-tasks":true,"only-failed":false}"#)
            ),
            pair(
                "session-key",
                Some(
                    r#"{"key":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","algorithm":"HmacSHA256","creation-timestamp":1729800000000}"#
                )
            ),
            pair("connector-c", None),
            pair("target-state-c", None),
        ]
    );
    assert!(records.iter().all(|r| r.partition == 0));

    // The other worker's store read the same sequence and announced it.
    b.read_to_end().await.unwrap();
    assert_eq!(b.snapshot(), a.snapshot());
    assert_eq!(b.offset(), 12);
    assert!(!b.snapshot().contains("c"));
    assert_eq!(
        b.snapshot().session_key.map(|k| k.key),
        Some((0u8..32).collect::<Vec<u8>>())
    );
    let seen = drain(&mut b_events).await;
    let mut expected = vec![
        ConfigEvent::ConnectorConfigUpdated("c".into()),
        ConfigEvent::TaskConfigsCommitted {
            connector: "c".into(),
            tasks: (0..2)
                .map(|t| causeway_distributed::config_records::ConnectorTaskId::new("c", t))
                .collect(),
        },
        ConfigEvent::TargetStateChanged("c".into()),
        ConfigEvent::TaskConfigsCommitted {
            connector: "c".into(),
            tasks: Vec::new(),
        },
        ConfigEvent::TargetStateChanged("c".into()),
        ConfigEvent::RestartRequested(causeway_distributed::config_records::RestartRequest {
            connector: "c".into(),
            only_failed: false,
            include_tasks: true,
        }),
    ];
    assert_eq!(seen[..expected.len()], expected[..], "{seen:?}");
    assert!(matches!(
        seen[expected.len()],
        ConfigEvent::SessionKeyUpdated(_)
    ));
    assert_eq!(
        seen[expected.len() + 1..],
        [ConfigEvent::ConnectorConfigRemoved("c".into())]
    );
    // The writer's own store announces the same.
    let own = drain(&mut a_events).await;
    expected.push(ConfigEvent::ConnectorConfigRemoved("c".into()));
    assert_eq!(own.len(), expected.len() + 1, "{own:?}");

    // A write through the second store reaches the first.
    b.put_connector_config("d", &props(&[("connector.class", "X")]), None)
        .await
        .unwrap();
    a.read_to_end().await.unwrap();
    assert!(a.snapshot().contains("d"));
    assert_eq!(
        drain(&mut a_events).await,
        vec![ConfigEvent::ConnectorConfigUpdated("d".into())]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn config_topic_with_several_partitions_is_refused() {
    let cluster = kafka();
    let topic = unique_name("connect-configs");
    cluster.create_topic_with(&topic, 2, &[("cleanup.policy", "compact")]);
    let log = connect(&cluster.bootstrap).await;
    let err = ConfigTopicStore::open(log.as_ref(), &topic, "connect-test-configs")
        .await
        .err()
        .expect("refused");
    assert_eq!(
        err,
        ConnectError::Config(format!(
            "Topic '{topic}' supplied via the 'config.storage.topic' property is required to have a single partition in order to guarantee consistency of connector configurations, but found 2 partitions."
        ))
    );
}

struct Worker {
    status: Arc<StatusStore>,
    generation: Arc<AtomicI32>,
    store: Arc<StatusTopicStore>,
}

async fn status_worker(log: &KafkaLog, topic: &str, generation: i32) -> Worker {
    let status = Arc::new(StatusStore::new());
    let generation = Arc::new(AtomicI32::new(generation));
    let store = tokio::time::timeout(
        OPEN_TIMEOUT,
        StatusTopicStore::open(
            log,
            topic,
            "connect-test-statuses",
            status.clone(),
            generation.clone(),
        ),
    )
    .await
    .expect("opened in time")
    .expect("opens");
    Worker {
        status,
        generation,
        store,
    }
}

fn status(state: State, worker: &str, trace: Option<&str>) -> Status {
    Status {
        state,
        worker_id: worker.into(),
        trace: trace.map(str::to_owned),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn status_store_shares_statuses_with_apache_rules() {
    let cluster = kafka();
    let topic = unique_name("connect-status");
    cluster.create_topic_with(&topic, 5, &[("cleanup.policy", "compact")]);
    // A status Apache wrote before the workers started.
    cluster.produce(
        &topic,
        &[(
            Some(&b"status-connector-old"[..]),
            Some(
                &br#"{"state":"RUNNING","trace":null,"worker_id":"10.0.0.5:8083","generation":7}"#
                    [..],
            ),
        )],
    );
    let log = connect(&cluster.bootstrap).await;
    let a = status_worker(log.as_ref(), &topic, 3).await;
    let b = status_worker(log.as_ref(), &topic, 3).await;
    assert_eq!(
        a.status.connector_with_generation("old"),
        Some((status(State::Running, "10.0.0.5:8083", None), 7))
    );

    // Worker A's local statuses reach the topic in Apache's format and worker B's status store.
    let task = ConnectorTaskId::new("c", 0);
    a.status
        .put_connector("c", status(State::Running, "a:8083", None));
    a.status
        .put_task(&task, status(State::Running, "a:8083", None));
    a.status.put_task(
        &ConnectorTaskId::new("c", 1),
        status(
            State::Failed,
            "a:8083",
            Some("java.lang.RuntimeException: boom\n\tat X"),
        ),
    );
    assert!(
        a.status
            .add_task_topic(&ConnectorTaskId::new("c", 1), "orders")
    );
    a.store.flush().await;
    b.store.read_to_end().await.unwrap();
    assert_eq!(
        b.status.connector_with_generation("c"),
        Some((status(State::Running, "a:8083", None), 3))
    );
    assert_eq!(
        b.status.task(&ConnectorTaskId::new("c", 1)),
        Some(status(
            State::Failed,
            "a:8083",
            Some("java.lang.RuntimeException: boom\n\tat X")
        ))
    );
    assert_eq!(b.status.topics("c"), vec!["orders"]);
    let records = cluster.read_to_end(&topic, READ_TIMEOUT);
    let find = |key: &str| {
        records
            .iter()
            .filter(|r| r.key_str().as_deref() == Some(key))
            .map(|r| (r.partition, r.value_str()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        find("status-connector-c")
            .iter()
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>(),
        vec![Some(
            r#"{"state":"RUNNING","trace":null,"worker_id":"a:8083","generation":3}"#.to_owned()
        )]
    );
    assert_eq!(
        find("status-task-c-1")[0].1.as_deref(),
        Some(
            r#"{"state":"FAILED","trace":"java.lang.RuntimeException: boom\n\tat X","worker_id":"a:8083","generation":3}"#
        )
    );
    let topic_record = find("status-topic-orders:connector-c");
    let value = topic_record[0].1.clone().expect("value");
    assert!(
        value.starts_with(
            r#"{"topic":{"name":"orders","connector":"c","task":1,"discoverTimestamp":"#
        ),
        "{value}"
    );
    // Keys land in the partitions Apache's murmur2 partitioner picks (the spec's examples, 5 partitions).
    a.status
        .put_connector("local-file-source", status(State::Running, "a:8083", None));
    a.status.put_task(
        &ConnectorTaskId::new("local-file-source", 0),
        status(State::Running, "a:8083", None),
    );
    a.store.flush().await;
    let records = cluster.read_to_end(&topic, READ_TIMEOUT);
    let partition_of = |key: &str| {
        records
            .iter()
            .find(|r| r.key_str().as_deref() == Some(key))
            .map(|r| r.partition)
    };
    assert_eq!(partition_of("status-connector-local-file-source"), Some(0));
    assert_eq!(partition_of("status-task-local-file-source-0"), Some(4));

    // putSafe: B, one generation behind, may not mark A's newer RUNNING task UNASSIGNED.
    b.generation.store(2, Ordering::SeqCst);
    b.status
        .put_task(&task, status(State::Unassigned, "b:8083", None));
    b.store.flush().await;
    assert_eq!(
        b.status.task(&task).map(|s| s.worker_id),
        Some("a:8083".into())
    );
    // The reader ignores an UNASSIGNED of the same generation over a RUNNING (a worker that missed it).
    cluster.produce(
        &topic,
        &[(
            Some(&b"status-task-c-0"[..]),
            Some(
                &br#"{"state":"UNASSIGNED","trace":null,"worker_id":"b:8083","generation":3}"#[..],
            ),
        )],
    );
    a.store.read_to_end().await.unwrap();
    assert_eq!(a.status.task(&task).map(|s| s.state), Some(State::Running));
    // A newer generation's UNASSIGNED applies.
    b.generation.store(4, Ordering::SeqCst);
    b.status
        .put_task(&task, status(State::Unassigned, "b:8083", None));
    b.store.flush().await;
    a.store.read_to_end().await.unwrap();
    assert_eq!(
        a.status.task_with_generation(&task),
        Some((status(State::Unassigned, "b:8083", None), 4))
    );
    let unassigned_writes = cluster
        .read_to_end(&topic, READ_TIMEOUT)
        .iter()
        .filter(|r| {
            r.key_str().as_deref() == Some("status-task-c-0")
                && r.value_str().is_some_and(|v| v.contains("b:8083"))
        })
        .count();
    assert_eq!(unassigned_writes, 2, "the unsafe write was not sent");

    // Deleting a connector tombstones its task statuses, then its own; every worker forgets them.
    b.status.remove_connector("c");
    b.store.flush().await;
    a.store.read_to_end().await.unwrap();
    assert_eq!(a.status.connector("c"), None);
    assert!(a.status.tasks_of("c").is_empty());
    let records = cluster.read_to_end(&topic, READ_TIMEOUT);
    for key in ["status-task-c-0", "status-task-c-1", "status-connector-c"] {
        let last = records
            .iter()
            .filter(|r| r.key_str().as_deref() == Some(key))
            .max_by_key(|r| r.offset)
            .expect("written");
        assert_eq!(last.value, None, "{key} ends with a tombstone");
    }
    // Topic records outlive the connector's statuses, as in Apache; a reset tombstones them.
    assert_eq!(a.status.topics("c"), vec!["orders"]);
    a.status.reset_topics("c");
    a.store.flush().await;
    let records = cluster.read_to_end(&topic, READ_TIMEOUT);
    let last = records
        .iter()
        .filter(|r| r.key_str().as_deref() == Some("status-topic-orders:connector-c"))
        .max_by_key(|r| r.offset)
        .expect("written");
    assert_eq!(last.value, None);
    let c = status_worker(log.as_ref(), &topic, 4).await;
    assert!(
        c.status.topics("c").is_empty(),
        "a new worker reads the reset"
    );
    assert_eq!(c.status.connector("c"), None);
    assert_eq!(
        c.status.connector("local-file-source").map(|s| s.worker_id),
        Some("a:8083".into())
    );

    a.store.stop().await;
    a.status
        .put_connector("after", status(State::Running, "a:8083", None));
    b.store.read_to_end().await.unwrap();
    assert_eq!(
        b.status.connector("after"),
        None,
        "a stopped store writes nothing"
    );
}

fn distributed_config(prefix: &str, extra: &[(&str, &str)]) -> DistributedConfig {
    let mut p = props(&[
        ("group.id", &unique_name(prefix)),
        (
            "config.storage.topic",
            &unique_name(&format!("{prefix}-configs")),
        ),
        (
            "offset.storage.topic",
            &unique_name(&format!("{prefix}-offsets")),
        ),
        (
            "status.storage.topic",
            &unique_name(&format!("{prefix}-status")),
        ),
        ("config.storage.replication.factor", "1"),
        ("offset.storage.replication.factor", "1"),
        ("status.storage.replication.factor", "1"),
        ("offset.storage.partitions", "3"),
        ("status.storage.partitions", "2"),
        ("status.storage.retention.ms", "-1"),
    ]);
    p.extend(props(extra));
    DistributedConfig::from_props(&p).expect("valid")
}

#[tokio::test(flavor = "multi_thread")]
async fn internal_topics_are_created_compacted_and_checked() {
    let cluster = kafka();
    let log = connect(&cluster.bootstrap).await;
    let config = distributed_config("create", &[]);
    ensure_internal_topics(log.as_ref(), &config).await.unwrap();
    assert_eq!(cluster.topic_partitions(&config.config_topic.name), Some(1));
    assert_eq!(cluster.topic_partitions(&config.offset_topic.name), Some(3));
    assert_eq!(cluster.topic_partitions(&config.status_topic.name), Some(2));
    for t in config.internal_topics() {
        assert_eq!(
            log.topic_cleanup_policy(&t.name).await.unwrap().as_deref(),
            Some("compact"),
            "{}",
            t.name
        );
    }
    // Starting again finds and accepts them.
    ensure_internal_topics(log.as_ref(), &config).await.unwrap();
    assert_eq!(
        log.topic_cleanup_policy("no-such-topic-here").await,
        Ok(None)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn existing_internal_topics_must_be_compacted() {
    let cluster = kafka();
    let log = connect(&cluster.bootstrap).await;

    let config = distributed_config("delete", &[]);
    cluster.create_topic(&config.status_topic.name, 2);
    let err = ensure_internal_topics(log.as_ref(), &config)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ConnectError::Config(format!(
            "Topic '{t}' supplied via the 'status.storage.topic' property is required to have 'cleanup.policy=compact' to guarantee consistency and durability of connector and task statuses, but found the topic currently has 'cleanup.policy=delete'. Continuing would likely result in eventually losing connector and task statuses and problems restarting this Connect cluster in the future. Change the 'status.storage.topic' property in the Connect worker configurations to use a topic with 'cleanup.policy=compact'.",
            t = config.status_topic.name
        ))
    );

    let config = distributed_config("both", &[]);
    cluster.create_topic_with(
        &config.offset_topic.name,
        1,
        &[("cleanup.policy", "delete,compact")],
    );
    let err = ensure_internal_topics(log.as_ref(), &config)
        .await
        .unwrap_err();
    assert!(
        err.message().contains(&format!(
            "Topic '{}' supplied via the 'offset.storage.topic' property is required to have 'cleanup.policy=compact' to guarantee consistency and durability of source connector offsets, but found the topic currently has 'cleanup.policy=compact,delete'.",
            config.offset_topic.name
        )),
        "{err}"
    );

    let config = distributed_config("parts", &[]);
    cluster.create_topic_with(
        &config.config_topic.name,
        2,
        &[("cleanup.policy", "compact")],
    );
    let err = ensure_internal_topics(log.as_ref(), &config)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        ConnectError::Config(format!(
            "Topic '{}' supplied via the 'config.storage.topic' property is required to have a single partition in order to guarantee consistency of connector configurations, but found 2 partitions.",
            config.config_topic.name
        ))
    );
}
