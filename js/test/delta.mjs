// DELTA buffers as the sync worker sends them: one delta segment of the storage crate
// (`dojo_reactive_storage::encode_state_changes`, format in crates/storage/src/segment.rs and
// codec/value.rs), written here for the few value kinds the tests use, so the client's tests feed
// the real wasm view real bytes. A format change makes the view refuse these buffers, which fails
// the tests that send them.

const MASK64 = (1n << 64n) - 1n;
const K = 0x9e3779b97f4a7c15n;

/** Torii time of the next DELTA's states: every DELTA is newer than the one built before it. */
let clock = 1_000;

const mul = (a, b) => (a * b) & MASK64;
const rotl = (x, r) => ((x << BigInt(r)) | (x >> BigInt(64 - r))) & MASK64;
const word = (bytes, at, len) => {
  let value = 0n;
  for (let i = len - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[at + i]);
  return value;
};

/** The segment checksum (storage `codec::checksum`). */
function checksum(data) {
  const seed = mul(BigInt(data.length), K) ^ 0x2545f4914f6cdd1dn;
  const lanes = [seed, seed ^ 1n, seed ^ 2n, seed ^ 3n];
  const full = data.length - (data.length % 32);
  for (let block = 0; block < full; block += 32) {
    for (let i = 0; i < 4; i++) lanes[i] = rotl(mul(lanes[i] ^ word(data, block + 8 * i, 8), K), 31);
  }
  let hash = lanes.reduce((acc, lane) => rotl(mul(acc ^ lane, K), 27), seed);
  for (let at = full; at < data.length; at += 8) {
    hash = rotl(mul(hash ^ word(data, at, Math.min(8, data.length - at)), K), 31);
  }
  hash ^= hash >> 29n;
  hash = mul(hash, K);
  hash ^= hash >> 32n;
  return Number(hash & 0xffffffffn);
}

class Writer {
  constructor() {
    this.out = [];
  }
  u8(byte) {
    this.out.push(byte & 0xff);
  }
  varint(value) {
    let v = BigInt(value);
    while (v >= 0x80n) {
      this.out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.out.push(Number(v));
  }
  bytes(list) {
    for (const b of list) this.out.push(b);
  }
  str(text) {
    const bytes = new TextEncoder().encode(text);
    this.varint(bytes.length);
    this.bytes(bytes);
  }
}

/** A 0x hex felt as 32 big-endian bytes. */
function felt(hex) {
  const digits = BigInt(hex);
  return Array.from({ length: 32 }, (_, i) => Number((digits >> BigInt(8 * (31 - i))) & 0xffn));
}

/**
 * One DELTA of entity changes, in order: `[{ entityId, tag, members }]` where `members` maps
 * names to numbers (u32) or booleans, or is `null` for the model's deletion.
 */
export function delta(changes) {
  const time = clock++;
  const strings = [];
  const sref = (text) => {
    const at = strings.indexOf(text);
    return at >= 0 ? at : strings.push(text) - 1;
  };
  const records = new Writer();
  for (const { entityId, tag, members } of changes) {
    const record = new Writer();
    record.bytes(felt(entityId));
    record.varint(sref(tag));
    record.u8(members === null ? 2 : 1); // state op: upsert or delete, no version op
    if (members !== null) {
      record.u8(0); // world address: no significant bytes
      for (const at of [1, time, time]) record.varint(at); // created, updated, executed
      const entries = Object.entries(members);
      record.varint(entries.length);
      for (const [name, value] of entries) {
        record.varint(sref(name));
        record.u8(0); // not a key
        if (typeof value === 'boolean') {
          record.u8(11);
          record.u8(value ? 1 : 0);
        } else {
          record.u8(7); // u32
          record.varint(value);
        }
      }
    }
    records.varint(record.out.length);
    records.bytes(record.out);
  }
  const segment = new Writer();
  segment.bytes([0x44, 0x52, 0x53, 1, 0, 0]); // "DRS", format 1, a delta, of entities
  segment.varint(strings.length);
  for (const text of strings) segment.str(text);
  segment.varint(changes.length);
  segment.bytes(records.out);
  const sum = checksum(segment.out);
  segment.bytes([sum >>> 24, (sum >>> 16) & 0xff, (sum >>> 8) & 0xff, sum & 0xff]);
  return new Uint8Array(segment.out).buffer;
}
