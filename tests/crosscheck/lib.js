// Helpers of the cross-check: child processes (mock-torii, dump_world), the official
// @dojoengine/torii-wasm client, conversion of its entities into the canonical JSON of
// `GET /_mock/world`, and a readable diff of two worlds.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TARGET = process.env.CARGO_TARGET_DIR ? resolve(ROOT, process.env.CARGO_TARGET_DIR) : resolve(ROOT, "target");

export const MOCK_TORII_BIN = process.env.MOCK_TORII_BIN || resolve(TARGET, "debug/mock-torii");
export const DUMP_WORLD_BIN = process.env.DUMP_WORLD_BIN || resolve(TARGET, "debug/examples/dump_world");

export function requireBinary(path, hint) {
    if (!existsSync(path)) {
        throw new Error(`${path} does not exist: ${hint}`);
    }
}

// ---------------------------------------------------------------------------------------------
// Child processes

const children = new Set();

/** Kills every child still running (registered for process exit too). */
export function killChildren() {
    for (const child of children) {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    children.clear();
}
process.on("exit", killChildren);

function track(child) {
    children.add(child);
    child.on("exit", () => children.delete(child));
    return child;
}

function withTimeout(promise, ms, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the first line of `stream` matching `regex` (its match), or rejects on exit. */
function waitForLine(child, stream, regex, ms, what) {
    return withTimeout(
        new Promise((resolvePromise, reject) => {
            let buffer = "";
            const onData = (chunk) => {
                buffer += chunk;
                const lines = buffer.split("\n");
                buffer = lines.pop();
                for (const line of lines) {
                    const match = regex.exec(line);
                    if (match) {
                        stream.off("data", onData);
                        resolvePromise(match);
                        return;
                    }
                }
            };
            stream.setEncoding("utf8");
            stream.on("data", onData);
            child.once("exit", (code, signal) =>
                reject(new Error(`${what}: the process exited (code ${code}, signal ${signal}) first`)),
            );
        }),
        ms,
        what,
    );
}

/**
 * Starts mock-torii on a free port; resolves with `{ url, stop }` once it printed
 * `mock-torii listening on URL`.
 */
export async function startMock(args) {
    requireBinary(MOCK_TORII_BIN, "build it with `cargo build -p dojo-reactive-mock-torii` (or set MOCK_TORII_BIN)");
    const child = track(spawn(MOCK_TORII_BIN, ["--host", "127.0.0.1", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] }));
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d) => {
        stderr = (stderr + d).slice(-4000);
    });
    try {
        const [, url] = await waitForLine(child, child.stdout, /^mock-torii listening on (http:\/\/\S+)/, 120_000, "mock-torii start");
        child.stdout.resume();
        return {
            url,
            stop: () => child.kill("SIGKILL"),
        };
    } catch (error) {
        child.kill("SIGKILL");
        throw new Error(`${error.message}\nmock-torii stderr:\n${stderr}`);
    }
}

/**
 * Runs our `dump_world` example. Resolves with `{ output, subscribed }`: `subscribed` is a promise
 * of the `SUBSCRIBED <id>` line (for `--watch`), `output` a promise of the parsed stdout JSON.
 */
export function runDumpWorld(args, timeoutMs = 120_000) {
    requireBinary(DUMP_WORLD_BIN, "build it with `cargo build -p dojo-reactive-torii --examples` (or set DUMP_WORLD_BIN)");
    const child = track(spawn(DUMP_WORLD_BIN, args, { stdio: ["ignore", "pipe", "pipe"] }));
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8");
    const subscribed = new Promise((resolvePromise, reject) => {
        let buffer = "";
        child.stderr.on("data", (d) => {
            stderr += d;
            buffer += d;
            const match = /^SUBSCRIBED (\S+)$/m.exec(buffer);
            if (match) resolvePromise(match[1]);
        });
        child.once("exit", () => reject(new Error(`dump_world exited before SUBSCRIBED; stderr:\n${stderr}`)));
    });
    subscribed.catch(() => {});
    const output = withTimeout(
        new Promise((resolvePromise, reject) => {
            child.once("exit", (code, signal) => {
                if (code !== 0) {
                    reject(new Error(`dump_world ${args.join(" ")} failed (code ${code}, signal ${signal}); stderr:\n${stderr}`));
                    return;
                }
                try {
                    resolvePromise(JSON.parse(stdout));
                } catch (error) {
                    reject(new Error(`dump_world printed invalid JSON (${error.message}): ${stdout.slice(0, 500)}`));
                }
            });
        }),
        timeoutMs,
        `dump_world ${args.join(" ")}`,
    ).finally(() => child.kill("SIGKILL"));
    return { output, subscribed, kill: () => child.kill("SIGKILL") };
}

// ---------------------------------------------------------------------------------------------
// The official client

/** `@dojoengine/torii-wasm` (Node build: `pkg/node`, CommonJS, through the `./node` export). */
export const toriiWasm = require("@dojoengine/torii-wasm/node");

/** A connected torii-wasm client (its constructor returns a Promise). */
export async function officialClient(toriiUrl, worldAddress = "0x0") {
    return await new toriiWasm.ToriiClient({ toriiUrl, worldAddress });
}

/** Every entity, paged through `getEntities` with cursors. */
export async function allEntitiesOfficial(client, pageSize = 1000) {
    const entities = [];
    let cursor;
    for (let page = 0; page < 10_000; page++) {
        const result = await client.getEntities({
            world_addresses: [],
            pagination: { limit: pageSize, cursor, direction: "Forward", order_by: [] },
            clause: undefined,
            no_hashed_keys: false,
            models: [],
            historical: false,
        });
        entities.push(...result.items);
        cursor = result.next_cursor;
        if (!cursor) return entities;
    }
    throw new Error("getEntities never returned an empty cursor");
}

// ---------------------------------------------------------------------------------------------
// torii-wasm values -> the canonical JSON of GET /_mock/world

const SMALL_INTS = new Set(["u8", "u16", "u32", "i8", "i16", "i32"]);
const BIG_INTS = new Set(["u64", "i64", "u128", "i128", "u256"]);
const FELTS = new Set(["felt252", "ContractAddress", "ClassHash"]);

function bigint(value) {
    if (typeof value === "bigint") return value;
    if (typeof value === "number") return BigInt(value);
    const text = String(value).trim();
    return text.startsWith("-") ? -BigInt(text.slice(1)) : BigInt(text);
}

export function hex(value, digits = 64) {
    return "0x" + bigint(value).toString(16).padStart(digits, "0");
}

function primitive(typeName, value) {
    if (value === null || value === undefined) return null;
    if (typeName === "bool") return Boolean(value);
    if (SMALL_INTS.has(typeName)) return Number(value);
    if (BIG_INTS.has(typeName)) return bigint(value).toString(10);
    if (FELTS.has(typeName)) return hex(value, 64);
    if (typeName === "EthAddress") return hex(value, 40);
    throw new Error(`unknown primitive type ${typeName} (value ${String(value)})`);
}

/** One torii-wasm `Ty` as a canonical JSON value. */
export function tyToJson(ty) {
    switch (ty.type) {
        case "primitive":
            return primitive(ty.type_name, ty.value);
        case "bytearray":
            return String(ty.value);
        case "struct":
            return membersToJson(ty.value);
        case "enum": {
            if (ty.value === null || ty.value === undefined) return null;
            const inner = ty.value.value;
            const unit = !inner || (inner.type === "tuple" && Array.isArray(inner.value) && inner.value.length === 0);
            return unit ? { variant: ty.value.option } : { variant: ty.value.option, value: tyToJson(inner) };
        }
        case "array":
        case "tuple":
            return ty.value.map(tyToJson);
        case "fixed_size_array":
            return ty.value.array.map(tyToJson);
        default:
            throw new Error(`unknown Ty type ${ty.type}`);
    }
}

function membersToJson(members) {
    const out = {};
    for (const [name, ty] of Object.entries(members ?? {})) out[name] = tyToJson(ty);
    return out;
}

/** A torii-wasm `Entity` as `{ entityId, models: { tag: { member: value } } }`. */
export function entityToJson(entity) {
    const models = {};
    for (const [tag, members] of Object.entries(entity.models ?? {})) models[tag] = membersToJson(members);
    return { entityId: hex(entity.hashed_keys), models };
}

// ---------------------------------------------------------------------------------------------
// Comparing worlds

/** entityId -> entity, failing on duplicates. */
export function byId(entities, label) {
    const map = new Map();
    for (const entity of entities) {
        if (map.has(entity.entityId)) throw new Error(`${label}: entity ${entity.entityId} appears twice`);
        map.set(entity.entityId, entity);
    }
    return map;
}

function show(value) {
    return value === undefined ? "(absent)" : JSON.stringify(value);
}

function diffValues(path, a, b, out) {
    if (a !== null && b !== null && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
        const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
        if (Array.isArray(a) && a.length !== b.length) out.push(`${path}: length ${a.length} vs ${b.length}`);
        for (const key of keys) diffValues(`${path}.${key}`, a[key], b[key], out);
        return;
    }
    if (!Object.is(a, b)) out.push(`${path}: ${show(a)} vs ${show(b)}`);
}

/** The differences between two lists of canonical entities, as readable lines. */
export function diffWorlds(left, right) {
    const a = byId(left, "left");
    const b = byId(right, "right");
    const out = [];
    for (const [id, entity] of a) {
        if (!b.has(id)) out.push(`${id}: only on the left (${Object.keys(entity.models).join(", ")})`);
        else diffValues(id, entity.models, b.get(id).models, out);
    }
    for (const id of b.keys()) if (!a.has(id)) out.push(`${id}: only on the right`);
    return out;
}

/** Throws with the first `max` differences when the two worlds differ. */
export function assertSameWorld(left, leftName, right, rightName, max = 10) {
    const diffs = diffWorlds(left, right);
    if (diffs.length > 0) {
        const shown = diffs.slice(0, max).map((d) => `  ${d}`).join("\n");
        throw new Error(
            `${leftName} (left, ${left.length} entities) and ${rightName} (right, ${right.length} entities) differ in ${diffs.length} place(s):\n${shown}` +
                (diffs.length > max ? `\n  ... and ${diffs.length - max} more` : ""),
        );
    }
}

export async function getJson(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
    return await response.json();
}

export async function postJson(url, body) {
    const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
    return response;
}

export { withTimeout };
