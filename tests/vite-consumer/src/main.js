// A consumer app as a game would write it: imports the package (and its React hooks) by name,
// with no Vite plugin and no configuration; the worker script and the wasm module must be found
// by the bundle on their own. Reads the Torii URL from `?torii=`.

import { createReactiveClient } from "@dojoengine/reactive";
import { useSyncStatus } from "@dojoengine/reactive/react";
import { createElement } from "react";
import { createRoot } from "react-dom/client";

const $ = (id) => document.getElementById(id);

function SyncPhase({ client }) {
    const status = useSyncStatus(client);
    return createElement("span", { id: "react-phase" }, `${status.phase}/${status.state}`);
}

async function main() {
    const toriiUrl = new URLSearchParams(location.search).get("torii");
    if (!toriiUrl) throw new Error("open this page with ?torii=<mock-torii URL>");
    const manifest = await (await fetch(`${toriiUrl}/_mock/manifest`)).json();
    const client = createReactiveClient({ toriiUrl, worldAddress: manifest.world.address, manifest });
    createRoot($("react")).render(createElement(SyncPhase, { client }));
    client.errors.subscribe((error) => ($("error").textContent = `${error.name}: ${error.message}`));
    await client.ready;
    $("status").textContent = "ready";
    const show = () => ($("count").textContent = String(client.query("arena-Player").items.length));
    show();
    client.entityUpdates.subscribe(show);
}

main().catch((error) => {
    $("status").textContent = "failed";
    $("error").textContent = String(error?.stack ?? error);
});
