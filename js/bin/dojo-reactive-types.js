#!/usr/bin/env node
// `npx dojo-reactive-types <manifest.json> [--out schema.ts] [--name Schema] [--no-register]`:
// writes the TypeScript types of a world's models (see `dist/codegen.js`) from a Dojo manifest,
// read by the package's own wasm module, the one that reads the manifest at run time.

import { readFileSync, writeFileSync } from 'node:fs';
import { initSync, describeModels } from '../wasm/dojo_reactive.js';
import { generateSchema } from '../dist/codegen.js';

const usage = `usage: dojo-reactive-types <manifest.json> [--out <file.ts>] [--name <TypeName>] [--no-register]

Writes the TypeScript types of the world's models and events (values as @dojoengine/reactive
reads them, payloads as mutate takes them, filter paths and operands) to --out, or to stdout.
--name names the exported type (default Schema); --no-register leaves out the declaration that
makes it the package's default schema.`;

function fail(message) {
  process.stderr.write(`dojo-reactive-types: ${message}\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
const options = { register: true };
let manifestPath;
let out;
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '--help' || arg === '-h') {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  } else if (arg === '--out' || arg === '-o') out = args[++i];
  else if (arg === '--name') options.typeName = args[++i];
  else if (arg === '--no-register') options.register = false;
  else if (arg.startsWith('-')) fail(`unknown option ${arg}\n${usage}`);
  else if (manifestPath === undefined) manifestPath = arg;
  else fail(`one manifest only (got ${manifestPath} and ${arg})`);
}
if (manifestPath === undefined) fail(`no manifest given\n${usage}`);
if (out === '' || (args.includes('--out') && out === undefined)) fail('--out needs a file name');

let text;
try {
  text = readFileSync(manifestPath, 'utf8');
} catch (error) {
  fail(`cannot read ${manifestPath}: ${error.message}`);
}
initSync({ module: readFileSync(new URL('../wasm/dojo_reactive_bg.wasm', import.meta.url)) });
let source;
try {
  source = generateSchema(describeModels(text), { ...options, source: manifestPath.split(/[\\/]/).pop() });
} catch (error) {
  fail(`${manifestPath}: ${error.message}`);
}
if (out === undefined) process.stdout.write(source);
else {
  writeFileSync(out, source);
  process.stderr.write(`dojo-reactive-types: wrote ${out}\n`);
}
