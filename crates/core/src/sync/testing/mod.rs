//! Test doubles for the synchronizer, usable by any crate's tests: a [`VirtualClock`] and a
//! [`Sim`] that runs hours of virtual time in milliseconds, a [`ScriptedTransport`] serving a
//! world with Torii's ordering, subscriptions and a fault script, an in-memory
//! [`MemoryStorage`] with atomic batches and injectable failures and crashes, and a
//! [`Recorder`] observer.

pub mod bench_world;
mod clock;
mod sim;
mod storage;
mod transport;
mod world;

use std::cell::RefCell;
use std::rc::Rc;

pub use clock::{InstantClock, Sleep, VirtualClock};
pub use sim::{Sim, SimOutcome};
pub use storage::MemoryStorage;
pub use transport::{CallKind, CallRecord, ScriptedStream, ScriptedTransport};
pub use world::{ServerEntity, ServerModel, ServerWorld, WORLD_ADDRESS};

use crate::bytes32::Felt;
use crate::entity::EntityId;
use crate::sync::{SyncErrorEvent, SyncObserver, SyncState, SyncTick, Transition};
use crate::value::{Member, Primitive, Struct, Value};

#[derive(Debug, Default)]
struct Recorded {
    transitions: Vec<Transition>,
    ticks: Vec<SyncTick>,
    errors: Vec<SyncErrorEvent>,
}

/// An observer that keeps everything it is told (clones share the record).
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    inner: Rc<RefCell<Recorded>>,
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Recorder::default()
    }

    /// Every transition so far.
    pub fn transitions(&self) -> Vec<Transition> {
        self.inner.borrow().transitions.clone()
    }

    /// The states entered, in order.
    pub fn states(&self) -> Vec<SyncState> {
        self.inner
            .borrow()
            .transitions
            .iter()
            .map(|t| t.to)
            .collect()
    }

    /// Every tick so far.
    pub fn ticks(&self) -> Vec<SyncTick> {
        self.inner.borrow().ticks.clone()
    }

    /// The last tick.
    pub fn last_tick(&self) -> Option<SyncTick> {
        self.inner.borrow().ticks.last().cloned()
    }

    /// Every error so far.
    pub fn errors(&self) -> Vec<SyncErrorEvent> {
        self.inner.borrow().errors.clone()
    }

    /// Forgets everything recorded.
    pub fn clear(&self) {
        *self.inner.borrow_mut() = Recorded::default();
    }
}

impl SyncObserver for Recorder {
    fn transition(&mut self, transition: &Transition) {
        self.inner.borrow_mut().transitions.push(transition.clone());
    }

    fn tick(&mut self, tick: &SyncTick) {
        self.inner.borrow_mut().ticks.push(tick.clone());
    }

    fn error(&mut self, error: &SyncErrorEvent) {
        self.inner.borrow_mut().errors.push(error.clone());
    }
}

/// A deterministic entity id.
pub fn entity_id(n: u64) -> EntityId {
    let mut bytes = [0u8; 32];
    bytes[24..].copy_from_slice(&n.to_be_bytes());
    bytes[0] = 0x01;
    Felt(bytes)
}

/// A model state `tag { key: id-number, value: u32, version: u64 }`.
pub fn model_state(tag: &str, key: u64, value: u32, version: u64) -> Struct {
    Struct {
        name: tag.to_owned().into(),
        members: vec![
            Member {
                name: "key".to_owned().into(),
                key: true,
                value: Value::Primitive(Primitive::U64(key)),
            },
            Member {
                name: "value".to_owned().into(),
                key: false,
                value: Value::Primitive(Primitive::U32(value)),
            },
            Member {
                name: "version".to_owned().into(),
                key: false,
                value: Value::Primitive(Primitive::U64(version)),
            },
        ],
    }
}

/// A fingerprint for tests (only its hash matters to [`MemoryStorage`]).
pub fn test_fingerprint(name: &str) -> crate::manifest::ManifestFingerprint {
    crate::manifest::ManifestFingerprint {
        hash: format!("manifest-hash:v1:{name}"),
        world_class_hash: Felt([0; 32]).to_hex(),
        entries: Vec::new(),
    }
}

/// A setup with default options and a test fingerprint.
pub fn test_setup(target: crate::sync::SyncTarget) -> crate::sync::SyncSetup {
    crate::sync::SyncSetup {
        target,
        fingerprint: test_fingerprint("test"),
        config: crate::sync_config::SyncConfig::default(),
        options: crate::sync::SyncOptions::default(),
    }
}

/// The synchronizer type the harness builds.
pub type TestSynchronizer =
    crate::sync::Synchronizer<ScriptedTransport, Rc<MemoryStorage>, VirtualClock>;

/// Everything a synchronizer test needs, wired together.
pub struct Harness {
    /// The simulation.
    pub sim: Sim,
    /// Its clock.
    pub clock: VirtualClock,
    /// The scripted server.
    pub server: ScriptedTransport,
    /// The store.
    pub storage: Rc<MemoryStorage>,
    /// What the synchronizers built by [`Harness::synchronizer`] report.
    pub recorder: Recorder,
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

impl Harness {
    /// A harness at virtual time 1,700,000,000,000 ms.
    pub fn new() -> Self {
        let clock = VirtualClock::new(1_700_000_000_000);
        Harness {
            sim: Sim::new(clock.clone()),
            server: ScriptedTransport::new(clock.clone()),
            storage: Rc::new(MemoryStorage::new()),
            recorder: Recorder::new(),
            clock,
        }
    }

    /// A synchronizer over this harness's server, store and clock, reporting to its recorder.
    pub fn synchronizer(&self, setup: crate::sync::SyncSetup) -> TestSynchronizer {
        let mut sync = crate::sync::Synchronizer::new(
            self.server.clone(),
            Rc::clone(&self.storage),
            self.clock.clone(),
            setup,
        );
        sync.set_observer(Box::new(self.recorder.clone()));
        sync
    }

    /// Runs `task` at virtual time `at_ms` (absolute).
    pub fn at(&self, at_ms: u64, task: impl FnOnce() + 'static) {
        let clock = self.clock.clone();
        self.sim.spawn(async move {
            clock.sleep(at_ms).await;
            task();
        });
    }

    /// Runs `task` `after_ms` from now.
    pub fn after(&self, after_ms: u64, task: impl FnOnce() + 'static) {
        self.at(self.clock.now().saturating_add(after_ms), task);
    }

    /// Now + `ms`.
    pub fn in_ms(&self, ms: u64) -> u64 {
        self.clock.now().saturating_add(ms)
    }
}
