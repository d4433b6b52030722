//! The `connect` group protocol's wire formats, byte for byte as Apache Kafka Connect writes them
//! (`ConnectProtocol`, `IncrementalCooperativeConnectProtocol`, `ExtendedWorkerState`, `ExtendedAssignment`,
//! `ConnectProtocolCompatibility`): the sub-protocols a worker offers, the member metadata sent with
//! JoinGroup and the assignment sent with SyncGroup, for protocol versions 0 (`default`), 1 (`compatible`)
//! and 2 (`sessioned`).
//!
//! Encoding is Kafka's `Struct` encoding: big-endian integers, strings as an int16 length plus UTF-8,
//! arrays as an int32 count, nullable bytes/arrays as length -1. Decoding never panics; malformed input is
//! a [`ProtocolError`] carrying the text Apache's `SchemaException` would carry.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;

/// Protocol version 0, the eager protocol `default`.
pub const CONNECT_PROTOCOL_V0: i16 = 0;
/// Protocol version 1, incremental cooperative rebalancing, protocol `compatible`.
pub const CONNECT_PROTOCOL_V1: i16 = 1;
/// Protocol version 2, V1 plus KIP-507 request signing, protocol `sessioned`.
pub const CONNECT_PROTOCOL_V2: i16 = 2;
/// Sentinel task number meaning "the Connector instance itself" inside a connector assignment.
pub const CONNECTOR_TASK: i32 = -1;
/// Assignment error code: the assignment is valid.
pub const NO_ERROR: i16 = 0;
/// Assignment error code: the leader's config was behind a member's; members re-read the config topic
/// and rejoin.
pub const CONFIG_MISMATCH: i16 = 1;

/// Why encoding or decoding failed, or a protocol name/version was not recognised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Malformed or unencodable data; the text is the one of Apache's `SchemaException`.
    #[error("{0}")]
    Schema(String),
    /// An unknown `connect.protocol` value, sub-protocol name or version; the text is the one of
    /// Apache's `IllegalArgumentException`.
    #[error("{0}")]
    IllegalArgument(String),
}

/// The `connect.protocol` modes (`ConnectProtocolCompatibility`): which sub-protocols a worker offers and
/// which one a group runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConnectProtocolCompatibility {
    /// `connect.protocol=eager`: only the eager protocol `default` (V0).
    Eager,
    /// `connect.protocol=compatible`: `compatible` (V1), then `default`.
    Compatible,
    /// `connect.protocol=sessioned` (the default): `sessioned` (V2), `compatible`, then `default`.
    Sessioned,
}

impl ConnectProtocolCompatibility {
    /// Every mode, in Apache's declaration order.
    pub const ALL: [ConnectProtocolCompatibility; 3] =
        [Self::Eager, Self::Compatible, Self::Sessioned];

    /// Parses a `connect.protocol` value, case-insensitively like Apache's `compatibility(String)`.
    pub fn from_config_value(name: &str) -> Result<Self, ProtocolError> {
        Self::ALL
            .into_iter()
            .find(|mode| mode.config_value().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                ProtocolError::IllegalArgument(format!(
                    "Unknown Connect protocol compatibility mode: {name}"
                ))
            })
    }

    /// Finds the mode whose sub-protocol name (as chosen by the group coordinator) is `protocol`,
    /// case-insensitively like Apache's `fromProtocol`.
    pub fn from_protocol(protocol: &str) -> Result<Self, ProtocolError> {
        Self::ALL
            .into_iter()
            .find(|mode| mode.protocol().eq_ignore_ascii_case(protocol))
            .ok_or_else(|| {
                ProtocolError::IllegalArgument(format!(
                    "Not found Connect protocol compatibility mode for protocol: {protocol}"
                ))
            })
    }

    /// Finds the mode for a protocol version (0, 1 or 2).
    pub fn from_protocol_version(version: i16) -> Result<Self, ProtocolError> {
        match version {
            CONNECT_PROTOCOL_V0 => Ok(Self::Eager),
            CONNECT_PROTOCOL_V1 => Ok(Self::Compatible),
            CONNECT_PROTOCOL_V2 => Ok(Self::Sessioned),
            other => Err(ProtocolError::IllegalArgument(format!(
                "Unknown Connect protocol version: {other}"
            ))),
        }
    }

    /// The `connect.protocol` value naming this mode (Apache's `toString()`).
    pub fn config_value(self) -> &'static str {
        match self {
            Self::Eager => "eager",
            Self::Compatible => "compatible",
            Self::Sessioned => "sessioned",
        }
    }

    /// The sub-protocol name used in JoinGroup: `default`, `compatible` or `sessioned`.
    pub fn protocol(self) -> &'static str {
        match self {
            Self::Eager => "default",
            Self::Compatible => "compatible",
            Self::Sessioned => "sessioned",
        }
    }

    /// The protocol version of this mode's sub-protocol.
    pub fn protocol_version(self) -> i16 {
        match self {
            Self::Eager => CONNECT_PROTOCOL_V0,
            Self::Compatible => CONNECT_PROTOCOL_V1,
            Self::Sessioned => CONNECT_PROTOCOL_V2,
        }
    }

    /// The sub-protocols a worker configured with this mode offers, most preferred first.
    pub fn offered_protocols(self) -> &'static [ConnectProtocolCompatibility] {
        match self {
            Self::Eager => &[Self::Eager],
            Self::Compatible => &[Self::Compatible, Self::Eager],
            Self::Sessioned => &[Self::Sessioned, Self::Compatible, Self::Eager],
        }
    }
}

impl fmt::Display for ConnectProtocolCompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.config_value())
    }
}

/// A task id: connector name plus task number. Ordered like Apache's `ConnectorTaskId.compareTo`
/// (connector names compared as Java strings, i.e. by UTF-16 code units, then task number).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnectorTaskId {
    /// Connector name.
    pub connector: String,
    /// Task number.
    pub task: i32,
}

impl ConnectorTaskId {
    /// A task id.
    pub fn new(connector: impl Into<String>, task: i32) -> Self {
        ConnectorTaskId {
            connector: connector.into(),
            task,
        }
    }

    /// Apache's `ConnectorTaskId.hashCode()`, which decides Java hash-set iteration orders.
    pub(crate) fn java_hash(&self) -> i32 {
        java_string_hash(&self.connector)
            .wrapping_mul(31)
            .wrapping_add(self.task)
    }
}

impl Ord for ConnectorTaskId {
    fn cmp(&self, other: &Self) -> Ordering {
        java_string_cmp(&self.connector, &other.connector).then(self.task.cmp(&other.task))
    }
}

impl PartialOrd for ConnectorTaskId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ConnectorTaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.connector, self.task)
    }
}

/// Member metadata of the eager protocol (`ConnectProtocol.WorkerState`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerState {
    /// The worker's advertised REST URL.
    pub url: String,
    /// The worker's config-topic offset.
    pub config_offset: i64,
}

/// Member metadata of all versions (`ExtendedWorkerState`): the worker's URL, config offset and current
/// full assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedWorkerState {
    /// The worker's advertised REST URL.
    pub url: String,
    /// The worker's config-topic offset.
    pub config_offset: i64,
    /// The worker's current full assignment; `None` (written as null) when it has none yet. Apache
    /// writes null only for its `ExtendedAssignment.empty()` singleton, i.e. before the first assignment.
    pub allocation: Option<ExtendedAssignment>,
}

impl ExtendedWorkerState {
    /// The eager-protocol view of this state.
    pub fn worker_state(&self) -> WorkerState {
        WorkerState {
            url: self.url.clone(),
            config_offset: self.config_offset,
        }
    }
}

/// An assignment of every version (`ExtendedAssignment`; V0 assignments decode with no revocations and
/// no delay). Under V1/V2 `connectors`/`tasks` are the newly assigned items; under V0 the full assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedAssignment {
    /// Protocol version the assignment was read with or computed for.
    pub version: i16,
    /// [`NO_ERROR`] or [`CONFIG_MISMATCH`].
    pub error: i16,
    /// The leader's member id.
    pub leader: String,
    /// The leader's REST URL.
    pub leader_url: String,
    /// The config offset the assignment was computed at.
    pub config_offset: i64,
    /// Connectors to run.
    pub connectors: Vec<String>,
    /// Tasks to run.
    pub tasks: Vec<ConnectorTaskId>,
    /// Connectors to stop.
    pub revoked_connectors: Vec<String>,
    /// Tasks to stop.
    pub revoked_tasks: Vec<ConnectorTaskId>,
    /// Milliseconds after which the member should rejoin (a scheduled rebalance); 0 for none.
    pub delay: i32,
}

impl ExtendedAssignment {
    /// Whether the leader could not compute the assignment (`error != NO_ERROR`).
    pub fn failed(&self) -> bool {
        self.error != NO_ERROR
    }

    /// How a member folds a cooperative (V1/V2) assignment into its previous full assignment, as Apache's
    /// `WorkerCoordinator.onJoinComplete` does: the previous assignment minus this one's revocations is
    /// appended to this one's newly assigned items. The result is the member's new full assignment, sent
    /// back as `allocation` at the next join. Under the eager protocol the received assignment is already
    /// complete and must be used as is.
    pub fn merged_with_previous(
        &self,
        previous: Option<&ExtendedAssignment>,
    ) -> ExtendedAssignment {
        let mut merged = self.clone();
        if let Some(previous) = previous {
            merged.connectors.extend(
                previous
                    .connectors
                    .iter()
                    .filter(|c| !self.revoked_connectors.contains(c))
                    .cloned(),
            );
            merged.tasks.extend(
                previous
                    .tasks
                    .iter()
                    .filter(|t| !self.revoked_tasks.contains(t))
                    .cloned(),
            );
        }
        merged
    }
}

/// One entry of a JoinGroup request's protocol list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinGroupProtocol {
    /// Sub-protocol name.
    pub name: &'static str,
    /// Serialized member metadata for that sub-protocol.
    pub metadata: Vec<u8>,
}

/// The protocol list a worker sends with JoinGroup (Apache's `metadataRequest`), most preferred first.
pub fn join_group_protocols(
    mode: ConnectProtocolCompatibility,
    state: &ExtendedWorkerState,
) -> Result<Vec<JoinGroupProtocol>, ProtocolError> {
    mode.offered_protocols()
        .iter()
        .map(|protocol| {
            Ok(JoinGroupProtocol {
                name: protocol.protocol(),
                metadata: encode_metadata(state, *protocol)?,
            })
        })
        .collect()
}

/// Serializes member metadata for one sub-protocol: V0 (`url`, `config-offset`) for
/// [`ConnectProtocolCompatibility::Eager`], otherwise V1/V2 with the `allocation` written with the same
/// header version.
pub fn encode_metadata(
    state: &ExtendedWorkerState,
    protocol: ConnectProtocolCompatibility,
) -> Result<Vec<u8>, ProtocolError> {
    let mut out = Vec::new();
    put_i16(&mut out, protocol.protocol_version());
    put_string(&mut out, "url", &state.url)?;
    put_i64(&mut out, state.config_offset);
    if protocol != ConnectProtocolCompatibility::Eager {
        match &state.allocation {
            None => put_i32(&mut out, -1),
            Some(allocation) => {
                let bytes = encode_assignment(allocation, protocol)?;
                put_i32(&mut out, array_len(bytes.len(), "allocation")?);
                out.extend_from_slice(&bytes);
            }
        }
    }
    Ok(out)
}

/// Serializes eager (V0) member metadata (`ConnectProtocol.serializeMetadata`).
pub fn encode_worker_state_v0(state: &WorkerState) -> Result<Vec<u8>, ProtocolError> {
    let mut out = Vec::new();
    put_i16(&mut out, CONNECT_PROTOCOL_V0);
    put_string(&mut out, "url", &state.url)?;
    put_i64(&mut out, state.config_offset);
    Ok(out)
}

/// Reads member metadata of any version ≥ 0 with the V1 layout, tolerating a missing `allocation`
/// (`IncrementalCooperativeConnectProtocol.deserializeMetadata`, which Apache's leader uses for every
/// sub-protocol). Trailing bytes are ignored, as in Apache.
pub fn decode_metadata(bytes: &[u8]) -> Result<ExtendedWorkerState, ProtocolError> {
    let mut reader = Reader::new(bytes);
    read_version(&mut reader)?;
    let url = reader.field("url", Reader::string)?;
    let config_offset = reader.field("config-offset", Reader::i64)?;
    let allocation = if reader.has_remaining() {
        reader.field("allocation", Reader::nullable_bytes)?
    } else {
        None
    };
    let allocation = match allocation {
        Some(bytes) => Some(decode_assignment(bytes)?),
        None => None,
    };
    Ok(ExtendedWorkerState {
        url,
        config_offset,
        allocation,
    })
}

/// Reads eager member metadata strictly (`ConnectProtocol.deserializeMetadata`): version ≥ 0, `url`,
/// `config-offset`; anything after is ignored.
pub fn decode_worker_state_v0(bytes: &[u8]) -> Result<WorkerState, ProtocolError> {
    let mut reader = Reader::new(bytes);
    read_version(&mut reader)?;
    let url = reader.field("url", Reader::string)?;
    let config_offset = reader.field("config-offset", Reader::i64)?;
    Ok(WorkerState { url, config_offset })
}

/// Serializes an assignment for one sub-protocol: the V0 layout (full assignment, no revocations or
/// delay) for [`ConnectProtocolCompatibility::Eager`], otherwise the V1 layout under a version 1 or 2
/// header. Connector assignments are grouped like Apache's `asMap`: connectors run as instances first (in
/// Java `HashSet` iteration order, each with task `-1` first), then connectors that only have tasks, in
/// order of first appearance; revocations keep their given order.
pub fn encode_assignment(
    assignment: &ExtendedAssignment,
    protocol: ConnectProtocolCompatibility,
) -> Result<Vec<u8>, ProtocolError> {
    let mut out = Vec::new();
    put_i16(&mut out, protocol.protocol_version());
    put_i16(&mut out, assignment.error);
    put_string(&mut out, "leader", &assignment.leader)?;
    put_string(&mut out, "leader-url", &assignment.leader_url)?;
    put_i64(&mut out, assignment.config_offset);
    let assigned = group_assigned(&assignment.connectors, &assignment.tasks);
    put_connector_assignments(&mut out, "assignment", &assigned)?;
    if protocol != ConnectProtocolCompatibility::Eager {
        let revoked = group_revoked(&assignment.revoked_connectors, &assignment.revoked_tasks);
        put_connector_assignments(&mut out, "revoked", &revoked)?;
        put_i32(&mut out, assignment.delay);
    }
    Ok(out)
}

/// Reads an assignment of any version ≥ 0 with the V1 layout, tolerating missing trailing `assignment`,
/// `revoked` and `delay` (`IncrementalCooperativeConnectProtocol.deserializeAssignment`, which Apache's
/// members use for every sub-protocol). Null arrays read as empty. Trailing bytes are ignored.
pub fn decode_assignment(bytes: &[u8]) -> Result<ExtendedAssignment, ProtocolError> {
    let mut reader = Reader::new(bytes);
    let version = read_version(&mut reader)?;
    let error = reader.tolerant_field("error", Reader::i16)?;
    let leader = reader.tolerant_field("leader", Reader::string)?;
    let leader_url = reader.tolerant_field("leader-url", Reader::string)?;
    let config_offset = reader.tolerant_field("config-offset", Reader::i64)?;
    let assigned = reader.defaulted_field("assignment", None, Reader::nullable_assignments)?;
    let revoked = reader.defaulted_field("revoked", None, Reader::nullable_assignments)?;
    let delay = reader.defaulted_field("delay", 0, Reader::i32)?;
    let (connectors, tasks) = split_assignments(assigned.unwrap_or_default());
    let (revoked_connectors, revoked_tasks) = split_assignments(revoked.unwrap_or_default());
    Ok(ExtendedAssignment {
        version,
        error,
        leader,
        leader_url,
        config_offset,
        connectors,
        tasks,
        revoked_connectors,
        revoked_tasks,
        delay,
    })
}

/// Reads an eager assignment strictly with the V0 layout (`ConnectProtocol.deserializeAssignment`).
pub fn decode_assignment_v0(bytes: &[u8]) -> Result<ExtendedAssignment, ProtocolError> {
    let mut reader = Reader::new(bytes);
    let version = read_version(&mut reader)?;
    let error = reader.field("error", Reader::i16)?;
    let leader = reader.field("leader", Reader::string)?;
    let leader_url = reader.field("leader-url", Reader::string)?;
    let config_offset = reader.field("config-offset", Reader::i64)?;
    let assigned = reader.field("assignment", Reader::assignments)?;
    let (connectors, tasks) = split_assignments(assigned);
    Ok(ExtendedAssignment {
        version,
        error,
        leader,
        leader_url,
        config_offset,
        connectors,
        tasks,
        revoked_connectors: Vec::new(),
        revoked_tasks: Vec::new(),
        delay: 0,
    })
}

/// `{connector, [task ids]}`, one element of an assignment's array.
type ConnectorAssignment = (String, Vec<i32>);

fn read_version(reader: &mut Reader<'_>) -> Result<i16, ProtocolError> {
    let version = reader.field("version", Reader::i16)?;
    if version < CONNECT_PROTOCOL_V0 {
        return Err(ProtocolError::Schema(format!(
            "Unsupported subscription version: {version}"
        )));
    }
    Ok(version)
}

/// Apache's `Assignment.asMap()`.
fn group_assigned(connectors: &[String], tasks: &[ConnectorTaskId]) -> Vec<ConnectorAssignment> {
    let mut grouped: Vec<ConnectorAssignment> = Vec::new();
    // `new HashSet<>(connectorIds)` decides the order of the connector instances.
    let capacity = hash_set_from_collection_capacity(connectors.len());
    for connector in java_hash_iteration_order(connectors, |c| java_string_hash(c), capacity) {
        grouped.push((connector, vec![CONNECTOR_TASK]));
    }
    append_tasks(&mut grouped, tasks);
    grouped
}

/// Apache's `ExtendedAssignment.revokedAsMap()`.
fn group_revoked(connectors: &[String], tasks: &[ConnectorTaskId]) -> Vec<ConnectorAssignment> {
    let mut grouped: Vec<ConnectorAssignment> = Vec::new();
    for connector in connectors {
        if !grouped.iter().any(|(c, _)| c == connector) {
            grouped.push((connector.clone(), vec![CONNECTOR_TASK]));
        }
    }
    append_tasks(&mut grouped, tasks);
    grouped
}

fn append_tasks(grouped: &mut Vec<ConnectorAssignment>, tasks: &[ConnectorTaskId]) {
    for task in tasks {
        match grouped.iter_mut().find(|(c, _)| *c == task.connector) {
            Some((_, ids)) => ids.push(task.task),
            None => grouped.push((task.connector.clone(), vec![task.task])),
        }
    }
}

fn split_assignments(assignments: Vec<ConnectorAssignment>) -> (Vec<String>, Vec<ConnectorTaskId>) {
    let mut connectors = Vec::new();
    let mut tasks = Vec::new();
    for (connector, ids) in assignments {
        for id in ids {
            if id == CONNECTOR_TASK {
                connectors.push(connector.clone());
            } else {
                tasks.push(ConnectorTaskId::new(connector.clone(), id));
            }
        }
    }
    (connectors, tasks)
}

fn put_i16(out: &mut Vec<u8>, value: i16) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_i32(out: &mut Vec<u8>, value: i32) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_i64(out: &mut Vec<u8>, value: i64) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn put_string(out: &mut Vec<u8>, field: &str, value: &str) -> Result<(), ProtocolError> {
    let len = i16::try_from(value.len()).map_err(|_| {
        ProtocolError::Schema(format!(
            "Error writing field '{field}': String length {} is larger than the maximum string length.",
            value.len()
        ))
    })?;
    put_i16(out, len);
    out.extend_from_slice(value.as_bytes());
    Ok(())
}

fn array_len(len: usize, field: &str) -> Result<i32, ProtocolError> {
    i32::try_from(len).map_err(|_| {
        ProtocolError::Schema(format!(
            "Error writing field '{field}': too many elements ({len})"
        ))
    })
}

fn put_connector_assignments(
    out: &mut Vec<u8>,
    field: &str,
    assignments: &[ConnectorAssignment],
) -> Result<(), ProtocolError> {
    put_i32(out, array_len(assignments.len(), field)?);
    for (connector, ids) in assignments {
        put_string(out, "connector", connector)?;
        put_i32(out, array_len(ids.len(), "tasks")?);
        for id in ids {
            put_i32(out, *id);
        }
    }
    Ok(())
}

/// A cursor over untrusted bytes mirroring Kafka's `Type.read` checks and messages.
struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

const BUFFER_UNDERFLOW: &str = "java.nio.BufferUnderflowException";

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, position: 0 }
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.position
    }

    fn has_remaining(&self) -> bool {
        self.remaining() > 0
    }

    /// Reads one field; failures are prefixed like `Schema.read` does.
    fn field<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(&mut Self) -> Result<T, String>,
    ) -> Result<T, ProtocolError> {
        read(self).map_err(|e| ProtocolError::Schema(format!("Error reading field '{name}': {e}")))
    }

    /// A field without default in a schema that tolerates missing fields.
    fn tolerant_field<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(&mut Self) -> Result<T, String>,
    ) -> Result<T, ProtocolError> {
        if !self.has_remaining() {
            return Err(ProtocolError::Schema(format!(
                "Error reading field '{name}': Missing value for field '{name}' which has no default value."
            )));
        }
        self.field(name, read)
    }

    /// A field with a default in a schema that tolerates missing fields.
    fn defaulted_field<T>(
        &mut self,
        name: &str,
        default: T,
        read: impl FnOnce(&mut Self) -> Result<T, String>,
    ) -> Result<T, ProtocolError> {
        if !self.has_remaining() {
            return Ok(default);
        }
        self.field(name, read)
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let end = self.position.checked_add(N).ok_or(BUFFER_UNDERFLOW)?;
        let slice = self.bytes.get(self.position..end).ok_or(BUFFER_UNDERFLOW)?;
        let mut array = [0u8; N];
        array.copy_from_slice(slice);
        self.position = end;
        Ok(array)
    }

    fn i16(&mut self) -> Result<i16, String> {
        self.take::<2>().map(i16::from_be_bytes)
    }

    fn i32(&mut self) -> Result<i32, String> {
        self.take::<4>().map(i32::from_be_bytes)
    }

    fn i64(&mut self) -> Result<i64, String> {
        self.take::<8>().map(i64::from_be_bytes)
    }

    fn slice(&mut self, len: usize) -> &'a [u8] {
        let slice = &self.bytes[self.position..self.position + len];
        self.position += len;
        slice
    }

    fn string(&mut self) -> Result<String, String> {
        let len = self.i16()?;
        if len < 0 {
            return Err(format!("String length {len} cannot be negative"));
        }
        let len = len as usize;
        if len > self.remaining() {
            return Err(format!(
                "Error reading string of length {len}, only {} bytes available",
                self.remaining()
            ));
        }
        // Java decodes malformed UTF-8 with replacement characters rather than failing.
        Ok(String::from_utf8_lossy(self.slice(len)).into_owned())
    }

    fn nullable_bytes(&mut self) -> Result<Option<&'a [u8]>, String> {
        let size = self.i32()?;
        if size < 0 {
            return Ok(None);
        }
        let size = size as usize;
        if size > self.remaining() {
            return Err(format!(
                "Error reading bytes of size {size}, only {} bytes available",
                self.remaining()
            ));
        }
        Ok(Some(self.slice(size)))
    }

    /// An array's element count; `None` for a null (negative) count when `nullable`.
    fn array_count(&mut self, nullable: bool) -> Result<Option<usize>, String> {
        let size = self.i32()?;
        if size < 0 {
            return if nullable {
                Ok(None)
            } else {
                Err(format!("Array size {size} cannot be negative"))
            };
        }
        let size = size as usize;
        if size > self.remaining() {
            return Err(format!(
                "Error reading array of size {size}, only {} bytes available",
                self.remaining()
            ));
        }
        Ok(Some(size))
    }

    fn connector_assignment(&mut self) -> Result<ConnectorAssignment, String> {
        let connector = self.nested_field("connector", Self::string)?;
        let ids = self.nested_field("tasks", |r| {
            let count = r.array_count(false)?.unwrap_or(0);
            (0..count).map(|_| r.i32()).collect::<Result<Vec<_>, _>>()
        })?;
        Ok((connector, ids))
    }

    fn nested_field<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(&mut Self) -> Result<T, String>,
    ) -> Result<T, String> {
        read(self).map_err(|e| format!("Error reading field '{name}': {e}"))
    }

    fn assignments(&mut self) -> Result<Vec<ConnectorAssignment>, String> {
        let count = self.array_count(false)?.unwrap_or(0);
        (0..count).map(|_| self.connector_assignment()).collect()
    }

    fn nullable_assignments(&mut self) -> Result<Option<Vec<ConnectorAssignment>>, String> {
        match self.array_count(true)? {
            None => Ok(None),
            Some(count) => (0..count)
                .map(|_| self.connector_assignment())
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
        }
    }
}

// ---- Java collection semantics that decide Apache's iteration orders ----

/// Compares two strings as Java's `String.compareTo` does (UTF-16 code units).
pub(crate) fn java_string_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Java's `String.hashCode()`.
pub(crate) fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// Table size of `new HashMap<>()` / `new HashSet<>()` once the first entry is added.
pub(crate) const JAVA_DEFAULT_TABLE_SIZE: usize = 16;

/// Table size of `new HashSet<>(collection)` on Java 21 (the JVM of Apache's images):
/// `HashMap.newHashMap(max(size, 12))`, i.e. `tableSizeFor(ceil(max(size, 12) / 0.75))`.
pub(crate) fn hash_set_from_collection_capacity(size: usize) -> usize {
    let mappings = size.max(12) as f64;
    let capacity = (mappings / 0.75).ceil() as usize;
    capacity.next_power_of_two()
}

/// The order in which a Java `HashMap`/`HashSet` created with `initial_table_size` buckets iterates
/// after `items` were inserted in order (duplicates ignored): by bucket index of the final table, then by
/// insertion order, with the table doubling whenever the size passes 3/4 of it or a bucket of a table
/// smaller than 64 collects a ninth entry. Not modelled: the order inside a treeified bucket (nine or more
/// colliding hashes in a table of at least 64), which keeps insertion order here.
pub(crate) fn java_hash_iteration_order<T: Clone + Eq + Hash>(
    items: &[T],
    java_hash: impl Fn(&T) -> i32,
    initial_table_size: usize,
) -> Vec<T> {
    fn spread(hash: i32) -> usize {
        let h = hash as u32;
        (h ^ (h >> 16)) as usize
    }
    let mut table_size = initial_table_size.max(1).next_power_of_two();
    let mut seen: HashSet<&T> = HashSet::new();
    let mut entries: Vec<(usize, &T)> = Vec::new();
    let mut bucket_sizes = vec![0usize; table_size];
    let resize =
        |table_size: &mut usize, bucket_sizes: &mut Vec<usize>, entries: &[(usize, &T)]| {
            *table_size *= 2;
            *bucket_sizes = vec![0usize; *table_size];
            for (hash, _) in entries {
                bucket_sizes[hash & (*table_size - 1)] += 1;
            }
        };
    for item in items {
        if !seen.insert(item) {
            continue;
        }
        let hash = spread(java_hash(item));
        let bucket = hash & (table_size - 1);
        let previous_in_bucket = bucket_sizes[bucket];
        bucket_sizes[bucket] += 1;
        entries.push((hash, item));
        if previous_in_bucket >= 8 && table_size < 64 {
            // `treeifyBin` on a small table resizes instead.
            resize(&mut table_size, &mut bucket_sizes, &entries);
        }
        if entries.len() > table_size / 4 * 3 {
            resize(&mut table_size, &mut bucket_sizes, &entries);
        }
    }
    let mask = table_size - 1;
    let mut ordered: Vec<(usize, usize, &T)> = entries
        .iter()
        .enumerate()
        .map(|(index, (hash, item))| (hash & mask, index, *item))
        .collect();
    ordered.sort_by_key(|(bucket, index, _)| (*bucket, *index));
    ordered
        .into_iter()
        .map(|(_, _, item)| item.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<char> = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        digits
            .chunks(2)
            .map(|pair| {
                let text: String = pair.iter().collect();
                u8::from_str_radix(&text, 16).expect("test vector is hex")
            })
            .collect()
    }

    fn spec_assignment(version: i16) -> ExtendedAssignment {
        ExtendedAssignment {
            version,
            error: NO_ERROR,
            leader: "connect-1-ab".into(),
            leader_url: "http://w1:8083/".into(),
            config_offset: 42,
            connectors: vec!["src".into()],
            tasks: vec![ConnectorTaskId::new("src", 0)],
            revoked_connectors: vec![],
            revoked_tasks: vec![ConnectorTaskId::new("snk", 1)],
            delay: 0,
        }
    }

    // Header(version) | error | leader | leader-url | config-offset | assignment | revoked | delay,
    // as ASSIGNMENT_V1 writes it.
    const SPEC_ASSIGNMENT_BODY: &str = "00 00 00 0c 63 6f 6e 6e 65 63 74 2d 31 2d 61 62 00 0f 68 74 74 70 3a 2f 2f 77 31 3a 38 30 38 33 2f
        00 00 00 00 00 00 00 2a 00 00 00 01 00 03 73 72 63 00 00 00 02 ff ff ff ff 00 00 00 00
        00 00 00 01 00 03 73 6e 6b 00 00 00 01 00 00 00 01 00 00 00 00";

    #[test]
    fn compatibility_names_versions_and_order() {
        use ConnectProtocolCompatibility::*;
        assert_eq!(
            ConnectProtocolCompatibility::from_config_value("SESSIONED"),
            Ok(Sessioned)
        );
        assert_eq!(
            ConnectProtocolCompatibility::from_config_value("eager"),
            Ok(Eager)
        );
        assert_eq!(
            ConnectProtocolCompatibility::from_config_value("default")
                .unwrap_err()
                .to_string(),
            "Unknown Connect protocol compatibility mode: default"
        );
        assert_eq!(
            ConnectProtocolCompatibility::from_protocol("default"),
            Ok(Eager)
        );
        assert_eq!(
            ConnectProtocolCompatibility::from_protocol("Compatible"),
            Ok(Compatible)
        );
        assert_eq!(
            ConnectProtocolCompatibility::from_protocol("eager")
                .unwrap_err()
                .to_string(),
            "Not found Connect protocol compatibility mode for protocol: eager"
        );
        assert_eq!(
            ConnectProtocolCompatibility::from_protocol_version(2),
            Ok(Sessioned)
        );
        assert_eq!(
            ConnectProtocolCompatibility::from_protocol_version(3)
                .unwrap_err()
                .to_string(),
            "Unknown Connect protocol version: 3"
        );
        assert_eq!(Sessioned.to_string(), "sessioned");
        assert_eq!(Eager.protocol(), "default");
        let state = ExtendedWorkerState {
            url: "http://w1:8083/".into(),
            config_offset: 42,
            allocation: None,
        };
        let names: Vec<_> = join_group_protocols(Sessioned, &state)
            .unwrap()
            .into_iter()
            .map(|p| (p.name, p.metadata[1]))
            .collect();
        assert_eq!(
            names,
            vec![("sessioned", 2), ("compatible", 1), ("default", 0)]
        );
        let names: Vec<_> = join_group_protocols(Compatible, &state)
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, vec!["compatible", "default"]);
        let names: Vec<_> = join_group_protocols(Eager, &state)
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, vec!["default"]);
    }

    #[test]
    fn metadata_v0_bytes() {
        let state = ExtendedWorkerState {
            url: "http://w1:8083/".into(),
            config_offset: 42,
            allocation: None,
        };
        let expected = hex(
            "00 00 | 00 0f 68 74 74 70 3a 2f 2f 77 31 3a 38 30 38 33 2f | 00 00 00 00 00 00 00 2a",
        );
        assert_eq!(
            encode_metadata(&state, ConnectProtocolCompatibility::Eager).unwrap(),
            expected
        );
        assert_eq!(
            encode_worker_state_v0(&state.worker_state()).unwrap(),
            expected
        );
        assert_eq!(
            decode_worker_state_v0(&expected).unwrap(),
            state.worker_state()
        );
        // The cooperative reader accepts V0 metadata: no allocation.
        assert_eq!(decode_metadata(&expected).unwrap(), state);
    }

    #[test]
    fn metadata_v1_bytes_with_null_allocation() {
        let state = ExtendedWorkerState {
            url: "http://w1:8083/".into(),
            config_offset: 42,
            allocation: None,
        };
        let expected = hex(
            "00 01 | 00 0f 68 74 74 70 3a 2f 2f 77 31 3a 38 30 38 33 2f | 00 00 00 00 00 00 00 2a | ff ff ff ff",
        );
        let bytes = encode_metadata(&state, ConnectProtocolCompatibility::Compatible).unwrap();
        assert_eq!(bytes, expected);
        assert_eq!(decode_metadata(&bytes).unwrap(), state);
    }

    #[test]
    fn assignment_v1_and_v2_bytes() {
        for (protocol, version) in [
            (ConnectProtocolCompatibility::Compatible, "00 01"),
            (ConnectProtocolCompatibility::Sessioned, "00 02"),
        ] {
            let expected = hex(&format!("{version} {SPEC_ASSIGNMENT_BODY}"));
            assert_eq!(expected.len(), 85);
            let assignment = spec_assignment(protocol.protocol_version());
            let bytes = encode_assignment(&assignment, protocol).unwrap();
            assert_eq!(bytes, expected);
            assert_eq!(decode_assignment(&bytes).unwrap(), assignment);
        }
    }

    #[test]
    fn metadata_v2_embeds_allocation_with_length_prefix() {
        let state = ExtendedWorkerState {
            url: "http://w1:8083/".into(),
            config_offset: 42,
            allocation: Some(spec_assignment(2)),
        };
        let expected = hex(&format!(
            "00 02 00 0f 68 74 74 70 3a 2f 2f 77 31 3a 38 30 38 33 2f 00 00 00 00 00 00 00 2a
             00 00 00 55 00 02 {SPEC_ASSIGNMENT_BODY}"
        ));
        let bytes = encode_metadata(&state, ConnectProtocolCompatibility::Sessioned).unwrap();
        assert_eq!(bytes, expected);
        assert_eq!(decode_metadata(&bytes).unwrap(), state);
    }

    #[test]
    fn assignment_v0_bytes_and_tolerant_decoding() {
        let assignment = ExtendedAssignment {
            version: 0,
            error: CONFIG_MISMATCH,
            leader: "L".into(),
            leader_url: "u".into(),
            config_offset: -1,
            connectors: vec![],
            tasks: vec![ConnectorTaskId::new("a", 0), ConnectorTaskId::new("a", 2)],
            revoked_connectors: vec![],
            revoked_tasks: vec![],
            delay: 0,
        };
        let expected = hex("00 00 00 01 00 01 4c 00 01 75 ff ff ff ff ff ff ff ff
             00 00 00 01 00 01 61 00 00 00 02 00 00 00 00 00 00 00 02");
        let bytes = encode_assignment(&assignment, ConnectProtocolCompatibility::Eager).unwrap();
        assert_eq!(bytes, expected);
        assert_eq!(decode_assignment_v0(&bytes).unwrap(), assignment);
        // The V1 reader accepts V0 bytes: no revocations, no delay.
        assert_eq!(decode_assignment(&bytes).unwrap(), assignment);
    }

    #[test]
    fn null_arrays_decode_as_empty() {
        let bytes = hex(
            "00 01 00 00 00 01 4c 00 01 75 00 00 00 00 00 00 00 07 ff ff ff ff ff ff ff ff 00 00 01 f4",
        );
        let decoded = decode_assignment(&bytes).unwrap();
        assert!(decoded.connectors.is_empty() && decoded.revoked_tasks.is_empty());
        assert_eq!((decoded.config_offset, decoded.delay), (7, 500));
    }

    #[test]
    fn connectors_grouped_before_tasks_in_java_hash_set_order() {
        // Java: new HashSet<>(["b", "a"]) iterates "a" (hash 97) before "b" (hash 98).
        let assignment = ExtendedAssignment {
            version: 1,
            error: 0,
            leader: "L".into(),
            leader_url: "u".into(),
            config_offset: 0,
            connectors: vec!["b".into(), "a".into()],
            tasks: vec![ConnectorTaskId::new("c", 0), ConnectorTaskId::new("b", 1)],
            revoked_connectors: vec!["x".into(), "x".into()],
            revoked_tasks: vec![],
            delay: 0,
        };
        let bytes =
            encode_assignment(&assignment, ConnectProtocolCompatibility::Compatible).unwrap();
        let expected = hex("00 01 00 00 00 01 4c 00 01 75 00 00 00 00 00 00 00 00
             00 00 00 03 00 01 61 00 00 00 01 ff ff ff ff
                         00 01 62 00 00 00 02 ff ff ff ff 00 00 00 01
                         00 01 63 00 00 00 01 00 00 00 00
             00 00 00 01 00 01 78 00 00 00 01 ff ff ff ff
             00 00 00 00");
        assert_eq!(bytes, expected);
        let decoded = decode_assignment(&bytes).unwrap();
        assert_eq!(decoded.connectors, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(decoded.revoked_connectors, vec!["x".to_string()]);
    }

    #[test]
    fn java_hash_order_matches_known_java_output() {
        assert_eq!(
            java_string_hash("connect-1"),
            "connect-1"
                .chars()
                .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
        );
        assert_eq!(java_string_hash("hello"), 99162322);
        // new HashSet<>(List.of("worker3", "worker1", "worker2")) iterates worker1, worker2, worker3 in Java.
        let items: Vec<String> = ["worker3", "worker1", "worker2"].map(String::from).to_vec();
        let order = java_hash_iteration_order(&items, |s| java_string_hash(s), 16);
        assert_eq!(order, vec!["worker1", "worker2", "worker3"]);
        assert_eq!(hash_set_from_collection_capacity(0), 16);
        assert_eq!(hash_set_from_collection_capacity(12), 16);
        assert_eq!(hash_set_from_collection_capacity(13), 32);
        assert_eq!(hash_set_from_collection_capacity(24), 32);
        assert_eq!(hash_set_from_collection_capacity(25), 64);
        // Output of Java 17: nine entries in one bucket of a 16-bucket table double it.
        let many: Vec<i32> = (0..13).map(|i| i * 16).collect();
        let order = java_hash_iteration_order(&many, |i| *i, 16);
        assert_eq!(
            order,
            vec![0, 32, 64, 96, 128, 160, 192, 16, 48, 80, 112, 144, 176]
        );
        // new ArrayList<>(new HashSet<>(names)) printed by Java 17 (same table size as Java 21 for 40).
        let names: Vec<String> = (0..40).map(|i| format!("conn-{}", i * 7919 % 97)).collect();
        let capacity = hash_set_from_collection_capacity(names.len());
        let order = java_hash_iteration_order(&names, |s| java_string_hash(s), capacity);
        let java = "conn-60, conn-81, conn-41, conn-63, conn-62, conn-84, conn-57, conn-79, conn-11, conn-33, \
            conn-54, conn-76, conn-17, conn-38, conn-14, conn-36, conn-19, conn-9, conn-71, conn-92, conn-6, \
            conn-90, conn-3, conn-30, conn-52, conn-73, conn-95, conn-1, conn-0, conn-46, conn-68, conn-89, \
            conn-22, conn-44, conn-65, conn-87, conn-28, conn-27, conn-49, conn-25";
        assert_eq!(order.join(", "), java);
    }

    #[test]
    fn java_string_order_uses_utf16_units() {
        // UTF-8 byte order puts U+FF5E first; Java compares U+FF5E with the surrogate 0xD83D.
        assert_eq!(java_string_cmp("\u{FF5E}", "\u{1F600}"), Ordering::Greater);
        assert_eq!(java_string_cmp("a", "b"), Ordering::Less);
    }

    #[test]
    fn decoding_errors_carry_java_messages() {
        assert_eq!(
            decode_assignment(&[]).unwrap_err().to_string(),
            "Error reading field 'version': java.nio.BufferUnderflowException"
        );
        assert_eq!(
            decode_assignment(&hex("ff ff")).unwrap_err().to_string(),
            "Unsupported subscription version: -1"
        );
        assert_eq!(
            decode_assignment(&hex("00 01")).unwrap_err().to_string(),
            "Error reading field 'error': Missing value for field 'error' which has no default value."
        );
        assert_eq!(
            decode_metadata(&hex("00 01 00 05 61"))
                .unwrap_err()
                .to_string(),
            "Error reading field 'url': Error reading string of length 5, only 1 bytes available"
        );
        assert_eq!(
            decode_metadata(&hex("00 01 ff ff"))
                .unwrap_err()
                .to_string(),
            "Error reading field 'url': String length -1 cannot be negative"
        );
        let bad_tasks = hex(
            "00 01 00 00 00 01 4c 00 01 75 00 00 00 00 00 00 00 00 00 00 00 01 00 01 61 ff ff ff ff",
        );
        assert_eq!(
            decode_assignment(&bad_tasks).unwrap_err().to_string(),
            "Error reading field 'assignment': Error reading field 'tasks': Array size -1 cannot be negative"
        );
    }

    #[test]
    fn truncated_inputs_never_panic() {
        let state = ExtendedWorkerState {
            url: "http://w1:8083/".into(),
            config_offset: 42,
            allocation: Some(spec_assignment(2)),
        };
        let metadata = encode_metadata(&state, ConnectProtocolCompatibility::Sessioned).unwrap();
        for len in 0..metadata.len() {
            let _ = decode_metadata(&metadata[..len]);
            let _ = decode_worker_state_v0(&metadata[..len]);
        }
        let assignment =
            encode_assignment(&spec_assignment(2), ConnectProtocolCompatibility::Sessioned)
                .unwrap();
        let mut ok_prefixes = 0;
        for len in 0..assignment.len() {
            let prefix = &assignment[..len];
            if decode_assignment(prefix).is_ok() {
                ok_prefixes += 1;
            }
            let _ = decode_assignment_v0(prefix);
        }
        // Only prefixes ending at a field boundary from config-offset on decode (missing trailing
        // fields take defaults): after config-offset, after `assignment` and after `revoked`.
        assert_eq!(ok_prefixes, 3);
        // Corrupt every byte in turn: errors, never panics.
        for i in 0..assignment.len() {
            let mut corrupted = assignment.clone();
            corrupted[i] ^= 0xff;
            let _ = decode_assignment(&corrupted);
            let _ = decode_assignment_v0(&corrupted);
        }
    }

    #[test]
    fn over_long_string_is_an_error() {
        let state = WorkerState {
            url: "x".repeat(40_000),
            config_offset: 0,
        };
        assert_eq!(
            encode_worker_state_v0(&state).unwrap_err().to_string(),
            "Error writing field 'url': String length 40000 is larger than the maximum string length."
        );
    }

    #[test]
    fn member_merges_cooperative_assignment() {
        let previous = ExtendedAssignment {
            connectors: vec!["a".into(), "b".into()],
            tasks: vec![ConnectorTaskId::new("a", 0), ConnectorTaskId::new("b", 0)],
            ..spec_assignment(2)
        };
        let next = ExtendedAssignment {
            connectors: vec!["c".into()],
            tasks: vec![],
            revoked_connectors: vec!["b".into()],
            revoked_tasks: vec![ConnectorTaskId::new("a", 0)],
            ..spec_assignment(2)
        };
        let merged = next.merged_with_previous(Some(&previous));
        assert_eq!(merged.connectors, vec!["c".to_string(), "a".to_string()]);
        assert_eq!(merged.tasks, vec![ConnectorTaskId::new("b", 0)]);
    }
}
