// React ships CommonJS only; this page loads it without a bundler: the development builds (so
// StrictMode double-invokes effects, as in an app's dev server) are fetched from the package's
// node_modules (served at /pkg/node_modules/) and evaluated once each with a small `require`.

const SOURCES = {
    react: "/pkg/node_modules/react/cjs/react.development.js",
    scheduler: "/pkg/node_modules/scheduler/cjs/scheduler.development.js",
    "react-dom": "/pkg/node_modules/react-dom/cjs/react-dom.development.js",
    "react-dom/client": "/pkg/node_modules/react-dom/cjs/react-dom-client.development.js",
};

const texts = Object.fromEntries(
    await Promise.all(
        Object.entries(SOURCES).map(async ([name, url]) => {
            const response = await fetch(url);
            if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
            return [name, await response.text()];
        }),
    ),
);
const modules = new Map();

/** The exports of one of the CommonJS modules above (evaluated on first use). */
export function require(name) {
    if (modules.has(name)) return modules.get(name).exports;
    if (!(name in texts)) throw new Error(`cjs.js: no module ${name}`);
    const module = { exports: {} };
    modules.set(name, module);
    const process = { env: { NODE_ENV: "development" } };
    new Function("module", "exports", "require", "process", `${texts[name]}\n//# sourceURL=${SOURCES[name]}`)(
        module,
        module.exports,
        require,
        process,
    );
    return module.exports;
}
