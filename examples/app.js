// The demo game: every player of mock-torii's Arena world on a map, synced through
// @dojoengine/reactive (served at /pkg/ by serve.mjs), and your hero moved with the arrow keys or
// clicks through `mutate`: the move shows at once, then Torii confirms it or it rolls back.
//
// Open it as /examples/?torii=<mock-torii URL>[&pageSize=N][&hero=0x…]. The "transaction" of a
// move is played by mock-torii's control API (`POST /_mock/set`), standing in for a Starknet
// transaction that Torii then indexes; with "lose my transactions" ticked nothing is sent, so the
// optimistic write times out and rolls back.

import { createReactiveClient, OverlayError, OverlayTimeoutError } from "../pkg/dist/index.js";
import { fetchArenaManifest } from "./arena-manifest.js";
import { describeChange } from "./changes.js";
import { createMap, WORLD_SIZE } from "./map.js";
import { followPlayers } from "./players.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const toriiUrl = params.get("torii") ?? "http://127.0.0.1:8080";
const pageSize = Number(params.get("pageSize")) || undefined;

const STEP = 10;
const FEED_SIZE = 14;
const LOST_TIMEOUT_MS = 3000;
const LANDED_TIMEOUT_MS = 30_000;
const MODELS = ["arena-Player", "arena-Position", "arena-Inventory"];
const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

/** The synchronizer's states in a visitor's words. */
const STATE_WORDS = {
    idle: "connecting",
    bootstrapping: "syncing",
    streaming: "live",
    lagging: "catching up",
    replaying: "catching up",
    retrying: "retrying",
    offline: "offline",
    pausing: "pausing",
    halted: "stopped",
};

const numberFormat = new Intl.NumberFormat("en");
const shortId = (hex) => `${hex.slice(0, 6)}…${hex.slice(-4)}`;

/** Errors shown at the bottom, each kind once (a Torii outage repeats the same one). */
const shownErrors = new Set();
function reportError(error) {
    const text = `${error?.name ?? "Error"}: ${error?.message ?? String(error)}`;
    if (shownErrors.has(text)) return;
    shownErrors.add(text);
    const item = document.createElement("li");
    item.textContent = text;
    $("error-list").prepend(item);
    $("errors").hidden = false;
}

/** How many entities the mock's world holds (its control API), or undefined for another Torii. */
async function fetchWorldSize() {
    try {
        const response = await fetch(`${toriiUrl}/_mock/status`);
        return response.ok ? (await response.json()).entities : undefined;
    } catch {
        return undefined;
    }
}

async function main() {
    const [manifest, worldSize] = await Promise.all([fetchArenaManifest(toriiUrl), fetchWorldSize()]);
    const client = createReactiveClient({
        toriiUrl,
        manifest,
        logger: console,
        logLevel: "warn",
        ...(pageSize ? { syncOptions: { pageSize } } : {}),
    });
    window.client = client; // for poking at it from the console
    // A move's rollback is shown with the move (the list and the map), not again as an error.
    client.errors.subscribe((error) => {
        if (!(error instanceof OverlayTimeoutError || error instanceof OverlayError)) reportError(error);
    });
    const map = createMap($("map"));

    // Status: the synchronizer's state, this tab's part, cold-sync progress, offline.
    const held = new Set();
    const renderStatus = () => {
        const status = client.getSyncStatus();
        const state = status.phase === "ready" ? status.state : status.phase;
        $("sync-state").textContent = `${STATE_WORDS[state] ?? state} · ${state}`;
        $("sync-state").dataset.state = state;
        $("offline").hidden = status.state !== "offline";
        $("tab-role").textContent =
            status.tab?.role === "follower" ? "this tab follows another tab" : status.tab?.role === "leader" ? "this tab syncs for every tab" : "";
        const syncing = status.state === "bootstrapping" || status.state === "replaying";
        $("progress-box").hidden = !syncing;
        if (syncing) {
            const progress = $("sync-progress");
            if (worldSize) progress.value = Math.min(held.size / worldSize, 1);
            else progress.removeAttribute("value");
            $("progress-text").textContent = `${numberFormat.format(held.size)}${worldSize ? ` / ${numberFormat.format(worldSize)}` : ""} entities`;
        }
    };
    client.syncStatus.subscribe(renderStatus);
    client.entityUpdates.subscribe((update) => {
        if (update.source !== "sync") return;
        for (const id of update.ids) held.add(id);
        renderStatus();
    });
    renderStatus();

    // Every player on the map, and what Torii changed in the live feed.
    const hero = { player: undefined, entityId: undefined };
    let names = new Map(); // entity id → Player state, for the feed
    let liveChanges = 0;
    const addToFeed = (changes, positions) => {
        for (const change of changes.slice(-FEED_SIZE)) {
            const item = document.createElement("li");
            item.className = "feed-item";
            const who = document.createElement("strong");
            who.textContent = names.get(change.id)?.name ?? shortId(change.id);
            who.title = change.id;
            item.append(who, ` ${change.text}`);
            $("feed-list").prepend(item);
            const position = positions.get(change.id);
            if (position) map.flash(position.vec, "changed");
        }
        while ($("feed-list").children.length > FEED_SIZE) $("feed-list").lastChild.remove();
        liveChanges += changes.length;
        if (liveChanges > 0) $("feed-count").textContent = `${numberFormat.format(liveChanges)} so far`;
    };
    await client.ready;
    followPlayers(client, ({ players, positions, changes }) => {
        names = players;
        map.setPlayers(positions, players);
        $("entity-count").textContent = `${numberFormat.format(players.size)} players`;
        const described = [];
        for (const change of changes) {
            if (change.id === hero.entityId) continue; // the hero's moves are listed with the hero
            const text = describeChange(change.before, change.after);
            if (text) described.push({ id: change.id, text });
        }
        addToFeed(described, positions);
        if (hero.player && !hero.entityId) startHero(client, map, hero);
    });
    try {
        for (const model of MODELS) for (const item of client.query(model).items) held.add(item.entityId);
    } catch (error) {
        reportError(error);
    }
    renderStatus();

    hero.player = await chooseHero(client, `arena-demo:hero:${manifest.world.address}`);
    startHero(client, map, hero);
}

/**
 * The same hero on every load: `?hero=` or the one stored in this browser; on a first visit, the
 * first player by entity id once the world is synced (so every visitor of one world starts with
 * the same hero), stored for the next load.
 */
function chooseHero(client, storageKey) {
    const given = params.get("hero") ?? localStorage.getItem(storageKey);
    if (given) return Promise.resolve(given);
    return new Promise((resolve) => {
        let done = false;
        const pick = () => {
            if (done || client.getSyncStatus().state !== "streaming") return;
            const first = client.query("arena-Player", { limit: 1 }).items[0]?.models.arena.Player;
            if (!first) return;
            done = true;
            stop();
            localStorage.setItem(storageKey, first.player);
            resolve(first.player);
        };
        const stop = client.syncStatus.subscribe(pick);
        pick();
    });
}

/** Shows the hero (card and map) once its entity is held, and lets the visitor move it. */
function startHero(client, map, hero) {
    const filter = { keys: { player: hero.player } };
    const read = (model, consistency) => client.query(model, consistency ? { filter, consistency } : { filter }).items[0];
    const found = read("arena-Player");
    if (!found || hero.entityId) return;
    hero.entityId = found.entityId;
    $("hero-none").hidden = true;
    $("hero-card").hidden = false;

    const render = () => {
        const player = read("arena-Player")?.models.arena.Player;
        const shown = read("arena-Position")?.models.arena.Position?.vec;
        const synced = read("arena-Position", "synced")?.models.arena.Position?.vec;
        const pending = client.getOverlayFor(hero.entityId).length > 0;
        $("hero-name").textContent = player?.name ?? shortId(hero.entityId);
        $("hero-name").title = hero.entityId;
        $("hero-class").textContent = player?.class.variant ?? "";
        $("hero-level").textContent = String(player?.level ?? "–");
        $("hero-pos").textContent = shown ? `${shown.x}, ${shown.y}` : "–";
        $("hero-pending").hidden = !pending;
        if (shown) map.setHero({ name: player?.name ?? "you", shown, synced, pending });
    };
    client.subscribe(null, hero.entityId, render);
    render();

    let moves = 0;
    const move = (target) => {
        const vec = { x: Math.min(Math.max(Math.round(target.x), 0), WORLD_SIZE - 1), y: Math.min(Math.max(Math.round(target.y), 0), WORLD_SIZE - 1) };
        const lose = $("lose-tx").checked;
        const item = document.createElement("li");
        const label = `move ${++moves} to ${vec.x}, ${vec.y}`;
        // A settled move may leave the entity as it showed (confirmed: Torii agrees with the
        // write), so the subscription does not fire: the pending ring is redrawn here.
        const settle = (className, text) => {
            item.className = className;
            item.textContent = `${label}: ${text}`;
            render();
        };
        settle("pending", lose ? "pending (this transaction will be lost)" : "pending");
        $("tx-log").prepend(item);
        while ($("tx-log").children.length > 8) $("tx-log").lastChild.remove();
        let mutation;
        try {
            mutation = client.mutate("arena-Position", { vec }, lose
                ? { entityId: hero.entityId, timeoutMs: LOST_TIMEOUT_MS }
                : { entityId: hero.entityId, timeoutMs: LANDED_TIMEOUT_MS, send: () => landTransaction(hero.entityId, vec) });
        } catch (error) {
            settle("rolledBack", `refused (${error.name}: ${error.message})`);
            return;
        }
        mutation.confirmed.then(
            () => {
                settle("confirmed", "confirmed by Torii");
                map.flash(vec, "confirmed");
            },
            (error) => {
                if (error.reason === "replaced") return settle("replaced", "replaced by the next move");
                settle("rolledBack", `rolled back (${error.name})`);
                map.flash(vec, "rolledBack");
            },
        );
    };
    const shownPosition = () => read("arena-Position")?.models.arena.Position?.vec;
    window.addEventListener("keydown", (event) => {
        const step = ARROWS[event.key];
        const from = shownPosition();
        const typing = event.target instanceof HTMLInputElement && event.target.type !== "checkbox";
        if (!step || !from || typing) return;
        event.preventDefault();
        move({ x: from.x + step[0] * STEP, y: from.y + step[1] * STEP });
    });
    $("map").addEventListener("click", (event) => move(map.toWorld(event)));
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
