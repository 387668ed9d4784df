//! gRPC-web framing: the request's one frame, and the response read incrementally with a cap on
//! every frame.
//!
//! A gRPC-web body is a sequence of frames: one flag byte (bit 7 set for the trailers frame, bit 0
//! for a compressed message), a 4-byte big-endian length chosen by the sender, then that many
//! bytes. [`FrameDecoder`] reads the header of each frame as soon as its five bytes arrive and
//! refuses a frame longer than its cap before reading any of it, so a server cannot make the
//! client buffer more than the cap (plus one chunk of the body) by announcing a huge length.
//! Message frames come out as their payload; the trailers frame as the call's [`GrpcStatus`].

use bytes::{Buf, Bytes, BytesMut};

/// Flag bit of the trailers frame.
const TRAILERS_FLAG: u8 = 0x80;
/// Flag bit of a compressed message.
const COMPRESSED_FLAG: u8 = 0x01;
/// Flag byte plus length.
const HEADER_BYTES: usize = 5;

/// The body of a call carrying one encoded `message`, uncompressed; `None` when the message is
/// longer than a frame header can announce (4 GiB).
pub fn message_frame(message: &[u8]) -> Option<Vec<u8>> {
    let length = u32::try_from(message.len()).ok()?;
    let mut body = Vec::with_capacity(HEADER_BYTES + message.len());
    body.push(0);
    body.extend_from_slice(&length.to_be_bytes());
    body.extend_from_slice(message);
    Some(body)
}

/// A call's final status: its gRPC code (0 is OK) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrpcStatus {
    /// The `grpc-status` code; a value that is not a number reads as 2 (UNKNOWN).
    pub code: i32,
    /// The `grpc-message`, percent-decoded.
    pub message: String,
}

impl GrpcStatus {
    /// The status of a `grpc-status` value and an optional `grpc-message` value (from the
    /// trailers frame or, in a trailers-only answer, the HTTP headers).
    pub fn from_values(status: &str, message: Option<&str>) -> GrpcStatus {
        GrpcStatus {
            code: status.trim().parse().unwrap_or(UNKNOWN),
            message: message.map(percent_decode).unwrap_or_default(),
        }
    }

    /// Whether the call succeeded.
    pub fn is_ok(&self) -> bool {
        self.code == 0
    }
}

/// The gRPC code UNKNOWN.
const UNKNOWN: i32 = 2;

/// One frame of a gRPC-web response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebFrame {
    /// A message, still compressed when `compressed` (with the call's `grpc-encoding`).
    Message {
        /// Bit 0 of the flag byte.
        compressed: bool,
        /// The message's bytes.
        payload: Bytes,
    },
    /// The trailers: the call's status, `None` when they carry no `grpc-status`.
    Trailers(Option<GrpcStatus>),
}

/// Why a gRPC-web body cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A frame announces more bytes than the cap; none of them were read.
    #[error(
        "Torii announced a gRPC-web frame of {declared} bytes, more than the {limit}-byte \
         message cap; it was refused before being read"
    )]
    TooLarge {
        /// The length the frame header announced.
        declared: u32,
        /// The cap.
        limit: usize,
    },
    /// The trailers frame is not `name: value` lines.
    #[error("the gRPC-web trailers are not valid headers: {reason}")]
    BadTrailers {
        /// What is wrong with them.
        reason: String,
    },
    /// Bytes after the trailers frame.
    #[error("the gRPC-web body goes on after its trailers")]
    AfterTrailers,
    /// The body ended inside a frame.
    #[error("the gRPC-web body ended inside a frame ({buffered} bytes of it received)")]
    Truncated {
        /// Bytes of the unfinished frame received.
        buffered: usize,
    },
}

/// Splits a gRPC-web body into frames of at most `limit` bytes each.
#[derive(Debug)]
pub struct FrameDecoder {
    buffer: BytesMut,
    limit: usize,
    trailers_seen: bool,
}

impl FrameDecoder {
    /// A decoder refusing frames longer than `limit` bytes.
    pub fn new(limit: usize) -> FrameDecoder {
        FrameDecoder {
            buffer: BytesMut::new(),
            limit,
            trailers_seen: false,
        }
    }

    /// Adds bytes read from the body. Call [`FrameDecoder::next_frame`] until it answers `None`
    /// before pushing more: the frame being read is then known to fit the cap, so the buffer
    /// holds at most one frame and one chunk.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
    }

    /// The next complete frame, `None` when more bytes are needed, or why the body is broken.
    pub fn next_frame(&mut self) -> Result<Option<WebFrame>, FrameError> {
        if self.buffer.is_empty() {
            return Ok(None);
        }
        if self.trailers_seen {
            return Err(FrameError::AfterTrailers);
        }
        let Some(header) = self.buffer.get(..HEADER_BYTES) else {
            return Ok(None);
        };
        let flag = header[0];
        let declared = u32::from_be_bytes([header[1], header[2], header[3], header[4]]);
        // A length that does not fit `usize` is above any cap.
        let length = usize::try_from(declared).unwrap_or(usize::MAX);
        if length > self.limit {
            return Err(FrameError::TooLarge {
                declared,
                limit: self.limit,
            });
        }
        if self.buffer.len() - HEADER_BYTES < length {
            return Ok(None);
        }
        self.buffer.advance(HEADER_BYTES);
        let payload = self.buffer.split_to(length).freeze();
        if flag & TRAILERS_FLAG == 0 {
            return Ok(Some(WebFrame::Message {
                compressed: flag & COMPRESSED_FLAG != 0,
                payload,
            }));
        }
        self.trailers_seen = true;
        parse_trailers(&payload).map(|status| Some(WebFrame::Trailers(status)))
    }

    /// Checks the end of the body: nothing of an unfinished frame may be left.
    pub fn finish(&self) -> Result<(), FrameError> {
        if self.buffer.is_empty() {
            Ok(())
        } else {
            Err(FrameError::Truncated {
                buffered: self.buffer.len(),
            })
        }
    }
}

/// The status of the trailers block: `name: value` lines separated by CRLF (a bare LF is
/// accepted too), names in any case; lines other than `grpc-status` and `grpc-message` are
/// checked for their shape and left out.
fn parse_trailers(block: &[u8]) -> Result<Option<GrpcStatus>, FrameError> {
    let bad = |reason: String| FrameError::BadTrailers { reason };
    let mut status = None;
    let mut message = None;
    for line in block.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let colon = line
            .iter()
            .position(|b| *b == b':')
            .ok_or_else(|| bad("a line has no `:`".to_owned()))?;
        let (name, value) = (line[..colon].trim_ascii(), line[colon + 1..].trim_ascii());
        let header_name = |b: &u8| b.is_ascii_alphanumeric() || b"-_.".contains(b);
        if name.is_empty() || !name.iter().all(header_name) {
            return Err(bad(format!("{:?} is not a header name", printable(name))));
        }
        let value = std::str::from_utf8(value)
            .map_err(|_| bad(format!("the value of {} is not text", printable(name))))?;
        if name.eq_ignore_ascii_case(b"grpc-status") {
            status = Some(value);
        } else if name.eq_ignore_ascii_case(b"grpc-message") {
            message = Some(value);
        }
    }
    Ok(status.map(|status| GrpcStatus::from_values(status, message)))
}

/// `grpc-message` is percent-encoded (`%XX`); a `%` not followed by two hex digits is kept as
/// it is, and bytes that do not form UTF-8 are replaced.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                // Two hex digits make at most 255.
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn printable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn frame(flag: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![flag];
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    pub(super) fn drain(decoder: &mut FrameDecoder) -> Result<Vec<WebFrame>, FrameError> {
        let mut frames = Vec::new();
        while let Some(frame) = decoder.next_frame()? {
            frames.push(frame);
        }
        Ok(frames)
    }

    fn message(compressed: bool, payload: &[u8]) -> WebFrame {
        WebFrame::Message {
            compressed,
            payload: Bytes::copy_from_slice(payload),
        }
    }

    #[test]
    fn the_request_is_one_uncompressed_frame() {
        assert_eq!(message_frame(b"abc"), Some(frame(0, b"abc")));
        assert_eq!(message_frame(b""), Some(vec![0, 0, 0, 0, 0]));
    }

    #[test]
    fn messages_keep_their_compression_flag_and_trailers_become_the_status() {
        let mut body = frame(0, b"hello");
        body.extend(frame(1, b"zipped"));
        body.extend(frame(
            0x80,
            b"grpc-status: 5\r\nGRPC-Message:no such%20thing %E2%9C%93 100%\r\nx-Extra:  a  \r\n",
        ));
        let mut decoder = FrameDecoder::new(128);
        decoder.push(&body);
        let frames = drain(&mut decoder).unwrap();
        assert_eq!(
            frames,
            vec![
                message(false, b"hello"),
                message(true, b"zipped"),
                WebFrame::Trailers(Some(GrpcStatus {
                    code: 5,
                    message: "no such thing ✓ 100%".to_owned()
                })),
            ]
        );
        decoder.finish().unwrap();
    }

    #[test]
    fn trailers_without_a_status_or_with_a_bad_one_are_told_apart() {
        let mut decoder = FrameDecoder::new(64);
        decoder.push(&frame(0x80, b"x-other: 1\n"));
        assert_eq!(decoder.next_frame(), Ok(Some(WebFrame::Trailers(None))));
        let mut decoder = FrameDecoder::new(64);
        decoder.push(&frame(0x80, b"grpc-status: oops\n"));
        assert_eq!(
            decoder.next_frame(),
            Ok(Some(WebFrame::Trailers(Some(GrpcStatus {
                code: UNKNOWN,
                message: String::new()
            }))))
        );
        assert!(GrpcStatus::from_values(" 0 ", None).is_ok());
    }

    #[test]
    fn a_frame_longer_than_the_cap_is_refused_from_its_header_alone() {
        let mut decoder = FrameDecoder::new(1024);
        // Only the header of a 4 GiB frame: refused before any of its bytes arrive.
        decoder.push(&[0, 0xff, 0xff, 0xff, 0xff]);
        let error = decoder.next_frame().unwrap_err();
        assert_eq!(
            error,
            FrameError::TooLarge {
                declared: u32::MAX,
                limit: 1024
            }
        );
        assert!(error.to_string().contains("refused before being read"));
        // Exactly the cap is accepted; one more byte is not (trailers too).
        let mut decoder = FrameDecoder::new(4);
        decoder.push(&frame(0, b"four"));
        assert!(matches!(
            decoder.next_frame(),
            Ok(Some(WebFrame::Message { .. }))
        ));
        decoder.push(&frame(0x80, b"fives"));
        assert!(matches!(
            decoder.next_frame(),
            Err(FrameError::TooLarge { declared: 5, .. })
        ));
    }

    #[test]
    fn broken_bodies_are_reported() {
        let mut decoder = FrameDecoder::new(64);
        decoder.push(&frame(0, b"abc")[..6]);
        assert_eq!(decoder.next_frame(), Ok(None));
        assert_eq!(decoder.finish(), Err(FrameError::Truncated { buffered: 6 }));

        for trailers in [&b"no colon here"[..], b"bad name: 1", b": 1"] {
            let mut decoder = FrameDecoder::new(64);
            decoder.push(&frame(0x80, trailers));
            assert!(
                matches!(decoder.next_frame(), Err(FrameError::BadTrailers { .. })),
                "{trailers:?}"
            );
        }

        let mut decoder = FrameDecoder::new(64);
        decoder.push(&frame(0x80, b"grpc-status: 0"));
        decoder.push(&frame(0, b"late"));
        assert!(matches!(
            decoder.next_frame(),
            Ok(Some(WebFrame::Trailers(Some(_))))
        ));
        assert_eq!(decoder.next_frame(), Err(FrameError::AfterTrailers));
    }
}

/// Property tests (native only: proptest needs a random source).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::tests::{drain, frame};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// However the body is cut into chunks, the same frames come out, and the buffer never
        /// holds more than one frame plus one chunk.
        #[test]
        fn chunking_does_not_change_the_frames(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..6),
            cuts in proptest::collection::vec(1usize..17, 1..50),
        ) {
            let mut body = Vec::new();
            for (i, payload) in payloads.iter().enumerate() {
                body.extend(frame((i % 2) as u8, payload));
            }
            body.extend(frame(0x80, b"grpc-status: 0\r\n"));
            let mut decoder = FrameDecoder::new(40);
            let mut frames = Vec::new();
            let mut rest = body.as_slice();
            let mut cut = cuts.iter().cycle();
            while !rest.is_empty() {
                let size = (*cut.next().unwrap_or(&1)).min(rest.len());
                let (chunk, tail) = rest.split_at(size);
                rest = tail;
                decoder.push(chunk);
                prop_assert!(decoder.buffer.len() <= HEADER_BYTES + 40 + 16);
                frames.extend(drain(&mut decoder).unwrap());
            }
            decoder.finish().unwrap();
            prop_assert_eq!(frames.len(), payloads.len() + 1);
            for (frame_out, (i, payload)) in frames.iter().zip(payloads.iter().enumerate()) {
                prop_assert_eq!(
                    frame_out,
                    &WebFrame::Message { compressed: i % 2 == 1, payload: Bytes::copy_from_slice(payload) }
                );
            }
            prop_assert_eq!(
                frames.last(),
                Some(&WebFrame::Trailers(Some(GrpcStatus { code: 0, message: String::new() })))
            );
        }

        /// Percent-decoding never panics and leaves text without `%` as it is.
        #[test]
        fn percent_decoding_is_total(text in ".{0,40}") {
            let decoded = percent_decode(&text);
            if !text.contains('%') {
                prop_assert_eq!(decoded, text);
            }
        }
    }
}
