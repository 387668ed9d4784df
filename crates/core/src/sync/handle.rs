//! Commands sent to a running synchronizer.

use futures_channel::mpsc::UnboundedSender;

use super::target::TargetScope;

/// A command for a running synchronizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Resubscribe and re-page the snapshot now.
    ForceReplay,
    /// Drop the subscription and wait for `Resume` (or `Shutdown`).
    Pause,
    /// Leave `pausing` and replay.
    Resume,
    /// Stop: `run` returns `Ok(())`.
    Shutdown,
    /// Sync these scopes from now on (the live subscription's filter is updated, and what the
    /// changed scopes add is paged).
    Retarget(Vec<TargetScope>),
}

/// A cloneable handle to send commands to a synchronizer (from any task of its thread).
#[derive(Debug, Clone)]
pub struct SyncHandle {
    pub(crate) tx: UnboundedSender<Command>,
}

impl SyncHandle {
    fn send(&self, command: Command) -> bool {
        self.tx.unbounded_send(command).is_ok()
    }

    /// Asks for a replay (ignored while a snapshot pass is already running). Returns whether
    /// the synchronizer still exists.
    pub fn force_replay(&self) -> bool {
        self.send(Command::ForceReplay)
    }

    /// Asks the synchronizer to pause.
    pub fn pause(&self) -> bool {
        self.send(Command::Pause)
    }

    /// Asks a paused synchronizer to resume.
    pub fn resume(&self) -> bool {
        self.send(Command::Resume)
    }

    /// Asks the synchronizer to sync these scopes instead (see [`Command::Retarget`]); before
    /// `run` they apply from its start.
    pub fn retarget(&self, scopes: Vec<TargetScope>) -> bool {
        self.send(Command::Retarget(scopes))
    }

    /// Asks the synchronizer to stop; `run` then returns `Ok(())`.
    pub fn shutdown(&self) -> bool {
        self.send(Command::Shutdown)
    }
}
