// Bytes from the agent into JSON: kept or flagged, never dropped (O3, the
// contract's *_b64 twins), and a minimal protobuf wire reader so that string
// fields of replies are read as the agent's exact bytes.

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lossyUtf8 = new TextDecoder('utf-8', { fatal: false });

/** True when `b` is well-formed UTF-8 without NUL bytes (what a JSON reader accepts as-is). */
export function cleanUtf8(b: Uint8Array): boolean {
  if (b.includes(0)) return false;
  try {
    strictUtf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

/** Text of `b` for JSON: invalid bytes and NUL become U+FFFD. */
export function lossyText(b: Uint8Array): string {
  return lossyUtf8.decode(b).replace(/\u0000/g, '\uFFFD');
}

/**
 * Sets obj[name] to the bytes as text, and obj[name_b64] to their base64
 * when the text could not carry them exactly.
 */
export function setBytes(obj: Record<string, unknown>, name: string, b: Uint8Array | string): void {
  const buf = typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (cleanUtf8(buf)) {
    obj[name] = buf.toString('utf8');
  } else {
    obj[name] = lossyText(buf);
    obj[`${name}_b64`] = buf.toString('base64');
  }
}

/** The scalar fields of one protobuf message, by field number: varints as bigint, length-delimited as bytes. */
export interface WireFields {
  varint: Map<number, bigint>;
  bytes: Map<number, Buffer>;
}

function readVarint(b: Buffer, pos: { i: number }): bigint {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    if (pos.i >= b.length) throw new Error('truncated varint');
    const c = b[pos.i++];
    v |= BigInt(c & 0x7f) << shift;
    if ((c & 0x80) === 0) return v;
    shift += 7n;
    if (shift > 63n) throw new Error('varint too long');
  }
}

/** Parses a message's top level; the last occurrence of a field wins (proto3). Throws on malformed input. */
export function parseWire(b: Buffer): WireFields {
  const out: WireFields = { varint: new Map(), bytes: new Map() };
  const pos = { i: 0 };
  while (pos.i < b.length) {
    const tag = readVarint(b, pos);
    const field = Number(tag >> 3n);
    const wt = Number(tag & 7n);
    switch (wt) {
      case 0:
        out.varint.set(field, readVarint(b, pos));
        break;
      case 1:
        pos.i += 8;
        break;
      case 2: {
        const n = Number(readVarint(b, pos));
        if (pos.i + n > b.length) throw new Error('truncated field');
        out.bytes.set(field, b.subarray(pos.i, pos.i + n));
        pos.i += n;
        break;
      }
      case 5:
        pos.i += 4;
        break;
      default:
        throw new Error(`wire type ${wt} not supported`);
    }
    if (pos.i > b.length) throw new Error('truncated message');
  }
  return out;
}
