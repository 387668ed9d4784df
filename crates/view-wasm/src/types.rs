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

/** Read synced state only, or synced state with pending optimistic writes over it. */
export type Consistency = "overlay" | "synced";

/** Core QuerySpec (filter DSL). */
export interface QuerySpec {
  filter?: {
    keys?: { [member: string]: unknown };
    where?: Array<{ member: string; op: "eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "in"; value: unknown }>;
  };
  selector?: { include?: string[]; exclude?: string[] };
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

/** The result of submitOverlay. */
export interface OverlaySubmitted { transactionId: string }

/** A pending optimistic write. */
export interface OverlayEntryInfo {
  transactionId: string;
  entityId: string;
  model: string;
  payload: { [member: string]: SdkValue };
  submittedAtMs: number;
  deadlineMs: number;
  guard: string;
}

/** What happened to a pending write. */
export type OverlayEventInfo =
  | { type: "confirmed"; transactionId: string; entityId: string; model: string }
  | { type: "timedOut"; transactionId: string; entityId: string; model: string; error: ReactiveErrorInfo }
  | { type: "replaced"; transactionId: string; by: string; entityId: string; model: string }
  | { type: "rolledBack"; transactionId: string; entityId: string; model: string };

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
