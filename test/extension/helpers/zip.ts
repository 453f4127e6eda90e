// A small ZIP reader (central directory + stored/deflated entries), enough to unpack a .vsix and
// independent of the library that wrote it.
import * as fs from "node:fs";
import * as zlib from "node:zlib";

export interface ZipEntry {
  name: string;
  size: number;
  compressedSize: number;
  /** Unix mode from the external attributes (0 when the archive has none). */
  mode: number;
  data: Buffer;
}

export function readZip(file: string): Map<string, ZipEntry> {
  const buf = fs.readFileSync(file);
  // end of central directory record: signature 0x06054b50, within the last 64 KiB + 22 bytes
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file}: not a zip archive`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries = new Map<string, ZipEntry>();
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${n}`);
    const method = buf.readUInt16LE(p + 10);
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const external = buf.readUInt32LE(p + 38);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString("utf8", p + 46, p + 46 + nameLen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + compressedSize);
    const data = method === 0 ? Buffer.from(raw) : method === 8 ? zlib.inflateRawSync(raw) : undefined;
    if (!data) throw new Error(`${file}: ${name} uses compression method ${method}`);
    if (data.length !== size) throw new Error(`${file}: ${name} inflated to ${data.length} bytes, expected ${size}`);
    entries.set(name, { name, size, compressedSize, mode: external >>> 16, data });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
