//! Consumer groups of the embedded log: membership, range assignment and committed offsets.
//!
//! Assignment is recomputed whenever membership, a subscription or the set of topics changes. A member
//! learns of it on its next poll: first the partitions it must give up ([`Change::Revoked`]), which stay
//! reserved for it until its following poll (so it can commit them), then the partitions it gains
//! ([`Change::Assigned`]), handed out only once no other member holds or is releasing them. A partition is
//! therefore never owned by two members at once.
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{Subscription, TopicPartition};

/// A member's subscription, ready for matching.
pub(crate) enum Subscribed {
    Topics(BTreeSet<String>),
    /// Anchored at both ends (Java's `matches()`).
    Pattern(regex::Regex),
}

impl Subscribed {
    pub(crate) fn new(subscription: Subscription) -> Subscribed {
        match subscription {
            Subscription::Topics(t) => Subscribed::Topics(t.into_iter().collect()),
            Subscription::Pattern(re) => {
                let anchored = regex::Regex::new(&format!(r"\A(?:{})\z", re.as_str()));
                Subscribed::Pattern(anchored.unwrap_or(re))
            }
        }
    }

    pub(crate) fn matches(&self, topic: &str) -> bool {
        match self {
            Subscribed::Topics(t) => t.contains(topic),
            Subscribed::Pattern(re) => re.is_match(topic),
        }
    }
}

/// What one member subscribed to, owns and has still to be told.
#[derive(Default)]
pub(crate) struct Member {
    pub(crate) subscription: Option<Subscribed>,
    /// Partitions the current assignment gives this member.
    target: BTreeSet<TopicPartition>,
    /// Partitions the member has been told it owns.
    owned: BTreeSet<TopicPartition>,
    /// Revoked partitions whose release waits for the member's next poll (so it can commit first).
    releasing: BTreeSet<TopicPartition>,
}

/// A membership change to tell a member.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Change {
    Revoked(Vec<TopicPartition>),
    Assigned(Vec<TopicPartition>),
}

/// One consumer group.
pub(crate) struct Group {
    pub(crate) members: BTreeMap<u64, Member>,
    pub(crate) committed: HashMap<TopicPartition, i64>,
    /// The topic-set version the targets were computed for; `None` forces a recomputation.
    pub(crate) assigned_for: Option<u64>,
    /// Serialises writes of the offsets file.
    pub(crate) write_lock: Arc<tokio::sync::Mutex<()>>,
}

impl Group {
    pub(crate) fn new(committed: HashMap<TopicPartition, i64>) -> Group {
        Group {
            members: BTreeMap::new(),
            committed,
            assigned_for: None,
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Recomputes every member's target: the partitions of the topics it subscribes to, range-assigned per
    /// topic over the subscribed members in id order (Kafka's RangeAssignor).
    pub(crate) fn rebalance(&mut self, topics: &BTreeMap<String, i32>, version: u64) {
        self.assigned_for = Some(version);
        let mut targets: BTreeMap<u64, BTreeSet<TopicPartition>> = self
            .members
            .keys()
            .map(|id| (*id, BTreeSet::new()))
            .collect();
        for (topic, &partitions) in topics {
            let subscribers: Vec<u64> = self
                .members
                .iter()
                .filter(|(_, m)| m.subscription.as_ref().is_some_and(|s| s.matches(topic)))
                .map(|(id, _)| *id)
                .collect();
            if subscribers.is_empty() || partitions <= 0 {
                continue;
            }
            let n = subscribers.len() as i32;
            let (per, extra) = (partitions / n, partitions % n);
            let mut next = 0;
            for (i, id) in subscribers.iter().enumerate() {
                let count = per + i32::from((i as i32) < extra);
                if let Some(t) = targets.get_mut(id) {
                    t.extend((next..next + count).map(|p| TopicPartition::new(topic.clone(), p)));
                }
                next += count;
            }
        }
        for (id, t) in targets {
            if let Some(m) = self.members.get_mut(&id) {
                m.target = t;
            }
        }
    }

    /// Whether a member other than `member` owns or is releasing `tp`.
    pub(crate) fn held_by_other(&self, member: u64, tp: &TopicPartition) -> bool {
        self.members
            .iter()
            .any(|(id, m)| *id != member && (m.owned.contains(tp) || m.releasing.contains(tp)))
    }

    /// The next change to tell `member`, and whether partitions it was releasing just became free.
    pub(crate) fn next_change(&mut self, member: u64) -> (Option<Change>, bool) {
        let Some(m) = self.members.get_mut(&member) else {
            return (None, false);
        };
        let released = !m.releasing.is_empty();
        m.releasing.clear();
        let revoke: Vec<TopicPartition> = m.owned.difference(&m.target).cloned().collect();
        if !revoke.is_empty() {
            for tp in &revoke {
                m.owned.remove(tp);
            }
            m.releasing = revoke.iter().cloned().collect();
            return (Some(Change::Revoked(revoke)), released);
        }
        let wanted: Vec<TopicPartition> = m.target.difference(&m.owned).cloned().collect();
        let free: Vec<TopicPartition> = wanted
            .into_iter()
            .filter(|tp| !self.held_by_other(member, tp))
            .collect();
        if free.is_empty() {
            return (None, released);
        }
        if let Some(m) = self.members.get_mut(&member) {
            m.owned.extend(free.iter().cloned());
        }
        (Some(Change::Assigned(free)), released)
    }
}

/// FNV-1a, 64 bits: stable across builds, for shortening long file names.
fn fnv1a64(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The offsets file name of a group: `[A-Za-z0-9._-]` kept (except a leading `.`), other bytes as `%XX`;
/// names longer than 200 bytes are cut and suffixed with `~` and a hash. The file also stores the group id.
pub(crate) fn group_file_name(group: &str) -> String {
    let mut enc = String::with_capacity(group.len());
    for (i, b) in group.bytes().enumerate() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && i > 0) {
            enc.push(b as char);
        } else {
            let _ = write!(enc, "%{b:02X}");
        }
    }
    if enc.is_empty() {
        enc.push('%');
    }
    if enc.len() > 200 {
        let mut cut = 180;
        if let Some(p) = enc[..cut].rfind('%')
            && p + 3 > cut
        {
            cut = p;
        }
        enc.truncate(cut);
        let _ = write!(enc, "~{:016x}", fnv1a64(group.as_bytes()));
    }
    enc + ".offsets"
}

#[derive(Serialize, Deserialize)]
struct OffsetsFile {
    group: String,
    offsets: Vec<OffsetEntry>,
}

#[derive(Serialize, Deserialize)]
struct OffsetEntry {
    topic: String,
    partition: i32,
    offset: i64,
}

/// Committed offsets of `group` stored at `path`; empty (with a warning when the file is damaged) if there
/// are none.
pub(crate) fn load_offsets(path: &Path, group: &str) -> HashMap<TopicPartition, i64> {
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return HashMap::new(),
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "Cannot read committed offsets of a consumer group; starting without them.");
            return HashMap::new();
        }
    };
    match serde_json::from_slice::<OffsetsFile>(&data) {
        Ok(f) if f.group == group => f
            .offsets
            .into_iter()
            .filter(|e| e.partition >= 0 && e.offset >= 0)
            .map(|e| (TopicPartition::new(e.topic, e.partition), e.offset))
            .collect(),
        Ok(f) => {
            tracing::warn!(file = %path.display(), expected = group, found = %f.group, "Committed offsets file belongs to another consumer group; ignoring it.");
            HashMap::new()
        }
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "Committed offsets file of a consumer group is damaged; ignoring it.");
            HashMap::new()
        }
    }
}

/// The offsets file content: JSON, partitions sorted.
pub(crate) fn render_offsets(group: &str, committed: &HashMap<TopicPartition, i64>) -> Vec<u8> {
    let mut entries: Vec<(&TopicPartition, &i64)> = committed.iter().collect();
    entries.sort();
    let file = OffsetsFile {
        group: group.to_owned(),
        offsets: entries
            .into_iter()
            .map(|(tp, o)| OffsetEntry {
                topic: tp.topic.clone(),
                partition: tp.partition,
                offset: *o,
            })
            .collect(),
    };
    let mut out = serde_json::to_vec_pretty(&file).unwrap_or_default();
    out.push(b'\n');
    out
}

/// Replaces `path` atomically and durably: writes a temporary file, fsyncs it, renames it over `path` and
/// fsyncs the directory.
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("path has no parent directory"))?;
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Removes `path` (if present) durably.
pub(crate) fn remove_durably(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    }
    match path.parent() {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(t: &str, p: i32) -> TopicPartition {
        TopicPartition::new(t, p)
    }

    #[test]
    fn file_names_are_safe_and_distinct() {
        assert_eq!(group_file_name("connect-sink"), "connect-sink.offsets");
        assert_eq!(group_file_name("a/b c"), "a%2Fb%20c.offsets");
        assert_eq!(group_file_name(".."), "%2E..offsets");
        assert_eq!(group_file_name("."), "%2E.offsets");
        assert_eq!(group_file_name(""), "%.offsets");
        assert_eq!(group_file_name("é"), "%C3%A9.offsets");
        let long = "x".repeat(300);
        let other = format!("{}y", "x".repeat(299));
        let (a, b) = (group_file_name(&long), group_file_name(&other));
        assert!(a.len() < 255 && b.len() < 255);
        assert_ne!(a, b);
        let escaped = "/".repeat(100);
        assert!(!group_file_name(&escaped).contains("%~"));
        assert!(group_file_name(&escaped).len() < 255);
    }

    #[test]
    fn range_assignment_and_handover() {
        let topics = BTreeMap::from([("t".to_owned(), 5), ("u".to_owned(), 1)]);
        let mut g = Group::new(HashMap::new());
        g.members.insert(
            1,
            Member {
                subscription: Some(Subscribed::new(Subscription::Topics(vec![
                    "t".into(),
                    "u".into(),
                ]))),
                ..Member::default()
            },
        );
        g.rebalance(&topics, 0);
        let (c, _) = g.next_change(1);
        assert_eq!(
            c,
            Some(Change::Assigned(vec![
                tp("t", 0),
                tp("t", 1),
                tp("t", 2),
                tp("t", 3),
                tp("t", 4),
                tp("u", 0)
            ]))
        );
        g.members.insert(
            2,
            Member {
                subscription: Some(Subscribed::new(Subscription::Topics(vec!["t".into()]))),
                ..Member::default()
            },
        );
        g.rebalance(&topics, 0);
        // Member 2 waits: member 1 still owns everything.
        assert_eq!(g.next_change(2), (None, false));
        assert_eq!(
            g.next_change(1),
            (Some(Change::Revoked(vec![tp("t", 3), tp("t", 4)])), false)
        );
        // Revoked but not yet released (member 1 has not polled again).
        assert_eq!(g.next_change(2), (None, false));
        assert_eq!(g.next_change(1), (None, true));
        assert_eq!(
            g.next_change(2),
            (Some(Change::Assigned(vec![tp("t", 3), tp("t", 4)])), false)
        );
        assert!(g.held_by_other(1, &tp("t", 3)));
        assert!(!g.held_by_other(2, &tp("t", 3)));
    }

    #[test]
    fn patterns_match_whole_names() {
        let sub = |re: &str| Subscribed::new(Subscription::Pattern(regex::Regex::new(re).unwrap()));
        let s = sub("orders|orders-.*");
        assert!(s.matches("orders"));
        assert!(s.matches("orders-eu"));
        assert!(!s.matches("old-orders"));
        assert!(!sub("a").matches("aa"));
        assert!(sub("a").matches("a"));
        assert!(sub("^(?:orders-.*)$").matches("orders-eu"));
        assert!(!sub("(?m)a$").matches("a\nb"));
    }

    #[test]
    fn offsets_files_round_trip_and_tolerate_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(group_file_name("g"));
        let offsets = HashMap::from([(tp("t", 0), 5), (tp("t", 1), 7)]);
        write_atomic(&path, &render_offsets("g", &offsets)).unwrap();
        assert_eq!(load_offsets(&path, "g"), offsets);
        assert!(load_offsets(&path, "other").is_empty());
        std::fs::write(&path, b"{garbage").unwrap();
        assert!(load_offsets(&path, "g").is_empty());
        remove_durably(&path).unwrap();
        remove_durably(&path).unwrap();
        assert!(load_offsets(&path, "g").is_empty());
    }
}
