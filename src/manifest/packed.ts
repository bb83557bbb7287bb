/**
 * The JSON form of a ParsedFile that crosses from the parse worker and is stored in the parse
 * cache: the same object except that each document's `positions` is a flat array
 * `[pointer, line, column, pointer, line, column, ...]` instead of an object of objects.
 * Positions were half of the bytes of the pack of a 100,000-resource stack, and they are read
 * only to report an error, so `unpackParsedFile` turns them back into the object form on first
 * read of `positions` (an own enumerable accessor: spreading and JSON see the object form).
 */
import type { ParsedDocument, ParsedFile, RefPos } from './types.js';

type PackedPositions = Array<string | number>;

/** JSON text of `parsed` with packed positions (what `unpackParsedFile` reads). */
export function packParsedFile(parsed: ParsedFile): string {
  return JSON.stringify({
    ...parsed,
    documents: parsed.documents.map((d) => ({ ...d, positions: packPositions(d.positions) })),
  });
}

function packPositions(positions: Record<string, RefPos>): PackedPositions {
  const out: PackedPositions = [];
  for (const pointer of Object.keys(positions)) {
    const p = positions[pointer] as RefPos;
    out.push(pointer, p.line, p.column);
  }
  return out;
}

/** The ParsedFile of `packParsedFile`'s text; throws when it is not JSON or not packed positions. */
export function unpackParsedFile(json: string): ParsedFile {
  const parsed = JSON.parse(json) as ParsedFile;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(parsed.documents)) return parsed;
  for (const doc of parsed.documents) {
    const packed = (doc as { positions: unknown }).positions;
    if (!Array.isArray(packed) || packed.length % 3 !== 0) throw new Error('positions are not packed');
    lazyPositions(doc, packed as PackedPositions);
  }
  return parsed;
}

function lazyPositions(doc: ParsedDocument, packedPositions: PackedPositions): void {
  let packed: PackedPositions | null = packedPositions;
  let positions: Record<string, RefPos> | undefined;
  Object.defineProperty(doc, 'positions', {
    configurable: true,
    enumerable: true,
    get(): Record<string, RefPos> {
      if (positions === undefined) {
        const flat = packed as PackedPositions;
        positions = {};
        for (let i = 0; i < flat.length; i += 3) {
          positions[flat[i] as string] = { line: flat[i + 1] as number, column: flat[i + 2] as number };
        }
        packed = null;
      }
      return positions;
    },
    set(value: Record<string, RefPos>) {
      positions = value;
      packed = null;
    },
  });
}
