//! Group consumers of the embedded log.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;

use super::group::{Change, Member, Subscribed};
use super::log::{Shared, validate_topic_name};
use crate::{
    ConsumerConfig, ConsumerEvent, ConsumerRecord, LogConsumer, LogError, LogResult, Subscription,
    TopicPartition,
};

/// Records one poll returns at most, unless `max.poll.records` says otherwise.
const DEFAULT_MAX_POLL_RECORDS: usize = 2000;

/// A member of a consumer group of the embedded log.
pub(crate) struct EmbeddedConsumer {
    shared: Arc<Shared>,
    group: String,
    client_id: String,
    member: u64,
    joined: bool,
    /// Assigned partitions and the next offset to read from each.
    positions: BTreeMap<TopicPartition, i64>,
    paused: HashSet<TopicPartition>,
    /// Rotates which partition is read first, for fairness.
    cursor: usize,
    max_poll_records: usize,
}

impl EmbeddedConsumer {
    pub(crate) fn new(shared: Arc<Shared>, config: ConsumerConfig) -> LogResult<EmbeddedConsumer> {
        let max_poll_records = match config.properties.get("max.poll.records") {
            None => DEFAULT_MAX_POLL_RECORDS,
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    LogError::Invalid(format!(
                        "Invalid value {v} for configuration max.poll.records: Value must be at least 1"
                    ))
                })?,
        };
        let member = shared.next_member_id();
        Ok(EmbeddedConsumer {
            shared,
            group: config.group_id,
            client_id: config.client_id,
            member,
            joined: false,
            positions: BTreeMap::new(),
            paused: HashSet::new(),
            cursor: 0,
            max_poll_records,
        })
    }

    /// The next membership change for this member (revocations before assignments), if any.
    fn membership_event(&mut self) -> Option<ConsumerEvent> {
        let version = self.shared.topics_version.load(Ordering::SeqCst);
        let member = self.member;
        let shared = self.shared.clone();
        let (change, released, committed) = shared.with_group(&self.group, |g| {
            if g.assigned_for != Some(version) {
                g.rebalance(&shared.topic_counts(), version);
            }
            let (change, released) = g.next_change(member);
            let committed: HashMap<TopicPartition, i64> = match &change {
                Some(Change::Assigned(tps)) => tps
                    .iter()
                    .filter_map(|tp| g.committed.get(tp).map(|o| (tp.clone(), *o)))
                    .collect(),
                _ => HashMap::new(),
            };
            (change, released, committed)
        });
        if released {
            self.shared.bg.data.notify_waiters();
        }
        match change? {
            Change::Revoked(tps) => {
                for tp in &tps {
                    self.positions.remove(tp);
                    self.paused.remove(tp);
                }
                tracing::debug!(group = %self.group, client_id = %self.client_id, partitions = ?tps, "Embedded log consumer partitions revoked.");
                Some(ConsumerEvent::Revoked(tps))
            }
            Change::Assigned(tps) => {
                for tp in &tps {
                    let start = match committed.get(tp) {
                        Some(o) => *o,
                        None => self.shared.partition(tp).map_or(0, |p| p.start_offset()),
                    };
                    self.positions.insert(tp.clone(), start);
                }
                tracing::debug!(group = %self.group, client_id = %self.client_id, partitions = ?tps, "Embedded log consumer partitions assigned.");
                Some(ConsumerEvent::Assigned(tps))
            }
        }
    }

    /// Reads up to `max` records of one partition into `out`; returns how many.
    fn fetch(
        &mut self,
        tp: &TopicPartition,
        max: usize,
        out: &mut Vec<ConsumerRecord>,
    ) -> LogResult<usize> {
        let (Some(partition), Some(&position)) =
            (self.shared.partition(tp), self.positions.get(tp))
        else {
            return Ok(0);
        };
        let mut fetch = partition.read(position, max)?;
        if let Some(reset) = fetch.reset_to {
            tracing::warn!(
                group = %self.group,
                partition = %tp,
                position,
                reset_to = reset,
                "Consumer position is outside the embedded log; resetting it."
            );
            self.positions.insert(tp.clone(), reset);
            fetch = partition.read(reset, max)?;
        }
        if let Some(last) = fetch.records.last() {
            self.positions.insert(tp.clone(), last.offset + 1);
        }
        let n = fetch.records.len();
        out.append(&mut fetch.records);
        Ok(n)
    }

    /// Reads from the assigned, unpaused partitions: an equal share each (starting with a different
    /// partition every time), then whatever room is left to those that had more.
    fn read(&mut self) -> LogResult<Vec<ConsumerRecord>> {
        let tps: Vec<TopicPartition> = self
            .positions
            .keys()
            .filter(|tp| !self.paused.contains(*tp))
            .cloned()
            .collect();
        if tps.is_empty() {
            return Ok(Vec::new());
        }
        let n = tps.len();
        let max = self.max_poll_records;
        self.cursor = self.cursor.wrapping_add(1);
        let quota = max.div_ceil(n).max(1);
        let mut out = Vec::new();
        let mut full = Vec::new();
        let order: Vec<usize> = (0..n).map(|k| (self.cursor + k) % n).collect();
        for pass in 0..2 {
            let candidates = if pass == 0 {
                order.clone()
            } else {
                std::mem::take(&mut full)
            };
            for i in candidates {
                if out.len() >= max {
                    break;
                }
                let want = if pass == 0 {
                    quota.min(max - out.len())
                } else {
                    max - out.len()
                };
                match self.fetch(&tps[i], want, &mut out) {
                    Ok(got) if got == want && pass == 0 => full.push(i),
                    Ok(_) => {}
                    // Hand out what was read; the failing partition reports again on the next poll.
                    Err(e) if out.is_empty() => return Err(e),
                    Err(e) => {
                        tracing::warn!(partition = %tps[i], error = %e, "Failed to read from the embedded log.");
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }

    fn leave(&mut self) {
        if !self.joined {
            return;
        }
        self.joined = false;
        let member = self.member;
        self.shared.with_group(&self.group, |g| {
            g.members.remove(&member);
            g.assigned_for = None;
        });
        self.positions.clear();
        self.paused.clear();
        self.shared.bg.data.notify_waiters();
    }

    fn check_group(&self) -> LogResult<()> {
        if self.group.is_empty() {
            return Err(LogError::Invalid(
                "To use the group management or offset commit APIs, you must provide a valid group.id in the consumer configuration.".into(),
            ));
        }
        Ok(())
    }
}

impl Drop for EmbeddedConsumer {
    fn drop(&mut self) {
        self.leave();
    }
}

#[async_trait]
impl LogConsumer for EmbeddedConsumer {
    async fn subscribe(&mut self, subscription: Subscription) -> LogResult<()> {
        self.check_group()?;
        if let Subscription::Topics(topics) = &subscription {
            for t in topics {
                validate_topic_name(t)?;
            }
            for t in topics {
                self.shared.topic_or_create(t)?;
            }
        }
        let member = self.member;
        let subscribed = Subscribed::new(subscription);
        self.shared.with_group(&self.group, |g| {
            g.members
                .entry(member)
                .or_insert_with(Member::default)
                .subscription = Some(subscribed);
            g.assigned_for = None;
        });
        self.joined = true;
        self.shared.bg.data.notify_waiters();
        Ok(())
    }

    async fn poll(&mut self, timeout: Duration) -> LogResult<Option<ConsumerEvent>> {
        let deadline = tokio::time::Instant::now() + timeout;
        let shared = self.shared.clone();
        loop {
            // Registered before looking, so a change made while looking still wakes this poll.
            let notified = shared.bg.data.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.joined
                && let Some(event) = self.membership_event()
            {
                return Ok(Some(event));
            }
            let records = self.read()?;
            if !records.is_empty() {
                return Ok(Some(ConsumerEvent::Records(records)));
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(None);
            }
        }
    }

    fn assignment(&self) -> Vec<TopicPartition> {
        self.positions.keys().cloned().collect()
    }

    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> LogResult<()> {
        if offset < 0 {
            return Err(LogError::Invalid(format!(
                "Seek offset must not be a negative number (partition {tp}, offset {offset})"
            )));
        }
        match self.positions.get_mut(tp) {
            Some(p) => {
                *p = offset;
                Ok(())
            }
            None => Err(LogError::Invalid(format!(
                "No current assignment for partition {tp}"
            ))),
        }
    }

    fn position(&self, tp: &TopicPartition) -> Option<i64> {
        self.positions.get(tp).copied()
    }

    fn pause(&mut self, partitions: &[TopicPartition]) {
        self.paused.extend(
            partitions
                .iter()
                .filter(|tp| self.positions.contains_key(*tp))
                .cloned()
                .collect::<Vec<_>>(),
        );
    }

    fn resume(&mut self, partitions: &[TopicPartition]) {
        for p in partitions {
            self.paused.remove(p);
        }
    }

    async fn commit(&mut self, offsets: &HashMap<TopicPartition, i64>) -> LogResult<()> {
        if offsets.is_empty() {
            return Ok(());
        }
        self.check_group()?;
        if let Some((tp, o)) = offsets.iter().find(|(tp, o)| **o < 0 || tp.partition < 0) {
            return Err(LogError::Invalid(format!(
                "Invalid offset {o} for partition {tp}"
            )));
        }
        let member = self.member;
        self.shared
            .update_offsets(&self.group, |g| {
                if let Some(tp) = offsets.keys().find(|tp| g.held_by_other(member, tp)) {
                    return Err(LogError::Invalid(format!(
                        "Commit cannot be completed since the group has already rebalanced and assigned partition {tp} to another member"
                    )));
                }
                let mut next = g.committed.clone();
                next.extend(offsets.iter().map(|(tp, o)| (tp.clone(), *o)));
                Ok(next)
            })
            .await
    }

    async fn committed(
        &self,
        partitions: &[TopicPartition],
    ) -> LogResult<HashMap<TopicPartition, i64>> {
        Ok(self.shared.with_group(&self.group, |g| {
            partitions
                .iter()
                .filter_map(|tp| g.committed.get(tp).map(|o| (tp.clone(), *o)))
                .collect()
        }))
    }

    async fn close(&mut self) -> LogResult<()> {
        self.leave();
        Ok(())
    }
}
