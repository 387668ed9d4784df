//! The calls under the client, with one shape on every platform: `GrpcTransport::unary` and
//! `GrpcTransport::server_stream` of a `world.World` method (by its path), and the
//! `MessageStream` of a streaming answer. Natively they are tonic's gRPC over HTTP/2; in
//! browsers and workers the crate's own gRPC-web over `fetch` (`web_client`). Plus a
//! plain `GET` for the version probe.

use std::marker::PhantomData;

use crate::error::ToriiError;

/// A method of `world.World`: its path (`/world.World/Name`), the message it takes (`Q`) and the
/// message it answers (`R`; each streamed message for a streaming method).
pub(crate) struct Method<Q, R> {
    /// The HTTP path of the method.
    pub(crate) path: &'static str,
    messages: PhantomData<fn(Q) -> R>,
}

impl<Q, R> Method<Q, R> {
    /// The method at `path`.
    pub(crate) const fn new(path: &'static str) -> Self {
        Method {
            path,
            messages: PhantomData,
        }
    }
}

impl<Q, R> Clone for Method<Q, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<Q, R> Copy for Method<Q, R> {}

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
    use super::{append_probe_chunk, Method, ToriiError};
    use http::uri::PathAndQuery;
    use http_body_util::{BodyExt, Empty};
    use tonic::codec::CompressionEncoding;
    use tonic_prost::ProstCodec;

    /// Native gRPC: tonic's client over a lazily connecting HTTP/2 channel, accepting gzip and
    /// refusing messages above the cap.
    #[derive(Debug, Clone)]
    pub(crate) struct GrpcTransport {
        grpc: tonic::client::Grpc<tonic::transport::Channel>,
    }

    /// A lazily connecting HTTP/2 channel (requires a Tokio runtime).
    pub(crate) fn connect(url: &str) -> Result<GrpcTransport, ToriiError> {
        let endpoint = tonic::transport::Endpoint::from_shared(url.to_owned()).map_err(|e| {
            ToriiError::InvalidUrl {
                url: url.to_owned(),
                reason: e.to_string(),
            }
        })?;
        let limit = crate::client::MAX_MESSAGE_BYTES;
        let grpc = tonic::client::Grpc::new(endpoint.connect_lazy())
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit);
        Ok(GrpcTransport { grpc })
    }

    impl GrpcTransport {
        /// A client whose channel is ready to take a call.
        async fn ready(
            &self,
        ) -> Result<tonic::client::Grpc<tonic::transport::Channel>, ToriiError> {
            let mut grpc = self.grpc.clone();
            grpc.ready()
                .await
                .map_err(|e| tonic::Status::unknown(format!("Service was not ready: {e}")))?;
            Ok(grpc)
        }

        /// Calls a unary method: its one answer.
        pub(crate) async fn unary<Q, R>(
            &self,
            method: Method<Q, R>,
            request: Q,
        ) -> Result<R, ToriiError>
        where
            Q: prost::Message + Send + Sync + 'static,
            R: prost::Message + Default + Send + Sync + 'static,
        {
            let answer = self
                .ready()
                .await?
                .unary(
                    tonic::Request::new(request),
                    PathAndQuery::from_static(method.path),
                    ProstCodec::<Q, R>::default(),
                )
                .await?;
            Ok(answer.into_inner())
        }

        /// Calls a server-streaming method: its messages as they arrive.
        pub(crate) async fn server_stream<Q, R>(
            &self,
            method: Method<Q, R>,
            request: Q,
        ) -> Result<MessageStream<R>, ToriiError>
        where
            Q: prost::Message + Send + Sync + 'static,
            R: prost::Message + Default + Send + Sync + 'static,
        {
            let answer = self
                .ready()
                .await?
                .server_streaming(
                    tonic::Request::new(request),
                    PathAndQuery::from_static(method.path),
                    ProstCodec::<Q, R>::default(),
                )
                .await?;
            Ok(MessageStream(answer.into_inner()))
        }
    }

    /// The messages of a streaming answer.
    pub(crate) struct MessageStream<M>(tonic::Streaming<M>);

    impl<M> MessageStream<M> {
        /// The next message; `None` once the call ended with status OK. Cancel-safe.
        pub(crate) async fn message(&mut self) -> Result<Option<M>, ToriiError> {
            Ok(self.0.message().await?)
        }
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
    pub(crate) fn js_message(error: &wasm_bindgen::JsValue) -> String {
        let text = match error.dyn_ref::<js_sys::Error>() {
            Some(error) => format!("{}: {}", error.name(), error.message()),
            None => error.as_string().unwrap_or_else(|| format!("{error:?}")),
        };
        first_line(&text)
    }

    /// Browser gRPC-web transport.
    pub(crate) type GrpcTransport = crate::web_client::WebClient;
    /// The messages of a streaming answer.
    pub(crate) type MessageStream<M> = crate::web_client::WebStream<M>;

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
