// Cross-check of controllers and offchain messages (mock `--messages`): the official client
// (@dojoengine/torii-wasm) and our client (`dump_world --controllers`) read the same controllers
// from mock-torii, paged and by username; a message published through the official client is
// indexed by the mock as an entity our client reads, and a refused one is an error for it too.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { getJson, hex, killChildren, officialClient, postJson, runDumpWorld, startMock } from "./lib.js";

let mock;
let client;

before(async () => {
    mock = await startMock(["--entities", "90", "--seed", "13", "--messages"]);
    client = await officialClient(mock.url);
});

after(() => {
    client?.free();
    mock?.stop();
    killChildren();
});

const page = (cursor, limit, usernames = []) => ({
    contract_addresses: [],
    usernames,
    pagination: { limit, cursor, direction: "Forward", order_by: [] },
});

/** Every controller through torii-wasm's `getControllers`, paged by `limit`. */
async function officialControllers(limit, usernames) {
    const all = [];
    let cursor;
    do {
        const result = await client.getControllers(page(cursor, limit, usernames));
        all.push(...result.items);
        cursor = result.next_cursor || undefined;
    } while (cursor);
    return all.map((c) => ({ address: hex(c.address), username: c.username, deployedAt: Number(c.deployed_at_timestamp) }));
}

test("torii-wasm and our client read the same controllers, paged and by username", async () => {
    await postJson(`${mock.url}/_mock/controller`, { address: "0xc0ffee", username: "barista" });
    const [official, ours] = await Promise.all([
        officialControllers(7),
        runDumpWorld(["--url", mock.url, "--controllers"]).output.then((o) => o.controllers),
    ]);
    assert.ok(official.length > 10, `one controller per player: ${official.length}`);
    assert.deepEqual(ours.map((c) => ({ ...c, address: hex(c.address) })), official);
    assert.ok(official.some((c) => c.username === "barista" && c.address === hex("0xc0ffee")));

    const [byNameOfficial, byNameOurs] = await Promise.all([
        officialControllers(100, ["barista", "player3"]),
        runDumpWorld(["--url", mock.url, "--controllers", "barista,player3"]).output.then((o) => o.controllers),
    ]);
    assert.deepEqual(byNameOfficial.map((c) => c.username).sort(), ["barista", "player3"]);
    assert.deepEqual(byNameOurs.map((c) => ({ ...c, address: hex(c.address) })), byNameOfficial);
});

test("a message published through torii-wasm is indexed as an entity our client reads; a refused one fails", async () => {
    const { worldAddress } = await getJson(`${mock.url}/_mock/status`);
    const typed = (primaryType, text) =>
        JSON.stringify({
            types: {
                StarknetDomain: [
                    { name: "name", type: "shortstring" },
                    { name: "version", type: "shortstring" },
                    { name: "chainId", type: "shortstring" },
                    { name: "revision", type: "shortstring" },
                ],
                [primaryType]: [
                    { name: "identity", type: "ContractAddress" },
                    { name: "channel", type: "felt" },
                    { name: "text", type: "string" },
                ],
            },
            primaryType,
            domain: { name: "arena", version: "1", chainId: "SN_SEPOLIA", revision: "1" },
            message: { identity: "0xabc", channel: "0x5", text },
        });
    const id = await client.publishMessage({ message: typed("arena-Message", "hello"), signature: ["0x1", "0x2"], world_address: worldAddress });
    const [, entity] = id.split(":");
    const ours = (await runDumpWorld(["--url", mock.url]).output).entities;
    const stored = ours.find((e) => BigInt(e.entityId) === BigInt(entity));
    assert.ok(stored, `our client reads the entity ${entity} Torii's answer names`);
    assert.equal(stored.models["arena-Message"].text, "hello");

    await assert.rejects(
        client.publishMessage({ message: typed("arena-Nope", "x"), signature: ["0x1"], world_address: worldAddress }),
        (error) => /Model not found: arena-Nope/.test(String(error?.message ?? error)),
    );
});
