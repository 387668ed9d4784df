//! The byte transport under the gRPC client: tonic's HTTP/2 channel natively, gRPC-web over
//! `fetch` in browsers and workers; plus a plain `GET` for the version probe.

use crate::error::ToriiError;

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::*;
#[cfg(target_arch = "wasm32")]
pub(crate) use web::*;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::ToriiError;
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
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| fail(format!("GET {url}: reading the body failed: {e}")))?
            .to_bytes();
        if !status.is_success() {
            return Err(fail(format!("GET {url} answered {status}")));
        }
        Ok(body.to_vec())
    }
}

#[cfg(target_arch = "wasm32")]
mod web {
    use super::ToriiError;
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
        let buffer = JsFuture::from(response.array_buffer().map_err(unavailable)?)
            .await
            .map_err(unavailable)?;
        Ok(js_sys::Uint8Array::new(&buffer).to_vec())
    }
}
