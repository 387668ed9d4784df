//! gRPC-web response framing, read incrementally with a cap on every frame.
//!
//! A gRPC-web response body is a sequence of frames: one flag byte (bit 7 set for the trailers
//! frame, bit 0 for a compressed message), a 4-byte big-endian length chosen by the server, then
//! that many bytes. [`FrameDecoder`] reads the header of each frame as soon as its five bytes
//! arrive and refuses a frame longer than its cap before reading any of it, so a server cannot
//! make the client buffer more than the cap (plus one chunk of the body) by announcing a huge
//! length. Data frames come out with their header, as gRPC's own decoder (tonic's) expects
//! them; the trailers frame comes out as a header map.

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue};

/// Flag bit of the trailers frame.
const TRAILERS_FLAG: u8 = 0x80;
/// Flag byte plus length.
const HEADER_BYTES: usize = 5;

/// One frame of a gRPC-web body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebFrame {
    /// A message frame, header included (flag byte, length, message).
    Data(Bytes),
    /// The trailers (`grpc-status`, `grpc-message`, ...).
    Trailers(HeaderMap),
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
        let mut frame = self.buffer.split_to(HEADER_BYTES + length);
        if flag & TRAILERS_FLAG == 0 {
            return Ok(Some(WebFrame::Data(frame.freeze())));
        }
        self.trailers_seen = true;
        frame.advance(HEADER_BYTES);
        parse_trailers(&frame).map(|trailers| Some(WebFrame::Trailers(trailers)))
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

/// `name: value` lines separated by CRLF (a bare LF is accepted too).
fn parse_trailers(block: &[u8]) -> Result<HeaderMap, FrameError> {
    let bad = |reason: String| FrameError::BadTrailers { reason };
    let mut trailers = HeaderMap::new();
    for line in block.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let colon = line
            .iter()
            .position(|b| *b == b':')
            .ok_or_else(|| bad("a line has no `:`".to_owned()))?;
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        let name = HeaderName::from_bytes(name.trim_ascii())
            .map_err(|_| bad(format!("{:?} is not a header name", printable(name))))?;
        let value = HeaderValue::from_bytes(value.trim_ascii())
            .map_err(|_| bad(format!("the value of {name} is not a header value")))?;
        trailers.append(name, value);
    }
    Ok(trailers)
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

    #[test]
    fn messages_keep_their_header_and_trailers_become_headers() {
        let mut body = frame(0, b"hello");
        body.extend(frame(1, b"zipped"));
        body.extend(frame(
            0x80,
            b"grpc-status: 0\r\ngrpc-message:all good\r\nx-Extra:  a  \r\n",
        ));
        let mut decoder = FrameDecoder::new(64);
        decoder.push(&body);
        let frames = drain(&mut decoder).unwrap();
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0], WebFrame::Data(Bytes::from(frame(0, b"hello"))));
        assert_eq!(frames[1], WebFrame::Data(Bytes::from(frame(1, b"zipped"))));
        let WebFrame::Trailers(trailers) = &frames[2] else {
            panic!("trailers expected");
        };
        assert_eq!(trailers["grpc-status"], "0");
        assert_eq!(trailers["grpc-message"], "all good");
        assert_eq!(trailers["x-extra"], "a");
        decoder.finish().unwrap();
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
        assert!(matches!(decoder.next_frame(), Ok(Some(WebFrame::Data(_)))));
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

        let mut decoder = FrameDecoder::new(64);
        decoder.push(&frame(0x80, b"no colon here"));
        assert!(matches!(
            decoder.next_frame(),
            Err(FrameError::BadTrailers { .. })
        ));

        let mut decoder = FrameDecoder::new(64);
        decoder.push(&frame(0x80, b"grpc-status: 0"));
        decoder.push(&frame(0, b"late"));
        assert!(matches!(
            decoder.next_frame(),
            Ok(Some(WebFrame::Trailers(_)))
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
                prop_assert_eq!(frame_out, &WebFrame::Data(Bytes::from(frame((i % 2) as u8, payload))));
            }
        }
    }
}
