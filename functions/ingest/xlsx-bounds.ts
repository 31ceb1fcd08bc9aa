import { createInflateRaw } from 'node:zlib';
import { UnreadableFileError } from './errors.ts';
import { grouped, LIMITS, sizeText } from './limits.ts';

/**
 * Checks a workbook against the bounds before exceljs unpacks it: exceljs keeps every shared
 * string in memory, so a 4 MB workbook of repeated strings took 4.9 GB. The zip's central directory
 * gives each part's unpacked size; each part is then inflated (and thrown away) with a counter, so
 * a directory that lies about its sizes is caught too. Throws `UnreadableFileError` with the reason.
 */
export async function checkWorkbook(zip: Buffer): Promise<void> {
  const entries = centralDirectory(zip);
  let total = 0;
  for (const e of entries) {
    total += e.size;
    if (isSharedStrings(e.name) && e.size > LIMITS.sharedStringsBytes)
      throw new UnreadableFileError(
        `the workbook's shared strings unpack to ${mb(e.size)}, over the limit of ${sizeText(LIMITS.sharedStringsBytes)}: save it as CSV`,
      );
  }
  if (total > LIMITS.xlsxUnpackedBytes)
    throw new UnreadableFileError(
      `the workbook unpacks to ${mb(total)}, over the limit of ${sizeText(LIMITS.xlsxUnpackedBytes)}: save it as CSV`,
    );
  for (const e of entries) await checkPart(zip, e);
}

interface Entry {
  readonly name: string;
  readonly method: number;
  readonly compressed: number;
  readonly size: number;
  readonly offset: number;
}

const mb = (n: number) => `${grouped(Math.round(n / 1024 ** 2))} MB`;
const isSharedStrings = (name: string) => name.toLowerCase() === 'xl/sharedstrings.xml';

function refuse(what: string): never {
  throw new UnreadableFileError(`the workbook cannot be read: ${what}`);
}

function centralDirectory(zip: Buffer): Entry[] {
  // The end-of-central-directory record: 22 bytes plus a comment of up to 65,535.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65_535); i--)
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) refuse('its zip directory is missing (is the file cut short?)');
  const count = zip.readUInt16LE(eocd + 10);
  const at = zip.readUInt32LE(eocd + 16);
  // ZIP64 is only needed past 4 GB or 65,535 parts: far over the bounds of any workbook we read.
  if (count === 0xffff || at === 0xffffffff)
    throw new UnreadableFileError(
      `the workbook is a ZIP64 archive (over 4 GB unpacked or 65,535 parts), over the limit of ${sizeText(LIMITS.xlsxUnpackedBytes)}`,
    );
  const entries: Entry[] = [];
  let p = at;
  for (let k = 0; k < count; k++) {
    if (p + 46 > zip.length || zip.readUInt32LE(p) !== 0x02014b50) refuse('its zip directory is damaged');
    const nameLen = zip.readUInt16LE(p + 28);
    const entry: Entry = {
      method: zip.readUInt16LE(p + 10),
      compressed: zip.readUInt32LE(p + 20),
      size: zip.readUInt32LE(p + 24),
      name: zip.toString('utf8', p + 46, p + 46 + nameLen),
      offset: zip.readUInt32LE(p + 42),
    };
    if (entry.size === 0xffffffff || entry.compressed === 0xffffffff)
      throw new UnreadableFileError(
        `the workbook's part ${entry.name} is a ZIP64 part (4 GB or more), over the limit of ${sizeText(LIMITS.xlsxUnpackedBytes)}`,
      );
    entries.push(entry);
    p += 46 + nameLen + zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
  }
  return entries;
}

/** Inflates one part, counting: never more than it declared, and shared strings not too many. */
async function checkPart(zip: Buffer, e: Entry): Promise<void> {
  const h = e.offset;
  if (h + 30 > zip.length || zip.readUInt32LE(h) !== 0x04034b50) refuse(`its part ${e.name} is damaged`);
  const start = h + 30 + zip.readUInt16LE(h + 26) + zip.readUInt16LE(h + 28);
  const data = zip.subarray(start, start + e.compressed);
  if (data.length < e.compressed) refuse(`its part ${e.name} is cut short`);
  const strings = isSharedStrings(e.name);
  if (e.method === 0) {
    if (strings) countStrings(data.toString('latin1'), { tail: '', n: 0 });
    return;
  }
  if (e.method !== 8) return; // exceljs refuses other methods itself, with its own reason
  const counter = { tail: '', n: 0 };
  await new Promise<void>((ok, fail) => {
    const inflate = createInflateRaw();
    let size = 0;
    inflate.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > e.size) {
        inflate.destroy();
        fail(
          new UnreadableFileError(
            `the workbook cannot be read: its part ${e.name} unpacks to more than the ${grouped(e.size)} bytes its zip directory says`,
          ),
        );
        return;
      }
      if (strings && !countStrings(chunk.toString('latin1'), counter)) {
        inflate.destroy();
        fail(
          new UnreadableFileError(
            `the workbook has more than ${grouped(LIMITS.sharedStrings)} shared strings, the limit: save it as CSV`,
          ),
        );
      }
    });
    inflate.on('error', (err) =>
      fail(new UnreadableFileError(`the workbook cannot be read: ${err.message}`)),
    );
    inflate.on('end', () => ok());
    inflate.end(data);
  });
}

/** Counts `<si>` elements across chunks; false once past the bound. */
function countStrings(text: string, c: { tail: string; n: number }): boolean {
  const s = c.tail + text;
  for (let i = s.indexOf('<si'); i >= 0; i = s.indexOf('<si', i + 3)) {
    const next = s.charCodeAt(i + 3);
    if (next === 62 || next === 32 || next === 47) c.n++; // '>', ' ', '/'
  }
  // A `<si` cut by the chunk's end is looked at again with the next chunk.
  const tail = s.slice(-3);
  c.tail = tail === '<si' || tail.endsWith('<s') || tail.endsWith('<') ? tail : '';
  return c.n <= LIMITS.sharedStrings;
}
