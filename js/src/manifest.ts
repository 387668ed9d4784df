/**
 * The manifest helpers of the storage API: the hash the worker checks its database with
 * (`SchemaMismatchError` when it differs) and the fingerprint stored beside the synced data.
 * Both run the worker's wasm module's own code (loaded on the main thread on first use), so
 * they always agree with the worker.
 *
 * @module
 */

import type { Runtime } from './client.js';
import { toReactiveError, ValidationError } from './errors.js';
import { manifestText } from './options.js';
import type { ManifestFingerprint } from './types.js';
import { Check } from './validate.js';

/** A Dojo manifest: its JSON text or the parsed object. */
export type ManifestInput = string | { readonly [key: string]: unknown };

/** `manifest-hash:v1:…` of a manifest; rejects with ValidationError for an unreadable one. */
export async function computeManifestHashOn(runtime: Runtime, manifest: ManifestInput): Promise<string> {
  const text = manifestText(new Check('computeManifestHash'), manifest);
  const wasm = await runtime.loadWasm();
  try {
    return await wasm.computeManifestHash(text);
  } catch (error) {
    throw toReactiveError(error, ValidationError);
  }
}

/** The fingerprint of a manifest; rejects with ValidationError for an unreadable one. */
export async function buildManifestFingerprintOn(
  runtime: Runtime,
  manifest: ManifestInput,
): Promise<ManifestFingerprint> {
  const text = manifestText(new Check('buildManifestFingerprint'), manifest);
  const wasm = await runtime.loadWasm();
  try {
    return await wasm.buildManifestFingerprint(text);
  } catch (error) {
    throw toReactiveError(error, ValidationError);
  }
}
