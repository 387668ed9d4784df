// Classic (non-module) script loaded first by every bench page: records every long task of the
// main thread from the start of the page into `window.__longTasks`.
window.__longTasks = [];
new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
        window.__longTasks.push({ startTime: entry.startTime, duration: entry.duration });
    }
}).observe({ type: "longtask", buffered: true });
