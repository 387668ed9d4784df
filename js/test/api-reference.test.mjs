// docs/api.md cannot drift from the package: its generated part must be exactly what
// docs/api-reference.mjs writes from js/dist/*.d.ts (every export, member and doc comment), and
// every default the declarations, or the prose docs, quote for the worker's and the overlay's
// options must be the code's (the Rust defaults the worker and the view apply).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { API_MD, END, START, declarationsProgram, generate, resolved, withGenerated } from '../../docs/api-reference.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ts = createRequire(`${ROOT}js/package.json`)('typescript');
const read = (path) => readFileSync(`${ROOT}${path}`, 'utf8');
const program = declarationsProgram();

test('docs/api.md holds exactly the reference generated from the declarations', () => {
  const text = readFileSync(API_MD, 'utf8');
  assert.ok(text.includes(START) && text.includes(END), 'docs/api.md keeps its markers');
  assert.equal(text, withGenerated(text, generate(program)), 'docs/api.md is out of date: run `node docs/api-reference.mjs`');
});

/** The body of a Rust `impl Default for NAME` block. */
function defaultImpl(source, name) {
  const start = source.indexOf(`impl Default for ${name} {`);
  assert.ok(start >= 0, `impl Default for ${name}`);
  return source.slice(start, source.indexOf('\n}\n', start));
}

/** The value of `field: EXPR,` in `body`, EXPR made of integer literals and `*`. */
function rustField(body, field) {
  const match = new RegExp(`\\b${field}: ([0-9_ *]+),`).exec(body);
  assert.ok(match, `${field} has an integer default`);
  return match[1].split('*').reduce((product, factor) => product * Number(factor.replaceAll('_', '').trim()), 1);
}

/** The value of `const NAME: TYPE = LITERAL;` in `source`. */
function rustConst(source, name) {
  const match = new RegExp(`const ${name}: \\w+ = ([0-9_]+);`).exec(source);
  assert.ok(match, `const ${name}`);
  return Number(match[1].replaceAll('_', ''));
}

/** Every default the code applies to an option of the declarations: `Interface.member` → value. */
function codeDefaults() {
  const options = read('crates/core/src/sync/options.rs');
  const sync = defaultImpl(options, 'SyncOptions');
  const backoff = defaultImpl(options, 'BackoffConfig');
  const overlay = read('crates/core/src/overlay.rs');
  const fields = {
    pageSize: 'page_size',
    heartbeatTimeoutMs: 'heartbeat_timeout_ms',
    heartbeatCheckMs: 'heartbeat_check_ms',
    replayBudget: 'replay_budget',
    requestTimeoutMs: 'request_timeout_ms',
    tickIntervalMs: 'tick_interval_ms',
    catchUpWindowMs: 'catch_up_window_ms',
    catchUpMarginS: 'catch_up_margin_s',
    reconcileAfterCatchUpMs: 'reconcile_after_catch_up_ms',
    reconcileIntervalMs: 'reconcile_interval_ms',
  };
  const defaults = new Map(Object.entries(fields).map(([js, rust]) => [`SyncOptions.${js}`, rustField(sync, rust)]));
  defaults.set('SyncOptions.backoffInitialMs', rustField(backoff, 'initial_ms'));
  defaults.set('SyncOptions.backoffMaxMs', rustField(backoff, 'max_ms'));
  defaults.set('SyncWorkerOptions.deltaChunk', rustConst(read('crates/view/src/delta.rs'), 'DEFAULT_DELTA_CHUNK'));
  defaults.set('OverlayOptions.timeoutMs', rustConst(overlay, 'DEFAULT_OVERLAY_TIMEOUT_MS'));
  defaults.set('OverlayOptions.pollMs', rustConst(overlay, 'DEFAULT_GUARD_POLL_INTERVAL_MS'));
  return defaults;
}

const UNITS = { ms: 1, s: 1000, min: 60_000, h: 3_600_000 };

/** The default a doc comment quotes ("default 30 s", "(default 1000)"), in the option's unit. */
function quotedDefault(doc, member) {
  const match = /\bdefault:?\s+(\d[\d_,]*)\s*(ms|s|min|h)?\b/.exec(doc);
  if (!match) return undefined;
  const number = Number(match[1].replace(/[_,]/g, ''));
  if (!match[2]) return number;
  const optionUnit = member.endsWith('Ms') ? 1 : member.endsWith('S') ? 1000 : 1;
  return (number * UNITS[match[2]]) / optionUnit;
}

test('the defaults the declarations quote are the ones the code applies', () => {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(`${ROOT}js/dist/index.d.ts`);
  const exports = new Map(checker.getExportsOfModule(checker.getSymbolAtLocation(source)).map((symbol) => [symbol.name, symbol]));
  const wrong = [];
  for (const [path, expected] of codeDefaults()) {
    const [name, member] = path.split('.');
    const symbol = exports.get(name);
    assert.ok(symbol, `${name} is exported`);
    const type = checker.getDeclaredTypeOfSymbol(resolved(symbol, checker));
    const property = type.getProperty(member);
    assert.ok(property, `${path} exists`);
    const doc = ts.displayPartsToString(property.getDocumentationComment(checker));
    const quoted = quotedDefault(doc, member);
    if (quoted !== expected) wrong.push(`${path}: the declaration says ${quoted === undefined ? 'no default' : quoted}, the code's is ${expected} ("${doc}")`);
  }
  assert.deepEqual(wrong, []);
});

/** Pages that quote option defaults in prose ("`heartbeatTimeoutMs` (default 30 s)"). */
const PROSE = ['crates/wasm/API.md', 'js/README.md', 'README.md', 'docs/architecture.md', 'docs/migrating-from-sdk.md'];

test('the defaults quoted in the docs after an option name are the ones the code applies', () => {
  const defaults = new Map([...codeDefaults()].map(([path, value]) => [path.split('.')[1], value]));
  const names = [...defaults.keys()];
  const wrong = [];
  let checked = 0;
  for (const page of PROSE) {
    read(page).split('\n').forEach((line, index) => {
      for (const name of names) {
        const at = line.search(new RegExp(`\\b${name}\\b`));
        if (at < 0) continue;
        // The text after the name, up to the next option named on the line; a default in
        // parentheses in the same sentence is the one quoted for it.
        let rest = line.slice(at + name.length);
        const next = Math.min(...names.map((other) => rest.search(new RegExp(`\\b${other}\\b`))).filter((i) => i >= 0));
        if (Number.isFinite(next)) rest = rest.slice(0, next);
        const quoted = /^(?:(?!\. ).)*?\(default/.test(rest) ? quotedDefault(rest, name) : undefined;
        if (quoted === undefined) continue;
        checked += 1;
        if (quoted !== defaults.get(name)) wrong.push(`${page}:${index + 1}: ${name} says ${quoted}, the code's is ${defaults.get(name)}`);
      }
    });
  }
  assert.ok(checked >= 3, `the docs quote some defaults (${checked} found)`);
  assert.deepEqual(wrong, []);
});
