// Tokens as sync targets (docs/tokens.md) in Chromium against mock-torii, through the React
// hooks (pages/tokens.html): a cold sync shows the wallet's balances (a u256 above 2^128, exact
// as a bigint), the tokens (NFTs with their ids) and the token contracts; a balance changed on
// the mock reaches `useTokenBalances` and a `client.subscribe` of `listTokenBalances`; a reload,
// with every gRPC answer of the mock held back, shows the stored balances from IndexedDB. The
// same app reads an `eventLog` target through `useEvents` (docs/events.md): the newest events,
// a live one first, the stored log after the reload.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor } from "../lib/wait.js";

const ACCOUNT = "0x" + "ab".repeat(31);
const CONTRACT = "0x" + "cd".repeat(31);
const canonical = (address) => "0x" + BigInt(address).toString(16).padStart(64, "0");
const shown = (amount) => `${canonical(CONTRACT)}:bigint:${amount}`;

let env, page;

before(async () => {
    env = await startEnv(["--entities", "300", "--seed", "77"]);
    page = await env.openHarness(undefined, "tokens.html");
});

after(() => env?.close());

const text = (id) => page.evaluate((i) => window.e2e.text(i), id);
const setBalance = (amount) => env.mock.post("/_mock/balance", { account: ACCOUNT, contract: CONTRACT, amount: amount.toString() });

test("cold sync, a live balance change reaching useTokenBalances and subscribe, and a warm reload", async () => {
    const first = (1n << 200n) + 7n;
    await setBalance(first);

    // Cold sync.
    await page.evaluate(([url, account]) => window.e2e.mount(url, account), [env.mock.url, ACCOUNT]);
    await waitFor(async () => (await text("balances")) === shown(first), "the wallet's balance (u256, exact)", 60_000);
    await waitFor(async () => /^\d+ tokens, [1-9]\d* NFTs$/.test(await text("tokens")), "tokens with NFT ids", 60_000);
    await waitFor(async () => (await text("contracts")) === "GEM:ERC20 GLD:ERC20 HERO:ERC721", "the token contracts", 60_000);
    await waitFor(async () => (await text("events"))?.split(" ").length === 3, "useEvents: the three newest events of the history", 60_000);

    // A live event reaches useEvents, newest first.
    await env.mock.post("/_mock/set", { keys: ["0x1"], model: "arena-Moved", values: { direction: { variant: "Up" }, at: 2_000_001 } });
    await waitFor(async () => (await text("events"))?.startsWith("2000001 "), "useEvents: a live event, newest first");

    // A live change.
    const second = first - 1_000_000n;
    await setBalance(second);
    await waitFor(async () => (await text("balances")) === shown(second), "the live balance in useTokenBalances");
    await waitFor(
        () => page.evaluate((want) => window.e2e.subscribed.some((r) => r.join() === want), `${canonical(CONTRACT)}:${second}`),
        "the live balance handed to a listTokenBalances subscriber",
    );

    // Reload with the mock's answers held back: the balances come from IndexedDB.
    await env.mock.post("/_mock/delay", { ms: 4000 });
    await page.reload();
    await page.waitForFunction(() => window.e2e?.loaded === true, null, { timeout: 60_000 });
    await page.evaluate(([url, account]) => window.e2e.mount(url, account), [env.mock.url, ACCOUNT]);
    await page.waitForFunction(() => window.e2e.client !== undefined, null, { timeout: 30_000 });
    await page.evaluate(() => window.e2e.client.ready);
    await waitFor(async () => (await text("balances")) === shown(second), "the stored balance at ready", 2_000, 50);
    // Kinds are restored one after the other (each announced as it is): the contracts may
    // render a moment after the balances, still from IndexedDB (the mock holds its answers 4 s).
    await waitFor(async () => /HERO:ERC721/.test((await text("contracts")) ?? ""), "stored token contracts at ready", 2_000, 50);
    await waitFor(async () => /^2000001 /.test((await text("events")) ?? ""), "useEvents: the stored log, restored after ready", 10_000, 50);
    await env.mock.post("/_mock/delay", { ms: 0 });

    // Live again after the reload.
    await setBalance(5n);
    await waitFor(async () => (await text("balances")) === shown(5n), "a change after the reload");
    assert.deepEqual(page.problems, [], "no page error");
});
