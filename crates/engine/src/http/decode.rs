//! Response bodies as they stream in: undone Content-Encodings (gzip, deflate, br, as
//! requests decodes them) and a sink that either keeps the decoded body, up to a limit,
//! or only counts it. Nothing here allocates what the peer announces: memory grows only
//! with bytes actually decoded and kept.

use std::io::Write;

use brotli_decompressor::DecompressorWriter;
use bytes::{Bytes, BytesMut};
use flate2::{Decompress, FlushDecompress, Status};
use http::HeaderMap;

/// urllib3 refuses longer chains of encodings (a cheap decompression bomb).
const MAX_ENCODINGS: usize = 5;
/// The working buffers of the brotli and zlib decoders.
const BROTLI_BUFFER: usize = 4096;
const INFLATE_BUFFER: usize = 8192;

/// Why a body could not be taken in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The decoded body grew past the limit (`--max-body-size`).
    TooLarge {
        limit: u64,
    },
    /// The bytes are not valid for their Content-Encoding.
    Corrupt {
        encoding: String,
        message: String,
    },
    TooManyEncodings(String),
}

/// Where the decoded body goes.
struct Sink {
    /// The body, when a check or an extraction will read it.
    kept: Option<BytesMut>,
    limit: u64,
    decoded: u64,
}

impl Sink {
    fn overflowed(&self) -> bool {
        self.kept.is_some() && self.decoded > self.limit
    }
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.decoded = self.decoded.saturating_add(data.len() as u64);
        if let Some(kept) = &mut self.kept {
            if self.decoded > self.limit {
                return Err(std::io::Error::other(TooLarge));
            }
            kept.extend_from_slice(data);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Marks the sink's refusal inside an `io::Error`, to tell it from corrupt data.
#[derive(Debug)]
struct TooLarge;

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("body too large")
    }
}

impl std::error::Error for TooLarge {}

/// Python's zlib error for corrupt data (`Error -3 while decompressing data: ...`).
#[derive(Debug)]
struct ZlibError(String);

impl std::fmt::Display for ZlibError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ZlibError {}

/// The three framings zlib inflates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wrapper {
    Gzip,
    Zlib,
    Raw,
}

/// zlib's inflate over a stream (flate2 on zlib-rs, so corrupt data fails with zlib's
/// own words, as Python's zlib module reports them). Gzip members follow one another as
/// urllib3 reads them: data after the first member starts a new one, and an error
/// there ends the body quietly.
struct Inflate {
    zlib: Decompress,
    wrapper: Wrapper,
    members: usize,
    ended: bool,
    out: Box<[u8]>,
    inner: Layer,
}

impl Inflate {
    fn new(wrapper: Wrapper, inner: Layer) -> Self {
        Inflate {
            zlib: Self::state(wrapper),
            wrapper,
            members: 1,
            ended: false,
            out: vec![0; INFLATE_BUFFER].into_boxed_slice(),
            inner,
        }
    }

    fn state(wrapper: Wrapper) -> Decompress {
        match wrapper {
            Wrapper::Gzip => Decompress::new_gzip(15),
            Wrapper::Zlib => Decompress::new(true),
            Wrapper::Raw => Decompress::new(false),
        }
    }

    fn feed(&mut self, mut data: &[u8]) -> std::io::Result<()> {
        while !self.ended {
            let (in_before, out_before) = (self.zlib.total_in(), self.zlib.total_out());
            let status = match self
                .zlib
                .decompress(data, &mut self.out, FlushDecompress::None)
            {
                Ok(status) => status,
                Err(_) if self.members > 1 => {
                    self.ended = true;
                    return Ok(());
                }
                Err(e) => {
                    let message = match e.message() {
                        Some(m) => format!("Error -3 while decompressing data: {m}"),
                        None => "Error -3 while decompressing data".to_string(),
                    };
                    return Err(std::io::Error::other(ZlibError(message)));
                }
            };
            let consumed = (self.zlib.total_in() - in_before) as usize;
            let produced = (self.zlib.total_out() - out_before) as usize;
            self.inner.write_all(&self.out[..produced])?;
            data = &data[consumed..];
            if status == Status::StreamEnd {
                if self.wrapper == Wrapper::Gzip && !data.is_empty() {
                    self.zlib = Self::state(Wrapper::Gzip);
                    self.members += 1;
                    continue;
                }
                self.ended = true;
            }
            // Done when the input is used up and zlib holds nothing more back.
            if (data.is_empty() && produced < self.out.len()) || (consumed == 0 && produced == 0) {
                break;
            }
        }
        Ok(())
    }
}

/// One decoding step, wrapping the next one towards the sink.
enum Layer {
    Sink(Sink),
    Inflate(Box<Inflate>),
    /// `deflate` is zlib-wrapped by the RFC but raw by some servers: urllib3 accepts
    /// both, and so do we once the first two bytes tell which.
    DeflateUndecided(Box<Layer>, Vec<u8>),
    Brotli(Box<DecompressorWriter<Layer>>),
    /// Only while a layer is being replaced.
    Taken,
}

impl Layer {
    fn wrap(self, encoding: &str) -> Option<Layer> {
        Some(match encoding {
            "gzip" | "x-gzip" => Layer::Inflate(Box::new(Inflate::new(Wrapper::Gzip, self))),
            "deflate" => Layer::DeflateUndecided(Box::new(self), Vec::new()),
            "br" => Layer::Brotli(Box::new(DecompressorWriter::new(self, BROTLI_BUFFER))),
            _ => return None,
        })
    }

    fn finish(self) -> std::io::Result<Sink> {
        match self {
            Layer::Sink(sink) if sink.overflowed() => Err(std::io::Error::other(TooLarge)),
            Layer::Sink(sink) => Ok(sink),
            Layer::Inflate(d) => d.inner.finish(),
            Layer::DeflateUndecided(inner, pending) => {
                // Fewer than two bytes in all: decode what there is as raw deflate.
                if pending.is_empty() {
                    inner.finish()
                } else {
                    let mut raw = Inflate::new(Wrapper::Raw, *inner);
                    raw.feed(&pending)?;
                    raw.inner.finish()
                }
            }
            Layer::Brotli(mut d) => {
                // Python's brotli takes a stream cut short as the end of the body; a
                // refusal of the sink is still seen by the sink's own finish.
                let _ = d.close();
                match d.into_inner() {
                    Ok(inner) | Err(inner) => inner.finish(),
                }
            }
            Layer::Taken => Err(std::io::Error::other("decoder lost")),
        }
    }
}

impl Write for Layer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        match self {
            Layer::Sink(s) => s.write(data),
            Layer::Inflate(d) => d.feed(data).map(|()| data.len()),
            Layer::Brotli(d) => d.write(data),
            Layer::DeflateUndecided(_, pending) => {
                let take = (2 - pending.len()).min(data.len());
                pending.extend_from_slice(&data[..take]);
                if pending.len() == 2 {
                    let Layer::DeflateUndecided(inner, pending) =
                        std::mem::replace(self, Layer::Taken)
                    else {
                        return Err(std::io::Error::other("decoder lost"));
                    };
                    let wrapper = if is_zlib_header(pending[0], pending[1]) {
                        Wrapper::Zlib
                    } else {
                        Wrapper::Raw
                    };
                    *self = Layer::Inflate(Box::new(Inflate::new(wrapper, *inner)));
                    self.write_all(&pending)?;
                }
                Ok(take)
            }
            Layer::Taken => Err(std::io::Error::other("decoder lost")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// RFC 1950: deflate method, and the header checksum.
fn is_zlib_header(cmf: u8, flg: u8) -> bool {
    cmf & 0x0f == 8 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
}

/// Takes one response body in: decodes it as its Content-Encoding says and keeps or
/// counts the result.
pub struct BodyReader {
    layer: Layer,
    /// The Content-Encoding, for error messages; empty when the body is stored as is.
    encoding: String,
    limit: u64,
}

/// A finished body: the decoded bytes when kept, and the decoded length either way.
#[derive(Debug)]
pub struct Body {
    pub bytes: Bytes,
    pub length: u64,
}

impl BodyReader {
    /// `keep`: hold the decoded body (up to `limit` bytes) rather than only count it.
    pub fn new(headers: &HeaderMap, keep: bool, limit: u64) -> Result<Self, DecodeError> {
        let sink = Sink {
            kept: keep.then(BytesMut::new),
            limit,
            decoded: 0,
        };
        let mut layer = Layer::Sink(sink);
        if !headers.contains_key(http::header::CONTENT_ENCODING) {
            return Ok(BodyReader {
                layer,
                encoding: String::new(),
                limit,
            });
        }
        let encoding = encodings(headers);
        let known: Vec<&str> = encoding
            .split(',')
            .map(str::trim)
            .filter(|e| matches!(*e, "gzip" | "x-gzip" | "deflate" | "br"))
            .collect();
        if known.len() > MAX_ENCODINGS {
            return Err(DecodeError::TooManyEncodings(encoding));
        }
        for name in &known {
            layer = match layer.wrap(name) {
                Some(wrapped) => wrapped,
                None => return Err(DecodeError::TooManyEncodings(encoding)),
            };
        }
        let encoding = if known.is_empty() {
            String::new()
        } else {
            encoding
        };
        Ok(BodyReader {
            layer,
            encoding,
            limit,
        })
    }

    /// Feeds the next raw bytes of the body.
    pub fn write(&mut self, data: &[u8]) -> Result<(), DecodeError> {
        self.layer.write_all(data).map_err(|e| self.error(e))
    }

    pub fn finish(self) -> Result<Body, DecodeError> {
        let (encoding, limit) = (self.encoding, self.limit);
        let sink = self
            .layer
            .finish()
            .map_err(|e| classify(e, &encoding, limit))?;
        Ok(Body {
            length: sink.decoded,
            bytes: sink.kept.map(BytesMut::freeze).unwrap_or_default(),
        })
    }

    fn error(&self, error: std::io::Error) -> DecodeError {
        classify(error, &self.encoding, self.limit)
    }
}

fn classify(error: std::io::Error, encoding: &str, limit: u64) -> DecodeError {
    let inner = error.get_ref();
    if inner.is_some_and(|e| e.is::<TooLarge>()) {
        return DecodeError::TooLarge { limit };
    }
    // The python brotli module says no more than this, whatever went wrong.
    let message = match inner.and_then(|e| e.downcast_ref::<ZlibError>()) {
        Some(zlib) => zlib.0.clone(),
        None => "brotli: decoder failed".to_string(),
    };
    DecodeError::Corrupt {
        encoding: encoding.to_string(),
        message,
    }
}

/// Every Content-Encoding header, lowercased and joined as urllib3 reads them.
fn encodings(headers: &HeaderMap) -> String {
    let mut joined = String::new();
    for value in headers.get_all(http::header::CONTENT_ENCODING) {
        if !joined.is_empty() {
            joined.push_str(", ");
        }
        joined.push_str(&String::from_utf8_lossy(value.as_bytes()).to_ascii_lowercase());
    }
    joined.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::Compression;

    fn headers(encoding: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if !encoding.is_empty() {
            h.insert(http::header::CONTENT_ENCODING, encoding.parse().unwrap());
        }
        h
    }

    /// Decodes `data` fed in pieces of `step` bytes.
    fn decode(
        encoding: &str,
        data: &[u8],
        step: usize,
        keep: bool,
        limit: u64,
    ) -> Result<Body, DecodeError> {
        let mut reader = BodyReader::new(&headers(encoding), keep, limit)?;
        for piece in data.chunks(step.max(1)) {
            reader.write(piece)?;
        }
        reader.finish()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn every_encoding_decodes_in_any_piece_size() {
        let text = b"hello hello hello hello, decoded world".repeat(50);
        let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
        zlib.write_all(&text).unwrap();
        let mut raw = DeflateEncoder::new(Vec::new(), Compression::default());
        raw.write_all(&text).unwrap();
        let mut br = Vec::new();
        {
            let mut w = brotli_writer(&mut br);
            w.write_all(&text).unwrap();
        }
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("gzip", gzip(&text)),
            ("x-gzip", gzip(&text)),
            ("deflate", zlib.finish().unwrap()),
            ("deflate", raw.finish().unwrap()),
            ("br", br),
            ("GZIP", gzip(&text)),
            ("gzip, gzip", gzip(&gzip(&text))),
            ("identity", text.clone()),
            ("", text.clone()),
        ];
        for (encoding, data) in cases {
            for step in [1, 2, 3, 7, 4096] {
                let body = decode(encoding, &data, step, true, 1 << 20).unwrap();
                assert_eq!(&body.bytes[..], &text[..], "{encoding} in pieces of {step}");
                assert_eq!(body.length, text.len() as u64);
                let counted = decode(encoding, &data, step, false, 10).unwrap();
                assert!(counted.bytes.is_empty());
                assert_eq!(counted.length, text.len() as u64, "{encoding} counted");
            }
        }
    }

    fn brotli_writer(out: &mut Vec<u8>) -> impl Write + '_ {
        // The decoder crate has no encoder: a stored (uncompressed) brotli stream is
        // enough to prove the wiring; the hostile-server tests use real brotli.
        struct Stored<'a>(&'a mut Vec<u8>, Vec<u8>);
        impl Write for Stored<'_> {
            fn write(&mut self, d: &[u8]) -> std::io::Result<usize> {
                self.1.extend_from_slice(d);
                Ok(d.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        impl Drop for Stored<'_> {
            fn drop(&mut self) {
                *self.0 = stored_brotli(&self.1);
            }
        }
        Stored(out, Vec::new())
    }

    /// A brotli stream of one uncompressed meta-block (RFC 7932 §9.2), for data under
    /// 64 KiB: WBITS=16, ISLAST=0, MNIBBLES=4, MLEN-1, ISUNCOMPRESSED=1, then the bytes,
    /// then an empty last meta-block.
    fn stored_brotli(data: &[u8]) -> Vec<u8> {
        assert!(!data.is_empty() && data.len() <= 1 << 16);
        let mut bits: Vec<bool> = Vec::new();
        let push = |value: u64, count: usize, bits: &mut Vec<bool>| {
            for i in 0..count {
                bits.push(value >> i & 1 == 1);
            }
        };
        push(0, 1, &mut bits); // WBITS = 16
        push(0, 1, &mut bits); // ISLAST = 0
        push(0, 2, &mut bits); // MNIBBLES = 4
        push((data.len() - 1) as u64, 16, &mut bits);
        push(1, 1, &mut bits); // ISUNCOMPRESSED
        while !bits.len().is_multiple_of(8) {
            bits.push(false);
        }
        let mut out: Vec<u8> = bits
            .chunks(8)
            .map(|b| {
                b.iter()
                    .enumerate()
                    .fold(0u8, |acc, (i, &bit)| acc | (u8::from(bit) << i))
            })
            .collect();
        out.extend_from_slice(data);
        out.push(0b0000_0011); // ISLAST = 1, ISLASTEMPTY = 1
        out
    }

    #[test]
    fn kept_bodies_stop_at_the_limit_counted_ones_do_not() {
        let text = vec![b'a'; 10_000];
        assert_eq!(
            decode("gzip", &gzip(&text), 512, true, 9_999).unwrap_err(),
            DecodeError::TooLarge { limit: 9_999 }
        );
        assert_eq!(
            decode("gzip", &gzip(&text), 512, true, 10_000)
                .unwrap()
                .length,
            10_000
        );
        assert_eq!(decode("", &text, 512, false, 1).unwrap().length, 10_000);
    }

    #[test]
    fn corrupt_bodies_fail_in_zlibs_words_and_long_chains_fail() {
        // The texts Python's zlib and brotli modules gave for the same bytes.
        let corrupt = |encoding: &str, body: &[u8]| match decode(encoding, body, 5, true, 1 << 20) {
            Err(DecodeError::Corrupt { message, .. }) => message,
            other => panic!("{encoding}: {other:?}"),
        };
        assert_eq!(
            corrupt("gzip", b"plain text body"),
            "Error -3 while decompressing data: incorrect header check"
        );
        assert_eq!(
            corrupt("deflate", b"garbage-garbage-garbage"),
            "Error -3 while decompressing data: invalid block type"
        );
        assert_eq!(
            corrupt("br", b"garbage-garbage-garbage"),
            "brotli: decoder failed"
        );
        assert!(matches!(
            BodyReader::new(&headers("gzip, gzip, gzip, gzip, gzip, gzip"), true, 1).err(),
            Some(DecodeError::TooManyEncodings(_))
        ));
        // An encoding nobody knows is stored as sent, as requests does.
        assert_eq!(
            &decode("foo", b"raw", 1, true, 10).unwrap().bytes[..],
            b"raw"
        );
    }

    #[test]
    fn fuzz_random_bodies_under_every_encoding() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let cases = std::env::var("LOCUST_RS_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3_000u64);
        for case in 0..cases {
            let len = (next() % 300) as usize;
            let mut data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if case % 3 == 0 && len > 12 {
                // Start like a real gzip member so the decoder gets past the header.
                data[..3].copy_from_slice(&[0x1f, 0x8b, 8]);
                data[3] = 0;
            }
            for encoding in ["gzip", "deflate", "br", "gzip, br"] {
                let _ = decode(
                    encoding,
                    &data,
                    1 + (next() % 64) as usize,
                    case % 2 == 0,
                    4096,
                );
            }
        }
    }
}
