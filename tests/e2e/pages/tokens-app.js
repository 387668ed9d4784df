// A React app reading tokens through the package's token targets and hooks, driven by
// test/tokens.test.js through `window.e2e`: `mount(toriiUrl, account)` renders
// `<ReactiveProvider>` with a `tokenBalances` target for `account` (and `tokens`,
// `tokenContracts`), `useTokenBalances` / `useTokens` / `useTokenContracts` write what they
// return into the page, and `client.subscribe` with `reactiveSelectors.listTokenBalances`
// records every result it is handed. An `eventLog` target (`feed`, the newest 5 `arena-Moved`
// events) is read through `useEvents` (the 3 newest `at` values, newest first).

const e2e = { loaded: false, loadError: undefined, subscribed: [] };
window.e2e = e2e;

try {
    const { StrictMode, createElement: h, useEffect } = await import("react");
    const { createRoot } = await import("react-dom/client");
    const { fetchArenaManifest } = await import("/examples/arena-manifest.js");
    const reactive = await import("/pkg/dist/react.js");
    const { reactiveSelectors } = await import("/pkg/dist/index.js");
    const { ReactiveProvider, useEvents, useReactiveClient, useTokenBalances, useTokenContracts, useTokens } = reactive;

    function Feed() {
        const events = useEvents({ target: "feed", order: "desc", limit: 3 });
        return h("p", { id: "events" }, events.map((e) => String(e.models.arena.Moved.at)).join(" "));
    }

    function Wallet({ account }) {
        const client = useReactiveClient();
        e2e.client = client;
        useEffect(
            () =>
                client.subscribe(null, reactiveSelectors.listTokenBalances({ accounts: [account] }), (balances) =>
                    e2e.subscribed.push(balances.map((b) => `${b.contractAddress}:${b.balance}`)),
                ),
            [client, account],
        );
        const balances = useTokenBalances(account === undefined ? undefined : { accounts: [account] });
        const tokens = useTokens();
        const nfts = tokens.filter((t) => t.tokenId !== undefined);
        const contracts = useTokenContracts();
        return h(
            "dl",
            null,
            h("dt", null, "balances"),
            h("dd", { id: "balances" }, balances.map((b) => `${b.contractAddress}:${typeof b.balance}:${b.balance}`).join(" ")),
            h("dt", null, "tokens"),
            h("dd", { id: "tokens" }, `${tokens.length} tokens, ${nfts.length} NFTs`),
            h("dt", null, "contracts"),
            h("dd", { id: "contracts" }, contracts.map((c) => `${c.symbol}:${c.contractType}`).sort().join(" ")),
            h("dt", null, "events"),
            h("dd", null, h(Feed)),
        );
    }

    let root;
    e2e.mount = async (toriiUrl, account) => {
        const manifest = await fetchArenaManifest(toriiUrl);
        const options = {
            toriiUrl,
            worldAddress: manifest.world.address,
            manifest,
            targets: [
                { id: "entities", kind: "entities" },
                { id: "wallet", kind: "tokenBalances", accounts: [account] },
                { id: "tokens", kind: "tokens" },
                { id: "contracts", kind: "tokenContracts" },
                { id: "feed", kind: "eventLog", models: ["arena-Moved"], retention: { count: 5 } },
            ],
        };
        root = createRoot(document.getElementById("root"));
        root.render(h(StrictMode, null, h(ReactiveProvider, { options }, h(Wallet, { account }))));
    };
    e2e.text = (id) => document.getElementById(id)?.textContent ?? null;
    e2e.loaded = true;
} catch (error) {
    e2e.loadError = String(error?.stack ?? error);
}
