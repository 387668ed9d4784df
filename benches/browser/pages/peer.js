// The peers, as a game using the official packages would sync a world: `@dojoengine/torii-wasm`
// pages every entity with `getAllEntities` into an in-memory array (`?mode=raw`), or, with
// `?mode=sdk`, each page goes through the SDK's `parseEntities` into its zustand state store
// (`createDojoStore`, `mergeEntities`), and live updates through `parseEntities` + `updateEntity`.
// The sync starts as the page loads; `window.bench` exposes the measurements.

import { ToriiClient } from "@dojoengine/torii-wasm";
import { canonicalId, longestTaskBefore, markerRecorder, params, timeCalls } from "./common.js";

const mode = params.mode === "sdk" ? "sdk" : "raw";
const pageSize = Number(params.pageSize ?? 1000);
const sdk = mode === "sdk" ? await import("/build/sdk.js") : undefined;
const store = sdk?.createDojoStore();

const startedAt = performance.now();
const client = await new ToriiClient({ toriiUrl: params.torii, worldAddress: params.world });
const clientAt = performance.now();

/** torii-wasm entities, in the order the pages arrived. */
const entities = [];

async function coldSync() {
    let cursor;
    do {
        const page = await client.getAllEntities(pageSize, cursor);
        if (sdk) store.getState().mergeEntities(sdk.parseEntities(page.items));
        else entities.push(...page.items);
        cursor = page.next_cursor || undefined;
    } while (cursor);
    return performance.now();
}

const synced = coldSync();
/** The live subscription of the latency phase: `{ recorder, stop }`. */
let listening;

/** `arena-Player.level` of an entity, in each contender's shape. */
const level = {
    raw: (e) => e.models["arena-Player"]?.level?.value,
    sdk: (e) => e.models.arena?.Player?.level,
};

window.bench = {
    /** Time to all entities available, long tasks during it, how many entities are held. */
    async cold() {
        const doneAt = await synced;
        const held = sdk ? Object.keys(store.getState().entities).length : entities.length;
        return {
            allAvailableMs: doneAt,
            fromClientMs: doneAt - clientAt,
            loadMs: clientAt - startedAt,
            held,
            longTasks: longestTaskBefore(doneAt),
        };
    },
    /** Canonical ids (0x + 64 hex) of `count` players spread over what the peer holds. */
    sampleIds(count) {
        const players = sdk
            ? Object.values(store.getState().entities).filter((e) => level.sdk(e) !== undefined).map((e) => e.entityId)
            : entities.filter((e) => level.raw(e) !== undefined).map((e) => e.hashed_keys);
        return Array.from({ length: count }, (_, i) => canonicalId(players[Math.floor((i * players.length) / count)]));
    },
    /** Query latency: by id and a `where` scan (`arena-Player.level >= minLevel`). */
    queries({ ids: canonical, rounds, scanRounds, minLevel }) {
        const native = new Map(
            (sdk ? Object.keys(store.getState().entities) : entities.map((e) => e.hashed_keys)).map((id) => [canonicalId(id), id]),
        );
        const ids = canonical.map((id) => native.get(id) ?? id);
        const byId = sdk
            ? timeCalls(ids, rounds, (id) => store.getState().getEntity(id))
            : timeCalls(ids, rounds, (id) => entities.find((e) => e.hashed_keys === id));
        const scan = sdk
            ? timeCalls([minLevel], scanRounds, (min) =>
                  Object.values(store.getState().entities).filter((e) => level.sdk(e) >= min),
              )
            : timeCalls([minLevel], scanRounds, (min) => entities.filter((e) => level.raw(e) >= min));
        return {
            byId: { ...byId, results: undefined, found: byId.results.filter(Boolean).length },
            scan: { ...scan, results: undefined, matches: scan.results[0].length },
        };
    },
    /** Starts recording marker latencies of `entityId` (see common.js); resolves once subscribed. */
    async listen({ entityId, tag }) {
        const recorder = markerRecorder(tag);
        let unsubscribeStore = () => {};
        if (sdk) {
            const storeId = Object.keys(store.getState().entities).find((id) => canonicalId(id) === entityId);
            unsubscribeStore = store.getState().subscribeToEntity(storeId ?? entityId, (entity) => {
                const name = entity?.models.arena?.Player?.name;
                if (name) recorder.seen(name);
            });
        }
        const subscription = await client.onEntityUpdated(null, [], (entity) => {
            if (sdk) {
                for (const parsed of sdk.parseEntities([entity])) store.getState().updateEntity(parsed);
            } else if (canonicalId(entity.hashed_keys) === entityId) {
                const name = entity.models["arena-Player"]?.name?.value;
                if (name) recorder.seen(name);
            }
        });
        listening = { recorder, stop: () => (subscription.cancel(), unsubscribeStore()) };
    },
    /** Latencies recorded so far. */
    markers: () => listening.recorder.results(),
    /** Stops listening. */
    unlisten: () => listening.stop(),
};
