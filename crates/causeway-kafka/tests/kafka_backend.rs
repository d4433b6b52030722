//! The Kafka backend against a real Apache Kafka broker (started by the test harness, or `KAFKA_BOOTSTRAP`).
use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use causeway_kafka::{KafkaLog, KafkaSettings};
use causeway_log::{
    ConsumerConfig, ConsumerEvent, LogBackend, LogConsumer, LogError, NewTopic, ProducerConfig,
    ProducerRecord, Subscription, TopicPartition,
};
use causeway_testkit::kafka::{KafkaCluster, kafka};

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn settings(pairs: &[(&str, &str)]) -> KafkaSettings {
    let props: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    KafkaSettings::from_worker(props.iter())
}

async fn plaintext_log(cluster: &KafkaCluster) -> std::sync::Arc<KafkaLog> {
    KafkaLog::connect(settings(&[("bootstrap.servers", &cluster.bootstrap)]))
        .await
        .expect("connects to the broker")
}

/// Polls until `n` records arrived, answering rebalances as a sink task does.
async fn consume(consumer: &mut dyn LogConsumer, n: usize) -> Vec<causeway_log::ConsumerRecord> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut out = Vec::new();
    while out.len() < n {
        assert!(
            Instant::now() < deadline,
            "only {} of {n} records arrived",
            out.len()
        );
        if let Some(ConsumerEvent::Records(r)) =
            consumer.poll(Duration::from_millis(500)).await.unwrap()
        {
            out.extend(r);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn keyed_records_land_where_the_java_client_puts_them() {
    let cluster = kafka();
    let topic = unique("keys");
    cluster.create_topic(&topic, 7);
    let log = plaintext_log(cluster).await;
    let producer = log.producer(ProducerConfig::default()).unwrap();
    // Partitions from Java's `Utils.toPositive(Utils.murmur2(key)) % 7`, computed with kafka-clients 4.1.1.
    let expected = [
        ("alpha", 1),
        ("bravo", 5),
        ("charlie", 4),
        ("delta", 6),
        ("echo", 0),
        ("foxtrot", 6),
        ("golf", 1),
        ("hotel", 5),
        ("india", 6),
        ("juliett", 5),
        ("key-0", 0),
        ("key-1", 5),
        ("key-2", 4),
        ("key-3", 4),
    ];
    for (key, partition) in expected {
        let ack = producer
            .send(ProducerRecord {
                topic: topic.clone(),
                key: Some(Bytes::from(key)),
                value: Some(Bytes::from_static(b"v")),
                ..Default::default()
            })
            .unwrap();
        let meta = ack.await.unwrap();
        assert_eq!(meta.partition, partition, "key {key}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn produced_records_read_back_byte_for_byte_with_headers() {
    let cluster = kafka();
    let topic = unique("bytes");
    cluster.create_topic(&topic, 1);
    let log = plaintext_log(cluster).await;
    let producer = log.producer(ProducerConfig::default()).unwrap();
    let binary: Vec<u8> = (0..=255u8).collect();
    let records = vec![
        ProducerRecord {
            topic: topic.clone(),
            partition: Some(0),
            key: Some(Bytes::from(binary.clone())),
            value: Some(Bytes::from_static(b"{\"a\":1}")),
            timestamp: Some(1_700_000_000_123),
            headers: vec![
                ("h1".into(), Some(Bytes::from_static(b"one"))),
                ("h-null".into(), None),
                ("h1".into(), Some(Bytes::from(binary.clone()))),
            ],
        },
        ProducerRecord {
            topic: topic.clone(),
            partition: Some(0),
            key: None,
            value: None,
            timestamp: Some(1_700_000_000_124),
            headers: vec![],
        },
    ];
    for r in &records {
        producer.send(r.clone()).unwrap().await.unwrap();
    }
    let read = cluster.read_all(&topic, 2, Duration::from_secs(30));
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].key.as_deref(), Some(&binary[..]));
    assert_eq!(read[0].value.as_deref(), Some(&b"{\"a\":1}"[..]));
    assert_eq!(read[0].timestamp, Some(1_700_000_000_123));
    assert_eq!(
        read[0].headers,
        vec![
            ("h1".to_owned(), Some(b"one".to_vec())),
            ("h-null".to_owned(), None),
            ("h1".to_owned(), Some(binary.clone())),
        ]
    );
    assert_eq!(
        (read[1].key.as_deref(), read[1].value.as_deref()),
        (None, None)
    );

    // And our own consumer sees the same bytes.
    let mut consumer = log
        .consumer(ConsumerConfig {
            group_id: unique("bytes-group"),
            client_id: "test".into(),
            properties: HashMap::new(),
        })
        .unwrap();
    consumer
        .subscribe(Subscription::Topics(vec![topic.clone()]))
        .await
        .unwrap();
    let got = consume(consumer.as_mut(), 2).await;
    assert_eq!(got[0].key, records[0].key);
    assert_eq!(got[0].headers, records[0].headers);
    assert_eq!(got[0].timestamp, 1_700_000_000_123);
    assert_eq!(got[1].value, None);
    consumer.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn group_commits_are_visible_and_resumed_from() {
    let cluster = kafka();
    let topic = unique("group");
    cluster.create_topic(&topic, 2);
    let values: Vec<String> = (0..20).map(|i| format!("v{i}")).collect();
    let refs: Vec<(Option<&[u8]>, Option<&[u8]>)> =
        values.iter().map(|v| (None, Some(v.as_bytes()))).collect();
    cluster.produce(&topic, &refs);
    let log = plaintext_log(cluster).await;
    let group = unique("connect-test");
    let config = ConsumerConfig {
        group_id: group.clone(),
        client_id: "c1".into(),
        properties: HashMap::new(),
    };
    let mut consumer = log.consumer(config.clone()).unwrap();
    consumer
        .subscribe(Subscription::Pattern(
            regex::Regex::new(&format!("{topic}|nothing")).unwrap(),
        ))
        .await
        .unwrap();
    let got = consume(consumer.as_mut(), 20).await;
    let mut next: HashMap<TopicPartition, i64> = HashMap::new();
    for r in &got {
        next.insert(TopicPartition::new(&*r.topic, r.partition), r.offset + 1);
    }
    // Commit only half of partition 0's progress.
    let p0 = TopicPartition::new(&topic, 0);
    let p0_end = next[&p0];
    next.insert(p0.clone(), p0_end / 2);
    consumer.commit(&next).await.unwrap();
    assert_eq!(
        consumer.committed(std::slice::from_ref(&p0)).await.unwrap()[&p0],
        p0_end / 2
    );
    consumer.close().await.unwrap();

    let seen = cluster.group_offsets(&group, &[&topic]);
    assert_eq!(seen[&(topic.clone(), 0)], p0_end / 2);
    let backend_view = log.group_offsets(&group).await.unwrap();
    assert_eq!(backend_view, next);

    // A new member resumes at the committed offsets: only the uncommitted half of partition 0 comes again.
    let mut again = log.consumer(config).unwrap();
    again
        .subscribe(Subscription::Topics(vec![topic.clone()]))
        .await
        .unwrap();
    let expected = (p0_end - p0_end / 2) as usize;
    let redelivered = consume(again.as_mut(), expected).await;
    assert!(
        redelivered
            .iter()
            .all(|r| r.partition == 0 && r.offset >= p0_end / 2)
    );
    assert!(
        again
            .poll(Duration::from_secs(2))
            .await
            .unwrap()
            .is_none_or(|e| !matches!(e, ConsumerEvent::Records(ref r) if !r.is_empty()))
    );
    again.close().await.unwrap();

    // Offsets can be altered while the group is empty, and the group deleted.
    log.alter_group_offsets(&group, &HashMap::from([(p0.clone(), Some(1))]))
        .await
        .unwrap();
    assert_eq!(log.group_offsets(&group).await.unwrap()[&p0], 1);
    log.delete_group(&group).await.unwrap();
    assert!(log.group_offsets(&group).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn topics_are_created_with_partitions_and_configs() {
    let cluster = kafka();
    let log = plaintext_log(cluster).await;
    let name = unique("created");
    let mut topic = NewTopic::new(&name);
    topic.partitions = Some(3);
    topic.replication_factor = Some(1);
    topic
        .configs
        .insert("cleanup.policy".into(), "compact".into());
    assert!(log.create_topic(topic.clone()).await.unwrap());
    assert!(
        !log.create_topic(topic).await.unwrap(),
        "second create finds it"
    );
    assert_eq!(log.partition_count(&name).await.unwrap(), Some(3));
    assert_eq!(cluster.topic_partitions(&name), Some(3));
    assert!(log.list_topics().await.unwrap().contains(&name));
    assert_eq!(
        log.partition_count("no-such-topic-here").await.unwrap(),
        None
    );

    let mut too_many = NewTopic::new(unique("rf"));
    too_many.replication_factor = Some(3);
    let err = log.create_topic(too_many).await.unwrap_err();
    assert!(matches!(err, LogError::Invalid(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sasl_logins_succeed_with_right_credentials_and_fail_fast_with_wrong_ones() {
    let cluster = kafka();
    let Some(sasl) = cluster.sasl_bootstrap.clone() else {
        eprintln!("skipped: the cluster has no SASL listener (KAFKA_BOOTSTRAP)");
        return;
    };
    for (mechanism, module, (user, password)) in [
        (
            "PLAIN",
            "org.apache.kafka.common.security.plain.PlainLoginModule",
            cluster.plain_user.clone(),
        ),
        (
            "SCRAM-SHA-512",
            "org.apache.kafka.common.security.scram.ScramLoginModule",
            cluster.scram_user.clone(),
        ),
    ] {
        let jaas = |pw: &str| format!("{module} required username=\"{user}\" password=\"{pw}\";");
        let good = settings(&[
            ("bootstrap.servers", &sasl),
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", mechanism),
            ("sasl.jaas.config", &jaas(&password)),
        ]);
        let log = KafkaLog::connect(good)
            .await
            .unwrap_or_else(|e| panic!("{mechanism}: {e}"));
        let topic = unique("sasl");
        cluster.create_topic(&topic, 1);
        let producer = log.producer(ProducerConfig::default()).unwrap();
        producer
            .send(ProducerRecord {
                topic: topic.clone(),
                value: Some(Bytes::from_static(b"authenticated")),
                ..Default::default()
            })
            .unwrap()
            .await
            .unwrap();
        assert_eq!(
            cluster.read_all(&topic, 1, Duration::from_secs(30))[0]
                .value_str()
                .as_deref(),
            Some("authenticated")
        );

        let started = Instant::now();
        let bad = settings(&[
            ("bootstrap.servers", &sasl),
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", mechanism),
            ("sasl.jaas.config", &jaas("wrong-password")),
        ]);
        let err = KafkaLog::connect(bad)
            .await
            .err()
            .expect("a wrong password is refused");
        assert!(matches!(err, LogError::Auth(_)), "{mechanism}: {err:?}");
        assert!(err.to_string().contains("Authentication failed"), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{mechanism}: took {:?}",
            started.elapsed()
        );

        // A producer whose own credentials are wrong fails its sends instead of retrying forever.
        let producer = log
            .producer(ProducerConfig {
                client_id: "bad".into(),
                properties: HashMap::from([("sasl.jaas.config".into(), jaas("nope"))]),
            })
            .unwrap();
        let ack = producer.send(ProducerRecord {
            topic: topic.clone(),
            value: Some(Bytes::from_static(b"x")),
            ..Default::default()
        });
        let outcome = match ack {
            Err(e) => Err(e.error),
            Ok(ack) => tokio::time::timeout(Duration::from_secs(30), ack)
                .await
                .expect("delivery fails within seconds"),
        };
        assert!(
            matches!(outcome, Err(LogError::Auth(_))),
            "{mechanism}: {outcome:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ssl_listener_works_with_the_generated_ca() {
    let cluster = kafka();
    let (Some(ssl), Some(ca)) = (cluster.ssl_bootstrap.clone(), cluster.ca_pem.clone()) else {
        eprintln!("skipped: the cluster has no SSL listener (KAFKA_BOOTSTRAP)");
        return;
    };
    let ca = ca.display().to_string();
    for (ty, location) in [
        ("PEM", ca.clone()),
        (
            "PKCS12",
            cluster
                .ca_truststore_p12
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or(ca.clone()),
        ),
    ] {
        let password = cluster.truststore_password.clone().unwrap_or_default();
        let log = KafkaLog::connect(settings(&[
            ("bootstrap.servers", &ssl),
            ("security.protocol", "SSL"),
            ("ssl.truststore.type", ty),
            ("ssl.truststore.location", &location),
            ("ssl.truststore.password", &password),
        ]))
        .await
        .unwrap_or_else(|e| panic!("{ty}: {e}"));
        assert!(!log.cluster_id().is_empty());
    }
    // Without the CA the handshake is refused, and says so.
    let err = KafkaLog::connect(settings(&[
        ("bootstrap.servers", &ssl),
        ("security.protocol", "SSL"),
    ]))
    .await
    .err()
    .expect("an untrusted certificate is refused");
    assert!(err.to_string().contains("SSL"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_cluster_is_an_error_not_a_hang() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let err = KafkaLog::connect(settings(&[(
        "bootstrap.servers",
        &format!("127.0.0.1:{port}"),
    )]))
    .await
    .err()
    .expect("nothing listens there");
    assert!(
        err.to_string()
            .starts_with("Failed to connect to and describe Kafka cluster."),
        "{err}"
    );
    assert!(started.elapsed() < causeway_kafka::BOOTSTRAP_TIMEOUT + Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoke_waits_for_the_commit_and_a_joining_member_resumes_there() {
    let cluster = kafka();
    let topic = unique("rebalance");
    cluster.create_topic(&topic, 2);
    let values: Vec<String> = (0..40).map(|i| format!("r{i}")).collect();
    let refs: Vec<(Option<&[u8]>, Option<&[u8]>)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            (
                Some(if i % 2 == 0 {
                    &b"even"[..]
                } else {
                    &b"odd"[..]
                }),
                Some(v.as_bytes()),
            )
        })
        .collect();
    cluster.produce(&topic, &refs);
    let log = plaintext_log(cluster).await;
    let group = unique("connect-rebalance");
    let config = |id: &str| ConsumerConfig {
        group_id: group.clone(),
        client_id: id.into(),
        properties: HashMap::new(),
    };
    let mut first = log.consumer(config("first")).unwrap();
    first
        .subscribe(Subscription::Topics(vec![topic.clone()]))
        .await
        .unwrap();
    let got = consume(first.as_mut(), 40).await;
    assert_eq!(first.assignment().len(), 2);
    let mut next: HashMap<TopicPartition, i64> = HashMap::new();
    for r in &got {
        next.insert(TopicPartition::new(&*r.topic, r.partition), r.offset + 1);
    }

    // A second member joins: the first is told to give its partitions up and commits inside the revoke.
    let mut second = log.consumer(config("second")).unwrap();
    second
        .subscribe(Subscription::Topics(vec![topic.clone()]))
        .await
        .unwrap();
    let second_task = tokio::spawn(async move {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            assert!(
                Instant::now() < deadline,
                "second member never got partitions"
            );
            if let Some(ConsumerEvent::Assigned(tps)) =
                second.poll(Duration::from_millis(200)).await.unwrap()
            {
                let mut extra = Vec::new();
                // Anything it reads now is beyond the first member's commit: nothing.
                let until = Instant::now() + Duration::from_secs(3);
                while Instant::now() < until {
                    if let Some(ConsumerEvent::Records(r)) =
                        second.poll(Duration::from_millis(200)).await.unwrap()
                    {
                        extra.extend(r);
                    }
                }
                second.close().await.unwrap();
                return (tps, extra);
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let revoked = loop {
        assert!(Instant::now() < deadline, "no revoke arrived");
        if let Some(ConsumerEvent::Revoked(tps)) =
            first.poll(Duration::from_millis(200)).await.unwrap()
        {
            break tps;
        }
    };
    assert_eq!(revoked.len(), 2, "eager rebalancing revokes everything");
    // The revoke callback is still waiting: this commit lands before the partitions move.
    first.commit(&next).await.unwrap();
    // Keep polling so the first member rejoins and takes its share.
    let keep_polling = async {
        loop {
            let _ = first.poll(Duration::from_millis(200)).await;
        }
    };
    let (assigned, extra) = tokio::select! {
        r = second_task => r.unwrap(),
        _ = keep_polling => unreachable!(),
    };
    assert_eq!(assigned.len(), 1, "the group split the two partitions");
    assert!(
        extra.is_empty(),
        "re-delivered after a committed revoke: {extra:?}"
    );
    first.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sink_subscribed_before_its_topic_exists_starts_once_the_topic_appears() {
    let cluster = kafka();
    let topic = unique("late");
    let log = plaintext_log(cluster).await;
    let mut consumer = log
        .consumer(ConsumerConfig {
            group_id: unique("connect-late"),
            client_id: "late".into(),
            // No broker-side creation on subscribe: the topic is created by someone else, later.
            properties: HashMap::from([("allow.auto.create.topics".into(), "false".into())]),
        })
        .unwrap();
    consumer
        .subscribe(Subscription::Topics(vec![topic.clone()]))
        .await
        .unwrap();
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        let _ = consumer.poll(Duration::from_millis(200)).await.unwrap();
    }
    cluster.create_topic(&topic, 1);
    cluster.produce(&topic, &[(None, Some(&b"late"[..]))]);
    // librdkafka alone would notice only at its next metadata refresh, five minutes away.
    let started = Instant::now();
    let got = tokio::time::timeout(Duration::from_secs(20), consume(consumer.as_mut(), 1))
        .await
        .expect("the record arrives within seconds of the topic's creation");
    assert_eq!(got[0].value.as_deref(), Some(&b"late"[..]));
    eprintln!(
        "arrived {:?} after the topic was created",
        started.elapsed()
    );
    consumer.close().await.unwrap();
}

/// (partition, offset) of the records one poll hands out.
async fn poll(consumer: &mut Box<dyn LogConsumer>) -> Vec<(i32, i64)> {
    match consumer.poll(Duration::from_millis(500)).await.unwrap() {
        Some(ConsumerEvent::Records(r)) => r.iter().map(|r| (r.partition, r.offset)).collect(),
        _ => Vec::new(),
    }
}

/// The consumer reads the next batch ahead while the task handles the last one. What the task does in between
/// — pausing, resuming, seeking — must still hold for what it is handed next, with no record lost or repeated.
#[tokio::test(flavor = "multi_thread")]
async fn pauses_and_seeks_apply_to_records_read_ahead() {
    use causeway_testkit::kafka::ProduceRecord;
    let cluster = kafka();
    let topic = unique("read-ahead");
    cluster.create_topic(&topic, 2);
    let values: Vec<String> = (0..4000).map(|i| format!("v{i}")).collect();
    let records: Vec<ProduceRecord<'_>> = values
        .iter()
        .enumerate()
        .map(|(i, v)| ProduceRecord {
            key: None,
            value: Some(v.as_bytes()),
            headers: Vec::new(),
            partition: Some((i % 2) as i32),
            timestamp: None,
        })
        .collect();
    cluster.produce_records(&topic, &records);
    let log = plaintext_log(cluster).await;
    let mut consumer = log
        .consumer(ConsumerConfig {
            group_id: unique("connect-read-ahead"),
            client_id: "c1".into(),
            properties: HashMap::from([("max.poll.records".to_owned(), "50".to_owned())]),
        })
        .unwrap();
    consumer
        .subscribe(Subscription::Topics(vec![topic.clone()]))
        .await
        .unwrap();
    // Offsets handed out per partition, in order.
    let mut seen: HashMap<i32, Vec<i64>> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Read until both partitions have been handed out records and the last batch was all of one of them:
    // librdkafka hands out a partition's fetched records in runs, so the batch read ahead meanwhile holds
    // more of that partition. It is the one paused.
    let held = loop {
        assert!(Instant::now() < deadline, "no records from both partitions");
        let batch = poll(&mut consumer).await;
        for (p, o) in &batch {
            seen.entry(*p).or_default().push(*o);
        }
        if let [(p, _), ..] = batch[..]
            && seen.len() == 2
            && batch.iter().all(|(q, _)| *q == p)
        {
            break p;
        }
    };
    let other = 1 - held;
    let held_tp = TopicPartition::new(&topic, held);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Paused: nothing of the held partition comes, though records of it were read ahead.
    consumer.pause(std::slice::from_ref(&held_tp));
    let paused_at = seen[&held].len();
    for _ in 0..10 {
        for (p, o) in poll(&mut consumer).await {
            assert_eq!(p, other, "partition {held} is paused, yet offset {o} came");
            seen.entry(p).or_default().push(o);
        }
    }
    assert_eq!(seen[&held].len(), paused_at);
    consumer.resume(std::slice::from_ref(&held_tp));

    // A seek back on the other partition: what comes next from it starts there.
    let rewind_to = seen[&other][seen[&other].len() / 2];
    consumer
        .seek(&TopicPartition::new(&topic, other), rewind_to)
        .unwrap();
    let before_seek = seen[&other].clone();
    let mut after_seek: Vec<i64> = Vec::new();
    while seen[&held].len() < 2000 || after_seek.last().is_none_or(|o| *o < 1999) {
        assert!(
            Instant::now() < deadline,
            "partition {held} at {} records, partition {other} at {:?} after the seek",
            seen[&held].len(),
            after_seek.last()
        );
        for (p, o) in poll(&mut consumer).await {
            if p == held {
                seen.entry(p).or_default().push(o);
            } else {
                after_seek.push(o);
            }
        }
    }
    assert_eq!(
        seen[&held],
        (0..2000).collect::<Vec<i64>>(),
        "the paused partition in order, once each"
    );
    assert_eq!(
        before_seek,
        (0..before_seek.len() as i64).collect::<Vec<i64>>()
    );
    assert_eq!(
        after_seek,
        (rewind_to..2000).collect::<Vec<i64>>(),
        "the other partition from the seek"
    );
    consumer.close().await.unwrap();
}
