//! Arbitrary JSON text parsed as a Dojo manifest; a parsed manifest is hashed, fingerprinted and
//! its model shapes derived. Nothing may panic, the hash and fingerprint are deterministic, a
//! fingerprint has no changes against itself and survives its JSON form.
#![no_main]

use dojo_reactive_core::{build_manifest_fingerprint, compute_manifest_hash, Manifest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(manifest) = Manifest::from_json_str(text) else {
        return;
    };
    let fingerprint = build_manifest_fingerprint(&manifest);
    assert_eq!(fingerprint, manifest.fingerprint(), "fingerprint differs");
    assert_eq!(
        fingerprint.hash,
        compute_manifest_hash(&manifest),
        "hash differs"
    );
    assert!(fingerprint.diff(&fingerprint).is_empty(), "self-diff");
    let json = serde_json::to_string(&fingerprint).expect("a fingerprint serializes");
    let back: dojo_reactive_core::ManifestFingerprint =
        serde_json::from_str(&json).expect("a serialized fingerprint parses");
    assert_eq!(back, fingerprint, "fingerprint JSON round trip");
    let _ = manifest.schemas();
    for model in manifest.models.iter().chain(&manifest.events) {
        let _ = manifest.model_ty(&model.tag);
        assert!(
            manifest.resource(&model.tag).is_some(),
            "listed tag not found"
        );
    }
});
