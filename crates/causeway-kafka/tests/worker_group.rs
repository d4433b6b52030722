//! The worker-group membership client against a real Apache Kafka broker (started by the test harness, or
//! `KAFKA_BOOTSTRAP`): joins, leader election, opaque metadata and assignments, leave, eviction, isolation
//! of groups, bootstrap failures and SASL.
use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use causeway_kafka::group::{
    BrokerErrorCode, GroupConfig, GroupError, GroupStatus, JoinOutcome, RejoinReason,
    SaslCredentials, SaslMechanism, SecurityProtocol, WorkerGroupMember,
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

/// The broker's minimum session timeout (`group.min.session.timeout.ms`), to keep eviction tests short.
const SESSION_TIMEOUT: Duration = Duration::from_secs(6);

fn config(bootstrap: &str, group: &str, client_id: &str) -> GroupConfig {
    let mut config = GroupConfig::new(bootstrap, group, client_id);
    config.session_timeout = SESSION_TIMEOUT;
    config.heartbeat_interval = Duration::from_millis(1000);
    config.rebalance_timeout = Duration::from_secs(20);
    config.join_timeout = Duration::from_secs(30);
    config
}

fn member(cluster: &KafkaCluster, group: &str, client_id: &str) -> WorkerGroupMember {
    WorkerGroupMember::new(config(&cluster.bootstrap, group, client_id)).expect("valid config")
}

/// Connect's `sessioned` > `compatible` > `default` list, with metadata naming the worker and protocol.
fn protocols(worker: &str, offered: &[&str]) -> Vec<(String, Bytes)> {
    offered
        .iter()
        .map(|p| {
            (
                p.to_string(),
                Bytes::from(format!("{p}-metadata-of-{worker}\0\u{1}\u{ff}")),
            )
        })
        .collect()
}

/// What the test leader assigns: the member, the generation and the group size, so followers learn the size.
fn assignment(member_id: &str, generation: i32, members: usize) -> Bytes {
    Bytes::from(format!("{member_id}|{generation}|{members}"))
}

fn group_size(assignment: &[u8]) -> usize {
    std::str::from_utf8(assignment)
        .ok()
        .and_then(|s| s.rsplit('|').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// One rebalance round as the herder runs it: join, assign if leader, sync.
async fn join_and_sync(
    member: &mut WorkerGroupMember,
    offered: &[(String, Bytes)],
) -> Result<(JoinOutcome, Bytes), GroupError> {
    let outcome = member.join(offered.to_vec()).await?;
    let assignments = if outcome.is_leader() {
        outcome
            .members
            .iter()
            .map(|m| {
                (
                    m.member_id.clone(),
                    assignment(&m.member_id, outcome.generation_id, outcome.members.len()),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let own = member.sync(assignments).await?;
    Ok((outcome, own))
}

/// Waits until the heartbeat reports something (anything but `Stable` or `Unjoined`).
async fn next_signal(member: &WorkerGroupMember, within: Duration) -> GroupStatus {
    let mut status = member.status();
    tokio::time::timeout(within, async {
        loop {
            let current = status.borrow_and_update().clone();
            if !matches!(current, GroupStatus::Stable { .. } | GroupStatus::Unjoined) {
                return current;
            }
            status.changed().await.expect("member alive");
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no rebalance signal within {within:?}"))
}

/// Runs rebalances like a herder until the group has `size` members (learnt from the assignment).
async fn settle(
    mut member: WorkerGroupMember,
    offered: Vec<(String, Bytes)>,
    size: usize,
) -> (WorkerGroupMember, JoinOutcome, Bytes) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            Instant::now() < deadline,
            "group never reached {size} members"
        );
        match join_and_sync(&mut member, &offered).await {
            Ok((outcome, own)) if group_size(&own) == size => return (member, outcome, own),
            Ok(_) => {
                // Fewer members than expected: wait for the heartbeat to report the next rebalance.
                let signal = next_signal(&member, Duration::from_secs(30)).await;
                assert!(
                    matches!(signal, GroupStatus::RejoinNeeded(_)),
                    "unexpected {signal:?}"
                );
            }
            Err(GroupError::RejoinNeeded(_)) => {}
            Err(e) => panic!("rebalance failed: {e}"),
        }
    }
}

/// Starts `n` members of `group` and runs them until all are in one generation.
async fn settled_group(
    cluster: &KafkaCluster,
    group: &str,
    n: usize,
) -> Vec<(WorkerGroupMember, JoinOutcome, Bytes)> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let member = member(cluster, group, &format!("worker-{i}"));
            let offered = protocols(
                &format!("worker-{i}"),
                &["sessioned", "compatible", "default"],
            );
            tokio::spawn(settle(member, offered, n))
        })
        .collect();
    let mut settled = Vec::new();
    for task in tasks {
        settled.push(task.await.expect("member task"));
    }
    settled
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lone_member_leads_and_gets_its_own_assignment() {
    let cluster = kafka();
    let group = unique("lone");
    let mut member = member(cluster, &group, "lone-worker");
    assert_eq!(member.generation(), -1);
    let offered = protocols("lone", &["sessioned", "compatible", "default"]);
    let outcome = member.join(offered.clone()).await.expect("joins");
    assert!(outcome.is_leader(), "{outcome:?}");
    assert!(outcome.generation_id >= 1);
    // The broker builds member ids as `<client.id>-<uuid>` (KIP-394 hands it out via MEMBER_ID_REQUIRED).
    assert!(outcome.member_id.starts_with("lone-worker-"), "{outcome:?}");
    assert_eq!(outcome.protocol_name, "sessioned");
    assert_eq!(outcome.members.len(), 1);
    assert_eq!(outcome.members[0].member_id, outcome.member_id);
    assert_eq!(outcome.members[0].metadata, offered[0].1);
    assert_eq!(member.member_id(), outcome.member_id);
    assert_eq!(member.generation(), outcome.generation_id);
    assert_eq!(member.protocol_name().as_deref(), Some("sessioned"));

    let mine = Bytes::from_static(b"\x00\x01connectors:[a,b]\xff");
    let got = member
        .sync(vec![(outcome.member_id.clone(), mine.clone())])
        .await
        .expect("syncs");
    assert_eq!(got, mine);
    assert_eq!(
        *member.status().borrow(),
        GroupStatus::Stable {
            generation_id: outcome.generation_id
        }
    );
    // Heartbeats keep the lone member in the group well past the session timeout.
    tokio::time::sleep(SESSION_TIMEOUT + Duration::from_secs(2)).await;
    assert_eq!(
        *member.status().borrow(),
        GroupStatus::Stable {
            generation_id: outcome.generation_id
        }
    );
    // Rejoining with the same member id gives the next generation.
    let (again, own) = join_and_sync(&mut member, &offered).await.expect("rejoins");
    assert_eq!(again.member_id, outcome.member_id);
    assert!(again.generation_id > outcome.generation_id);
    assert_eq!(own, assignment(&again.member_id, again.generation_id, 1));
    member.leave().await.expect("leaves");
    assert_eq!(member.member_id(), "");
    assert_eq!(member.generation(), -1);
}

#[tokio::test(flavor = "multi_thread")]
async fn three_members_share_metadata_and_assignments_through_the_leader() {
    let cluster = kafka();
    let group = unique("three");
    // worker-2 speaks only `compatible` and `default`: the group must settle on `compatible`.
    let offers = [
        protocols("worker-0", &["sessioned", "compatible", "default"]),
        protocols("worker-1", &["sessioned", "compatible", "default"]),
        protocols("worker-2", &["compatible", "default"]),
    ];
    let tasks: Vec<_> = offers
        .iter()
        .enumerate()
        .map(|(i, offered)| {
            let member = member(cluster, &group, &format!("worker-{i}"));
            tokio::spawn(settle(member, offered.clone(), 3))
        })
        .collect();
    let mut settled = Vec::new();
    for task in tasks {
        settled.push(task.await.expect("member task"));
    }
    let generation = settled[0].1.generation_id;
    let leader_id = settled[0].1.leader_id.clone();
    let leaders: Vec<_> = settled.iter().filter(|(_, o, _)| o.is_leader()).collect();
    assert_eq!(leaders.len(), 1, "exactly one leader");
    let leader_view = &leaders[0].1;
    assert_eq!(leader_view.members.len(), 3);
    // The leader sees every member's metadata for the chosen protocol exactly as that member sent it.
    let sent: HashMap<String, Bytes> = settled
        .iter()
        .zip(&offers)
        .map(|((_, outcome, _), offered)| {
            let compatible = offered
                .iter()
                .find(|(name, _)| name == "compatible")
                .expect("offers compatible");
            (outcome.member_id.clone(), compatible.1.clone())
        })
        .collect();
    for joined in &leader_view.members {
        assert_eq!(sent.get(&joined.member_id), Some(&joined.metadata));
    }
    for (member, outcome, own) in &settled {
        assert_eq!(outcome.generation_id, generation);
        assert_eq!(outcome.leader_id, leader_id);
        assert_eq!(outcome.protocol_name, "compatible");
        if !outcome.is_leader() {
            assert!(outcome.members.is_empty(), "followers get no member list");
        }
        assert_eq!(own, &assignment(&outcome.member_id, generation, 3));
        assert_eq!(member.generation(), generation);
    }
    for (mut member, _, _) in settled {
        member.leave().await.expect("leaves");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leaving_member_makes_the_others_rejoin_in_a_new_generation() {
    let cluster = kafka();
    let group = unique("leave");
    let mut settled = settled_group(cluster, &group, 3).await;
    let generation = settled[0].1.generation_id;
    let (mut leaving, leaving_outcome, _) = settled.pop().expect("three members");
    leaving.leave().await.expect("leaves");

    let mut rejoins = Vec::new();
    for (member, _, _) in settled {
        let signal = next_signal(&member, Duration::from_secs(10)).await;
        assert_eq!(
            signal,
            GroupStatus::RejoinNeeded(RejoinReason::RebalanceInProgress)
        );
        assert!(member.rejoin_needed());
        let offered = protocols(&member.member_id(), &["sessioned", "compatible", "default"]);
        rejoins.push(tokio::spawn(settle(member, offered, 2)));
    }
    for task in rejoins {
        let (mut member, outcome, _) = task.await.expect("member task");
        assert!(outcome.generation_id > generation);
        if outcome.is_leader() {
            assert_eq!(outcome.members.len(), 2);
            assert!(
                outcome
                    .members
                    .iter()
                    .all(|m| m.member_id != leaving_outcome.member_id)
            );
        }
        member.leave().await.expect("leaves");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_that_stops_heartbeating_is_evicted_after_the_session_timeout() {
    let cluster = kafka();
    let group = unique("evict");
    let mut settled = settled_group(cluster, &group, 2).await;
    let generation = settled[0].1.generation_id;
    // Dropping a member stops its heartbeats without a LeaveGroup, as a crashed worker would.
    let (silent, silent_outcome, _) = settled.pop().expect("two members");
    let silenced_at = Instant::now();
    drop(silent);
    let (survivor, _, _) = settled.pop().expect("two members");
    let signal = next_signal(&survivor, SESSION_TIMEOUT + Duration::from_secs(10)).await;
    let waited = silenced_at.elapsed();
    assert_eq!(
        signal,
        GroupStatus::RejoinNeeded(RejoinReason::RebalanceInProgress)
    );
    // The eviction waits for the session timeout (less the part of it already spent since the last heartbeat).
    assert!(
        waited >= SESSION_TIMEOUT - Duration::from_millis(1500),
        "rebalance after {waited:?}"
    );
    let offered = protocols("survivor", &["sessioned"]);
    let (mut survivor, outcome, own) = settle(survivor, offered, 1).await;
    assert!(outcome.generation_id > generation);
    assert!(outcome.is_leader());
    assert_eq!(outcome.members.len(), 1);
    assert_ne!(outcome.members[0].member_id, silent_outcome.member_id);
    assert_eq!(
        own,
        assignment(&outcome.member_id, outcome.generation_id, 1)
    );
    survivor.leave().await.expect("leaves");
}

#[tokio::test(flavor = "multi_thread")]
async fn members_of_different_groups_do_not_see_each_other() {
    let cluster = kafka();
    let offered = protocols("w", &["sessioned"]);
    let mut first = member(cluster, &unique("iso-a"), "iso-worker");
    let mut second = member(cluster, &unique("iso-b"), "iso-worker");
    let (a, b) = tokio::join!(
        join_and_sync(&mut first, &offered),
        join_and_sync(&mut second, &offered)
    );
    let ((a, a_own), (b, b_own)) = (a.expect("first joins"), b.expect("second joins"));
    for (outcome, own) in [(&a, &a_own), (&b, &b_own)] {
        assert!(outcome.is_leader());
        assert_eq!(outcome.members.len(), 1);
        assert_eq!(
            own,
            &assignment(&outcome.member_id, outcome.generation_id, 1)
        );
    }
    assert_ne!(a.member_id, b.member_id);
    // Neither group rebalances because of the other.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for member in [&first, &second] {
        assert!(matches!(
            *member.status().borrow(),
            GroupStatus::Stable { .. }
        ));
    }
    first.leave().await.expect("leaves");
    second.leave().await.expect("leaves");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_bootstrap_fails_within_the_join_timeout() {
    // A port nothing listens on: connection refused, retried until the join timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    let dead = listener.local_addr().expect("address").to_string();
    drop(listener);
    let mut refused = config(&dead, "nobody", "lost-worker");
    refused.join_timeout = Duration::from_secs(3);
    let mut member = WorkerGroupMember::new(refused).expect("valid config");
    let started = Instant::now();
    let err = member
        .join(protocols("lost", &["sessioned"]))
        .await
        .expect_err("nothing to join");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    match &err {
        GroupError::Timeout { last, .. } => {
            assert!(matches!(**last, GroupError::Connect { .. }), "{err}")
        }
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains(&dead), "{err}");

    // A host name that does not resolve fails at once, with Apache's message.
    let mut unresolvable = config("no-such-host.invalid:9092", "nobody", "lost-worker");
    unresolvable.join_timeout = Duration::from_secs(30);
    let mut member = WorkerGroupMember::new(unresolvable).expect("valid config");
    let started = Instant::now();
    let err = member
        .join(protocols("lost", &["sessioned"]))
        .await
        .expect_err("nothing to join");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, GroupError::NoResolvableBootstrap(_)), "{err}");
    assert!(
        err.to_string()
            .starts_with("No resolvable bootstrap urls given in bootstrap.servers"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_listener_that_is_not_kafka_is_a_clear_error() {
    // Something that accepts the connection and answers garbage (an HTTP server, say).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("free port");
    let address = listener.local_addr().expect("address").to_string();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 512];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        }
    });
    let mut garbage = config(&address, "nobody", "lost-worker");
    garbage.join_timeout = Duration::from_secs(2);
    let mut member = WorkerGroupMember::new(garbage).expect("valid config");
    let err = member
        .join(protocols("lost", &["sessioned"]))
        .await
        .expect_err("not a broker");
    assert!(
        err.to_string().contains("is this a Kafka listener?"),
        "{err}"
    );
}

#[test]
fn configuration_is_checked_up_front() {
    let mut bad = GroupConfig::new("localhost", "g", "c");
    assert!(matches!(
        WorkerGroupMember::new(bad.clone()),
        Err(GroupError::Config(_))
    ));
    bad.bootstrap = vec!["localhost:9092".to_owned()];
    bad.heartbeat_interval = bad.session_timeout;
    let err = WorkerGroupMember::new(bad).expect_err("heartbeat >= session");
    assert!(
        err.to_string()
            .contains("heartbeat.interval.ms must be set lower than session.timeout.ms"),
        "{err}"
    );
    assert!(WorkerGroupMember::new(GroupConfig::new("localhost:9092", "g", "c")).is_ok());
}

#[tokio::test]
async fn sync_before_join_is_refused() {
    let mut member =
        WorkerGroupMember::new(GroupConfig::new("localhost:9092", "g", "c")).expect("valid config");
    assert!(matches!(
        member.sync(Vec::new()).await,
        Err(GroupError::InvalidState(_))
    ));
    // Leaving without having joined sends nothing and succeeds.
    member.leave().await.expect("nothing to leave");
}

fn sasl_config(
    cluster: &KafkaCluster,
    group: &str,
    mechanism: SaslMechanism,
    user: &(String, String),
) -> Option<GroupConfig> {
    let bootstrap = cluster.sasl_bootstrap.as_ref()?;
    let mut config = config(bootstrap, group, "sasl-worker");
    config.security = SecurityProtocol::SaslPlaintext(SaslCredentials {
        mechanism,
        username: user.0.clone(),
        password: user.1.clone(),
    });
    Some(config)
}

#[tokio::test(flavor = "multi_thread")]
async fn members_authenticate_with_sasl_plain_and_scram() {
    let cluster = kafka();
    let cases = [
        (SaslMechanism::Plain, &cluster.plain_user),
        (SaslMechanism::ScramSha512, &cluster.scram_user),
    ];
    for (mechanism, user) in cases {
        let Some(config) = sasl_config(cluster, &unique("sasl"), mechanism, user) else {
            eprintln!("external cluster without a SASL listener: skipped");
            return;
        };
        let mut member = WorkerGroupMember::new(config).expect("valid config");
        let (outcome, own) = join_and_sync(&mut member, &protocols("sasl", &["sessioned"]))
            .await
            .unwrap_or_else(|e| panic!("{mechanism:?} member joins: {e}"));
        assert!(outcome.is_leader());
        assert_eq!(
            own,
            assignment(&outcome.member_id, outcome.generation_id, 1)
        );
        member.leave().await.expect("leaves");

        // A wrong password is rejected by the broker, not retried.
        let wrong = (user.0.clone(), format!("{}-wrong", user.1));
        let config = sasl_config(cluster, &unique("sasl"), mechanism, &wrong).expect("listener");
        let mut member = WorkerGroupMember::new(config).expect("valid config");
        let started = Instant::now();
        let err = member
            .join(protocols("sasl", &["sessioned"]))
            .await
            .expect_err("bad password");
        assert!(started.elapsed() < Duration::from_secs(10));
        match &err {
            GroupError::Authentication { code, .. } => {
                assert_eq!(*code, BrokerErrorCode(58), "{err}");
                assert!(
                    err.to_string().contains("SASL_AUTHENTICATION_FAILED"),
                    "{err}"
                );
            }
            other => panic!("unexpected {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_coordinator_is_reported_and_rediscovered() {
    use causeway_testkit::kafka::KafkaBroker;
    let mut broker = tokio::task::block_in_place(KafkaBroker::start);
    let bootstrap = broker.cluster().bootstrap.clone();
    let group = unique("lost");
    let mut member =
        WorkerGroupMember::new(config(&bootstrap, &group, "lost-worker")).expect("valid config");
    let offered = protocols("lost", &["sessioned"]);
    let (first, _) = join_and_sync(&mut member, &offered).await.expect("joins");

    tokio::task::block_in_place(|| broker.kill());
    // Heartbeats fail from the next interval on; after one more interval the herder is told.
    let signal = next_signal(&member, Duration::from_secs(10)).await;
    assert_eq!(signal, GroupStatus::CoordinatorUnreachable);

    tokio::task::block_in_place(|| broker.restart());
    // Once the coordinator is back the member finds it again and can complete a new rebalance.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (again, own) = loop {
        match join_and_sync(&mut member, &offered).await {
            Ok(done) => break done,
            Err(e) if e.is_retriable() && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("rejoin after the restart failed: {e}"),
        }
    };
    assert!(
        again.generation_id > first.generation_id,
        "{again:?} after {first:?}"
    );
    assert_eq!(own, assignment(&again.member_id, again.generation_id, 1));
    assert_eq!(
        *member.status().borrow(),
        GroupStatus::Stable {
            generation_id: again.generation_id
        }
    );
    member.leave().await.expect("leaves");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leader_that_never_syncs_is_removed_and_rejoins_with_a_new_member_id() {
    let cluster = kafka();
    let group = unique("unsynced");
    let mut slow = config(&cluster.bootstrap, &group, "slow-leader");
    // The coordinator drops members that do not sync within the rebalance timeout.
    slow.rebalance_timeout = Duration::from_secs(7);
    let mut member = WorkerGroupMember::new(slow).expect("valid config");
    let offered = protocols("slow", &["sessioned"]);
    let first = member.join(offered.clone()).await.expect("joins");
    assert!(first.is_leader());
    // Heartbeats carry on meanwhile, then answer UNKNOWN_MEMBER_ID: the member id is gone.
    let signal = next_signal(&member, Duration::from_secs(15)).await;
    assert_eq!(
        signal,
        GroupStatus::RejoinNeeded(RejoinReason::UnknownMemberId)
    );
    assert_eq!(member.member_id(), "");
    assert_eq!(member.generation(), -1);
    let late = member
        .sync(vec![(first.member_id.clone(), Bytes::from_static(b"late"))])
        .await;
    assert!(
        matches!(
            late,
            Err(GroupError::RejoinNeeded(RejoinReason::UnknownMemberId))
        ),
        "{late:?}"
    );
    let (again, own) = join_and_sync(&mut member, &offered).await.expect("rejoins");
    assert_ne!(again.member_id, first.member_id);
    assert!(again.member_id.starts_with("slow-leader-"));
    assert!(again.generation_id > first.generation_id);
    assert_eq!(own, assignment(&again.member_id, again.generation_id, 1));
    member.leave().await.expect("leaves");
}
