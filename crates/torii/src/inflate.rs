//! Gzip messages inflated by the browser (`DecompressionStream`), with a cap on what they may
//! inflate to: the worker carries no inflater of its own.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStream, ReadableStreamDefaultReader, WritableStream};

use crate::error::ToriiError;
use crate::transport::js_message;

#[wasm_bindgen]
extern "C" {
    /// The Compression Streams API's inflater (a transform stream: `readable` and `writable`).
    #[wasm_bindgen(js_name = DecompressionStream)]
    type DecompressionStream;

    /// `new DecompressionStream(format)`; throws for a format it does not know.
    #[wasm_bindgen(constructor, catch, js_class = "DecompressionStream")]
    fn new(format: &str) -> Result<DecompressionStream, JsValue>;

    /// Where the compressed bytes are written.
    #[wasm_bindgen(method, getter)]
    fn writable(this: &DecompressionStream) -> WritableStream;

    /// Where the inflated bytes are read.
    #[wasm_bindgen(method, getter)]
    fn readable(this: &DecompressionStream) -> ReadableStream;
}

/// Whether this JavaScript context can inflate gzip (every current browser and worker can;
/// without it the client does not offer gzip and Torii answers uncompressed).
pub(crate) fn gzip_supported() -> bool {
    Reflect::has(&js_sys::global(), &JsValue::from_str("DecompressionStream")).unwrap_or(false)
}

/// The bytes `compressed` (one gzip member) inflates to, refused as
/// [`ToriiError::TooLarge`] as soon as they pass `limit` (nothing more is inflated then).
pub(crate) async fn gunzip(compressed: &[u8], limit: usize) -> Result<Vec<u8>, ToriiError> {
    let malformed = |e: JsValue| ToriiError::Malformed {
        message: format!(
            "a gzip message from Torii does not inflate: {}",
            js_message(&e)
        ),
    };
    let inflater = DecompressionStream::new("gzip").map_err(malformed)?;
    // Written and closed without waiting (the writes complete as the inflated bytes are read);
    // their promises are observed so that a corrupt message does not report an unhandled
    // rejection: its failure comes out of the reads below.
    let writer = inflater.writable().get_writer().map_err(malformed)?;
    let pending = [
        writer.write_with_chunk(&Uint8Array::from(compressed)),
        writer.close(),
    ];
    drop(pending.map(JsFuture::from));
    let reader: ReadableStreamDefaultReader = inflater.readable().get_reader().unchecked_into();
    let mut out = Vec::new();
    loop {
        let result = JsFuture::from(reader.read()).await.map_err(malformed)?;
        let done = Reflect::get(&result, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return Ok(out);
        }
        let chunk: Uint8Array = Reflect::get(&result, &JsValue::from_str("value"))
            .ok()
            .and_then(|v| v.dyn_into().ok())
            .ok_or_else(|| ToriiError::Malformed {
                message: "the inflated gzip message is not bytes".to_owned(),
            })?;
        let start = out.len();
        let end = usize::try_from(chunk.length())
            .ok()
            .and_then(|n| start.checked_add(n))
            .filter(|end| *end <= limit)
            .ok_or_else(|| {
                // Stops the inflater; what it would still produce is never read.
                let _ = reader.cancel();
                ToriiError::TooLarge {
                    message: format!(
                        "a gzip message from Torii inflates to more than the {limit}-byte \
                         message cap; the rest was not inflated"
                    ),
                }
            })?;
        out.resize(end, 0);
        chunk.copy_to(&mut out[start..end]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen]
    extern "C" {
        /// The deflating twin of `DecompressionStream`, to make test inputs.
        #[wasm_bindgen(js_name = CompressionStream)]
        type CompressionStream;

        #[wasm_bindgen(constructor, catch, js_class = "CompressionStream")]
        fn new(format: &str) -> Result<CompressionStream, JsValue>;

        #[wasm_bindgen(method, getter)]
        fn writable(this: &CompressionStream) -> WritableStream;

        #[wasm_bindgen(method, getter)]
        fn readable(this: &CompressionStream) -> ReadableStream;
    }

    /// `bytes` gzipped by the browser.
    async fn gzip(bytes: &[u8]) -> Vec<u8> {
        let deflater = CompressionStream::new("gzip").expect("CompressionStream");
        let writer = deflater.writable().get_writer().expect("a writer");
        drop(JsFuture::from(
            writer.write_with_chunk(&Uint8Array::from(bytes)),
        ));
        drop(JsFuture::from(writer.close()));
        let response = web_sys::Response::new_with_opt_readable_stream(Some(&deflater.readable()))
            .expect("a response");
        let buffer = JsFuture::from(response.array_buffer().expect("arrayBuffer"))
            .await
            .expect("the gzip stream ends");
        Uint8Array::new(&buffer).to_vec()
    }

    #[wasm_bindgen_test]
    async fn gzip_inflates_and_its_cap_is_kept() {
        assert!(gzip_supported());
        let text: Vec<u8> = (0..100_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let compressed = gzip(&text).await;
        assert!(compressed.len() < text.len() / 4, "{}", compressed.len());
        assert_eq!(
            gunzip(&compressed, text.len()).await.expect("inflates"),
            text
        );
        // A small message inflating past the cap (a "gzip bomb") is refused, not buffered.
        let error = gunzip(&compressed, text.len() - 1).await.unwrap_err();
        assert!(matches!(error, ToriiError::TooLarge { .. }), "{error:?}");
        assert!(!error.is_retryable());
        let error = gunzip(b"not gzip at all", 1024).await.unwrap_err();
        assert!(matches!(error, ToriiError::Malformed { .. }), "{error:?}");
    }
}
