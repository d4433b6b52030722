//! Kafka's key partitioner hash.

/// Kafka's murmur2 (the Java client's `Utils.murmur2`), so keyed records land in the partition Java's
/// default partitioner picks: `(murmur2(key) & 0x7fffffff) % partitions`.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h: u32 = SEED ^ (data.len() as u32);
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    // Java's switch falls through from 3 to 2 to 1; bytes are sign-extended before `& 0xff`, i.e. unsigned.
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if let Some(b) = tail.first() {
        h ^= u32::from(*b);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The partition Java's default partitioner gives a non-null key.
pub(crate) fn partition_for_key(key: &[u8], partitions: usize) -> usize {
    (murmur2(key) & 0x7fff_ffff) as usize % partitions.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Straight transliteration of Java's `Utils.murmur2`, with Java's signed `int` arithmetic.
    fn java_murmur2(data: &[u8]) -> i32 {
        let length = data.len() as i32;
        let seed: i32 = 0x9747_b28c_u32 as i32;
        let m: i32 = 0x5bd1_e995;
        let r = 24;
        let mut h = seed ^ length;
        let length4 = length / 4;
        for i in 0..length4 as usize {
            let i4 = i * 4;
            let mut k = (i32::from(data[i4] as i8) & 0xff)
                + ((i32::from(data[i4 + 1] as i8) & 0xff) << 8)
                + ((i32::from(data[i4 + 2] as i8) & 0xff) << 16)
                + ((i32::from(data[i4 + 3] as i8) & 0xff) << 24);
            k = k.wrapping_mul(m);
            k ^= ((k as u32) >> r) as i32;
            k = k.wrapping_mul(m);
            h = h.wrapping_mul(m);
            h ^= k;
        }
        let rem = (length % 4) as usize;
        let base = (length & !3) as usize;
        if rem >= 3 {
            h ^= (i32::from(data[base + 2] as i8) & 0xff) << 16;
        }
        if rem >= 2 {
            h ^= (i32::from(data[base + 1] as i8) & 0xff) << 8;
        }
        if rem >= 1 {
            h ^= i32::from(data[base] as i8) & 0xff;
            h = h.wrapping_mul(m);
        }
        h ^= ((h as u32) >> 13) as i32;
        h = h.wrapping_mul(m);
        h ^= ((h as u32) >> 15) as i32;
        h
    }

    #[test]
    fn murmur2_matches_java_vectors() {
        // Kafka's UtilsTest.testMurmur2.
        assert_eq!(murmur2(b"21"), -973_932_308);
        assert_eq!(murmur2(b"foobar"), -790_332_482);
        assert_eq!(murmur2(b"a-little-bit-long-string"), -985_981_536);
        assert_eq!(murmur2(b"a-little-bit-longer-string"), -1_486_304_829);
        assert_eq!(
            murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"),
            -58_897_971
        );
        assert_eq!(murmur2(b"abc"), 479_470_107);
        assert_eq!(murmur2(b""), 275_646_681);
        assert_eq!(partition_for_key(b"foobar", 50), 16);
        // Keys Connect writes to its status topic.
        let k = br#"["local-file-source",{"filename":"/tmp/test.txt"}]"#;
        assert_eq!(murmur2(k) as u32, 0xdc52_257d);
        assert_eq!(
            murmur2(b"status-connector-local-file-source") as u32,
            0xe759_733a
        );
        assert_eq!(partition_for_key(b"status-task-local-file-source-0", 5), 4);
    }

    #[test]
    fn murmur2_agrees_with_a_literal_java_transliteration() {
        let mut data = Vec::new();
        for i in 0..64u8 {
            data.push(i.wrapping_mul(37).wrapping_add(200));
            assert_eq!(murmur2(&data), java_murmur2(&data), "length {}", data.len());
        }
        assert_eq!(murmur2(b""), java_murmur2(b""));
        assert_eq!(murmur2(b"a"), java_murmur2(b"a"));
    }
}
