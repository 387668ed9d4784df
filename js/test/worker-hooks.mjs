// Module hooks for worker.test.mjs: the worker entry's import of the wasm glue resolves to
// fake-glue.mjs, so the entry runs in node without the wasm module.
export async function resolve(specifier, context, next) {
  if (specifier.endsWith('/wasm/dojo_reactive.js') && context.parentURL?.endsWith('/dist/worker.js')) {
    return { url: new URL('./fake-glue.mjs', import.meta.url).href, shortCircuit: true };
  }
  return next(specifier, context);
}
