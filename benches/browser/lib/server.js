// A small static file server for the bench pages: maps URL prefixes to folders, serves with the
// MIME types module workers and `WebAssembly.instantiateStreaming` need, and remembers which files
// it served (so the report can count the bytes each contender really shipped).

import { createServer } from "node:http";
import { createReadStream, statSync } from "node:fs";
import { extname, resolve, sep } from "node:path";

const TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".map": "application/json",
};

/**
 * Starts the server on 127.0.0.1 and a free port. `mounts` maps a URL prefix ("/bench/") to a
 * folder; files under an `isolated` prefix are served cross-origin isolated (COOP + COEP).
 * Resolves with `{ url, served, stop }`: `served` is a Map from URL path to the file it was
 * answered with (cleared by the caller between phases).
 */
export function startStaticServer(mounts, { isolated = [] } = {}) {
    const served = new Map();
    const entries = Object.entries(mounts).sort((a, b) => b[0].length - a[0].length);
    const server = createServer((request, response) => {
        const path = decodeURIComponent(new URL(request.url, "http://localhost").pathname);
        const file = locate(entries, path);
        if (!file) {
            response.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}`);
            return;
        }
        served.set(path, file);
        // Cross-origin isolated pages get a 5 µs clock instead of 100 µs (for timing single reads).
        const isolation = isolated.some((prefix) => path.startsWith(prefix))
            ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" }
            : {};
        response.writeHead(200, {
            "content-type": TYPES[extname(file)] ?? "application/octet-stream",
            "cache-control": "no-store",
            ...isolation,
        });
        createReadStream(file).pipe(response);
    });
    return new Promise((resolvePromise, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address();
            resolvePromise({
                url: `http://127.0.0.1:${port}`,
                served,
                stop: () => new Promise((done) => server.close(() => done())),
            });
        });
    });
}

/** The file a URL path maps to, or undefined (outside every mount, escaping it, or missing). */
function locate(entries, path) {
    for (const [prefix, folder] of entries) {
        if (!path.startsWith(prefix)) continue;
        const root = resolve(folder);
        const file = resolve(root, "." + sep + path.slice(prefix.length));
        if (file !== root && !file.startsWith(root + sep)) return undefined;
        try {
            return statSync(file).isFile() ? file : undefined;
        } catch {
            return undefined;
        }
    }
    return undefined;
}
