//! Locust's master/worker messages (§9.2): msgpack `[type, data, node_id]`. Decoding
//! takes any bytes: a frame that is not such an array is an error, never a panic, and
//! rmpv caps preallocation and nesting so announced lengths size nothing.

use rmpv::Value;

/// Nesting deeper than this is refused (Locust's messages are 4 levels deep).
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub kind: String,
    pub data: Value,
    pub node_id: String,
}

impl Message {
    pub fn new(kind: &str, data: Value, node_id: &str) -> Self {
        Message {
            kind: kind.to_string(),
            data,
            node_id: node_id.to_string(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let value = Value::Array(vec![
            Value::from(self.kind.as_str()),
            self.data.clone(),
            Value::from(self.node_id.as_str()),
        ]);
        let mut out = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = rmpv::encode::write_value(&mut out, &value);
        out
    }

    pub fn decode(frame: &[u8]) -> Result<Message, String> {
        let mut reader = frame;
        let value = rmpv::decode::read_value_with_max_depth(&mut reader, MAX_DEPTH)
            .map_err(|e| format!("not msgpack: {e}"))?;
        if !reader.is_empty() {
            return Err(format!("{} bytes after the message", reader.len()));
        }
        let Value::Array(mut parts) = value else {
            return Err("not a [type, data, node_id] array".into());
        };
        if parts.len() != 3 {
            return Err(format!("an array of {} items, not 3", parts.len()));
        }
        let node_id = parts.pop().and_then(|v| v.as_str().map(str::to_string));
        let data = parts.pop().unwrap_or(Value::Nil);
        let kind = parts.pop().and_then(|v| v.as_str().map(str::to_string));
        match (kind, node_id) {
            (Some(kind), Some(node_id)) => Ok(Message {
                kind,
                data,
                node_id,
            }),
            _ => Err("type or node_id is not a string".into()),
        }
    }
}

/// `data[name]` of a map-valued message data, Nil when absent.
pub fn field<'a>(data: &'a Value, name: &str) -> &'a Value {
    data.as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some(name)))
        .map_or(&Value::Nil, |(_, v)| v)
}

/// A str → value map from pairs.
pub fn map<'a>(pairs: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    Value::Map(
        pairs
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_locusts_bytes() {
        let m = Message::new("client_ready", Value::from("2.47.0"), "vm_0123");
        let bytes = m.encode();
        assert_eq!(bytes[0], 0x93, "a 3-array, as Locust's");
        assert_eq!(Message::decode(&bytes).unwrap(), m);
        let ack = Message::new("ack", map([("index", Value::from(0))]), "vm_0123");
        assert_eq!(
            field(&Message::decode(&ack.encode()).unwrap().data, "index").as_i64(),
            Some(0)
        );
    }

    #[test]
    fn fuzz_hostile_frames_are_errors_never_panics() {
        use locust_scenario::fuzz::{cases, mutated, run_case, Rng};
        let spawn = map([("user_classes_count", map([("A", Value::from(3))]))]);
        let seeds = [
            Message::new("spawn", spawn, "w").encode(),
            Message::new("heartbeat", Value::Nil, "w").encode(),
            // Huge announced lengths: array32, map32 and str32 headers.
            vec![0x93, 0xdd, 0xff, 0xff, 0xff, 0xff],
            vec![
                0x93, 0xa5, 0x73, 0x74, 0x61, 0x74, 0x73, 0xdf, 0xff, 0xff, 0xff, 0xff,
            ],
            vec![0x93, 0xdb, 0xff, 0xff, 0xff, 0xff],
        ];
        let corpus: Vec<&[u8]> = seeds.iter().map(Vec::as_slice).collect();
        let mut rng = Rng(13);
        for case in 0..cases(20_000, 1) {
            let frame = mutated(&mut rng, &corpus, &[]);
            run_case("fuzz_hostile_frames", case, &frame, || {
                Message::decode(&frame).ok()
            });
        }
        assert!(Message::decode(&[0xdd, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(Message::decode(&[0x91; 10_000]).is_err(), "deep nesting");
    }
}
