/**
 * Digests of stored rows (Backend.resourcesDigest): sha256 over every column of every row, in
 * the order a bulk list returns them. Rows are joined into one text per batch before hashing,
 * so 100,000 rows cost a few hundred hash updates rather than a million.
 */
import { createHash, type Hash } from 'node:crypto';
import { DECLARED_KINDS, type DeclaredKind } from '../types.js';

const FIELD = '\u0001';
const ROW = '\u0002';
const BATCH_ROWS = 256;

/** The separators as SQL expressions, for a store that joins rows itself (`addText`). */
export const ROW_DIGEST_SQL = { field: 'char(1)', row: 'char(2)' } as const;

/** The digest of one kind's rows, fed row by row. */
export class RowDigest {
  private readonly hash: Hash = createHash('sha256');
  private batch: string[] = [];

  add(row: readonly unknown[]): void {
    this.batch.push(row.join(FIELD));
    if (this.batch.length >= BATCH_ROWS) this.drain();
  }

  /** Rows already joined: each row's fields joined by char(1), and each row followed by char(2). */
  addText(rows: string | Uint8Array): void {
    this.drain();
    this.hash.update(rows);
  }

  digest(): string {
    this.drain();
    return this.hash.digest('hex');
  }

  private drain(): void {
    if (this.batch.length === 0) return;
    // Every row followed by ROW: the same bytes whatever the batches are.
    this.hash.update(this.batch.join(ROW));
    this.hash.update(ROW);
    this.batch = [];
  }
}

/** The digest of a whole store from the digest of each declared kind's rows. */
export function combineKindDigests(of: (kind: DeclaredKind) => string): string {
  const hash = createHash('sha256');
  for (const kind of DECLARED_KINDS) hash.update(`${kind}\0${of(kind)}\n`);
  return hash.digest('hex');
}
