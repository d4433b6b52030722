//! Source offsets in a Kafka offsets topic (`TopicOffsetStore`, Apache's `KafkaOffsetBackingStore`) against a
//! real broker: records written as Apache Connect writes them are found, keys are matched by parsed JSON and
//! rewritten with their stored bytes, and a second worker's store sees the first one's writes.
use std::collections::HashMap;
use std::time::Duration;

use causeway_data::SourceMap;
use causeway_kafka::{KafkaLog, KafkaSettings};
use causeway_runtime::offset_store::{OffsetStore, TopicOffsetStore};
use causeway_testkit::kafka::{kafka, unique_name};

fn map(v: serde_json::Value) -> SourceMap {
    v.as_object().cloned().expect("object")
}

async fn store(bootstrap: &str, topic: &str) -> TopicOffsetStore {
    let props: HashMap<String, String> =
        [("bootstrap.servers".to_owned(), bootstrap.to_owned())].into();
    let log = KafkaLog::connect(KafkaSettings::from_worker(props.iter()))
        .await
        .expect("connects");
    tokio::time::timeout(
        Duration::from_secs(60),
        TopicOffsetStore::open(log.as_ref(), topic, "offsets-test"),
    )
    .await
    .expect("opened in time")
    .expect("opens")
}

#[tokio::test(flavor = "multi_thread")]
async fn apache_offsets_are_read_matched_and_rewritten_in_place() {
    let cluster = kafka();
    let topic = unique_name("connect-offsets");
    cluster.create_topic_with(&topic, 25, &[("cleanup.policy", "compact")]);
    // As Apache Connect writes them; the second key has a different member order and spacing.
    let stored_key = br#"["orders-src", {"table":"orders", "db":"shop"}]"#;
    cluster.produce(
        &topic,
        &[
            (
                Some(&br#"["local-file-source",{"filename":"/tmp/test.txt"}]"#[..]),
                Some(&br#"{"position":4096}"#[..]),
            ),
            (Some(&stored_key[..]), Some(&br#"{"lsn":17}"#[..])),
            (Some(&b"not json"[..]), Some(&b"{}"[..])),
        ],
    );

    let a = store(&cluster.bootstrap, &topic).await;
    let file = map(serde_json::json!({"filename": "/tmp/test.txt"}));
    let orders = map(serde_json::json!({"db": "shop", "table": "orders"}));
    assert_eq!(
        a.get("local-file-source", &file).await.unwrap(),
        Some(map(serde_json::json!({"position": 4096})))
    );
    assert_eq!(
        a.get("orders-src", &orders).await.unwrap(),
        Some(map(serde_json::json!({"lsn": 17})))
    );
    assert_eq!(a.get("other", &file).await.unwrap(), None);

    // A write reuses the stored key bytes, so compaction replaces the old record.
    a.set(
        "orders-src",
        vec![(orders.clone(), Some(map(serde_json::json!({"lsn": 99}))))],
    )
    .await
    .unwrap();
    let records = cluster.read_to_end(&topic, Duration::from_secs(30));
    let orders_records: Vec<_> = records
        .iter()
        .filter(|r| {
            r.value
                .as_deref()
                .is_some_and(|v| v.starts_with(b"{\"lsn\""))
        })
        .collect();
    assert_eq!(orders_records.len(), 2, "{records:?}");
    assert!(
        orders_records
            .iter()
            .all(|r| r.key.as_deref() == Some(&stored_key[..])
                && r.partition == orders_records[0].partition),
        "the rewrite has the stored key bytes, so it lands beside the old record: {orders_records:?}"
    );
    let newest = orders_records.iter().max_by_key(|r| r.offset).unwrap();
    assert_eq!(newest.value.as_deref(), Some(&br#"{"lsn":99}"#[..]));

    // Another worker's store sees it, and new partitions get Apache's key format.
    let b = store(&cluster.bootstrap, &topic).await;
    assert_eq!(
        b.get("orders-src", &orders).await.unwrap(),
        Some(map(serde_json::json!({"lsn": 99})))
    );
    let new = map(serde_json::json!({"filename": "/tmp/other.txt"}));
    b.set(
        "local-file-source",
        vec![
            (new.clone(), Some(map(serde_json::json!({"position": 1})))),
            (file.clone(), None),
        ],
    )
    .await
    .unwrap();
    assert_eq!(a.get("local-file-source", &file).await.unwrap(), None);
    assert_eq!(
        a.connector_offsets("local-file-source").await.unwrap(),
        vec![(new, map(serde_json::json!({"position": 1})))]
    );
    let records = cluster.read_to_end(&topic, Duration::from_secs(30));
    assert!(records.iter().any(|r| r.key.as_deref()
        == Some(&br#"["local-file-source",{"filename":"/tmp/other.txt"}]"#[..])));
    assert!(
        records.iter().any(|r| r.key.as_deref()
            == Some(&br#"["local-file-source",{"filename":"/tmp/test.txt"}]"#[..])
            && r.value.is_none()),
        "a deleted offset is a tombstone"
    );
}
