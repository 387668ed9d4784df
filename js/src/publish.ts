/**
 * Offchain messages (`client.publishMessage`, `client.publishMessages`): SNIP-12 typed data,
 * signed by the game, sent to Torii's `PublishMessage` (`PublishMessageBatch` for several)
 * through the sync worker, and shown at once as an optimistic write (one transaction for a
 * batch: confirmed or rolled back as one).
 *
 * Torii stores a valid message as the state of its model (`primaryType`, a `namespace-Model`
 * tag) of the entity whose id is the Poseidon hash of the message's key members, in the
 * entities table: entity subscriptions (and so this client's sync, when the model is synced)
 * receive it like any other write. The optimistic write is therefore an ordinary `mutate` of
 * that model and entity: confirmed when the synced state has the message's values, rolled
 * back at once when Torii refuses the message (a {@link PublishError} with Torii's reason) or
 * when it is not indexed in time (OverlayTimeoutError).
 *
 * @module
 */

import { isEntityId } from './selectors.js';
import type { InputValue } from './types.js';
import type { Check } from './validate.js';

/** SNIP-12 typed data, as the game signed it. */
export interface TypedData {
  /** The type definitions. */
  readonly types: { readonly [name: string]: unknown };
  /** The message's type: the model's tag (`namespace-Model`). */
  readonly primaryType: string;
  /** The signing domain. */
  readonly domain: { readonly [field: string]: unknown };
  /**
   * The message: members of the model (felts and addresses as `0x` strings, integers as
   * numbers, BigInt or strings, ByteArray as strings), the key members included.
   */
  readonly message: { readonly [member: string]: unknown };
}

/** Options of `publishMessage`. */
export interface PublishOptions {
  /** Time before the optimistic write is rolled back when Torii has not indexed the message (default: `overlayOptions.timeoutMs`). */
  readonly timeoutMs?: number;
  /** The optimistic write's id; generated when absent. */
  readonly transactionId?: string;
}

/** What Torii answered to a published message. */
export interface Published {
  /** Torii's id of the message, `0x<world>:0x<entity>`. */
  readonly id: string;
  /** The entity the message is stored under (`0x` + 64 hex). */
  readonly entityId: string;
}

/** A checked message: the model, its payload for the overlay, and what goes on the wire. */
export interface CheckedMessage {
  /** The model tag. */
  readonly model: string;
  /** The message's members, as an optimistic write's payload. */
  readonly payload: { readonly [member: string]: InputValue };
  /** The typed data as JSON text. */
  readonly json: string;
  /** The signature felts as `0x` strings. */
  readonly signature: readonly string[];
}

function felt(value: unknown): string | undefined {
  if (typeof value === 'bigint' && value >= 0n) return `0x${value.toString(16)}`;
  if (typeof value === 'string' && isEntityId(value)) return value;
  if (typeof value === 'string' && /^[0-9]{1,78}$/.test(value)) return `0x${BigInt(value).toString(16)}`;
  return undefined;
}

/**
 * Checks a message's arguments (throws the ValidationError `check` builds); `at` prefixes the
 * argument names (`messages[2].` for one of `publishMessages`).
 */
export function checkMessage(
  check: Check,
  typedData: TypedData,
  signature: readonly (string | bigint)[],
  at = '',
): CheckedMessage {
  const data = check.record(`${at}typedData`, typedData);
  const model = check.string(`${at}typedData.primaryType`, data.primaryType);
  const payload = check.record(`${at}typedData.message`, data.message) as { readonly [member: string]: InputValue };
  if (!Array.isArray(signature) || signature.length === 0) {
    throw check.fail(`${at}signature`, 'a non-empty array of felts (0x strings or BigInt)', signature);
  }
  const felts = signature.map((value, i) => {
    const text = felt(value);
    if (text === undefined) throw check.fail(`${at}signature[${i}]`, 'a felt (0x string, decimal string or BigInt)', value);
    return text;
  });
  let json: string;
  try {
    json = JSON.stringify(typedData, (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  } catch (error) {
    throw check.fail(`${at}typedData`, 'JSON-serialisable typed data', String(error));
  }
  return { model, payload, json, signature: felts };
}

/** One message of `publishMessages`: typed data and its signature. */
export interface SignedMessage {
  /** The SNIP-12 typed data, as the game signed it. */
  readonly typedData: TypedData;
  /** Its signature by the message's `identity` (felts as `0x` strings or BigInt). */
  readonly signature: readonly (string | bigint)[];
}

/** Reads the worker's answer to a publish. */
export function publishedOf(result: unknown, entityId: string): Published {
  const answer = (typeof result === 'object' && result !== null ? result : {}) as { [key: string]: unknown };
  return {
    id: typeof answer.id === 'string' ? answer.id : '',
    entityId: typeof answer.entityId === 'string' ? answer.entityId : entityId,
  };
}
