// torii-wasm with token balances and events (tokens.js): `@dojoengine/torii-wasm` reading every
// balance of the mock's world with `getTokenBalances` and every historical `arena-Moved` event
// with `getEventMessages` (`historical: true`), paged into in-memory arrays, as a game using it
// would load a wallet list and a battle log; it keeps nothing, so a reload fetches them again.
// `window.bench` exposes the phases.

import { ToriiClient } from "@dojoengine/torii-wasm";
import { longestTaskBefore, params } from "./common.js";

const pageSize = Number(params.pageSize ?? 1000);
const EVENTS = Number(params.events ?? 0);
const startedAt = performance.now();
const client = await new ToriiClient({ toriiUrl: params.torii, worldAddress: params.world });

/** Every balance, paged with `getTokenBalances`. */
async function fetchAll() {
    const items = [];
    let cursor;
    do {
        const page = await client.getTokenBalances({
            contract_addresses: [],
            account_addresses: [],
            token_ids: [],
            pagination: { limit: pageSize, cursor, direction: "Forward", order_by: [] },
        });
        for (const item of page.items) items.push(item);
        cursor = page.next_cursor || undefined;
    } while (cursor);
    return items;
}

/** Every historical event of `arena-Moved`, paged with `getEventMessages`. */
async function fetchEvents() {
    const items = [];
    let cursor;
    do {
        const page = await client.getEventMessages({
            world_addresses: [params.world],
            pagination: { limit: pageSize, cursor, direction: "Forward", order_by: [] },
            clause: undefined,
            no_hashed_keys: false,
            models: ["arena-Moved"],
            historical: true,
        });
        // Not `push(...items)`: a large page overflows the call stack.
        for (const item of page.items) items.push(item);
        cursor = page.next_cursor || undefined;
    } while (cursor);
    return items;
}

let balances = [];
let events = [];
const first = fetchAll().then((items) => {
    balances = items;
    return performance.now();
});
const eventsFirst = (EVENTS > 0 ? fetchEvents() : Promise.resolve([])).then((items) => {
    events = items;
    return performance.now();
});

window.bench = {
    /** Time until every balance and every event is fetched (from navigation start), how many. */
    async cold() {
        const [balancesAt, eventsAt] = await Promise.all([first, eventsFirst]);
        const doneAt = Math.max(balancesAt, eventsAt);
        return { completeMs: balancesAt, eventsMs: eventsAt, fromClientMs: doneAt - startedAt, balances: balances.length, events: events.length, longTasks: longestTaskBefore(doneAt) };
    },
};
