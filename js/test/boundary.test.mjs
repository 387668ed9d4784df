// One definition of the worker boundary (issue 12 item 7). Worker → main thread: the events are
// defined once in Rust (`crates/wasm/src/messages.rs`, serde), which keeps
// `fixtures/worker-events.json` equal to one serialised example of every event; this test checks
// the TypeScript definitions against it: `WorkerMessage` in `src/messages.ts` (with
// `src/types.ts`), what the main thread parses, and the TypeScript text of
// `crates/wasm/src/types.rs`, the generated `.d.ts`. Every field sent must be declared, every
// required field declared must be sent, down to the nested records (tick, overall, models,
// ledger, timings, transition). Main thread → worker: INIT's `config` with every option set is
// `fixtures/worker-config.json`, which `crates/wasm/src/config.rs`'s tests parse refusing unknown
// fields and requiring every one; here `checkOptions` must produce it and both TypeScript
// `WorkerConfig`s must declare exactly its fields.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseWorkerMessage } from '../dist/messages.js';
import { ValidationError } from '../dist/errors.js';
import { checkOptions } from '../dist/options.js';

const read = (path) => readFileSync(new URL(path, import.meta.url), 'utf8');
const events = JSON.parse(read('./fixtures/worker-events.json'));
const config = JSON.parse(read('./fixtures/worker-config.json'));
const packageSource = ['../src/messages.ts', '../src/types.ts', '../src/errors.ts'].map(read).join('\n');
// The worker module's types, with `ReactiveErrorInfo` from the boundary crate both modules share.
const typesRs = read('../../crates/wasm/src/types.rs') + read('../../crates/boundary/src/errors.rs');

/** The text inside the braces opening at `open`. */
function block(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i += 1) {
    if (text[i] === '{') depth += 1;
    if (text[i] === '}' && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error(`unbalanced braces at ${open}`);
}

/** The members of an object type's body: `{ fields: Map(name → { optional, type }), open }`. */
function members(body) {
  const text = body.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const fields = new Map();
  let open = false;
  let depth = 0;
  let part = '';
  const take = () => {
    const trimmed = part.trim();
    part = '';
    if (/^(?:readonly\s+)?\[/.test(trimmed)) open = true;
    const m = /^(?:readonly\s+)?(\w+)(\?)?\s*:\s*([\s\S]*)$/.exec(trimmed);
    if (m) fields.set(m[1], { optional: m[2] === '?', type: m[3].trim() });
  };
  for (const ch of text) {
    if ('{(<['.includes(ch)) depth += 1;
    if ('})>]'.includes(ch)) depth -= 1;
    if ((ch === ';' || ch === ',') && depth === 0) take();
    else part += ch;
  }
  take();
  return { fields, open };
}

/** The members of `interface name` in `source`, or undefined. */
function interfaceShape(source, name) {
  const at = new RegExp(`interface ${name}\\b[^{]*\\{`).exec(source);
  return at ? members(block(source, at.index + at[0].length - 1)) : undefined;
}

/** The object shape a type's text names (an inline record, an interface, their arrays), or undefined. */
function resolve(source, type) {
  let text = type.trim().replace(/^readonly\s+/, '');
  const array = /^Array<([\s\S]*)>$/.exec(text);
  if (array) text = array[1].trim();
  text = text.replace(/\[\]$/, '').trim();
  if (text.startsWith('{')) return members(block(text, 0));
  return /^\w+$/.test(text) ? interfaceShape(source, text) : undefined;
}

/** Every way `value` disagrees with `shape`, as paths. */
function disagreements(source, value, shape, path) {
  const found = [];
  for (const [key, field] of shape.fields) {
    if (!field.optional && !(key in value)) found.push(`${path}.${key} is declared required but not sent`);
  }
  for (const [key, member] of Object.entries(value)) {
    const field = shape.fields.get(key);
    if (!field) {
      if (!shape.open) found.push(`${path}.${key} is sent but not declared`);
      continue;
    }
    const item = Array.isArray(member) ? member[0] : member;
    if (item === null || typeof item !== 'object') continue;
    const nested = resolve(source, field.type);
    if (nested) found.push(...disagreements(source, item, nested, `${path}.${key}`));
  }
  return found;
}

/** `messages.ts`'s interface of each worker message. */
const messageInterfaces = {
  INIT_ACK: 'InitAckMessage',
  RESTORED: 'RestoredMessage',
  DELTA: 'DeltaMessage',
  EVENTS: 'EventsMessage',
  SYNC_TICK: 'SyncTickMessage',
  TRANSITION: 'TransitionMessage',
  SYNC_ERROR: 'SyncErrorMessage',
  SYNC_FATAL: 'SyncFatalMessage',
};

/** The variants of `types.rs`'s `WorkerEvent` union, by `type`. */
function rustTextVariants() {
  const at = typesRs.indexOf('export type WorkerEvent =');
  assert.ok(at >= 0, 'types.rs declares `export type WorkerEvent`');
  const union = typesRs.slice(at, typesRs.indexOf(';\n', at));
  const variants = new Map();
  for (let i = union.indexOf('{'); i >= 0; i = union.indexOf('{', i + 1)) {
    const body = block(union, i);
    const type = /type:\s*"(\w+)"/.exec(body)?.[1];
    if (type) variants.set(type, members(body));
    i += body.length + 1;
  }
  return variants;
}

/** The event as the worker script posts it (a DELTA or EVENTS carries its bytes as `buffer`). */
const posted = (event) =>
  event.type === 'DELTA' || event.type === 'EVENTS' ? { ...event, buffer: new ArrayBuffer(4) } : event;

test('the fixture holds one example of every event the worker emits', () => {
  assert.deepEqual(events.map((e) => e.type), Object.keys(messageInterfaces));
});

test("the main thread's parser accepts every event the worker emits and keeps all its fields", () => {
  for (const event of events) {
    const parsed = parseWorkerMessage(posted(event));
    assert.ok(!(parsed instanceof ValidationError), `${event.type}: ${parsed.message}`);
    assert.deepEqual(parsed, posted(event), `${event.type} loses or changes a field`);
  }
});

test("messages.ts's WorkerMessage types declare exactly what the worker sends", () => {
  for (const event of events) {
    const shape = interfaceShape(packageSource, messageInterfaces[event.type]);
    assert.ok(shape, `messages.ts declares ${messageInterfaces[event.type]}`);
    assert.deepEqual(disagreements(packageSource, posted(event), shape, event.type), []);
  }
});

test("the .d.ts text of types.rs declares exactly what the worker sends", () => {
  const variants = rustTextVariants();
  assert.deepEqual([...variants.keys()], events.map((e) => e.type));
  for (const event of events) {
    assert.deepEqual(disagreements(typesRs, event, variants.get(event.type), event.type), []);
  }
});

test('the checker finds a field that is missing, one that is not declared, and nested ones', () => {
  assert.equal(members('readonly a: number; readonly [field: string]: unknown').open, true, 'an index signature admits any field');
  const shape = members('type: "X"; a: number; b?: { c: string }; d: Inner[]');
  const source = 'interface Inner { e: number }';
  assert.deepEqual(disagreements(source, { type: 'X', a: 1, b: { c: 'x' }, d: [{ e: 1 }] }, shape, 'X'), []);
  assert.deepEqual(disagreements(source, { type: 'X', b: { c: 'x', z: 1 }, d: [{}], y: 2 }, shape, 'X'), [
    'X.a is declared required but not sent',
    'X.b.z is sent but not declared',
    'X.d.e is declared required but not sent',
    'X.y is sent but not declared',
  ]);
});

/** Fields declared (at any depth of `shape`) that `value` does not set. */
function unset(source, value, shape, path) {
  const found = [];
  for (const [key, field] of shape.fields) {
    if (!(key in value)) {
      found.push(`${path}.${key}`);
      continue;
    }
    const nested = value[key] !== null && typeof value[key] === 'object' && !Array.isArray(value[key]) && resolve(source, field.type);
    if (nested) found.push(...unset(source, value[key], nested, `${path}.${key}`));
  }
  return found;
}

test("INIT's config: checkOptions produces the fixture, and both TypeScript WorkerConfigs declare exactly its fields, every one set", () => {
  assert.deepEqual(checkOptions('createReactiveClient', config, true).config, config);
  for (const [source, where] of [[packageSource, 'js/src/types.ts'], [typesRs, 'crates/wasm/src/types.rs']]) {
    const shape = interfaceShape(source, 'WorkerConfig');
    assert.ok(shape, `${where} declares WorkerConfig`);
    assert.deepEqual(disagreements(source, config, shape, 'WorkerConfig'), [], where);
    assert.deepEqual(unset(source, config, shape, 'WorkerConfig'), [], `${where}: the fixture sets every field`);
  }
});
