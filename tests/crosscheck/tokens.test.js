// Cross-check of tokens: the official client (@dojoengine/torii-wasm) and our synchronizer's
// transport (`dump_world --tokens`: the token rows the package stores) read the same tokens,
// balances and token contracts from mock-torii, after scripted transfers and mints and a balance
// too large for 128 bits; and a live balance change seen by both subscriptions with the same value.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { hex, killChildren, officialClient, postJson, runDumpWorld, startMock, withTimeout } from "./lib.js";

let mock;
let client;

before(async () => {
    mock = await startMock(["--entities", "600", "--seed", "11"]);
    client = await officialClient(mock.url);
});

after(() => {
    client?.free();
    mock?.stop();
    killChildren();
});

/** Every item of a torii-wasm token call, paged with cursors. */
async function allPages(call, query) {
    const items = [];
    let cursor;
    for (let page = 0; page < 1_000; page++) {
        const result = await call({ ...query, pagination: { limit: 100, cursor, direction: "Forward", order_by: [] } });
        items.push(...result.items);
        cursor = result.next_cursor;
        if (!cursor) return items;
    }
    throw new Error("the cursor never ran out");
}

const optionalHex = (value) => (value === undefined || value === null ? null : hex(value));

/** The fields both clients carry, canonical: addresses and u256s as 64-digit hex. */
const canonical = {
    tokens: (t) => ({
        contract_address: hex(t.contract_address),
        token_id: optionalHex(t.token_id),
        name: t.name,
        symbol: t.symbol,
        decimals: t.decimals,
        metadata: t.metadata,
        total_supply: optionalHex(t.total_supply),
    }),
    balances: (b) => ({
        account_address: hex(b.account_address),
        contract_address: hex(b.contract_address),
        token_id: optionalHex(b.token_id),
        balance: hex(b.balance),
    }),
    contracts: (c) => ({
        contract_address: hex(c.contract_address),
        name: c.name,
        symbol: c.symbol,
        decimals: c.decimals,
        metadata: c.metadata,
        token_metadata: c.token_metadata,
        total_supply: optionalHex(c.total_supply),
    }),
};

const sorted = (rows) => rows.map((r) => JSON.stringify(r)).sort();

test("torii-wasm and our token transport read the same tokens, balances and token contracts", async () => {
    await postJson(`${mock.url}/_mock/token-updates`, { count: 25 });
    const someone = "0x" + "ab".repeat(31);
    const contract = "0x" + "cd".repeat(31);
    const huge = (1n << 200n) + 12345n;
    await postJson(`${mock.url}/_mock/balance`, { account: someone, contract, amount: huge.toString() });

    const [tokens, balances, contracts] = await Promise.all([
        allPages((q) => client.getTokens(q), { contract_addresses: [], token_ids: [], attribute_filters: [] }),
        allPages((q) => client.getTokenBalances(q), { contract_addresses: [], account_addresses: [], token_ids: [] }),
        allPages((q) => client.getTokenContracts(q), { contract_addresses: [], contract_types: [] }),
    ]);
    const official = { tokens, balances, contracts };
    const ours = await runDumpWorld(["--url", mock.url, "--tokens"]).output;

    for (const kind of ["tokens", "balances", "contracts"]) {
        assert.ok(official[kind].length > 0, `torii-wasm read some ${kind}`);
        assert.equal(ours[kind].length, official[kind].length, `${kind}: as many rows`);
        assert.deepEqual(
            sorted(ours[kind].map(canonical[kind])),
            sorted(official[kind].map(canonical[kind])),
            `${kind}: dump_world --tokens (actual) vs torii-wasm (expected)`,
        );
    }
    const big = ours.balances.find((b) => hex(b.account_address) === hex(someone));
    assert.equal(BigInt(big.balance), huge, "a u256 above 2^128 is exact");
    assert.ok(
        ours.tokens.some((t) => t.token_id !== null),
        "NFT tokens carry their ids",
    );
});

test("a live balance change reaches torii-wasm's subscription and ours with the same value", async () => {
    const account = "0x" + "a1".repeat(31);
    const contract = "0x" + "c2".repeat(31);
    const amount = (1n << 180n) + 99n;

    // Ours: the synchronizer's balance subscription (SUBSCRIBED once Torii's handshake arrived).
    const ours = runDumpWorld(["--url", mock.url, "--watch-balances", "1"], 60_000);
    await withTimeout(ours.subscribed, 30_000, "dump_world --watch-balances SUBSCRIBED");

    // The official client: resolves once its handshake arrived.
    const received = [];
    let wake = () => {};
    const subscription = await withTimeout(
        client.onTokenBalanceUpdated([], [], [], (balance) => {
            received.push(balance);
            wake();
        }),
        30_000,
        "torii-wasm onTokenBalanceUpdated handshake",
    );
    const mine = (b) => b && hex(b.account_address) === hex(account);
    try {
        await postJson(`${mock.url}/_mock/balance`, { account, contract, amount: amount.toString() });
        await withTimeout(
            new Promise((resolve) => {
                wake = () => received.some(mine) && resolve();
                wake();
            }),
            30_000,
            `torii-wasm receiving the balance (got ${received.length} updates)`,
        );
    } finally {
        subscription.cancel();
    }
    const official = canonical.balances(received.find(mine));
    const { updates } = await ours.output;
    assert.equal(updates.length, 1, "dump_world printed the update");
    assert.deepEqual(canonical.balances(updates[0]), official, "dump_world --watch-balances (actual) vs torii-wasm (expected)");
    assert.equal(BigInt(updates[0].balance), amount, "the streamed u256 is exact");
});
