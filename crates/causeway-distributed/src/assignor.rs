//! The leader-side assignors of the `connect` group, as Apache Kafka Connect 4.x runs them: the
//! [`EagerAssignor`] (protocol `default`: everything revoked and re-spread round-robin every rebalance)
//! and the [`IncrementalCooperativeAssignor`] (KIP-415, protocols `compatible`/`sessioned`: only
//! deleted, duplicated or excess items are revoked, departed workers' items wait up to
//! `scheduled.rebalance.max.delay.ms` for them to return).
//!
//! Pure: the caller passes the members' decoded metadata, the leader's config snapshot, a way to take a
//! fresh snapshot, the generation ids and the current time; the incremental assignor keeps its memory
//! across rounds in itself. Iteration orders that decide who keeps or receives what (Java `HashMap`/
//! `HashSet` orders, `String.compareTo` sorting) are reproduced so the results match Apache's.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;

use crate::protocol::{
    CONFIG_MISMATCH, ConnectProtocolCompatibility, ConnectorTaskId, ExtendedAssignment,
    ExtendedWorkerState, JAVA_DEFAULT_TABLE_SIZE, NO_ERROR, ProtocolError, encode_assignment,
    hash_set_from_collection_capacity, java_hash_iteration_order, java_string_cmp,
    java_string_hash,
};

/// The part of the leader's config snapshot (`ClusterConfigState`) the assignors read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigSnapshot {
    /// Config-topic offset the snapshot was taken at.
    pub offset: i64,
    /// Every connector that has a config, with its number of tasks. Pass 0 for connectors without task
    /// configs yet and for inconsistent connectors (Apache's `tasks()` is empty for them).
    pub task_counts: BTreeMap<String, u32>,
}

impl ConfigSnapshot {
    /// Connector names sorted like Java strings.
    fn sorted_connectors(&self) -> Vec<String> {
        let mut connectors: Vec<String> = self.task_counts.keys().cloned().collect();
        connectors.sort_by(|a, b| java_string_cmp(a, b));
        connectors
    }

    fn tasks(&self, connector: &str) -> Vec<ConnectorTaskId> {
        let count = self.task_counts.get(connector).copied().unwrap_or(0);
        (0..count.min(i32::MAX as u32) as i32)
            .map(|task| ConnectorTaskId::new(connector, task))
            .collect()
    }
}

/// A group member as the JoinGroup response lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMember {
    /// Broker-assigned member id.
    pub member_id: String,
    /// The member's decoded metadata (see [`crate::protocol::decode_metadata`]).
    pub state: ExtendedWorkerState,
}

/// What the leader knows when it computes an assignment.
#[derive(Debug, Clone, Copy)]
pub struct RebalanceContext<'a> {
    /// The leader's member id (this worker).
    pub leader_id: &'a str,
    /// The sub-protocol the coordinator chose (`default`, `compatible` or `sessioned`).
    pub protocol: &'a str,
    /// All members, in the JoinGroup response's order.
    pub members: &'a [GroupMember],
    /// The leader's config snapshot taken when it joined.
    pub snapshot: &'a ConfigSnapshot,
    /// Generation of the last rebalance this worker completed (-1 if none).
    pub last_completed_generation_id: i32,
    /// The generation being assigned.
    pub generation_id: i32,
    /// Current time in milliseconds.
    pub now_ms: i64,
}

/// Who runs what after an assignment, for forwarding requests to owners (Apache's `LeaderState`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaderState {
    /// Every member's REST URL.
    pub member_urls: BTreeMap<String, String>,
    /// Connector → member running it.
    pub connector_owners: BTreeMap<String, String>,
    /// Task → member running it.
    pub task_owners: BTreeMap<ConnectorTaskId, String>,
}

impl LeaderState {
    /// REST URL of the member running `connector`.
    pub fn connector_owner_url(&self, connector: &str) -> Option<&str> {
        let owner = self.connector_owners.get(connector)?;
        self.member_urls.get(owner).map(String::as_str)
    }

    /// REST URL of the member running `task`.
    pub fn task_owner_url(&self, task: &ConnectorTaskId) -> Option<&str> {
        let owner = self.task_owners.get(task)?;
        self.member_urls.get(owner).map(String::as_str)
    }
}

/// The result of one assignment round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAssignment {
    /// The sub-protocol the assignments are for.
    pub protocol: ConnectProtocolCompatibility,
    /// Each member's assignment.
    pub assignments: BTreeMap<String, ExtendedAssignment>,
    /// Owners after this round; `None` when the leader's config was behind (`CONFIG_MISMATCH`).
    pub leader_state: Option<LeaderState>,
    /// The fresh snapshot the leader had to take because its own was behind a member's; the caller
    /// should keep it as its snapshot (Apache's `coordinator.configSnapshot(updatedSnapshot)`).
    pub refreshed_snapshot: Option<ConfigSnapshot>,
}

impl GroupAssignment {
    /// The SyncGroup payload for every member.
    pub fn encode(&self) -> Result<BTreeMap<String, Vec<u8>>, ProtocolError> {
        self.assignments
            .iter()
            .map(|(member, assignment)| {
                Ok((
                    member.clone(),
                    encode_assignment(assignment, self.protocol)?,
                ))
            })
            .collect()
    }
}

/// Why no assignment could be computed (Apache fails the rebalance with an exception in these cases).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssignorError {
    /// The JoinGroup response listed no members.
    #[error("no members to assign to")]
    NoMembers,
    /// The leader is not among the members.
    #[error("leader {0} is not a member of the group")]
    UnknownLeader(String),
    /// The chosen sub-protocol is unknown or does not belong to this assignor.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}

/// A leader-side assignor (Apache's `ConnectAssignor`).
pub trait ConnectAssignor {
    /// Computes every member's assignment. `fresh_snapshot` is called at most once, when the leader's
    /// snapshot is behind some member's config offset.
    fn perform_assignment(
        &mut self,
        context: &RebalanceContext<'_>,
        fresh_snapshot: &mut dyn FnMut() -> ConfigSnapshot,
    ) -> Result<GroupAssignment, AssignorError>;
}

/// Outcome of the leader's config-offset check (Apache's `ensureLeaderConfig`).
enum LeaderConfig {
    /// Assign at `offset` using `snapshot`.
    Ready {
        offset: i64,
        snapshot: ConfigSnapshot,
        refreshed: bool,
    },
    /// The leader is behind `max_offset` even after refreshing.
    Behind { max_offset: i64 },
}

fn check_leader_config(
    context: &RebalanceContext<'_>,
    fresh_snapshot: &mut dyn FnMut() -> ConfigSnapshot,
) -> Result<(String, LeaderConfig), AssignorError> {
    let max_offset = context
        .members
        .iter()
        .map(|m| m.state.config_offset)
        .max()
        .ok_or(AssignorError::NoMembers)?;
    let leader_url = context
        .members
        .iter()
        .find(|m| m.member_id == context.leader_id)
        .map(|m| m.state.url.clone())
        .ok_or_else(|| AssignorError::UnknownLeader(context.leader_id.to_string()))?;
    if context.snapshot.offset >= max_offset {
        // Apache assigns at the members' maximum here, not at the leader's own offset.
        return Ok((
            leader_url,
            LeaderConfig::Ready {
                offset: max_offset,
                snapshot: context.snapshot.clone(),
                refreshed: false,
            },
        ));
    }
    let fresh = fresh_snapshot();
    if fresh.offset < max_offset {
        return Ok((leader_url, LeaderConfig::Behind { max_offset }));
    }
    Ok((
        leader_url,
        LeaderConfig::Ready {
            offset: fresh.offset,
            snapshot: fresh,
            refreshed: true,
        },
    ))
}

fn mismatch_assignment(
    context: &RebalanceContext<'_>,
    protocol: ConnectProtocolCompatibility,
    leader_url: &str,
    max_offset: i64,
) -> GroupAssignment {
    let assignments = context
        .members
        .iter()
        .map(|m| {
            let assignment = ExtendedAssignment {
                version: protocol.protocol_version(),
                error: CONFIG_MISMATCH,
                leader: context.leader_id.to_string(),
                leader_url: leader_url.to_string(),
                config_offset: max_offset,
                connectors: Vec::new(),
                tasks: Vec::new(),
                revoked_connectors: Vec::new(),
                revoked_tasks: Vec::new(),
                delay: 0,
            };
            (m.member_id.clone(), assignment)
        })
        .collect();
    GroupAssignment {
        protocol,
        assignments,
        leader_state: None,
        refreshed_snapshot: None,
    }
}

fn member_urls(context: &RebalanceContext<'_>) -> BTreeMap<String, String> {
    context
        .members
        .iter()
        .map(|m| (m.member_id.clone(), m.state.url.clone()))
        .collect()
}

/// The eager assignor (protocol `default`, Apache's `EagerAssignor`): every member gets a complete
/// assignment; connectors (sorted) then tasks (by connector, then task number) are dealt round-robin
/// over the members sorted by id, one iterator throughout.
#[derive(Debug, Clone, Copy, Default)]
pub struct EagerAssignor;

impl ConnectAssignor for EagerAssignor {
    fn perform_assignment(
        &mut self,
        context: &RebalanceContext<'_>,
        fresh_snapshot: &mut dyn FnMut() -> ConfigSnapshot,
    ) -> Result<GroupAssignment, AssignorError> {
        let protocol = ConnectProtocolCompatibility::Eager;
        let (leader_url, leader_config) = check_leader_config(context, fresh_snapshot)?;
        let (offset, snapshot, refreshed) = match leader_config {
            LeaderConfig::Behind { max_offset } => {
                return Ok(mismatch_assignment(
                    context,
                    protocol,
                    &leader_url,
                    max_offset,
                ));
            }
            LeaderConfig::Ready {
                offset,
                snapshot,
                refreshed,
            } => (offset, snapshot, refreshed),
        };
        let mut members: Vec<&str> = context
            .members
            .iter()
            .map(|m| m.member_id.as_str())
            .collect();
        members.sort_by(|a, b| java_string_cmp(a, b));
        members.dedup();
        let mut connectors: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut tasks: BTreeMap<&str, Vec<ConnectorTaskId>> = BTreeMap::new();
        let mut next_member = members.iter().cycle();
        let sorted_connectors = snapshot.sorted_connectors();
        let mut leader_state = LeaderState {
            member_urls: member_urls(context),
            ..LeaderState::default()
        };
        for connector in &sorted_connectors {
            if let Some(member) = next_member.next() {
                connectors
                    .entry(member)
                    .or_default()
                    .push(connector.clone());
                leader_state
                    .connector_owners
                    .insert(connector.clone(), member.to_string());
            }
        }
        for connector in &sorted_connectors {
            for task in snapshot.tasks(connector) {
                if let Some(member) = next_member.next() {
                    leader_state
                        .task_owners
                        .insert(task.clone(), member.to_string());
                    tasks.entry(member).or_default().push(task);
                }
            }
        }
        let assignments = context
            .members
            .iter()
            .map(|m| {
                let id = m.member_id.as_str();
                let assignment = ExtendedAssignment {
                    version: protocol.protocol_version(),
                    error: NO_ERROR,
                    leader: context.leader_id.to_string(),
                    leader_url: leader_url.clone(),
                    config_offset: offset,
                    connectors: connectors.get(id).cloned().unwrap_or_default(),
                    tasks: tasks.get(id).cloned().unwrap_or_default(),
                    revoked_connectors: Vec::new(),
                    revoked_tasks: Vec::new(),
                    delay: 0,
                };
                (m.member_id.clone(), assignment)
            })
            .collect();
        Ok(GroupAssignment {
            protocol,
            assignments,
            leader_state: Some(leader_state),
            refreshed_snapshot: refreshed.then_some(snapshot),
        })
    }
}

/// An insertion-ordered set (Java's `LinkedHashSet`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct OrderedSet<T: Clone + Eq + Hash> {
    items: Vec<T>,
    index: HashSet<T>,
}

impl<T: Clone + Eq + Hash> Default for OrderedSet<T> {
    fn default() -> Self {
        OrderedSet {
            items: Vec::new(),
            index: HashSet::new(),
        }
    }
}

impl<T: Clone + Eq + Hash> OrderedSet<T> {
    fn from_items<'a>(items: impl IntoIterator<Item = &'a T>) -> Self
    where
        T: 'a,
    {
        let mut set = Self::default();
        set.extend(items);
        set
    }

    fn insert(&mut self, item: T) {
        if self.index.insert(item.clone()) {
            self.items.push(item);
        }
    }

    fn extend<'a>(&mut self, items: impl IntoIterator<Item = &'a T>)
    where
        T: 'a,
    {
        for item in items {
            self.insert(item.clone());
        }
    }

    fn contains(&self, item: &T) -> bool {
        self.index.contains(item)
    }

    fn remove_all<'a>(&mut self, items: impl IntoIterator<Item = &'a T>)
    where
        T: 'a,
    {
        let mut removed = false;
        for item in items {
            removed |= self.index.remove(item);
        }
        if removed {
            let index = &self.index;
            self.items.retain(|item| index.contains(item));
        }
    }

    fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Apache's `ConnectorsAndTasks`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ConnectorsAndTasks {
    connectors: OrderedSet<String>,
    tasks: OrderedSet<ConnectorTaskId>,
}

impl ConnectorsAndTasks {
    fn is_empty(&self) -> bool {
        self.connectors.is_empty() && self.tasks.is_empty()
    }

    fn add_all(&mut self, other: &ConnectorsAndTasks) {
        self.connectors.extend(other.connectors.iter());
        self.tasks.extend(other.tasks.iter());
    }

    fn remove_all(&mut self, other: &ConnectorsAndTasks) {
        self.connectors.remove_all(other.connectors.iter());
        self.tasks.remove_all(other.tasks.iter());
    }
}

/// Apache's `WorkerLoad`: one worker's items.
#[derive(Debug, Clone)]
struct WorkerLoad {
    worker: String,
    load: ConnectorsAndTasks,
}

/// Per-member results of [`IncrementalCooperativeAssignor`]'s core computation (`ClusterAssignment`).
#[derive(Debug, Default)]
struct WorkerDelta {
    assigned: (Vec<String>, Vec<ConnectorTaskId>),
    revoked: (Vec<String>, Vec<ConnectorTaskId>),
    all: (Vec<String>, Vec<ConnectorTaskId>),
}

/// The incremental cooperative assignor (KIP-415; Apache's `IncrementalCooperativeAssignor`). It keeps
/// memory across rounds (lost when another worker becomes leader), so one instance must be reused for
/// every rebalance this worker leads.
#[derive(Debug, Clone)]
pub struct IncrementalCooperativeAssignor {
    max_delay_ms: i32,
    previous_assignment: ConnectorsAndTasks,
    previous_revocation: ConnectorsAndTasks,
    revoked_in_previous: bool,
    candidate_workers_for_reassignment: OrderedSet<String>,
    scheduled_rebalance: i64,
    delay: i32,
    previous_generation_id: i32,
    previous_members: HashSet<String>,
    num_successive_revoking_rebalances: i64,
}

impl IncrementalCooperativeAssignor {
    /// A fresh assignor; `max_delay_ms` is `scheduled.rebalance.max.delay.ms`.
    pub fn new(max_delay_ms: i32) -> Self {
        IncrementalCooperativeAssignor {
            max_delay_ms,
            previous_assignment: ConnectorsAndTasks::default(),
            previous_revocation: ConnectorsAndTasks::default(),
            revoked_in_previous: false,
            candidate_workers_for_reassignment: OrderedSet::default(),
            scheduled_rebalance: 0,
            delay: 0,
            previous_generation_id: -1,
            previous_members: HashSet::new(),
            num_successive_revoking_rebalances: 0,
        }
    }

    /// The delay (ms) sent with the last assignment; 0 when no rebalance is scheduled.
    pub fn delay(&self) -> i32 {
        self.delay
    }

    /// Absolute time (ms) of the scheduled rebalance; 0 when none is scheduled.
    pub fn scheduled_rebalance(&self) -> i64 {
        self.scheduled_rebalance
    }

    /// Apache's `performTaskAssignment(configSnapshot, lastCompletedGenerationId, currentGenerationId,
    /// memberAssignments)`; `members` are in Java `HashMap` iteration order.
    fn compute(
        &mut self,
        snapshot: &ConfigSnapshot,
        last_completed_generation_id: i32,
        generation_id: i32,
        members: &[(String, ConnectorsAndTasks)],
        now: i64,
    ) -> BTreeMap<String, WorkerDelta> {
        if self.previous_generation_id != last_completed_generation_id {
            // The previous round's sync failed; what we remember may be wrong.
            self.previous_assignment = ConnectorsAndTasks::default();
        }
        let configured_connectors = snapshot.sorted_connectors();
        let configured = ConnectorsAndTasks {
            tasks: OrderedSet::from_items(
                configured_connectors
                    .iter()
                    .flat_map(|c| snapshot.tasks(c))
                    .collect::<Vec<_>>()
                    .iter(),
            ),
            connectors: OrderedSet::from_items(configured_connectors.iter()),
        };
        let mut active = ConnectorsAndTasks::default();
        for (_, load) in members {
            active.add_all(load);
        }
        if !self.previous_revocation.is_empty() {
            // A revocation of the previous round did not take effect: start again from what runs.
            let still_running = self
                .previous_revocation
                .connectors
                .iter()
                .any(|c| active.connectors.contains(c))
                || self
                    .previous_revocation
                    .tasks
                    .iter()
                    .any(|t| active.tasks.contains(t));
            if still_running {
                self.previous_assignment = active.clone();
            }
            self.previous_revocation = ConnectorsAndTasks::default();
        }

        let deleted = sorted_diff(&self.previous_assignment, &[&configured]);
        let duplicated = duplicated_assignments(members);
        let lost = sorted_diff(&self.previous_assignment, &[&active, &deleted]);
        let created = sorted_diff(&configured, &[&self.previous_assignment, &active]);

        let current: HashMap<&str, (Vec<String>, Vec<ConnectorTaskId>)> = members
            .iter()
            .map(|(worker, load)| {
                let connectors = load
                    .connectors
                    .iter()
                    .filter(|c| !deleted.connectors.contains(c))
                    .cloned()
                    .collect();
                let tasks = load
                    .tasks
                    .iter()
                    .filter(|t| !deleted.tasks.contains(t))
                    .cloned()
                    .collect();
                (worker.as_str(), (connectors, tasks))
            })
            .collect();

        let mut to_revoke: HashMap<String, ConnectorsAndTasks> = HashMap::new();
        let deleted_to_revoke = intersection(&deleted, members);
        add_all(&mut to_revoke, &deleted_to_revoke);
        let duplicated_to_revoke = intersection(&duplicated, members);
        add_all(&mut to_revoke, &duplicated_to_revoke);

        let mut next: Vec<WorkerLoad> = members
            .iter()
            .map(|(worker, load)| WorkerLoad {
                worker: worker.clone(),
                load: load.clone(),
            })
            .collect();
        remove_all(&mut next, &deleted_to_revoke);
        remove_all(&mut next, &duplicated_to_revoke);

        let lost_to_reassign = self.handle_lost_assignments(&lost, &mut next, now);

        // No load-balancing revocations while a delayed rebalance is pending.
        if self.delay == 0 {
            let balancing = load_balancing_revocations(&configured, &next);
            if self.revoked_in_previous && !balancing.is_empty() {
                // Successive revoking rounds back off exponentially.
                self.num_successive_revoking_rebalances += 1;
                self.delay = self.revoking_backoff(self.num_successive_revoking_rebalances);
                if self.delay != 0 {
                    self.scheduled_rebalance = now + i64::from(self.delay);
                } else {
                    add_all(&mut to_revoke, &balancing);
                    remove_all(&mut next, &balancing);
                }
            } else if !balancing.is_empty() {
                add_all(&mut to_revoke, &balancing);
                remove_all(&mut next, &balancing);
                self.revoked_in_previous = true;
            } else if self.revoked_in_previous {
                self.revoked_in_previous = false;
                self.num_successive_revoking_rebalances = 0;
            }
        } else {
            self.revoked_in_previous = false;
        }

        let mut to_assign = created;
        to_assign.add_all(&lost_to_reassign);
        assign_round_robin(
            &mut next,
            &to_assign.connectors,
            |w| w.load.connectors.len(),
            |w| &mut w.load.connectors,
        );
        assign_round_robin(
            &mut next,
            &to_assign.tasks,
            |w| w.load.tasks.len(),
            |w| &mut w.load.tasks,
        );

        // Remember what will run after this round (plus lost items, still owed to someone).
        let mut previous = ConnectorsAndTasks::default();
        for worker in &next {
            previous.add_all(&worker.load);
        }
        for revoked in to_revoke.values() {
            previous.remove_all(revoked);
            self.previous_revocation.add_all(revoked);
        }
        previous.add_all(&lost);
        self.previous_assignment = previous;
        self.previous_generation_id = generation_id;
        self.previous_members = members.iter().map(|(w, _)| w.clone()).collect();

        let empty_revocation = ConnectorsAndTasks::default();
        next.iter()
            .map(|worker| {
                let (current_connectors, current_tasks) = current
                    .get(worker.worker.as_str())
                    .cloned()
                    .unwrap_or_default();
                let revoked = to_revoke.get(&worker.worker).unwrap_or(&empty_revocation);
                let delta = WorkerDelta {
                    assigned: (
                        worker
                            .load
                            .connectors
                            .iter()
                            .filter(|c| !current_connectors.contains(c))
                            .cloned()
                            .collect(),
                        worker
                            .load
                            .tasks
                            .iter()
                            .filter(|t| !current_tasks.contains(t))
                            .cloned()
                            .collect(),
                    ),
                    revoked: (
                        revoked.connectors.items.clone(),
                        revoked.tasks.items.clone(),
                    ),
                    all: (
                        worker
                            .load
                            .connectors
                            .iter()
                            .filter(|c| !revoked.connectors.contains(c))
                            .cloned()
                            .collect(),
                        worker
                            .load
                            .tasks
                            .iter()
                            .filter(|t| !revoked.tasks.contains(t))
                            .cloned()
                            .collect(),
                    ),
                };
                (worker.worker.clone(), delta)
            })
            .collect()
    }

    /// Apache's `handleLostAssignments`: returns the lost items to hand out as new ones; may give them
    /// to candidate workers in `next` directly, or postpone them by scheduling a rebalance.
    fn handle_lost_assignments(
        &mut self,
        lost: &ConnectorsAndTasks,
        next: &mut [WorkerLoad],
        now: i64,
    ) -> ConnectorsAndTasks {
        if lost.is_empty() && !self.revoked_in_previous {
            self.reset_delay();
            return ConnectorsAndTasks::default();
        }
        let active: HashSet<&str> = next.iter().map(|w| w.worker.as_str()).collect();
        let nobody_departed = self
            .previous_members
            .iter()
            .all(|m| active.contains(m.as_str()));
        if (self.scheduled_rebalance <= 0 && nobody_departed) || self.max_delay_ms == 0 {
            // Either members missed the last assignment, or delays are disabled: reassign now.
            return lost.clone();
        }
        if self.scheduled_rebalance > 0 && now >= self.scheduled_rebalance {
            let candidates: Vec<usize> = self
                .candidate_workers_for_reassignment
                .iter()
                .filter_map(|candidate| next.iter().position(|w| &w.worker == candidate))
                .collect();
            let mut to_reassign = ConnectorsAndTasks::default();
            if candidates.is_empty() {
                to_reassign = lost.clone();
            } else {
                for (i, connector) in lost.connectors.iter().enumerate() {
                    next[candidates[i % candidates.len()]]
                        .load
                        .connectors
                        .insert(connector.clone());
                }
                for (i, task) in lost.tasks.iter().enumerate() {
                    next[candidates[i % candidates.len()]]
                        .load
                        .tasks
                        .insert(task.clone());
                }
            }
            self.reset_delay();
            self.revoked_in_previous = false;
            return to_reassign;
        }
        // Keep waiting; workers that joined empty meanwhile are candidates for the lost items.
        let empty_workers: Vec<String> = next
            .iter()
            .filter(|w| w.load.is_empty())
            .map(|w| w.worker.clone())
            .collect();
        for worker in java_hash_iteration_order(
            &empty_workers,
            |w| java_string_hash(w),
            JAVA_DEFAULT_TABLE_SIZE,
        ) {
            self.candidate_workers_for_reassignment.insert(worker);
        }
        self.delay = if now < self.scheduled_rebalance {
            self.remaining_delay(now)
        } else {
            self.max_delay_ms
        };
        self.scheduled_rebalance = now + i64::from(self.delay);
        ConnectorsAndTasks::default()
    }

    fn reset_delay(&mut self) {
        self.candidate_workers_for_reassignment = OrderedSet::default();
        self.scheduled_rebalance = 0;
        self.delay = 0;
    }

    fn remaining_delay(&self, now: i64) -> i32 {
        let diff = self.scheduled_rebalance - now;
        if diff > 0 {
            diff.min(i64::from(self.max_delay_ms)) as i32
        } else {
            0
        }
    }

    /// `new ExponentialBackoff(maxDelay == 0 ? 0 : 1, 40, maxDelay, 0).backoff(attempts)`.
    fn revoking_backoff(&self, attempts: i64) -> i32 {
        let max = i64::from(self.max_delay_ms);
        let initial = if max == 0 { 0 } else { max.min(1) };
        let exp_max = if max > initial {
            (max as f64 / initial.max(1) as f64).ln() / 40f64.ln()
        } else {
            0.0
        };
        if exp_max == 0.0 {
            return initial as i32;
        }
        let exp = (attempts as f64).min(exp_max);
        let term = initial as f64 * 40f64.powf(exp);
        (term as i64).min(max) as i32
    }
}

impl ConnectAssignor for IncrementalCooperativeAssignor {
    fn perform_assignment(
        &mut self,
        context: &RebalanceContext<'_>,
        fresh_snapshot: &mut dyn FnMut() -> ConfigSnapshot,
    ) -> Result<GroupAssignment, AssignorError> {
        let protocol = ConnectProtocolCompatibility::from_protocol(context.protocol)?;
        if protocol == ConnectProtocolCompatibility::Eager {
            return Err(ProtocolError::IllegalArgument(format!(
                "the incremental cooperative assignor cannot run protocol {}",
                context.protocol
            ))
            .into());
        }
        let (leader_url, leader_config) = check_leader_config(context, fresh_snapshot)?;
        let (offset, snapshot, refreshed) = match leader_config {
            LeaderConfig::Behind { max_offset } => {
                return Ok(mismatch_assignment(
                    context,
                    protocol,
                    &leader_url,
                    max_offset,
                ));
            }
            LeaderConfig::Ready {
                offset,
                snapshot,
                refreshed,
            } => (offset, snapshot, refreshed),
        };
        // memberConfigs is a HashMap filled in JoinGroup order; its order drives load balancing.
        let ids: Vec<String> = context
            .members
            .iter()
            .map(|m| m.member_id.clone())
            .collect();
        let by_id: HashMap<&str, &GroupMember> = context
            .members
            .iter()
            .map(|m| (m.member_id.as_str(), m))
            .collect();
        let members: Vec<(String, ConnectorsAndTasks)> =
            java_hash_iteration_order(&ids, |id| java_string_hash(id), JAVA_DEFAULT_TABLE_SIZE)
                .into_iter()
                .map(|id| {
                    let load = match by_id
                        .get(id.as_str())
                        .and_then(|m| m.state.allocation.as_ref())
                    {
                        Some(allocation) => ConnectorsAndTasks {
                            connectors: OrderedSet::from_items(allocation.connectors.iter()),
                            tasks: OrderedSet::from_items(allocation.tasks.iter()),
                        },
                        None => ConnectorsAndTasks::default(),
                    };
                    (id, load)
                })
                .collect();
        let deltas = self.compute(
            &snapshot,
            context.last_completed_generation_id,
            context.generation_id,
            &members,
            context.now_ms,
        );
        let mut leader_state = LeaderState {
            member_urls: member_urls(context),
            ..LeaderState::default()
        };
        for (worker, delta) in &deltas {
            for connector in &delta.all.0 {
                leader_state
                    .connector_owners
                    .insert(connector.clone(), worker.clone());
            }
            for task in &delta.all.1 {
                leader_state
                    .task_owners
                    .insert(task.clone(), worker.clone());
            }
        }
        let assignments = context
            .members
            .iter()
            .map(|m| {
                let delta = deltas.get(&m.member_id);
                let assignment = ExtendedAssignment {
                    version: protocol.protocol_version(),
                    error: NO_ERROR,
                    leader: context.leader_id.to_string(),
                    leader_url: leader_url.clone(),
                    config_offset: offset,
                    connectors: delta.map(|d| d.assigned.0.clone()).unwrap_or_default(),
                    tasks: delta.map(|d| d.assigned.1.clone()).unwrap_or_default(),
                    revoked_connectors: delta.map(|d| d.revoked.0.clone()).unwrap_or_default(),
                    revoked_tasks: delta.map(|d| d.revoked.1.clone()).unwrap_or_default(),
                    delay: self.delay,
                };
                (m.member_id.clone(), assignment)
            })
            .collect();
        Ok(GroupAssignment {
            protocol,
            assignments,
            leader_state: Some(leader_state),
            refreshed_snapshot: refreshed.then_some(snapshot),
        })
    }
}

/// `base − subtract…`, sorted like Java's `TreeSet`.
fn sorted_diff(base: &ConnectorsAndTasks, subtract: &[&ConnectorsAndTasks]) -> ConnectorsAndTasks {
    let mut connectors: Vec<String> = base
        .connectors
        .iter()
        .filter(|c| !subtract.iter().any(|s| s.connectors.contains(c)))
        .cloned()
        .collect();
    connectors.sort_by(|a, b| java_string_cmp(a, b));
    let mut tasks: Vec<ConnectorTaskId> = base
        .tasks
        .iter()
        .filter(|t| !subtract.iter().any(|s| s.tasks.contains(t)))
        .cloned()
        .collect();
    tasks.sort();
    ConnectorsAndTasks {
        connectors: OrderedSet::from_items(connectors.iter()),
        tasks: OrderedSet::from_items(tasks.iter()),
    }
}

/// Items held by more than one member.
fn duplicated_assignments(members: &[(String, ConnectorsAndTasks)]) -> ConnectorsAndTasks {
    let mut connector_counts: HashMap<&String, usize> = HashMap::new();
    let mut task_counts: HashMap<&ConnectorTaskId, usize> = HashMap::new();
    for (_, load) in members {
        for connector in load.connectors.iter() {
            *connector_counts.entry(connector).or_default() += 1;
        }
        for task in load.tasks.iter() {
            *task_counts.entry(task).or_default() += 1;
        }
    }
    let mut duplicated = ConnectorsAndTasks::default();
    for (connector, count) in connector_counts {
        if count > 1 {
            duplicated.connectors.insert(connector.clone());
        }
    }
    for (task, count) in task_counts {
        if count > 1 {
            duplicated.tasks.insert(task.clone());
        }
    }
    duplicated
}

/// Per member, which of `items` it holds, in the order of `new HashSet<>(memberItems).retainAll(items)`.
fn intersection(
    items: &ConnectorsAndTasks,
    members: &[(String, ConnectorsAndTasks)],
) -> Vec<(String, ConnectorsAndTasks)> {
    members
        .iter()
        .map(|(worker, load)| {
            let connectors = java_hash_iteration_order(
                &load.connectors.items,
                |c| java_string_hash(c),
                hash_set_from_collection_capacity(load.connectors.len()),
            );
            let tasks = java_hash_iteration_order(
                &load.tasks.items,
                ConnectorTaskId::java_hash,
                hash_set_from_collection_capacity(load.tasks.len()),
            );
            let held = ConnectorsAndTasks {
                connectors: OrderedSet::from_items(
                    connectors.iter().filter(|c| items.connectors.contains(c)),
                ),
                tasks: OrderedSet::from_items(tasks.iter().filter(|t| items.tasks.contains(t))),
            };
            (worker.clone(), held)
        })
        .collect()
}

fn add_all(
    to_revoke: &mut HashMap<String, ConnectorsAndTasks>,
    additions: &[(String, ConnectorsAndTasks)],
) {
    for (worker, items) in additions {
        to_revoke.entry(worker.clone()).or_default().add_all(items);
    }
}

fn remove_all(workers: &mut [WorkerLoad], removals: &[(String, ConnectorsAndTasks)]) {
    for worker in workers {
        for (owner, items) in removals {
            if *owner == worker.worker {
                worker.load.remove_all(items);
            }
        }
    }
}

/// Apache's `performLoadBalancingRevocations`: what to take from over-loaded workers so that nobody
/// holds more than an even share, connectors and tasks computed separately.
fn load_balancing_revocations(
    configured: &ConnectorsAndTasks,
    workers: &[WorkerLoad],
) -> Vec<(String, ConnectorsAndTasks)> {
    if workers.iter().all(|w| w.load.is_empty()) || configured.is_empty() {
        return Vec::new();
    }
    let connector_revocations =
        revocations_for_resource(configured.connectors.len(), workers, |w| &w.load.connectors);
    let task_revocations =
        revocations_for_resource(configured.tasks.len(), workers, |w| &w.load.tasks);
    let mut result: Vec<(String, ConnectorsAndTasks)> = Vec::new();
    for (worker, connectors) in connector_revocations {
        result.push((
            worker,
            ConnectorsAndTasks {
                connectors: OrderedSet::from_items(connectors.iter()),
                tasks: OrderedSet::default(),
            },
        ));
    }
    for (worker, tasks) in task_revocations {
        match result.iter_mut().find(|(w, _)| *w == worker) {
            Some((_, items)) => items.tasks.extend(tasks.iter()),
            None => result.push((
                worker,
                ConnectorsAndTasks {
                    connectors: OrderedSet::default(),
                    tasks: OrderedSet::from_items(tasks.iter()),
                },
            )),
        }
    }
    result
}

/// Apache's `loadBalancingRevocations` for one kind of resource. Workers are visited in order; the
/// first over-loaded ones may keep one extra while extras remain to hand out; each revokes its first
/// items in its own order.
fn revocations_for_resource<T: Clone + Eq + Hash>(
    total: usize,
    workers: &[WorkerLoad],
    allocation: impl Fn(&WorkerLoad) -> &OrderedSet<T>,
) -> Vec<(String, Vec<T>)> {
    let worker_count = workers.len();
    let min_per_worker = total / worker_count;
    let workers_with_extra = total % worker_count;
    let at_min = workers
        .iter()
        .filter(|w| allocation(w).len() == min_per_worker)
        .count();
    let at_min_plus_one = workers
        .iter()
        .filter(|w| allocation(w).len() == min_per_worker + 1)
        .count();
    if at_min_plus_one == workers_with_extra && at_min + at_min_plus_one == worker_count {
        return Vec::new();
    }
    let mut result = Vec::new();
    let mut extras_given = 0;
    for worker in workers {
        let current = allocation(worker).len();
        if current <= min_per_worker {
            continue;
        }
        let max_for_worker = if extras_given < workers_with_extra {
            extras_given += 1;
            if current == min_per_worker + 1 {
                continue;
            }
            min_per_worker + 1
        } else {
            min_per_worker
        };
        let revoked: Vec<T> = allocation(worker)
            .iter()
            .take(current - max_for_worker)
            .cloned()
            .collect();
        result.push((worker.worker.clone(), revoked));
    }
    result
}

/// Apache's `assignConnectors`/`assignTasks`: sort workers once by (load, id), then deal items to the
/// growing prefix of least-loaded workers, in that order.
fn assign_round_robin<T: Clone + Eq + Hash>(
    workers: &mut [WorkerLoad],
    items: &OrderedSet<T>,
    len: impl Fn(&WorkerLoad) -> usize,
    allocation: impl Fn(&mut WorkerLoad) -> &mut OrderedSet<T>,
) {
    if workers.is_empty() {
        return;
    }
    workers.sort_by(|a, b| {
        len(a)
            .cmp(&len(b))
            .then_with(|| java_string_cmp(&a.worker, &b.worker))
    });
    let mut pending = items.iter().peekable();
    while pending.peek().is_some() {
        let first_load = len(&workers[0]);
        let up_to = workers
            .iter()
            .position(|w| len(w) > first_load)
            .unwrap_or(workers.len());
        for worker in &mut workers[..up_to] {
            match pending.next() {
                Some(item) => allocation(worker).insert(item.clone()),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{decode_assignment, decode_metadata, encode_metadata};

    const OFFSET: i64 = 618;
    const DEFAULT_MAX_DELAY: i32 = 300_000;

    /// A simulated group whose members round-trip metadata and assignments through the wire format and
    /// apply assignments as Apache's `WorkerCoordinator.onJoinComplete` does.
    struct Cluster {
        assignor: IncrementalCooperativeAssignor,
        task_counts: BTreeMap<String, u32>,
        members: Vec<(String, Option<ExtendedAssignment>)>,
        generation: i32,
        now: i64,
        last: Option<GroupAssignment>,
    }

    impl Cluster {
        fn new(max_delay: i32, workers: &[&str], connectors: &[(&str, u32)]) -> Self {
            Cluster {
                assignor: IncrementalCooperativeAssignor::new(max_delay),
                task_counts: connectors
                    .iter()
                    .map(|(c, n)| (c.to_string(), *n))
                    .collect(),
                members: workers.iter().map(|w| (w.to_string(), None)).collect(),
                generation: 0,
                now: 1_000_000,
                last: None,
            }
        }

        fn add_workers(&mut self, workers: &[&str]) {
            self.members
                .extend(workers.iter().map(|w| (w.to_string(), None)));
        }

        fn remove_workers(&mut self, workers: &[&str]) {
            self.members.retain(|(m, _)| !workers.contains(&m.as_str()));
        }

        fn context_members(&self) -> Vec<GroupMember> {
            self.members
                .iter()
                .map(|(id, allocation)| {
                    let state = ExtendedWorkerState {
                        url: format!("http://{id}:8083/"),
                        config_offset: OFFSET,
                        allocation: allocation.clone(),
                    };
                    let bytes =
                        encode_metadata(&state, ConnectProtocolCompatibility::Sessioned).unwrap();
                    let decoded = decode_metadata(&bytes).unwrap();
                    assert_eq!(decoded, state);
                    GroupMember {
                        member_id: id.clone(),
                        state: decoded,
                    }
                })
                .collect()
        }

        fn rebalance(&mut self) -> GroupAssignment {
            self.generation += 1;
            let members = self.context_members();
            let snapshot = ConfigSnapshot {
                offset: OFFSET,
                task_counts: self.task_counts.clone(),
            };
            let leader = members[0].member_id.clone();
            let context = RebalanceContext {
                leader_id: &leader,
                protocol: "sessioned",
                members: &members,
                snapshot: &snapshot,
                last_completed_generation_id: self.generation - 1,
                generation_id: self.generation,
                now_ms: self.now,
            };
            let result = self
                .assignor
                .perform_assignment(&context, &mut || panic!("the snapshot is current"))
                .unwrap();
            let encoded = result.encode().unwrap();
            let owners = result.leader_state.clone().unwrap();
            let mut seen_connectors = HashSet::new();
            let mut seen_tasks = HashSet::new();
            for (id, allocation) in &mut self.members {
                let received = decode_assignment(&encoded[id.as_str()]).unwrap();
                // The wire groups tasks by connector, so only the order may differ.
                assert_eq!(sorted(&received), sorted(&result.assignments[id.as_str()]));
                let merged = received.merged_with_previous(allocation.as_ref());
                for connector in &merged.connectors {
                    assert!(
                        seen_connectors.insert(connector.clone()),
                        "{connector} assigned twice"
                    );
                    assert_eq!(owners.connector_owners.get(connector), Some(&*id));
                }
                for task in &merged.tasks {
                    assert!(seen_tasks.insert(task.clone()), "{task} assigned twice");
                    assert_eq!(owners.task_owners.get(task), Some(&*id));
                }
                *allocation = Some(merged);
            }
            assert_eq!(owners.connector_owners.len(), seen_connectors.len());
            assert_eq!(owners.task_owners.len(), seen_tasks.len());
            self.last = Some(result.clone());
            result
        }

        fn counts(&self, of: impl Fn(&ExtendedAssignment) -> usize) -> Vec<usize> {
            let mut counts: Vec<usize> = self
                .members
                .iter()
                .map(|(_, a)| a.as_ref().map(&of).unwrap_or(0))
                .collect();
            counts.sort();
            counts
        }

        fn connector_counts(&self) -> Vec<usize> {
            self.counts(|a| a.connectors.len())
        }

        fn task_counts(&self) -> Vec<usize> {
            self.counts(|a| a.tasks.len())
        }

        fn delay(&self) -> i32 {
            let last = self.last.as_ref().unwrap();
            let delays: HashSet<i32> = last.assignments.values().map(|a| a.delay).collect();
            assert_eq!(delays.len(), 1, "every member gets the same delay");
            delays.into_iter().next().unwrap()
        }

        fn revocations(&self) -> usize {
            let last = self.last.as_ref().unwrap();
            last.assignments
                .values()
                .map(|a| a.revoked_connectors.len() + a.revoked_tasks.len())
                .sum()
        }

        fn assignments(&self) -> usize {
            let last = self.last.as_ref().unwrap();
            last.assignments
                .values()
                .map(|a| a.connectors.len() + a.tasks.len())
                .sum()
        }

        fn assert_balanced_and_complete(&self) {
            let connectors = self.connector_counts();
            let tasks = self.task_counts();
            assert!(
                connectors.last().unwrap() - connectors.first().unwrap() <= 1,
                "{connectors:?}"
            );
            assert!(
                tasks.last().unwrap() - tasks.first().unwrap() <= 1,
                "{tasks:?}"
            );
            assert_eq!(connectors.iter().sum::<usize>(), self.task_counts.len());
            assert_eq!(
                tasks.iter().sum::<usize>(),
                self.task_counts.values().sum::<u32>() as usize
            );
        }
    }

    fn sorted(assignment: &ExtendedAssignment) -> ExtendedAssignment {
        let mut sorted = assignment.clone();
        sorted.connectors.sort();
        sorted.tasks.sort();
        sorted.revoked_connectors.sort();
        sorted.revoked_tasks.sort();
        sorted
    }

    fn two_connectors(workers: &[&str], max_delay: i32) -> Cluster {
        Cluster::new(max_delay, workers, &[("connector1", 4), ("connector2", 4)])
    }

    #[test]
    fn worker_joins_then_revocation_round_then_assignment_round() {
        let mut cluster = two_connectors(&["worker1"], DEFAULT_MAX_DELAY);
        cluster.rebalance();
        assert_eq!(cluster.delay(), 0);
        assert_eq!(
            (cluster.connector_counts(), cluster.task_counts()),
            (vec![2], vec![8])
        );
        cluster.assert_balanced_and_complete();

        cluster.add_workers(&["worker2"]);
        cluster.rebalance();
        assert_eq!(cluster.delay(), 0);
        assert_eq!(
            (cluster.connector_counts(), cluster.task_counts()),
            (vec![0, 1], vec![0, 4])
        );

        cluster.rebalance();
        assert_eq!(cluster.revocations(), 0);
        assert_eq!(cluster.delay(), 0);
        assert_eq!(
            (cluster.connector_counts(), cluster.task_counts()),
            (vec![1, 1], vec![4, 4])
        );
        cluster.assert_balanced_and_complete();

        cluster.rebalance();
        assert_eq!(
            (
                cluster.delay(),
                cluster.assignments(),
                cluster.revocations()
            ),
            (0, 0, 0)
        );
    }

    #[test]
    fn worker_leaves_permanently_then_items_wait_for_the_delay() {
        let mut cluster = two_connectors(&["worker1", "worker2"], DEFAULT_MAX_DELAY);
        cluster.rebalance();
        assert_eq!(
            (cluster.connector_counts(), cluster.task_counts()),
            (vec![1, 1], vec![4, 4])
        );

        cluster.remove_workers(&["worker2"]);
        cluster.rebalance();
        assert_eq!(cluster.delay(), DEFAULT_MAX_DELAY);
        assert_eq!(cluster.assignments() + cluster.revocations(), 0);

        cluster.now += i64::from(DEFAULT_MAX_DELAY / 2);
        cluster.rebalance();
        assert_eq!(cluster.delay(), DEFAULT_MAX_DELAY / 2);
        assert_eq!(cluster.assignments() + cluster.revocations(), 0);

        cluster.now += i64::from(DEFAULT_MAX_DELAY / 2 + 1);
        cluster.rebalance();
        assert_eq!(cluster.delay(), 0);
        assert_eq!(
            (cluster.connector_counts(), cluster.task_counts()),
            (vec![2], vec![8])
        );
        cluster.assert_balanced_and_complete();
    }

    #[test]
    fn worker_returning_within_the_delay_gets_the_lost_items_back() {
        let mut cluster = two_connectors(&["worker1", "worker2"], DEFAULT_MAX_DELAY);
        cluster.rebalance();
        cluster.remove_workers(&["worker2"]);
        cluster.rebalance();
        assert_eq!(cluster.delay(), DEFAULT_MAX_DELAY);

        cluster.now += i64::from(DEFAULT_MAX_DELAY / 2);
        cluster.rebalance();
        assert_eq!(cluster.delay(), DEFAULT_MAX_DELAY / 2);

        cluster.now += i64::from(DEFAULT_MAX_DELAY / 4);
        cluster.add_workers(&["worker2"]);
        cluster.rebalance();
        assert_eq!(cluster.delay(), DEFAULT_MAX_DELAY / 4);
        assert_eq!(cluster.assignments() + cluster.revocations(), 0);

        cluster.now += i64::from(DEFAULT_MAX_DELAY / 4);
        cluster.rebalance();
        assert_eq!((cluster.delay(), cluster.revocations()), (0, 0));
        assert_eq!(
            (cluster.connector_counts(), cluster.task_counts()),
            (vec![1, 1], vec![4, 4])
        );
        cluster.assert_balanced_and_complete();
        // The returning worker, a candidate, received everything that was lost.
        let last = cluster.last.as_ref().unwrap();
        assert_eq!(last.assignments["worker2"].tasks.len(), 4);
        assert!(last.assignments["worker1"].tasks.is_empty());
    }

    #[test]
    fn zero_max_delay_reassigns_lost_items_at_once() {
        let mut cluster = two_connectors(&["worker1", "worker2"], 0);
        cluster.rebalance();
        cluster.remove_workers(&["worker2"]);
        cluster.rebalance();
        assert_eq!(cluster.delay(), 0);
        assert_eq!(
            (cluster.connector_counts(), cluster.task_counts()),
            (vec![2], vec![8])
        );
    }

    #[test]
    fn deleted_connectors_are_revoked() {
        let mut cluster = Cluster::new(
            DEFAULT_MAX_DELAY,
            &["worker1", "worker2"],
            &[("connector1", 4), ("connector2", 4), ("connector3", 4)],
        );
        cluster.rebalance();
        assert_eq!(
            (cluster.connector_counts(), cluster.task_counts()),
            (vec![1, 2], vec![6, 6])
        );
        cluster.assert_balanced_and_complete();

        cluster.task_counts.remove("connector3");
        cluster.rebalance();
        assert_eq!(cluster.delay(), 0);
        let last = cluster.last.as_ref().unwrap();
        let revoked: Vec<&ConnectorTaskId> = last
            .assignments
            .values()
            .flat_map(|a| &a.revoked_tasks)
            .collect();
        assert_eq!(revoked.len(), 4);
        assert!(revoked.iter().all(|t| t.connector == "connector3"));
        assert_eq!(
            (cluster.connector_counts(), cluster.task_counts()),
            (vec![1, 1], vec![4, 4])
        );
        cluster.assert_balanced_and_complete();
    }

    #[test]
    fn three_connectors_of_three_tasks_spread_evenly_over_three_workers() {
        let mut cluster = Cluster::new(
            DEFAULT_MAX_DELAY,
            &["worker1", "worker2", "worker3"],
            &[("c1", 3), ("c2", 3), ("c3", 3)],
        );
        cluster.rebalance();
        assert_eq!(
            (cluster.connector_counts(), cluster.task_counts()),
            (vec![1, 1, 1], vec![3, 3, 3])
        );
        // Connectors and tasks are dealt separately over workers sorted by (load, id).
        let last = cluster.last.as_ref().unwrap();
        assert_eq!(
            last.assignments["worker1"].connectors,
            vec!["c1".to_string()]
        );
        assert_eq!(
            last.assignments["worker3"].connectors,
            vec!["c3".to_string()]
        );
        let worker2_tasks: Vec<String> = last.assignments["worker2"]
            .tasks
            .iter()
            .map(|t| t.to_string())
            .collect();
        assert_eq!(worker2_tasks, vec!["c1-1", "c2-1", "c3-1"]);
    }

    #[test]
    fn load_balancing_backs_off_on_successive_revoking_rounds() {
        let mut cluster = Cluster::new(DEFAULT_MAX_DELAY, &["worker1"], &[("c1", 6)]);
        cluster.rebalance();
        cluster.add_workers(&["worker2"]);
        cluster.rebalance();
        assert_eq!(cluster.revocations(), 3);
        // Another worker joins right after a revoking round: the revocation is postponed.
        cluster.add_workers(&["worker3"]);
        cluster.rebalance();
        assert_eq!(cluster.revocations(), 0);
        assert_eq!(cluster.delay(), 40);
        cluster.now += 40;
        cluster.rebalance();
        assert_eq!(cluster.delay(), 0);
        assert!(cluster.revocations() > 0);
        cluster.rebalance();
        cluster.assert_balanced_and_complete();
        assert_eq!(cluster.task_counts(), vec![2, 2, 2]);

        let assignor = IncrementalCooperativeAssignor::new(DEFAULT_MAX_DELAY);
        let backoffs: Vec<i32> = (1..=3).map(|n| assignor.revoking_backoff(n)).collect();
        assert_eq!(backoffs, vec![40, 1600, 64000]);
        assert!((299_999..=300_000).contains(&assignor.revoking_backoff(10)));
        assert_eq!(
            IncrementalCooperativeAssignor::new(0).revoking_backoff(3),
            0
        );
    }

    #[test]
    fn duplicated_items_are_revoked_from_every_holder() {
        let mut cluster = two_connectors(&["worker1", "worker2"], DEFAULT_MAX_DELAY);
        cluster.rebalance();
        // worker2 also claims one of worker1's tasks (e.g. after a failed sync).
        let stolen = cluster.members[0].1.as_ref().unwrap().tasks[0].clone();
        cluster.members[1]
            .1
            .as_mut()
            .unwrap()
            .tasks
            .push(stolen.clone());
        let result = cluster.rebalance();
        for assignment in result.assignments.values() {
            assert_eq!(assignment.revoked_tasks, vec![stolen.clone()]);
        }
        cluster.rebalance();
        cluster.assert_balanced_and_complete();
    }

    fn mismatch_members() -> Vec<GroupMember> {
        ["leader", "follower"]
            .iter()
            .zip([10, 20])
            .map(|(id, offset)| GroupMember {
                member_id: id.to_string(),
                state: ExtendedWorkerState {
                    url: format!("http://{id}/"),
                    config_offset: offset,
                    allocation: None,
                },
            })
            .collect()
    }

    #[test]
    fn leader_behind_a_member_answers_config_mismatch_to_everyone() {
        let members = mismatch_members();
        let snapshot = ConfigSnapshot {
            offset: 10,
            task_counts: BTreeMap::from([("c".to_string(), 1)]),
        };
        let context = RebalanceContext {
            leader_id: "leader",
            protocol: "compatible",
            members: &members,
            snapshot: &snapshot,
            last_completed_generation_id: -1,
            generation_id: 0,
            now_ms: 0,
        };
        let mut refreshes = 0;
        let mut assignor = IncrementalCooperativeAssignor::new(DEFAULT_MAX_DELAY);
        let result = assignor
            .perform_assignment(&context, &mut || {
                refreshes += 1;
                ConfigSnapshot {
                    offset: 15,
                    ..ConfigSnapshot::default()
                }
            })
            .unwrap();
        assert_eq!(refreshes, 1);
        assert!(result.leader_state.is_none());
        for assignment in result.assignments.values() {
            assert_eq!(
                (
                    assignment.error,
                    assignment.config_offset,
                    assignment.version
                ),
                (CONFIG_MISMATCH, 20, 1)
            );
            assert_eq!(assignment.leader_url, "http://leader/");
            assert!(assignment.connectors.is_empty() && assignment.tasks.is_empty());
        }
        // Eager answers the same way.
        let result = EagerAssignor
            .perform_assignment(&context, &mut || snapshot.clone())
            .unwrap();
        assert!(
            result
                .assignments
                .values()
                .all(|a| a.error == CONFIG_MISMATCH && a.version == 0)
        );

        // A fresh snapshot that caught up is used, and handed back.
        let fresh = ConfigSnapshot {
            offset: 25,
            task_counts: BTreeMap::from([("c".to_string(), 1)]),
        };
        let result = assignor
            .perform_assignment(&context, &mut || fresh.clone())
            .unwrap();
        assert_eq!(result.refreshed_snapshot.as_ref(), Some(&fresh));
        assert!(
            result
                .assignments
                .values()
                .all(|a| a.error == NO_ERROR && a.config_offset == 25)
        );
    }

    #[test]
    fn incremental_assignor_rejects_the_eager_protocol_and_unknown_leaders() {
        let members = mismatch_members();
        let snapshot = ConfigSnapshot::default();
        let mut context = RebalanceContext {
            leader_id: "leader",
            protocol: "default",
            members: &members,
            snapshot: &snapshot,
            last_completed_generation_id: -1,
            generation_id: 0,
            now_ms: 0,
        };
        let mut assignor = IncrementalCooperativeAssignor::new(DEFAULT_MAX_DELAY);
        assert!(
            assignor
                .perform_assignment(&context, &mut ConfigSnapshot::default)
                .is_err()
        );
        context.protocol = "sessioned";
        context.leader_id = "nobody";
        assert_eq!(
            assignor.perform_assignment(&context, &mut ConfigSnapshot::default),
            Err(AssignorError::UnknownLeader("nobody".into()))
        );
        context.members = &[];
        assert_eq!(
            assignor.perform_assignment(&context, &mut ConfigSnapshot::default),
            Err(AssignorError::NoMembers)
        );
    }

    #[test]
    fn eager_assignor_deals_round_robin_over_sorted_members() {
        let members: Vec<GroupMember> = ["b", "a"]
            .iter()
            .map(|id| GroupMember {
                member_id: id.to_string(),
                state: ExtendedWorkerState {
                    url: format!("http://{id}/"),
                    config_offset: 5,
                    allocation: None,
                },
            })
            .collect();
        let snapshot = ConfigSnapshot {
            offset: 5,
            task_counts: BTreeMap::from([("c2".to_string(), 1), ("c1".to_string(), 2)]),
        };
        let context = RebalanceContext {
            leader_id: "b",
            protocol: "default",
            members: &members,
            snapshot: &snapshot,
            last_completed_generation_id: 3,
            generation_id: 4,
            now_ms: 0,
        };
        let result = EagerAssignor
            .perform_assignment(&context, &mut || snapshot.clone())
            .unwrap();
        let a = &result.assignments["a"];
        let b = &result.assignments["b"];
        assert_eq!(a.connectors, vec!["c1".to_string()]);
        assert_eq!(b.connectors, vec!["c2".to_string()]);
        assert_eq!(
            a.tasks,
            vec![ConnectorTaskId::new("c1", 0), ConnectorTaskId::new("c2", 0)]
        );
        assert_eq!(b.tasks, vec![ConnectorTaskId::new("c1", 1)]);
        assert_eq!(
            (
                a.version,
                a.leader.as_str(),
                a.leader_url.as_str(),
                a.config_offset
            ),
            (0, "b", "http://b/", 5)
        );
        let owners = result.leader_state.as_ref().unwrap();
        assert_eq!(
            owners.task_owner_url(&ConnectorTaskId::new("c1", 1)),
            Some("http://b/")
        );
        assert_eq!(owners.connector_owner_url("c1"), Some("http://a/"));
        // V0 bytes for member a: {c1: [-1, 0]}, {c2: [0]}.
        let bytes = result.encode().unwrap();
        let decoded = crate::protocol::decode_assignment_v0(&bytes["a"]).unwrap();
        assert_eq!(&decoded, a);
    }
}
