// Bytes shipped: the files a contender's page (and its workers) fetched, raw and gzip-compressed.

import { readFileSync } from "node:fs";
import { build } from "esbuild";
import { extname } from "node:path";
import { gzipSync } from "node:zlib";

/**
 * Sums the files among `served` (URL path -> file) whose path starts with one of `prefixes`,
 * split into JS and wasm: `{ js: { raw, gzip, files }, wasm: { raw, gzip, files } }` (gzip at
 * level 9, what a static host would precompress).
 */
export function shippedBytes(served, prefixes) {
    const total = { js: { raw: 0, gzip: 0, files: 0 }, wasm: { raw: 0, gzip: 0, files: 0 } };
    for (const [path, file] of served) {
        if (!prefixes.some((prefix) => path.startsWith(prefix))) continue;
        const kind = extname(file) === ".wasm" ? "wasm" : extname(file) === ".map" ? undefined : "js";
        if (!kind) continue;
        const bytes = readFileSync(file);
        total[kind].raw += bytes.length;
        total[kind].gzip += gzipSync(bytes, { level: 9 }).length;
        total[kind].files += 1;
    }
    return total;
}

/**
 * What `entries` weigh bundled and minified by esbuild (each entry one bundle, its imports
 * inlined, wasm and other assets left out): `{ raw, gzip, files }`. The package ships tsc output
 * unminified; an application's bundler minifies it, as it does for the SDK.
 */
export async function minifiedBytes(entries) {
    const total = { raw: 0, gzip: 0, files: 0 };
    for (const entry of entries) {
        const result = await build({
            entryPoints: [entry],
            bundle: true,
            minify: true,
            format: "esm",
            platform: "browser",
            target: "es2022",
            write: false,
            logLevel: "error",
        });
        for (const file of result.outputFiles) {
            total.raw += file.contents.length;
            total.gzip += gzipSync(file.contents, { level: 9 }).length;
            total.files += 1;
        }
    }
    return total;
}
