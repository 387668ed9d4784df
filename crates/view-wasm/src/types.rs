//! The typed JS boundary of the main-thread module: the TypeScript interfaces of the view's part
//! of `crates/wasm/API.md`, emitted into the generated `.d.ts`, and the extern newtypes that
//! carry them through wasm-bindgen (so no export is typed `any`). `ReactiveErrorInfo` is
//! declared in `dojo-reactive-boundary`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** A model member value in the SDK shape. */
export type SdkValue = number | boolean | bigint | string | SdkValue[] | { variant: string; value?: SdkValue }
  | { [member: string]: SdkValue };

/** An entity in the SDK shape. */
export interface SdkEntity {
  entityId: string;
  models: { [ns: string]: { [model: string]: { [member: string]: SdkValue } } };
}

/** One event message of an event log: the model state it carried, in an entity's shape. */
export interface SdkEvent {
  /** Its identity: `entityId:model:executedAt:contentHash:occurrence`. */
  id: string;
  entityId: string;
  /** The model tag `namespace-Model`. */
  model: string;
  /** Block timestamp (Unix seconds). */
  executedAt: number;
  /** When Torii indexed it (Unix seconds). */
  createdAt: number;
  /** The key members as felts (0x hex), in declaration order. */
  keys: string[];
  models: { [ns: string]: { [model: string]: { [member: string]: SdkValue } } };
}

/** A decoded EVENTS batch (`View.decodeEvents`). */
export interface DecodedEvents {
  target: string;
  /** The whole log of the target, replacing what was held. */
  snapshot: boolean;
  /** Events added, in the log's order. */
  added: SdkEvent[];
  /** Each added event's place among the events of its second. */
  positions: number[];
  /** Ids of events that left by retention. */
  evicted: string[];
}

/** Read synced state only, or synced state with pending optimistic writes over it. */
export type Consistency = "overlay" | "synced";

/** A filter operator: Torii's 14 comparison operators. */
export type FilterOp = "eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "in" | "notIn" | "contains" | "containsAll"
  | "containsAny" | "arrayLengthEq" | "arrayLengthGt" | "arrayLengthLt";

/** One `where` entry: a member predicate, named keys, a key pattern, hashed keys, or `and` / `or` of entries. */
export type Condition =
  | { member: string; op: FilterOp; value: unknown }
  | { and: Condition[] }
  | { or: Condition[] }
  | { keys: { [member: string]: unknown } }
  | { keys: Array<string | null>; matching?: "fixedLen" | "variableLen" }
  | { hashedKeys: string[] };

/** Core QuerySpec (filter DSL). */
export interface QuerySpec {
  filter?: {
    keys?: { [member: string]: unknown };
    where?: Condition[];
  };
  select?: { include?: string[]; exclude?: string[] };
  orderBy?: Array<{ member: string; direction?: "asc" | "desc" }>;
  limit?: number;
  cursor?: string;
}

/** One page of query results. */
export interface QueryResult { items: SdkEntity[]; nextCursor?: string }

/** The entity ids of one page of query results, joined by commas (`View.queryIds`). */
export interface QueryIds { ids: string; nextCursor?: string }

/** View options. */
export interface ViewOptions { overlayTimeoutMs?: number; overlayPollMs?: number }

/** Confirms an optimistic write from the synced model state (undefined when absent). */
export type Guard = (syncedModelState: { [member: string]: SdkValue } | undefined) => boolean;

/** One optimistic write. */
export interface OverlaySubmission {
  entityId: string;
  model: string;
  payload: { [member: string]: unknown };
  guard?: Guard;
  timeoutMs?: number;
  transactionId?: string;
}

/** One write of a transaction: members set (`set`) and integer members changed by an amount
 *  over the latest synced value (`add`, e.g. `{ balance: -10n }`), on one model of one entity. */
export interface TransactionWrite {
  entityId: string;
  model: string;
  set?: { [member: string]: unknown };
  add?: { [member: string]: bigint | number | string };
  guard?: Guard;
}

/** One transaction: several writes shown, confirmed and rolled back as one. */
export interface TransactionSubmission {
  writes: TransactionWrite[];
  timeoutMs?: number;
  transactionId?: string;
}

/** The result of submitOverlay and submitTransaction. */
export interface OverlaySubmitted { transactionId: string }

/** A pending optimistic write. */
export interface OverlayEntryInfo {
  transactionId: string;
  entityId: string;
  model: string;
  payload: { [member: string]: SdkValue };
  add: { [member: string]: bigint };
  submittedAtMs: number;
  deadlineMs: number;
  guard: string;
}

/** An (entity, model) a transaction wrote. */
export interface WrittenModel { entityId: string; model: string }

/** What happened to a pending transaction (`entityId`, `model`: its first write). */
export type OverlayEventInfo =
  | { type: "confirmed"; transactionId: string; entityId: string; model: string; writes: WrittenModel[] }
  | { type: "timedOut"; transactionId: string; entityId: string; model: string; writes: WrittenModel[]; error: ReactiveErrorInfo }
  | { type: "replaced"; transactionId: string; by: string; entityId: string; model: string; writes: WrittenModel[] }
  | { type: "rolledBack"; transactionId: string; entityId: string; model: string; writes: WrittenModel[] };

/** The result of poll. */
export interface PollResult { events: OverlayEventInfo[]; changed: string[] }
"#;

#[wasm_bindgen]
extern "C" {
    /// `SdkEntity`.
    #[wasm_bindgen(typescript_type = "SdkEntity")]
    pub type SdkEntityJs;

    /// `Consistency`.
    #[wasm_bindgen(typescript_type = "Consistency")]
    pub type ConsistencyJs;

    /// `QuerySpec`.
    #[wasm_bindgen(typescript_type = "QuerySpec")]
    pub type QuerySpecJs;

    /// `QueryResult`.
    #[wasm_bindgen(typescript_type = "QueryResult")]
    pub type QueryResultJs;

    /// `QueryIds`.
    #[wasm_bindgen(typescript_type = "QueryIds")]
    pub type QueryIdsJs;

    /// `ViewOptions`.
    #[wasm_bindgen(typescript_type = "ViewOptions")]
    pub type ViewOptionsJs;

    /// `OverlaySubmission`.
    #[wasm_bindgen(typescript_type = "OverlaySubmission")]
    pub type OverlaySubmissionJs;

    /// `TransactionSubmission`.
    #[wasm_bindgen(typescript_type = "TransactionSubmission")]
    pub type TransactionSubmissionJs;

    /// `OverlaySubmitted`.
    #[wasm_bindgen(typescript_type = "OverlaySubmitted")]
    pub type OverlaySubmittedJs;

    /// `OverlayEntryInfo[]`.
    #[wasm_bindgen(typescript_type = "OverlayEntryInfo[]")]
    pub type OverlayEntryInfoListJs;

    /// `PollResult`.
    #[wasm_bindgen(typescript_type = "PollResult")]
    pub type PollResultJs;
}
