/**
 * Rebuilds the cross-reference table and trailer of a PDF whose own are damaged beyond what
 * pdf.js repairs by itself. pdf.js (Apache-2.0) already re-scans the file for `n g obj` when the
 * table's offsets are wrong, but it needs a trailer dictionary to find the document catalog:
 * without one (a file cut short, a trailer overwritten) it fails with "Invalid Root reference",
 * where poppler scans for the catalog object. This does what poppler does: it finds every
 * top-level object by its header, the catalog among them (`/Type /Catalog` with `/Pages`), and
 * appends a fresh table and trailer pointing at them. The original bytes are left as they are;
 * the appended section is an ordinary update section, which every reader takes as the newest.
 */

/** What the repair found and did. */
export interface XrefRepair {
  /** The repaired document: the original bytes, then the rebuilt table and trailer. */
  bytes: Uint8Array;
  /** Objects found by their headers. */
  objects: number;
  /** Object number of the document catalog. */
  catalog: number;
}

/** Why a document could not be repaired, said for the job's failure reason. */
export class XrefRepairImpossible extends Error {
  override name = 'XrefRepairImpossible';
}

/** `n g obj` at a line start (or after whitespace/delimiter), as the file's objects begin. */
const OBJECT_HEADER = /(?:^|[\r\n\s>])(\d{1,10})\s+(\d{1,5})\s+obj\b/g;

/**
 * Rebuilds the cross-reference section of `bytes` (see the module comment), or throws
 * {@link XrefRepairImpossible} saying what is missing (no objects; no catalog).
 */
export function repairXref(bytes: Uint8Array): XrefRepair {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const offsets = new Map<number, { offset: number; generation: number }>();
  for (const match of text.matchAll(OBJECT_HEADER)) {
    const number = Number(match[1]);
    const generation = Number(match[2]);
    const offset = match.index + match[0].length - match[0].trimStart().length;
    // A later definition of the same object (an incremental update) replaces an earlier one.
    offsets.set(number, { offset, generation });
  }
  if (offsets.size === 0) throw new XrefRepairImpossible('no objects were found in the file (no "n 0 obj" headers): nothing to rebuild a cross-reference table from');
  let catalog: number | undefined;
  for (const [number, { offset }] of offsets) {
    const end = text.indexOf('endobj', offset);
    const body = text.slice(offset, end < 0 ? offset + 4096 : Math.min(end, offset + 4096));
    if (/\/Type\s*\/Catalog\b/.test(body) && /\/Pages\s+\d+\s+\d+\s+R/.test(body)) catalog = number;
  }
  if (catalog === undefined) {
    throw new XrefRepairImpossible(`no document catalog (/Type /Catalog with /Pages) among the ${offsets.size} objects found: the page tree cannot be located`);
  }
  const size = Math.max(...offsets.keys()) + 1;
  let table = `\nxref\n0 ${size}\n`;
  for (let number = 0; number < size; number++) {
    const entry = offsets.get(number);
    table += entry === undefined ? `0000000000 65535 f \n` : `${String(entry.offset).padStart(10, '0')} ${String(entry.generation).padStart(5, '0')} n \n`;
  }
  const catalogGeneration = offsets.get(catalog)?.generation ?? 0;
  const xrefOffset = bytes.byteLength + 1;
  table += `trailer\n<< /Size ${size} /Root ${catalog} ${catalogGeneration} R >>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  const appended = Buffer.from(table, 'latin1');
  const repaired = new Uint8Array(bytes.byteLength + appended.byteLength);
  repaired.set(bytes, 0);
  repaired.set(appended, bytes.byteLength);
  return { bytes: repaired, objects: offsets.size, catalog };
}
