// A small React app for test/social.test.js: `useUsername` for a list of accounts, and a chat
// line (`arena-Message` of one identity and channel, found by its keys) that
// `client.publishMessage` writes. Driven through `window.e2e`: `mount(toriiUrl, accounts,
// chat)`, `publish(text, options)` (records `published` and `confirmed` outcomes), `text(id)`.

const e2e = { loaded: false, loadError: undefined, outcomes: [] };
window.e2e = e2e;

try {
    const { StrictMode, createElement: h } = await import("react");
    const { createRoot } = await import("react-dom/client");
    const { fetchArenaManifest } = await import("/examples/arena-manifest.js");
    const { ReactiveProvider, useEntityId, useModel, useReactiveClient, useUsername } = await import("/pkg/dist/react.js");

    function Name({ address, index }) {
        const name = useUsername(address);
        return h("li", { id: `name-${index}` }, name ?? "…");
    }

    function App({ accounts, chat }) {
        e2e.client = useReactiveClient();
        const id = useEntityId("arena-Message", chat);
        const message = useModel(id, "arena-Message");
        return h(
            "div",
            null,
            h("ul", null, accounts.map((address, index) => h(Name, { key: index, address, index }))),
            h("p", { id: "chat" }, message ? message.text : "none"),
            h("p", { id: "unknown" }, h(Name, { address: undefined, index: "none" })),
        );
    }

    let root;
    e2e.mount = async (toriiUrl, accounts, chat) => {
        const manifest = await fetchArenaManifest(toriiUrl);
        const options = { toriiUrl, worldAddress: manifest.world.address, manifest, overlayOptions: { pollMs: 100 } };
        e2e.chat = chat;
        root = createRoot(document.getElementById("root"));
        root.render(h(StrictMode, null, h(ReactiveProvider, { options }, h(App, { accounts, chat }))));
    };

    /** Typed data of an `arena-Message` of the mounted chat (as a game would have signed it). */
    e2e.typedData = (text, primaryType = "arena-Message") => ({
        types: {
            StarknetDomain: [
                { name: "name", type: "shortstring" },
                { name: "version", type: "shortstring" },
                { name: "chainId", type: "shortstring" },
                { name: "revision", type: "shortstring" },
            ],
            [primaryType]: [
                { name: "identity", type: "ContractAddress" },
                { name: "channel", type: "felt" },
                { name: "text", type: "string" },
            ],
        },
        primaryType,
        domain: { name: "arena", version: "1", chainId: "SN_SEPOLIA", revision: "1" },
        message: { ...e2e.chat, text },
    });

    /** Publishes `text`; returns the overlay-first and synced text right after, records outcomes. */
    e2e.batches = [];
    e2e.publish = (text, { timeoutMs = 20_000, primaryType } = {}) => {
        const client = e2e.client;
        const sent = client.publishMessage(e2e.typedData(text, primaryType), ["0x1", "0x2"], { timeoutMs });
        const outcome = { transactionId: sent.transactionId };
        e2e.outcomes.push(outcome);
        const describe = (error) => ({ name: error?.name, message: error?.message, reason: error?.reason ?? error?.details?.reason, cause: error?.cause?.name });
        sent.published.then((p) => (outcome.published = p), (e) => (outcome.publishError = describe(e)));
        sent.confirmed.then(() => (outcome.confirmed = true), (e) => (outcome.confirmError = describe(e)));
        const id = client.entityId("arena-Message", e2e.chat);
        return { overlay: e2e.read(), synced: e2e.read("synced"), pending: client.getOverlayFor(id).length };
    };
    /**
     * Publishes one message per text in one `publishMessages` call, each on its own channel
     * (`channels[i]`); records outcomes and returns the overlay-first texts right after.
     */
    e2e.publishBatch = (texts, channels) => {
        const client = e2e.client;
        const messages = texts.map((text, i) => {
            const typedData = e2e.typedData(text);
            return { typedData: { ...typedData, message: { ...typedData.message, channel: channels[i] } }, signature: ["0x1", "0x2"] };
        });
        const sent = client.publishMessages(messages, { timeoutMs: 20_000 });
        const outcome = {};
        e2e.batches.push(outcome);
        sent.published.then((p) => (outcome.published = p), (e) => (outcome.publishError = e?.name));
        sent.confirmed.then(() => (outcome.confirmed = true), (e) => (outcome.confirmError = e?.name));
        return channels.map((channel) => e2e.client.query("arena-Message", { filter: { keys: { ...e2e.chat, channel } } }).items[0]?.models?.arena?.Message?.text ?? null);
    };
    /** The chat line's text as a query reads it (overlay-first unless `synced`), or null. */
    e2e.read = (consistency) => {
        const spec = { filter: { keys: e2e.chat }, ...(consistency ? { consistency } : {}) };
        const item = e2e.client.query("arena-Message", spec).items[0];
        return item?.models?.arena?.Message?.text ?? null;
    };
    e2e.text = (id) => document.getElementById(id)?.textContent ?? null;
    e2e.loaded = true;
} catch (error) {
    e2e.loadError = String(error?.stack ?? error);
}
