//! The conformance suite on the memory backend, natively (`cargo test -p dojo-reactive-storage`).

#![cfg(not(target_arch = "wasm32"))]

mod conformance;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use conformance::Harness;
use dojo_reactive_storage::{CompactionConfig, MemoryBackend, Storage};

/// Named in-memory "databases"; a storage is a new connection to one of them.
#[derive(Default)]
struct Memory {
    databases: RefCell<HashMap<String, MemoryBackend>>,
    counter: Cell<u32>,
}

impl Harness for Memory {
    type B = MemoryBackend;

    fn storage_with(&self, name: &str, config: CompactionConfig) -> Storage<MemoryBackend> {
        let backend = self
            .databases
            .borrow_mut()
            .entry(name.to_owned())
            .or_default()
            .connect();
        Storage::with_config(backend, config)
    }

    fn unique(&self, case: &str) -> String {
        self.counter.set(self.counter.get() + 1);
        format!("{case}-{}", self.counter.get())
    }

    async fn cleanup(&self, name: &str) {
        self.databases.borrow_mut().remove(name);
    }
}

macro_rules! native_tests {
    ($($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                futures_executor::block_on(conformance::$case(&Memory::default()));
            }
        )*
    };
}

for_each_case!(native_tests);

/// The memory backend's quota emulation fails a write that does not fit, atomically.
#[test]
fn memory_quota_refuses_writes_that_do_not_fit() {
    use conformance::*;
    use dojo_reactive_storage::StoreError;
    futures_executor::block_on(async {
        let backend = MemoryBackend::new();
        let storage = Storage::new(backend.connect());
        storage
            .init(&fingerprint("manifest-hash:v1:aa"), "1")
            .await
            .expect("init");
        storage
            .commit(&upserts(vec![player(1, 1)], 1, None))
            .await
            .expect("commit");
        backend.set_quota(Some(backend.stored_bytes() + 100));
        let big = upserts(
            (0..100).map(|n| player(n, 2)).collect(),
            2,
            Some(cursor("c", 1)),
        );
        let error = storage.commit(&big).await.expect_err("quota");
        assert!(
            matches!(error, StoreError::QuotaExceeded { .. }),
            "{error:?}"
        );
        assert_eq!(
            storage.load(TARGET).await.expect("load").data.models,
            vec![player(1, 1)]
        );
        assert_eq!(storage.sync_state(TARGET).await.expect("state"), None);
    });
}
