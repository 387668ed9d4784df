// Hostile names (issue 12, item 5): a world whose namespaces, models and members are called
// `__proto__`, `constructor` and `prototype` (valid Cairo identifiers; mock-torii
// `--hostile-names`) syncs into the page, which reads, queries, follows and writes them, and no
// prototype or global of the page changes. Rows whose names are not identifiers
// (`names-Misnamed`) are rejected and counted while the stream goes on.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEnv } from "../lib/env.js";
import { waitFor, waitForEntityCount } from "../lib/wait.js";

const KEY = `0x${"abc1".padStart(64, "0")}`;
const MISNAMED_KEY = `0x${"abc2".padStart(64, "0")}`;
/** Bodies as JSON text: in a JS object literal `__proto__: v` sets the prototype, not a key. */
const body = (text) => JSON.parse(text);

let env, page, entityId, misnamedId, before_;

/** What a hostile name could change in the page: run in the page, compared before and after. */
function pageGlobals() {
    return JSON.stringify([
        Object.getOwnPropertyNames(Object.prototype).sort(),
        Object.getOwnPropertyNames(Object).sort(),
        String(Object.assign),
        String(Function.prototype.call),
        Object.getPrototypeOf({}) === Object.prototype,
        ({}).isAdmin,
        ({}).assign,
        typeof ({}).constructor,
        Object.prototype.__proto__,
    ]);
}

/** The rejected-record count of the last entities SYNC_TICK. */
const rejected = () => page.evaluate(() => window.e2e.client.getSyncStatus().ticks?.entities?.rejectedRecords ?? 0);

before(async () => {
    env = await startEnv(["--entities", "40", "--event-messages", "0", "--seed", "43", "--hostile-names"]);
    const set = (keys, model, values) => env.mock.post("/_mock/set", { keys: [keys], model, values: body(values) });
    entityId = (
        await set(KEY, "__proto__-isAdmin", '{"__proto__": 7, "constructor": {"__proto__": 8, "prototype": 9}, "prototype": true}')
    ).entityId;
    await set(KEY, "constructor-assign", '{"prototype": "10", "__proto__": "text"}');
    await set(KEY, "prototype-__proto__", '{"prototype": 11}');
    misnamedId = (await set(MISNAMED_KEY, "names-Misnamed", '{"not an identifier": 1}')).entityId;
    page = await env.openHarness();
    before_ = await page.evaluate(pageGlobals);
    const started = await page.evaluate((url) => window.e2e.start(url), env.mock.url);
    assert.ok(started.init, `ready: ${JSON.stringify(started.error)}`);
    await waitForEntityCount(page, "prototype-__proto__", 1);
});

after(() => env?.close());

test("models, namespaces and members named __proto__, constructor, prototype are read and queried as plain keys", async () => {
    const seen = await page.evaluate((id) => {
        const { client, reactive } = window.e2e;
        const one = (model, spec) => client.query(model, spec).items;
        const [entity] = one("__proto__-isAdmin", { filter: { where: [{ member: "__proto__", op: "eq", value: 7 }] } });
        const isAdmin = entity.models.__proto__.isAdmin;
        const assign = one("constructor-assign")[0].models.constructor.assign;
        const protoModel = one("prototype-__proto__")[0].models.prototype.__proto__;
        window.e2e.component = undefined;
        window.e2e.whole = undefined;
        client.subscribe(null, reactive.reactiveSelectors.selectComponent(id, "constructor-assign"), (v) => {
            window.e2e.component = v;
        });
        client.subscribe(null, id, (v) => {
            window.e2e.whole = v;
        });
        return {
            ownNamespace: Object.keys(entity.models),
            isAdminKeys: Object.keys(isAdmin),
            isAdmin: JSON.stringify(isAdmin),
            plainPrototype: Object.getPrototypeOf(isAdmin) === Object.prototype,
            assign: { prototype: String(assign.prototype), proto: assign.__proto__ },
            protoModel: protoModel.prototype,
            nested: one("__proto__-isAdmin", { filter: { where: [{ member: "constructor.prototype", op: "eq", value: 9 }] } }).length,
            none: one("__proto__-isAdmin", { filter: { where: [{ member: "__proto__", op: "gt", value: 7 }] } }).length,
            keyed: one("prototype-__proto__", { filter: { keys: { constructor: protoModel.constructor } } }).map((e) => e.entityId),
        };
    }, entityId);
    assert.deepEqual(seen.ownNamespace, ["__proto__"], "a query's entity holds the queried model");
    assert.deepEqual(seen.isAdminKeys, ["player", "__proto__", "constructor", "prototype"]);
    assert.match(seen.isAdmin, /"__proto__":7,"constructor":\{"__proto__":8,"prototype":9\},"prototype":true/);
    assert.ok(seen.plainPrototype, "entities stay ordinary objects");
    assert.deepEqual(seen.assign, { prototype: "10", proto: "text" });
    assert.equal(seen.protoModel, 11);
    assert.equal(seen.nested, 1, "a nested member path through `constructor`");
    assert.equal(seen.none, 0);
    assert.deepEqual(seen.keyed, [entityId]);

    // A live change reaches an id subscriber (the whole entity) and a selectComponent subscriber.
    await env.mock.post("/_mock/set", { entityId, model: "constructor-assign", values: body('{"prototype": "12"}') });
    const followed = await waitFor(
        () =>
            page.evaluate(() => {
                const { component: c, whole } = window.e2e;
                if (!c || !whole || String(c.prototype) !== "12") return undefined;
                const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
                return {
                    component: { prototype: String(c.prototype), proto: c.__proto__, keys: Object.keys(c) },
                    namespaces: Object.keys(whole.models).sort(),
                    ownNamespaces: ["__proto__", "constructor", "prototype"].every((k) => own(whole.models, k)),
                    wholeProto: whole.models.prototype.__proto__.prototype,
                };
            }),
        "the subscribers to follow constructor-assign",
    );
    assert.deepEqual(followed, {
        component: { prototype: "12", proto: "text", keys: ["player", "prototype", "__proto__"] },
        namespaces: ["__proto__", "constructor", "prototype"],
        ownNamespaces: true,
        wholeProto: 11,
    });
    assert.equal(await page.evaluate(pageGlobals), before_, "no prototype or global changed");
});

test("live updates and optimistic writes of members named __proto__ reach the page without touching a global", async () => {
    await env.mock.post("/_mock/set", { entityId, model: "__proto__-isAdmin", values: body('{"__proto__": 70}') });
    await waitFor(
        () => page.evaluate(() => window.e2e.client.query("__proto__-isAdmin").items[0]?.models.__proto__.isAdmin.__proto__ === 70),
        "the streamed `__proto__` member",
    );
    const shown = await page.evaluate((id) => {
        const { client } = window.e2e;
        window.e2e.outcome = undefined;
        const payload = JSON.parse('{"__proto__": 71, "constructor": {"__proto__": 81, "prototype": 91}}');
        const mutation = client.mutate("__proto__-isAdmin", payload, { entityId: id, timeoutMs: 120_000 });
        mutation.confirmed.then(
            () => (window.e2e.outcome = "confirmed"),
            (error) => (window.e2e.outcome = String(error?.message)),
        );
        const read = (consistency) =>
            client.query("__proto__-isAdmin", { consistency }).items[0].models.__proto__.isAdmin;
        return { overlay: read("overlay").__proto__, nested: read("overlay").constructor.prototype, synced: read("synced").__proto__ };
    }, entityId);
    assert.deepEqual(shown, { overlay: 71, nested: 91, synced: 70 });
    await env.mock.post("/_mock/set", {
        entityId,
        model: "__proto__-isAdmin",
        values: body('{"__proto__": 71, "constructor": {"__proto__": 81, "prototype": 91}}'),
    });
    assert.equal(await waitFor(() => page.evaluate(() => window.e2e.outcome), "the write's outcome"), "confirmed");
    assert.equal(await page.evaluate(pageGlobals), before_, "no prototype or global changed");
});

test("rows whose names are not identifiers are rejected and counted, and the stream goes on", async () => {
    await waitFor(async () => (await rejected()) >= 1, "the misnamed snapshot row counted as rejected");
    const counted = await rejected();
    await env.mock.post("/_mock/set", { keys: [MISNAMED_KEY], model: "names-Misnamed", values: body('{"not an identifier": 2}') });
    await waitFor(async () => (await rejected()) > counted, "the misnamed streamed update counted as rejected");
    await env.mock.post("/_mock/set", { entityId, model: "prototype-__proto__", values: body('{"prototype": 12}') });
    await waitFor(
        () => page.evaluate(() => window.e2e.client.query("prototype-__proto__").items[0]?.models.prototype.__proto__.prototype === 12),
        "a later update after the rejected one",
    );
    const errors = await page.evaluate(() => window.e2e.errors);
    assert.ok(
        errors.some((e) => e.name === "TransportError" && e.isTyped && /not a Cairo identifier/.test(e.message)),
        JSON.stringify(errors),
    );
    const updated = await page.evaluate(() => window.e2e.updates.flatMap((u) => u.ids));
    assert.ok(!updated.includes(`0x${BigInt(misnamedId).toString(16)}`), "nothing of the misnamed entity is shown");
    assert.equal(await page.evaluate(pageGlobals), before_, "no prototype or global changed");
    assert.deepEqual(page.problems, []);
});
