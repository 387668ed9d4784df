// A small static HTTP server (Node `http`, no dependencies) for the demo page and the browser
// tests: it maps URL prefixes to folders of the repository and answers with the right MIME types
// (`application/wasm` for `.wasm`, `text/javascript` for `.js`, so that module workers and
// `WebAssembly.instantiateStreaming` work).
//
// As a module: `startStaticServer({ mounts: { "/pkg/": "/abs/js" }, port: 0 })` resolves with
// `{ url, close }`. As a script (what `.ci/demo` runs):
//   node examples/serve.mjs [--port N] [--host H] [--torii URL]
// serves the package (`/pkg/` = `js/`) and this folder (`/examples/`), and prints
// `demo page: URL` (with `?torii=URL` when given).

import { createServer } from "node:http";
import { createReadStream, statSync } from "node:fs";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** MIME types by file extension; anything else is served as bytes. */
const MIME = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".wasm": "application/wasm",
    ".ts": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
};

/** The default mounts: the built package and the example page. */
export const DEFAULT_MOUNTS = {
    "/pkg/": join(ROOT, "js"),
    "/examples/": join(ROOT, "examples"),
};

/** Resolves a request path to a file inside one of the mounts, or null (never outside them). */
function resolveFile(mounts, pathname) {
    for (const [prefix, folder] of Object.entries(mounts)) {
        if (!pathname.startsWith(prefix)) continue;
        const relative = normalize(pathname.slice(prefix.length));
        if (relative.startsWith("..")) return null;
        let file = join(folder, relative);
        if (file !== folder && !file.startsWith(folder + sep)) return null;
        try {
            if (statSync(file).isDirectory()) file = join(file, "index.html");
            return statSync(file).isFile() ? file : null;
        } catch {
            return null;
        }
    }
    return null;
}

/**
 * Starts the server. `mounts` maps URL prefixes (ending in `/`) to absolute folders.
 * Resolves with `{ url, close }`; `url` has no trailing slash.
 */
export function startStaticServer({ mounts = DEFAULT_MOUNTS, port = 0, host = "127.0.0.1" } = {}) {
    const server = createServer((request, response) => {
        let pathname;
        try {
            pathname = decodeURIComponent(new URL(request.url, "http://x").pathname);
        } catch {
            response.writeHead(400).end("bad path");
            return;
        }
        if (request.method !== "GET" && request.method !== "HEAD") {
            response.writeHead(405).end();
            return;
        }
        const file = resolveFile(mounts, pathname);
        if (!file && pathname === "/" && mounts["/examples/"]) {
            response.writeHead(302, { location: "/examples/" }).end();
            return;
        }
        if (!file) {
            response.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${pathname}`);
            return;
        }
        response.writeHead(200, {
            "content-type": MIME[extname(file)] ?? "application/octet-stream",
            "cache-control": "no-store",
        });
        if (request.method === "HEAD") {
            response.end();
            return;
        }
        createReadStream(file).pipe(response);
    });
    return new Promise((resolvePromise, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
            const address = server.address();
            resolvePromise({
                url: `http://${host}:${address.port}`,
                close: () =>
                    new Promise((done) => {
                        server.closeAllConnections();
                        server.close(() => done());
                    }),
            });
        });
    });
}

function parseArgs(argv) {
    const options = { port: 0, host: "127.0.0.1", torii: undefined };
    for (let i = 0; i < argv.length; i += 2) {
        const [flag, value] = [argv[i], argv[i + 1]];
        if (value === undefined) throw new Error(`${flag} needs a value`);
        if (flag === "--port") options.port = Number(value);
        else if (flag === "--host") options.host = value;
        else if (flag === "--torii") options.torii = value;
        else throw new Error(`unknown argument ${flag} (expected --port, --host, --torii)`);
    }
    return options;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
    const options = parseArgs(process.argv.slice(2));
    const { url } = await startStaticServer(options);
    const query = options.torii ? `?torii=${encodeURIComponent(options.torii)}` : "";
    console.log(`demo page: ${url}/examples/${query}`);
}
