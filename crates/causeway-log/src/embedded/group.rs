//! Consumer groups of the embedded log: membership, range assignment and committed offsets.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{LogError, LogResult, Subscription, TopicPartition};

/// What one member owns and what it has still to be told.
#[derive(Default)]
pub(crate) struct Member {
    pub(crate) subscription: Option<Subscription>,
    /// Partitions the current assignment gives this member.
    pub(crate) target: BTreeSet<TopicPartition>,
    /// Partitions the member has been told it owns.
    pub(crate) owned: BTreeSet<TopicPartition>,
    /// Revoked partitions whose release waits for the member's next poll (so it can commit first).
    pub(crate) releasing: BTreeSet<TopicPartition>,
}

/// One group.
pub(crate) struct Group {
    pub(crate) members: BTreeMap<u64, Member>,
    pub(crate) committed: HashMap<TopicPartition, i64>,
    /// Topic-set version the targets were computed for.
    pub(crate) topics_version: u64,
}

/// File format: one line per partition, `<offset> <partition> <topic>` (topic last: it may contain spaces? no,
/// but it is the only unbounded field).
fn parse(text: &str) -> HashMap<TopicPartition, i64> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ' ');
            let off = it.next()?.parse().ok()?;
            let p = it.next()?.parse().ok()?;
            let t = it.next()?;
            Some((TopicPartition::new(t, p), off))
        })
        .collect()
}

impl Group {
    pub(crate) fn load(path: PathBuf) -> Group {
        let committed = std::fs::read_to_string(&path)
            .map(|t| parse(&t))
            .unwrap_or_default();
        Group {
            members: BTreeMap::new(),
            committed,
            topics_version: u64::MAX,
        }
    }

    /// Recomputes every member's target: all partitions of the subscribed topics, range-assigned over the
    /// members in id order (Kafka's RangeAssignor, per topic).
    pub(crate) fn rebalance(&mut self, topics: &BTreeMap<String, i32>, version: u64) {
        self.topics_version = version;
        let ids: Vec<u64> = self.members.keys().copied().collect();
        let mut targets: BTreeMap<u64, BTreeSet<TopicPartition>> =
            ids.iter().map(|i| (*i, BTreeSet::new())).collect();
        for (topic, parts) in topics {
            let subscribers: Vec<u64> = ids
                .iter()
                .copied()
                .filter(|id| {
                    self.members[id]
                        .subscription
                        .as_ref()
                        .is_some_and(|s| match s {
                            Subscription::Topics(t) => t.contains(topic),
                            Subscription::Pattern(re) => re.is_match(topic),
                        })
                })
                .collect();
            if subscribers.is_empty() {
                continue;
            }
            let n = subscribers.len() as i32;
            let per = *parts / n;
            let extra = *parts % n;
            let mut p = 0;
            for (i, id) in subscribers.iter().enumerate() {
                let count = per + i32::from((i as i32) < extra);
                for _ in 0..count {
                    targets
                        .get_mut(id)
                        .expect("member")
                        .insert(TopicPartition::new(topic.clone(), p));
                    p += 1;
                }
            }
        }
        for (id, t) in targets {
            if let Some(m) = self.members.get_mut(&id) {
                m.target = t;
            }
        }
    }

    /// Whether a partition is owned (or being released) by any member.
    pub(crate) fn is_owned(&self, tp: &TopicPartition) -> bool {
        self.members
            .values()
            .any(|m| m.owned.contains(tp) || m.releasing.contains(tp))
    }
}

pub(crate) fn write_atomic(path: &Path, text: &str) -> LogResult<()> {
    let dir = path
        .parent()
        .ok_or_else(|| LogError::Fatal("offsets path has no directory".into()))?;
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
