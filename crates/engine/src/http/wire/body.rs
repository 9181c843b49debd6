//! Reading a response body as it is framed (Content-Length, chunked, or until close)
//! into a `BodyReader`, a buffer's worth at a time: announced sizes are counted down
//! with checked arithmetic and never reserved, so a lying length costs nothing.

use bytes::{Buf, BytesMut};
use tokio::io::AsyncRead;

use super::head::{Framing, MAX_LINE};
use super::{read_more, Limits, ProtocolError, WireError};
use crate::http::decode::BodyReader;

/// Reads the body framed as `framing` from `buf` (bytes already received) and the
/// stream, feeding it to `reader`. Bytes after the body stay in `buf`.
pub async fn read_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    framing: Framing,
    reader: &mut BodyReader,
    limits: &Limits,
) -> Result<(), WireError> {
    match framing {
        Framing::Empty => Ok(()),
        Framing::Length(length) => read_length(stream, buf, length, reader, limits).await,
        Framing::UntilClose => loop {
            feed(reader, buf, buf.len())?;
            if read_more(stream, buf, limits).await.map_err(in_body)? == 0 {
                return Ok(());
            }
        },
        Framing::Chunked => read_chunked(stream, buf, reader, limits).await,
    }
}

/// Passes the first `n` bytes of `buf` on and drops them from it.
fn feed(reader: &mut BodyReader, buf: &mut BytesMut, n: usize) -> Result<(), WireError> {
    if n > 0 {
        reader.write(&buf[..n]).map_err(WireError::Decode)?;
        buf.advance(n);
    }
    Ok(())
}

async fn read_length<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    length: u64,
    reader: &mut BodyReader,
    limits: &Limits,
) -> Result<(), WireError> {
    let mut left = length;
    loop {
        let take = usize::try_from(left).map_or(buf.len(), |left| left.min(buf.len()));
        feed(reader, buf, take)?;
        left -= take as u64;
        if left == 0 {
            return Ok(());
        }
        if read_more(stream, buf, limits).await.map_err(in_body)? == 0 {
            return Err(WireError::Protocol(ProtocolError::IncompleteRead {
                read: length - left,
                expected: Some(u128::from(left)),
            }));
        }
    }
}

/// Where the chunked decoder stands between reads.
enum Chunk {
    Size,
    /// Bytes of the current chunk still to come, and those already read of it.
    Data {
        left: u128,
        read: u64,
    },
    DataEnd,
    Trailers,
}

async fn read_chunked<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    reader: &mut BodyReader,
    limits: &Limits,
) -> Result<(), WireError> {
    let mut state = Chunk::Size;
    let mut body_read: u64 = 0;
    let mut trailer_bytes = 0usize;
    loop {
        // Move through as much of the buffer as possible before reading again.
        let progressed = match state {
            Chunk::Size => match buf.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    let size = chunk_size(&buf[..=end]).ok_or_else(|| {
                        WireError::Protocol(ProtocolError::BadChunkSize {
                            line: bounded(&buf[..=end]),
                            read: body_read,
                        })
                    })?;
                    buf.advance(end + 1);
                    state = if size == 0 {
                        Chunk::Trailers
                    } else {
                        Chunk::Data {
                            left: size,
                            read: 0,
                        }
                    };
                    true
                }
                None if buf.len() > MAX_LINE => {
                    return Err(WireError::Protocol(ProtocolError::BadChunkSize {
                        line: bounded(buf),
                        read: body_read,
                    }))
                }
                None => false,
            },
            Chunk::Data { left, read } => {
                let take = usize::try_from(left).map_or(buf.len(), |left| left.min(buf.len()));
                feed(reader, buf, take)?;
                body_read = body_read.saturating_add(take as u64);
                let left = left - take as u128;
                state = if left == 0 {
                    Chunk::DataEnd
                } else {
                    Chunk::Data {
                        left,
                        read: read + take as u64,
                    }
                };
                take > 0
            }
            Chunk::DataEnd => {
                // urllib3 tosses the two bytes after a chunk without looking at them.
                if buf.len() >= 2 {
                    buf.advance(2);
                    state = Chunk::Size;
                    true
                } else {
                    false
                }
            }
            Chunk::Trailers => match buf.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    let blank = buf[..end].iter().all(|&b| b == b'\r');
                    buf.advance(end + 1);
                    if blank {
                        return Ok(());
                    }
                    trailer_bytes += end + 1;
                    if trailer_bytes > MAX_LINE {
                        return Err(WireError::Protocol(ProtocolError::LineTooLong(
                            "trailer line",
                        )));
                    }
                    true
                }
                None if buf.len() > MAX_LINE => {
                    return Err(WireError::Protocol(ProtocolError::LineTooLong(
                        "trailer line",
                    )))
                }
                None => false,
            },
        };
        if progressed && !buf.is_empty() {
            continue;
        }
        if read_more(stream, buf, limits).await.map_err(in_body)? == 0 {
            return match state {
                // urllib3 takes a close where trailers would be as the end.
                Chunk::Trailers => Ok(()),
                Chunk::Data { left, read } => Err(WireError::Protocol(piece_cut_short(read, left))),
                Chunk::Size if !buf.is_empty() => {
                    Err(WireError::Protocol(ProtocolError::BadChunkSize {
                        line: bounded(buf),
                        read: body_read,
                    }))
                }
                Chunk::Size | Chunk::DataEnd => {
                    Err(WireError::Protocol(ProtocolError::ResponseEndedPrematurely))
                }
            };
        }
    }
}

/// requests reads bodies in pieces of this many bytes (`iter_content(10 * 1024)`), and
/// urllib3 reads a chunk piece by piece: a chunk cut short reports the piece it was in.
const READ_PIECE: u128 = 10 * 1024;

/// The IncompleteRead of a chunk of which `read` bytes came and `left` never did.
fn piece_cut_short(read: u64, left: u128) -> ProtocolError {
    let read = u128::from(read);
    let piece_start = read - read % READ_PIECE;
    let piece = (read + left - piece_start).min(READ_PIECE);
    let got = read - piece_start;
    ProtocolError::IncompleteRead {
        read: u64::try_from(got).unwrap_or(u64::MAX),
        expected: Some(piece - got),
    }
}

/// urllib3's `int(line.split(b";")[0], 16)`: whitespace around, an optional `0x`,
/// hex digits (underscores between them). None for anything else, or a size beyond
/// 128 bits.
fn chunk_size(line: &[u8]) -> Option<u128> {
    let size = line.split(|&b| b == b';').next()?.trim_ascii();
    let size = size.strip_prefix(b"+").unwrap_or(size);
    let digits = size
        .strip_prefix(b"0x")
        .or_else(|| size.strip_prefix(b"0X"))
        .map(|d| d.strip_prefix(b"_").unwrap_or(d))
        .unwrap_or(size);
    if digits.is_empty()
        || digits.ends_with(b"_")
        || digits.windows(2).any(|w| w == b"__")
        || digits.starts_with(b"_")
    {
        return None;
    }
    digits
        .iter()
        .filter(|&&b| b != b'_')
        .try_fold(0u128, |n, &b| {
            n.checked_mul(16)?
                .checked_add(u128::from((b as char).to_digit(16)?))
        })
}

/// At most 256 bytes of a line, for an error message.
fn bounded(line: &[u8]) -> Vec<u8> {
    line[..line.len().min(256)].to_vec()
}

/// A timeout while reading the body is worded apart from one waiting for the head.
fn in_body(error: WireError) -> WireError {
    match error {
        WireError::ReadTimeout { .. } => WireError::ReadTimeout { in_body: true },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::chunk_size;

    #[test]
    fn a_cut_chunk_reports_its_read_piece() {
        use super::{piece_cut_short, ProtocolError};
        let cut = |read, left| match piece_cut_short(read, left) {
            ProtocolError::IncompleteRead { read, expected } => (read, expected.unwrap()),
            _ => unreachable!(),
        };
        assert_eq!(cut(5, 5), (5, 5));
        assert_eq!(cut(5, u128::from(u64::MAX) - 5), (5, 10_235));
        assert_eq!(cut(20_000, 10_000), (9_760, 480));
        assert_eq!(cut(0, 3), (0, 3));
    }

    #[test]
    fn chunk_sizes_read_as_urllib3_reads_them() {
        assert_eq!(chunk_size(b"5\r\n"), Some(5));
        assert_eq!(chunk_size(b"1A;ext=1\r\n"), Some(26));
        assert_eq!(chunk_size(b" 0x10 \r\n"), Some(16));
        assert_eq!(
            chunk_size(b"ffffffffffffffff\r\n"),
            Some(u128::from(u64::MAX))
        );
        assert_eq!(chunk_size(b"f_f\r\n"), Some(255));
        assert_eq!(chunk_size(b"zz\r\n"), None);
        assert_eq!(chunk_size(b"\r\n"), None);
        assert_eq!(chunk_size(b"-5\r\n"), None);
        assert_eq!(chunk_size(&[b'f'; 40]), None);
    }
}
