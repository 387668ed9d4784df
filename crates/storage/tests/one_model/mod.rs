//! What the restart and memory tests share: a synchronizer of every state of one model over the
//! real store (memory backend), run by the core harness's scripted Torii.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use dojo_reactive_core::sync::testing::{test_setup, Harness, SimOutcome};
use dojo_reactive_core::sync::{
    SyncFatalError, SyncOptions, SyncTarget, Synchronizer, TargetKind, TargetScope,
};
use dojo_reactive_storage::{MemoryBackend, Storage};

type RunFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SyncFatalError>> + 'a>>;

/// Runs a synchronizer of every `model` entity over `storage` for 30 virtual seconds, with
/// `options` (the harness's test options when `None`), then calls `at_end` while the
/// synchronizer still holds what it built.
pub fn sync_for_30_s(
    h: &mut Harness,
    storage: &Rc<Storage<MemoryBackend>>,
    model: &str,
    options: Option<SyncOptions>,
    at_end: impl FnOnce(),
) {
    let every = TargetScope {
        id: "players".into(),
        models: vec![model.into()],
        clause: None,
    };
    let mut setup = test_setup(SyncTarget::of(TargetKind::Entities, vec![every]));
    if let Some(options) = options {
        setup.options = options;
    }
    let mut sync = Synchronizer::new(h.server.clone(), Rc::clone(storage), h.clock.clone(), setup);
    let mut run: RunFuture<'_> = Box::pin(sync.run());
    let until = h.in_ms(30_000);
    assert_eq!(h.sim.run_until(run.as_mut(), until), SimOutcome::TimeLimit);
    at_end();
}
