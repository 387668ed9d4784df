// A small React app on the package's provider and hooks, in StrictMode with React's development
// build, driven by test/react.test.js through `window.e2e`: `mount(toriiUrl)` renders
// `<ReactiveProvider options>` (the provider creates the client and shuts it down), `render`
// re-renders with new props, `unmount` removes it, `player` changes the followed player (or
// clears it: `undefined`, an id not known yet).

const e2e = { loaded: false, loadError: undefined, workers: [], clients: [], renders: 0 };
window.e2e = e2e;

// Records every Worker (the package starts its own), as the harness does.
const NativeWorker = globalThis.Worker;
globalThis.Worker = class RecordedWorker extends NativeWorker {
    constructor(url, options) {
        super(url, options);
        e2e.workers.push(this);
    }
};

try {
    const { StrictMode, createElement: h } = await import("react");
    const { createRoot } = await import("react-dom/client");
    const { fetchArenaManifest } = await import("/examples/arena-manifest.js");
    const reactive = await import("/pkg/dist/react.js");
    const { ReactiveProvider, useEntityId, useModel, useQuery, useReactiveClient, useSyncStatus } = reactive;

    function Game({ player }) {
        const client = useReactiveClient();
        if (!e2e.clients.includes(client)) e2e.clients.push(client);
        e2e.client = client;
        e2e.renders += 1;
        const id = useEntityId("arena-Player", player === undefined ? undefined : { player });
        const hero = useModel(id, "arena-Player");
        const position = useModel(id, "arena-Position");
        const page = useQuery("arena-Player", { limit: 3, filter: { where: [{ member: "level", op: "gte", value: 0 }] } });
        const status = useSyncStatus();
        return h(
            "dl",
            null,
            h("dt", null, "phase"),
            h("dd", { id: "phase" }, status.phase),
            h("dt", null, "id"),
            h("dd", { id: "id" }, id ?? "none"),
            h("dt", null, "hero"),
            h("dd", { id: "hero" }, hero ? `${hero.name} (level ${hero.level})` : "none"),
            h("dt", null, "position"),
            h("dd", { id: "position" }, position ? `${position.vec.x},${position.vec.y}` : "none"),
            h("dt", null, "first page"),
            h("dd", { id: "page" }, `${page.items.length}${page.nextCursor === undefined ? "" : " +"}`),
        );
    }

    let root;
    let props;
    const app = () => h(StrictMode, null, h(ReactiveProvider, { options: props.options }, h(Game, { player: props.player })));

    e2e.mount = async (toriiUrl, player) => {
        const manifest = await fetchArenaManifest(toriiUrl);
        props = { options: { toriiUrl, worldAddress: manifest.world.address, manifest }, player };
        root = createRoot(document.getElementById("root"));
        root.render(app());
    };
    /** Re-renders with new props (a new, equal options object each time, as an inline literal would be). */
    e2e.render = (player) => {
        props = { options: { ...props.options }, player };
        root.render(app());
    };
    e2e.unmount = () => {
        root.unmount();
        root = undefined;
    };
    /** A hot reload of the app's module: the tree is unmounted and mounted again at once. */
    e2e.remount = () => {
        root.unmount();
        root = createRoot(document.getElementById("root"));
        root.render(app());
    };
    e2e.text = (id) => document.getElementById(id)?.textContent ?? null;
    e2e.loaded = true;
} catch (error) {
    e2e.loadError = String(error?.stack ?? error);
}
