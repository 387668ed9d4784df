// torii-wasm with token balances (tokens.js): `@dojoengine/torii-wasm` reading every balance of
// the mock's world with `getTokenBalances`, paged into an in-memory array, as a game using it
// would load a wallet list; it keeps nothing, so a reload fetches them again. `window.bench`
// exposes the phases.

import { ToriiClient } from "@dojoengine/torii-wasm";
import { longestTaskBefore, params } from "./common.js";

const pageSize = Number(params.pageSize ?? 1000);
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

let balances = [];
const first = fetchAll().then((items) => {
    balances = items;
    return performance.now();
});

window.bench = {
    /** Time until every balance is fetched (from navigation start), how many. */
    async cold() {
        const doneAt = await first;
        return { completeMs: doneAt, fromClientMs: doneAt - startedAt, balances: balances.length, longTasks: longestTaskBefore(doneAt) };
    },
};
