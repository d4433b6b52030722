//! Placeholder until the Java serialisation codec lands (being written in parallel).
pub(crate) fn encode_java_byte_map(_entries: &[(Vec<u8>, Option<Vec<u8>>)]) -> Vec<u8> {
    unimplemented!("java_map codec pending")
}
pub(crate) fn decode_java_byte_map(
    _bytes: &[u8],
) -> Result<Vec<(Vec<u8>, Option<Vec<u8>>)>, String> {
    unimplemented!("java_map codec pending")
}
