#!/usr/bin/env python3
"""Groups a wasm module's code by what it comes from (benches/README.md, "Wasm modules").

    wasm-bindgen --target web --out-dir /tmp/named target/wasm32-unknown-unknown/wasm-worker/dojo_reactive_wasm.wasm
    twiggy top -n 100000 --format csv /tmp/named/dojo_reactive_wasm_bg.wasm > worker.csv
    python3 benches/wasm-contributors.py view.csv worker.csv

Each CSV is twiggy's `top` of a module bound WITHOUT --remove-name-section (names are needed
to attribute code); sizes are raw bytes before wasm-opt. Prints a markdown table, one column
per module.
"""
import collections
import csv
import re
import sys

FAMILIES = [
    ("sort (core::slice::sort monomorphisations)", r"^core::slice::sort|^core::slice::<impl \[T\]>::sort"),
    ("BTreeMap/BTreeSet (alloc::collections::btree)", r"^alloc::collections::btree"),
    ("drop glue (core::ptr::drop_in_place)", r"^core::ptr::drop_in_place"),
    ("float formatting (core::num::flt2dec, fmt::float)", r"^core\[[0-9a-f]+\]::(num::flt2dec|fmt::float)|^f64 as core.*Display"),
    ("serde_json + serde_core", r"^(mut )?(serde_json|serde_core|serde)::"),
    ("Vec, RawVec, iterator adapters (monomorphisations)", r"^(alloc::vec|alloc::raw_vec|core::iter)"),
    ("hashbrown (HashMap/HashSet)", r"^hashbrown::"),
    ("dojo_reactive_core", r"^dojo_reactive_core::"),
    ("dojo_reactive_storage", r"^dojo_reactive_storage::"),
    ("dojo_reactive_view + view_wasm", r"^dojo_reactive_view(_wasm)?::"),
    ("dojo_reactive_wasm (worker facade)", r"^dojo_reactive_wasm::"),
    ("dojo_reactive_torii", r"^dojo_reactive_torii::"),
    ("gRPC stack (tonic, http, prost, bytes, http_body*)",
     r"^(tonic|tonic_prost|http|prost|bytes|http_body|http_body_util|tower_service|tokio|tokio_util|base64|percent_encoding)::"),
    ("gzip (miniz_oxide, flate2, crc32fast)", r"^(miniz_oxide|flate2|crc32fast)::"),
    ("wasm-bindgen, js_sys, web_sys, idb", r"^(wasm_bindgen|js_sys|web_sys|idb|wasm_bindgen_futures)::"),
    ("data segment (.rodata: strings, tables)", r"^data segment"),
]


def families(path):
    """Bytes per family (and the total) of one twiggy CSV, the names section left out."""
    sizes, total = collections.Counter(), 0
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            name, size = re.sub(r"^[<&]+", "", row["Name"]), int(row["ShallowSize"])
            if "function names" in name:
                continue
            total += size
            label = next((label for label, rx in FAMILIES if re.search(rx, name)), "other")
            sizes[label] += size
    return sizes, total


def main(paths):
    counted = [families(p) for p in paths]
    print("| contributor | " + " | ".join(paths) + " |")
    print("|---|" + "---:|" * len(paths))
    for label in [label for label, _ in FAMILIES] + ["other"]:
        print(f"| {label} | " + " | ".join(f"{sizes[label]:,}" for sizes, _ in counted) + " |")
    print("| all (names section left out) | " + " | ".join(f"{total:,}" for _, total in counted) + " |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: wasm-contributors.py TWIGGY_TOP.csv ...")
    main(sys.argv[1:])
