//! The byte transport under the gRPC client: tonic's HTTP/2 channel natively, gRPC-web over
//! `fetch` in browsers and workers; plus a plain `GET` for the version probe.

use crate::error::ToriiError;

/// The most bytes the version probe reads of `GET /` (Torii answers a JSON object of a few
/// dozen bytes).
pub(crate) const MAX_PROBE_BYTES: usize = 64 * 1024;

/// Appends one chunk of the probe's body, refusing a body that grows past
/// [`MAX_PROBE_BYTES`] (nothing more is read then).
fn append_probe_chunk(body: &mut Vec<u8>, chunk: &[u8], url: &str) -> Result<(), ToriiError> {
    if body.len().saturating_add(chunk.len()) > MAX_PROBE_BYTES {
        return Err(ToriiError::ProbeTooLarge {
            url: url.to_owned(),
            limit: MAX_PROBE_BYTES,
        });
    }
    body.extend_from_slice(chunk);
    Ok(())
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::*;
#[cfg(target_arch = "wasm32")]
pub(crate) use web::*;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::{append_probe_chunk, ToriiError};
    use http_body_util::{BodyExt, Empty};

    /// Native gRPC transport.
    pub(crate) type GrpcTransport = tonic::transport::Channel;

    /// A lazily connecting HTTP/2 channel (requires a Tokio runtime).
    pub(crate) fn connect(url: &str) -> Result<GrpcTransport, ToriiError> {
        let endpoint = tonic::transport::Endpoint::from_shared(url.to_owned()).map_err(|e| {
            ToriiError::InvalidUrl {
                url: url.to_owned(),
                reason: e.to_string(),
            }
        })?;
        Ok(endpoint.connect_lazy())
    }

    /// `GET url`, returning the body of a 2xx answer.
    pub(crate) async fn http_get(url: &str) -> Result<Vec<u8>, ToriiError> {
        let fail = |message: String| ToriiError::VersionProbe { message };
        let uri: http::Uri = url.parse().map_err(|e| ToriiError::InvalidUrl {
            url: url.to_owned(),
            reason: format!("{e}"),
        })?;
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<Empty<bytes::Bytes>>();
        let response = client.get(uri).await.map_err(|e| ToriiError::Unavailable {
            message: format!("GET {url}: {e}"),
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(fail(format!("GET {url} answered {status}")));
        }
        let mut body = Vec::new();
        let mut stream = response.into_body();
        while let Some(frame) = stream.frame().await {
            let frame =
                frame.map_err(|e| fail(format!("GET {url}: reading the body failed: {e}")))?;
            if let Some(chunk) = frame.data_ref() {
                append_probe_chunk(&mut body, chunk, url)?;
            }
        }
        Ok(body)
    }
}

#[cfg(target_arch = "wasm32")]
mod web {
    use super::{append_probe_chunk, ToriiError};
    use crate::error::first_line;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    /// What a JavaScript failure says, without its stack.
    fn js_message(error: &wasm_bindgen::JsValue) -> String {
        let text = match error.dyn_ref::<js_sys::Error>() {
            Some(error) => format!("{}: {}", error.name(), error.message()),
            None => error.as_string().unwrap_or_else(|| format!("{error:?}")),
        };
        first_line(&text)
    }

    /// Browser gRPC-web transport.
    pub(crate) type GrpcTransport = crate::web_client::WebClient;

    /// A gRPC-web client over `fetch`, refusing frames above the message cap.
    pub(crate) fn connect(url: &str) -> Result<GrpcTransport, ToriiError> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ToriiError::InvalidUrl {
                url: url.to_owned(),
                reason: "it must start with http:// or https://".to_owned(),
            });
        }
        Ok(crate::web_client::WebClient::new(
            url.to_owned(),
            crate::client::MAX_MESSAGE_BYTES,
        ))
    }

    /// Aborts its request when dropped: a call given up on (its timeout passed) closes its
    /// connection instead of holding one of the browser's few per-host connections while the
    /// server never answers.
    struct AbortOnDrop(Option<web_sys::AbortController>);

    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            if let Some(controller) = self.0.take() {
                // Aborting a finished request does nothing.
                controller.abort();
            }
        }
    }

    /// `GET url` with the global `fetch` (window or worker), returning the body of a 2xx answer.
    /// Dropping the future aborts the request.
    pub(crate) async fn http_get(url: &str) -> Result<Vec<u8>, ToriiError> {
        let fail = |message: String| ToriiError::VersionProbe { message };
        let unavailable = |e: wasm_bindgen::JsValue| ToriiError::Unavailable {
            message: format!("GET {url}: {}", js_message(&e)),
        };
        let global = js_sys::global();
        let fetch = js_sys::Reflect::get(&global, &"fetch".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .ok_or_else(|| fail("this JavaScript context has no fetch".to_owned()))?;
        let abort = AbortOnDrop(web_sys::AbortController::new().ok());
        let init = web_sys::RequestInit::new();
        if let Some(controller) = &abort.0 {
            init.set_signal(Some(&controller.signal()));
        }
        let promise = fetch
            .call2(&global, &url.into(), &init)
            .map_err(unavailable)?
            .dyn_into::<js_sys::Promise>()
            .map_err(unavailable)?;
        let response: web_sys::Response = JsFuture::from(promise)
            .await
            .map_err(unavailable)?
            .dyn_into()
            .map_err(|_| fail("fetch did not return a Response".to_owned()))?;
        if !response.ok() {
            return Err(fail(format!("GET {url} answered {}", response.status())));
        }
        let Some(stream) = response.body() else {
            return Ok(Vec::new());
        };
        let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
        let mut body = Vec::new();
        loop {
            let result = JsFuture::from(reader.read()).await.map_err(unavailable)?;
            let done = js_sys::Reflect::get(&result, &"done".into())
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(true);
            if done {
                return Ok(body);
            }
            let value = js_sys::Reflect::get(&result, &"value".into()).map_err(unavailable)?;
            let chunk = value
                .dyn_into::<js_sys::Uint8Array>()
                .map_err(|_| fail(format!("GET {url}: the body is not bytes")))?;
            // Dropping `abort` on the error cancels the rest of the body.
            append_probe_chunk(&mut body, &chunk.to_vec(), url)?;
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Serves one HTTP/1.1 answer whose body is `body_bytes` bytes, chunked (no length).
    async fn serve_once(body_bytes: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request).await;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b' '; 4096];
            let mut sent = 0;
            while sent < body_bytes {
                let n = chunk.len().min(body_bytes - sent);
                let framed = [format!("{n:x}\r\n").as_bytes(), &chunk[..n], b"\r\n"].concat();
                if socket.write_all(&framed).await.is_err() {
                    return; // the client stopped reading
                }
                sent += n;
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
        });
        url
    }

    #[tokio::test]
    async fn the_probe_refuses_a_body_past_its_cap_and_reads_a_small_one() {
        let big = serve_once(10 * MAX_PROBE_BYTES).await;
        let error = http_get(&format!("{big}/")).await.expect_err("too large");
        assert!(
            matches!(
                error,
                ToriiError::ProbeTooLarge {
                    limit: MAX_PROBE_BYTES,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(!error.is_retryable());
        assert!(
            error
                .to_string()
                .contains("check that toriiUrl names Torii"),
            "{error}"
        );
        let small = serve_once(100).await;
        assert_eq!(
            http_get(&format!("{small}/")).await.expect("read").len(),
            100
        );
    }
}
