// Draws the app icon (icon.png, 512×512, which electron-builder turns into .ico/.icns) and the tray icon
// (tray.png, 32×32) without any image library: a rounded blue square with a white "W" stroke.
// Run: node electron/resources/make-icons.mjs
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
};

function png(size, pixel) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel((x + 0.5) / size, (y + 0.5) / size);
      raw.set([r, g, b, a], y * (size * 4 + 1) + 1 + x * 4);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

function distToSegment(px, py, [ax, ay], [bx, by]) {
  const dx = bx - ax, dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

// A "W" as four strokes.
const W = [[0.22, 0.3], [0.36, 0.72], [0.5, 0.42], [0.64, 0.72], [0.78, 0.3]];
function icon(u, v, { background }) {
  const m = 0.06, r = 0.2;
  const qx = Math.max(m + r - u, 0, u - (1 - m - r)), qy = Math.max(m + r - v, 0, v - (1 - m - r));
  const inside = Math.hypot(qx, qy) <= r;
  let d = Infinity;
  for (let i = 0; i < W.length - 1; i++) d = Math.min(d, distToSegment(u, v, W[i], W[i + 1]));
  const stroke = d < 0.055;
  if (stroke) return [255, 255, 255, 255];
  if (background && inside) return [46, 92, 219, 255];
  return [0, 0, 0, 0];
}

const here = dirname(fileURLToPath(import.meta.url));
writeFileSync(join(here, 'icon.png'), png(512, (u, v) => icon(u, v, { background: true })));
writeFileSync(join(here, 'tray.png'), png(32, (u, v) => icon(u, v, { background: true })));
console.log('wrote icon.png and tray.png');
