// The demo game page: syncs the mock's Arena world through @dojoengine/reactive (served at
// /pkg/ by serve.mjs) and shows sync status, counts answered from memory, a live feed of changed
// players, and optimistic moves of "your hero" that are confirmed or rolled back.
//
// Open it as /examples/?torii=<Torii or mock-torii URL>. The "transaction" of a move is played
// by mock-torii's control API (`POST /_mock/set`), standing in for a Starknet transaction that
// Torii then indexes; the "lost" move sends nothing, so its optimistic write times out.

import { createReactiveClient } from "../pkg/dist/index.js";
import { fetchArenaManifest } from "./arena-manifest.js";

const $ = (id) => document.getElementById(id);
const FEED_SIZE = 12;
const LOST_TIMEOUT_MS = 4000;

const toriiUrl = new URLSearchParams(location.search).get("torii") ?? "http://127.0.0.1:8080";

/** Renders a value of the SDK shape for a table cell. */
const show = (value) => (value === undefined ? "–" : typeof value === "object" ? JSON.stringify(value) : String(value));
const shortId = (hex) => `${hex.slice(0, 6)}…${hex.slice(-4)}`;

function reportError(error) {
    const item = document.createElement("li");
    item.textContent = `${error?.name ?? "Error"}: ${error?.message ?? String(error)}`;
    $("error-list").prepend(item);
}

async function main() {
    const manifest = await fetchArenaManifest(toriiUrl);
    const client = createReactiveClient({
        toriiUrl,
        worldAddress: manifest.world.address,
        manifest,
        logger: console,
    });
    window.client = client; // for poking at it from the console
    client.errors.subscribe(reportError);
    client.syncStatus.subscribe((status) => {
        const connection = status.ticks.entities?.connection ?? "connecting";
        $("sync-state").textContent = `${status.phase} · ${status.state} · ${connection}`;
    });

    const init = await client.ready;
    $("restored").textContent = String(init.restored);

    // Counts and the level query are answered from memory; refreshed every two seconds.
    const count = (model, filter) => client.query(model, { filter, select: { include: ["player"] } }).items.length;
    const refreshCounts = () => {
        $("player-count").textContent = String(count("arena-Player"));
        $("position-count").textContent = String(count("arena-Position"));
        const min = Number($("min-level").value) || 0;
        $("level-count").textContent = String(count("arena-Player", { where: [{ member: "level", op: "gte", value: min }] }));
    };
    refreshCounts();
    setInterval(() => document.visibilityState === "visible" && refreshCounts(), 2000);
    $("min-level").addEventListener("input", refreshCounts);

    // The live feed: the players most recently changed by Torii.
    let received = 0;
    let feedIds = [];
    client.entityUpdates.subscribe((update) => {
        if (update.source !== "sync") return;
        received += update.ids.length;
        $("update-count").textContent = String(received);
        feedIds = [...update.ids.slice(-FEED_SIZE).reverse(), ...feedIds.filter((id) => !update.ids.includes(id))].slice(0, FEED_SIZE);
    });
    client.subscribe(
        null,
        (reader) => feedIds.map((id) => reader.entity(id)).filter((entity) => entity?.models.arena?.Player),
        renderFeed,
        { throttleMs: 250 },
    );

    const first = () => client.query("arena-Player", { limit: 1 }).items[0]?.models.arena.Player;
    const hero = first();
    if (hero) startHero(client, hero.player);
    else {
        const stop = client.entityUpdates.subscribe(() => {
            const found = first();
            if (!found) return;
            stop();
            startHero(client, found.player);
        });
    }
}

/** What each feed row showed last, to flash only the rows that changed. */
let feedShown = new Map();

function renderFeed(entities) {
    const shown = new Map();
    const rows = entities.map((entity) => {
        const player = entity.models.arena.Player;
        const position = entity.models.arena.Position;
        const cells = [player.name, player.level, player.hp, player.gold, position ? `${position.vec.x}, ${position.vec.y}` : "–"].map(show);
        const key = cells.join("|");
        shown.set(entity.entityId, key);
        const row = document.createElement("tr");
        if (feedShown.get(entity.entityId) !== key) row.className = "fresh";
        for (const text of cells) {
            const cell = document.createElement("td");
            cell.textContent = text;
            row.append(cell);
        }
        row.title = entity.entityId;
        return row;
    });
    feedShown = shown;
    $("feed-rows").replaceChildren(...rows);
}

/** "Your hero": follows one player (overlay-first reads) and moves it optimistically. */
function startHero(client, player) {
    $("hero-none").hidden = true;
    $("hero-card").hidden = false;
    const read = (model) => client.query(model, { filter: { keys: { player } } }).items[0];
    const heroId = read("arena-Player").entityId;
    let position;
    const render = () => {
        const hero = read("arena-Player")?.models.arena.Player;
        position = read("arena-Position")?.models.arena.Position;
        $("hero-name").textContent = hero ? `${hero.name} (${shortId(heroId)})` : shortId(heroId);
        $("hero-class").textContent = hero?.class.variant ?? "";
        $("hero-level").textContent = show(hero?.level);
        $("hero-pos").textContent = position ? `${position.vec.x}, ${position.vec.y}` : "–";
        $("hero-pending").hidden = client.getOverlayFor(heroId).length === 0;
    };
    client.subscribe(null, heroId, render);
    render();

    let txNumber = 0;
    const move = (lands) => {
        const vec = position?.vec;
        if (!vec) return;
        const target = { x: vec.x + 1, y: vec.y };
        const item = document.createElement("li");
        const label = `move ${++txNumber} to (${target.x}, ${target.y})`;
        item.className = "pending";
        item.textContent = `${label}: pending`;
        $("tx-log").prepend(item);
        let mutation;
        try {
            mutation = client.mutate("arena-Position", { vec: target }, {
                entityId: heroId,
                timeoutMs: lands ? 30_000 : LOST_TIMEOUT_MS,
                send: lands ? () => landTransaction(heroId, target) : () => undefined,
            });
        } catch (error) {
            item.className = "rolledBack";
            item.textContent = `${label}: refused (${error.name}: ${error.message})`;
            return;
        }
        mutation.confirmed.then(
            () => {
                item.className = "confirmed";
                item.textContent = `${label}: confirmed by Torii`;
            },
            (error) => {
                item.className = "rolledBack";
                item.textContent = `${label}: rolled back (${error.name}: ${error.message})`;
            },
        );
    };
    $("move-ok").addEventListener("click", () => move(true));
    $("move-lost").addEventListener("click", () => move(false));
}

/** Plays the transaction: a moment later "the chain" applies the move and Torii indexes it. */
async function landTransaction(entityId, vec) {
    await new Promise((resolve) => setTimeout(resolve, 800));
    const response = await fetch(`${toriiUrl}/_mock/set`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ entityId, model: "arena-Position", values: { vec } }),
    });
    if (!response.ok) throw new Error(`the transaction failed: ${await response.text()}`);
}

main().catch((error) => {
    $("sync-state").textContent = "failed";
    reportError(error);
});
