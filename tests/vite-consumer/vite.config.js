// Nothing here concerns the package's worker or wasm (they must be found without configuration).
// `dedupe` only exists because `file:../../js` links the package's folder, whose own
// node_modules (its dev dependencies) hold a second React; an installed package has none.
export default {
    resolve: { dedupe: ["react", "react-dom"] },
};
