//! Binding and serving: one port for gRPC (HTTP/2), gRPC-web (HTTP/1.1 or HTTP/2), `GET /` and
//! the control API, with CORS for browsers; plus the background task of `POST /_mock/rate`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::middleware::{from_fn, from_fn_with_state};
use axum::serve::ListenerExt;
use axum::Router;
use dojo_reactive_torii::world::world_server::WorldServer;
use http::{header::HeaderName, Method};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tonic::codec::CompressionEncoding;
use tonic_web::GrpcWebLayer;
use tower::ServiceBuilder;
use tower_http::cors::{AllowHeaders, Any, CorsLayer};

use crate::control::{Control, Shared, UpdatesRequest};
use crate::faults::{content_type_layer, frame_layer};
use crate::log::encoding_layer;
use crate::service::MockService;
use crate::MockConfig;

/// The largest gRPC message accepted or sent (16 MiB, as Torii).
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// Headers a browser may read from responses (gRPC-web status and encoding).
const EXPOSED: [&str; 8] = [
    "grpc-status",
    "grpc-message",
    "grpc-encoding",
    "grpc-accept-encoding",
    "grpc-status-details-bin",
    "x-grpc-web",
    "content-type",
    "content-length",
];

fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers(EXPOSED.map(HeaderName::from_static))
        .max_age(Duration::from_secs(86_400))
}

/// The whole application: `/world.World/*` to tonic (behind the fault layers and tonic-web),
/// everything else to the control API.
pub(crate) fn app(shared: Arc<Shared>) -> Router {
    let mut service = WorldServer::new(MockService {
        shared: Arc::clone(&shared),
    })
    .accept_compressed(CompressionEncoding::Gzip)
    .max_decoding_message_size(MAX_MESSAGE)
    .max_encoding_message_size(MAX_MESSAGE);
    if shared.config.send_gzip {
        service = service.send_compressed(CompressionEncoding::Gzip);
    }
    let grpc = ServiceBuilder::new()
        .layer(from_fn(encoding_layer))
        .layer(from_fn_with_state(
            Arc::clone(&shared.faults),
            content_type_layer,
        ))
        .layer(GrpcWebLayer::new())
        .map_request(|request: http::Request<tonic::body::Body>| request.map(axum::body::Body::new))
        .layer(from_fn_with_state(Arc::clone(&shared.faults), frame_layer))
        .service(service);
    crate::http::router(Control { shared })
        .route_service("/world.World/{*method}", grpc)
        .layer(cors())
}

/// Emits scripted updates at the rate set through [`Control::set_rate`].
async fn rate_loop(control: Control, mut rate: watch::Receiver<f64>) {
    loop {
        let per_sec = *rate.borrow_and_update();
        if per_sec <= 0.0 {
            if rate.changed().await.is_err() {
                return;
            }
            continue;
        }
        let started = Instant::now();
        let mut applied: u64 = 0;
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                changed = rate.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    break;
                }
                _ = tick.tick() => {
                    let due = (started.elapsed().as_secs_f64() * per_sec) as u64;
                    if due > applied {
                        let count = (due - applied).min(1_000_000);
                        applied = due;
                        let control = control.clone();
                        let request = UpdatesRequest { count: count as usize, ..UpdatesRequest::default() };
                        // An empty world simply has nothing to update.
                        let _ = tokio::task::spawn_blocking(move || control.apply_updates(&request)).await;
                    }
                }
            }
        }
    }
}

/// A started mock: its address, its [`Control`], and the tasks serving it.
#[derive(Debug)]
pub struct RunningMock {
    addr: SocketAddr,
    control: Control,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    rate: Option<JoinHandle<()>>,
}

impl RunningMock {
    /// `http://HOST:PORT` with the real port.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// In-process control of the world and the faults.
    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Ends every stream, stops accepting connections and waits (at most 5 s) for the server.
    pub async fn shutdown(mut self) {
        self.control.end_streams();
        if let Some(rate) = self.rate.take() {
            rate.abort();
        }
        if let Some(signal) = self.shutdown.take() {
            let _ = signal.send(());
        }
        if let Some(mut server) = self.server.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut server)
                .await
                .is_err()
            {
                server.abort();
            }
        }
    }
}

impl Drop for RunningMock {
    fn drop(&mut self) {
        if let Some(rate) = self.rate.take() {
            rate.abort();
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Entry point of the library: starts mock servers.
#[derive(Debug)]
pub struct MockTorii;

impl MockTorii {
    /// Generates the world, binds `config.host:config.port` (port 0 picks a free one) and
    /// serves it in the background of the current Tokio runtime.
    pub async fn start(config: MockConfig) -> std::io::Result<RunningMock> {
        let bind = format!("{}:{}", config.host, config.port);
        let shared = Arc::new(
            tokio::task::spawn_blocking(move || Shared::new(config))
                .await
                .map_err(std::io::Error::other)?,
        );
        let listener = tokio::net::TcpListener::bind(&bind).await?;
        let addr = listener.local_addr()?;
        let control = Control {
            shared: Arc::clone(&shared),
        };
        let rate = tokio::spawn(rate_loop(control.clone(), shared.rate.subscribe()));
        let app = app(shared);
        let (shutdown, signal) = oneshot::channel::<()>();
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = signal.await;
                })
                .await;
            if let Err(error) = served {
                eprintln!("mock-torii: server error: {error}");
            }
        });
        Ok(RunningMock {
            addr,
            control,
            shutdown: Some(shutdown),
            server: Some(server),
            rate: Some(rate),
        })
    }
}
