/**
 * The per-file stage's fast path: a parser for the YAML that manifests are written in almost
 * always, several times faster than the `yaml` library's lexer, parser and composer. It gives
 * what `parseAllDocuments` + `documentToJson` give for such text: each document's JSON value,
 * its start and the offsets of the values a position trie asks for. It returns null as soon
 * as the text uses anything outside that subset, and the caller then runs the `yaml` library
 * on the whole file, which also owns every diagnostic: this path only ever answers for text
 * that the library parses without an error or a warning.
 *
 * The subset: documents separated by `---` whose root is a block mapping; block mappings and
 * sequences (compact `- key: value` and `- - x` too); plain scalars on one line (YAML 1.2
 * core schema: null, booleans, decimal, octal and hexadecimal integers, finite floats);
 * single- and double-quoted scalars on one line; literal and folded block scalars with clip
 * or strip chomping; flow sequences and mappings on one line; comments and blank lines.
 * Outside it (null is returned): tabs, CR, control and other special characters anywhere;
 * directives, `...`, anchors, aliases, tags, `?` keys, keys that are not plain strings of
 * simple characters or quoted strings; repeated keys; multi-line plain and quoted scalars;
 * block scalars with an indentation indicator, `+` chomping, more-indented folded lines or
 * no final line break; non-finite numbers; nesting deeper than `FAST_MAX_DEPTH`; anything
 * the library would reject. A differential property test holds it to the library.
 */
import type { JsonObject, JsonValue } from '../types.js';
import { escapePointer, MAX_DEPTH, type PositionTrie } from './yaml-nodes.js';

/** Deeper documents take the library's path (and its "nested too deeply" diagnostic). */
export const FAST_MAX_DEPTH = MAX_DEPTH - 4;

/** The offset of one value a position trie asked for. */
export interface RecordedOffset {
  /** Path segments from the document's root. */
  path: string[];
  /** The same path as a JSON pointer. */
  pointer: string;
  offset: number;
}

/** One document of the fast path. Empty documents (only comments, or `---` alone) are left out. */
export interface FastDocument {
  value: JsonObject;
  /** Offset of the root mapping's first key: the start of the document's contents. */
  start: number;
  /** Offsets of the nodes the trie asked for, in document order (the library's order too). */
  recorded: RecordedOffset[];
}

/** Characters that send a file to the library: tabs, CR, controls, NEL, LS, PS, BOM, non-characters. */
const UNSUPPORTED = /[\u0000-\u0008\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/;

/** Thrown inside the parser to give up; never escapes `fastParseDocuments`. */
const FALLBACK: unique symbol = Symbol('fallback');

const SPACE = 0x20;
const NL = 0x0a;
const HASH = 0x23;
const DASH = 0x2d;
const COLON = 0x3a;
const DQUOTE = 0x22;
const SQUOTE = 0x27;

/**
 * Parses `text` (already decoded, without a BOM) on the fast path, or returns null when the
 * library must. `record` says which values' offsets to keep, as in `documentToJson`.
 */
export function fastParseDocuments(text: string, record: PositionTrie): FastDocument[] | null {
  if (UNSUPPORTED.test(text)) return null;
  try {
    return new FastParser(text, record).stream();
  } catch (err) {
    if (err === FALLBACK) return null;
    throw err;
  }
}

/** A character of a plain key (and of a plain scalar in a flow collection). */
function isSimpleChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x5f || // _
    c === DASH ||
    c === 0x2e || // .
    c === 0x2f || // /
    c === 0x7e || // ~
    c === 0x24 || // $
    c === 0x2b || // +
    c === SPACE ||
    c >= 0xa0
  );
}

/** Characters that may not start a plain scalar (`-` is handled on its own). */
function isIndicator(c: number): boolean {
  switch (c) {
    case 0x3f: // ?
    case COLON:
    case 0x2c: // ,
    case 0x5b: // [
    case 0x5d: // ]
    case 0x7b: // {
    case 0x7d: // }
    case HASH:
    case 0x26: // &
    case 0x2a: // *
    case 0x21: // !
    case 0x7c: // |
    case 0x3e: // >
    case SQUOTE:
    case DQUOTE:
    case 0x25: // %
    case 0x40: // @
    case 0x60: // `
      return true;
    default:
      return false;
  }
}

const OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const HEX = /^0x[0-9a-fA-F]+$/;
const NAN_INF = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/** A plain scalar's value under the YAML 1.2 core schema, tested in the library's order. */
function resolvePlain(raw: string): JsonValue {
  const c = raw.charCodeAt(0);
  switch (c) {
    case 0x7e: // ~
      return raw === '~' ? null : raw;
    case 0x6e: // n
    case 0x4e: // N
      return raw === 'null' || raw === 'Null' || raw === 'NULL' ? null : raw;
    case 0x74: // t
    case 0x54: // T
      return raw === 'true' || raw === 'True' || raw === 'TRUE' ? true : raw;
    case 0x66: // f
    case 0x46: // F
      return raw === 'false' || raw === 'False' || raw === 'FALSE' ? false : raw;
    default:
      if (!((c >= 0x30 && c <= 0x39) || c === DASH || c === 0x2b || c === 0x2e)) return raw;
  }
  let n: number;
  if (OCT.test(raw)) n = Number.parseInt(raw.slice(2), 8);
  else if (INT.test(raw)) n = Number.parseInt(raw, 10);
  else if (HEX.test(raw)) n = Number.parseInt(raw.slice(2), 16);
  else if (NAN_INF.test(raw)) throw FALLBACK;
  else if (EXP.test(raw) || FLOAT.test(raw)) n = Number.parseFloat(raw);
  else return raw;
  if (!Number.isFinite(n)) throw FALLBACK;
  return n;
}

function setKey(out: JsonObject, key: string, value: JsonValue): void {
  if (Object.hasOwn(out, key)) throw FALLBACK; // repeated: the library reports it
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    out[key] = value;
  }
}

const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
};
const HEX_DIGITS = /^[0-9a-fA-F]+$/;

class FastParser {
  private readonly len: number;
  /** After a node: the offset of the next content line's first character (or `len`)... */
  private pos = 0;
  /** ...and that line's indentation (-1 at the end). */
  private ind = -1;
  /** The last key read by `keyEnd`. */
  private key = '';
  /** The end of the last quoted or flow scalar read. */
  private end = 0;
  private recorded: RecordedOffset[] = [];

  constructor(
    private readonly text: string,
    private readonly record: PositionTrie,
  ) {
    this.len = text.length;
  }

  stream(): FastDocument[] {
    const docs: FastDocument[] = [];
    let i = 0;
    for (;;) {
      let s = this.nextContent(i);
      if (s >= this.len) break;
      if (this.ind === 0 && this.isMarker(s, DASH)) {
        i = this.afterMarker(s);
        s = this.nextContent(i);
        if (s >= this.len) break;
        if (this.ind === 0 && this.isMarker(s, DASH)) {
          i = s; // an empty document
          continue;
        }
      }
      if (this.ind === 0 && this.isMarker(s, 0x2e)) throw FALLBACK; // `...`
      if (this.isSeqDash(s)) throw FALLBACK; // not a mapping: the library says so
      this.recorded = [];
      const value = this.blockMap(s, this.ind, 0, this.record, '', []);
      docs.push({ value, start: s, recorded: this.recorded });
      if (this.pos < this.len && !(this.ind === 0 && this.isMarker(this.pos, DASH))) throw FALLBACK;
      i = this.pos;
    }
    return docs;
  }

  /** The first character of the next line that is neither blank nor a comment, from line start `i`. */
  private nextContent(i: number): number {
    const t = this.text;
    const len = this.len;
    while (i < len) {
      let s = i;
      while (s < len && t.charCodeAt(s) === SPACE) s++;
      if (s >= len) break;
      const c = t.charCodeAt(s);
      if (c === NL) {
        i = s + 1;
      } else if (c === HASH) {
        i = this.nextLine(s);
      } else {
        this.ind = s - i;
        return s;
      }
    }
    this.ind = -1;
    return len;
  }

  /** The start of the line after the one holding `i` (or `len`). */
  private nextLine(i: number): number {
    const nl = this.text.indexOf('\n', i);
    return nl < 0 ? this.len : nl + 1;
  }

  private isMarker(s: number, c: number): boolean {
    const t = this.text;
    if (t.charCodeAt(s) !== c || t.charCodeAt(s + 1) !== c || t.charCodeAt(s + 2) !== c) return false;
    const after = t.charCodeAt(s + 3);
    return s + 3 >= this.len || after === SPACE || after === NL;
  }

  /** After `---`: only a comment may follow on its line. */
  private afterMarker(s: number): number {
    const p = this.skipSpaces(s + 3);
    this.restOfLine(p, s + 3);
    return this.nextLine(p);
  }

  private skipSpaces(i: number): number {
    while (this.text.charCodeAt(i) === SPACE) i++;
    return i;
  }

  /** A line may go on after a value at `p` (spaces skipped from `from`) only with a comment. */
  private restOfLine(p: number, from: number): void {
    if (p >= this.len) return;
    const c = this.text.charCodeAt(p);
    if (c === NL) return;
    if (c === HASH && p > from) return;
    throw FALLBACK;
  }

  /** `-` followed by a space, a line break or the end: a block sequence entry. */
  private isSeqDash(s: number): boolean {
    if (this.text.charCodeAt(s) !== DASH) return false;
    const c = this.text.charCodeAt(s + 1);
    return s + 1 >= this.len || c === SPACE || c === NL;
  }

  private mark(trie: PositionTrie | undefined, path: string[], pointer: string, offset: number): void {
    if (trie?.terminal) this.recorded.push({ path, pointer, offset });
  }

  /**
   * The key starting at `k`: returns the offset of its `:` and leaves the key in `this.key`;
   * -1 when the text there is not a key this path reads (or throws, unless `probe`).
   */
  private keyEnd(k: number, probe: boolean): number {
    const t = this.text;
    const c = t.charCodeAt(k);
    let colon: number;
    if (c === DQUOTE || c === SQUOTE) {
      const key = c === DQUOTE ? this.doubleQuoted(k, probe) : this.singleQuoted(k, probe);
      if (key === undefined) return -1;
      colon = this.skipSpaces(this.end);
      if (t.charCodeAt(colon) !== COLON || this.end - k > 1000) {
        if (probe) return -1;
        throw FALLBACK;
      }
      this.key = key;
    } else {
      let j = k;
      if (c !== SPACE && c !== DASH) while (j < this.len && isSimpleChar(t.charCodeAt(j))) j++;
      colon = j;
      let e = j;
      while (e > k && t.charCodeAt(e - 1) === SPACE) e--;
      if (j === k || t.charCodeAt(j) !== COLON || j - k > 1000) {
        if (probe) return -1;
        throw FALLBACK;
      }
      const key = t.slice(k, e);
      if (typeof resolvePlain(key) !== 'string') throw FALLBACK; // a number, boolean or null key
      this.key = key;
    }
    const after = t.charCodeAt(colon + 1);
    if (colon + 1 < this.len && after !== SPACE && after !== NL) {
      if (probe) return -1;
      throw FALLBACK;
    }
    return colon;
  }

  /** A block mapping at indentation `n` whose first key starts at `k`. */
  private blockMap(
    k: number,
    n: number,
    depth: number,
    trie: PositionTrie | undefined,
    pointer: string,
    path: string[],
  ): JsonObject {
    if (depth > FAST_MAX_DEPTH) throw FALLBACK;
    this.mark(trie, path, pointer, k);
    const out: JsonObject = {};
    for (;;) {
      // `---x:` or `...:` at the start of a line: whether the library sees a marker, its call.
      if (n === 0 && (this.text.startsWith('---', k) || this.text.startsWith('...', k))) throw FALLBACK;
      const colon = this.keyEnd(k, false);
      const key = this.key;
      const child = trie ? (trie.children.get(key) ?? trie.star) : undefined;
      const childPointer = child ? `${pointer}/${escapePointer(key)}` : '';
      const childPath = child ? [...path, key] : path;
      setKey(out, key, this.value(colon + 1, n, true, depth + 1, child, childPointer, childPath));
      const s = this.pos;
      if (s >= this.len || this.ind < n) break;
      if (this.ind > n) throw FALLBACK;
      if (n === 0 && (this.isMarker(s, DASH) || this.isMarker(s, 0x2e))) break;
      k = s;
    }
    return out;
  }

  /** A block sequence at indentation `n` whose first `-` is at `d`. */
  private blockSeq(
    d: number,
    n: number,
    depth: number,
    trie: PositionTrie | undefined,
    pointer: string,
    path: string[],
  ): JsonValue[] {
    if (depth > FAST_MAX_DEPTH) throw FALLBACK;
    this.mark(trie, path, pointer, d);
    const out: JsonValue[] = [];
    const t = this.text;
    for (;;) {
      const i = out.length;
      const child = trie ? (trie.children.get(String(i)) ?? trie.star) : undefined;
      const childPointer = child ? `${pointer}/${i}` : '';
      const childPath = child ? [...path, String(i)] : path;
      const q = this.skipSpaces(d + 1);
      const c = t.charCodeAt(q);
      if (q < this.len && c !== NL && c !== HASH && q > d + 1) {
        const column = n + (q - d);
        if (this.isSeqDash(q)) {
          out.push(this.blockSeq(q, column, depth + 1, child, childPointer, childPath));
        } else if (this.keyEnd(q, true) >= 0) {
          out.push(this.blockMap(q, column, depth + 1, child, childPointer, childPath));
        } else {
          out.push(this.value(d + 1, n, false, depth + 1, child, childPointer, childPath));
        }
      } else {
        out.push(this.value(d + 1, n, false, depth + 1, child, childPointer, childPath));
      }
      const s = this.pos;
      if (s >= this.len || this.ind < n) break;
      if (this.ind > n) throw FALLBACK;
      if (!this.isSeqDash(s)) break; // the next key of a mapping at the same indentation
      d = s;
    }
    return out;
  }

  /**
   * The value after a mapping's `:` or a sequence's `-` at `p`, in a collection at
   * indentation `n`; leaves `pos` and `ind` at the next content line.
   */
  private value(
    p: number,
    n: number,
    inMap: boolean,
    depth: number,
    trie: PositionTrie | undefined,
    pointer: string,
    path: string[],
  ): JsonValue {
    const t = this.text;
    const q = this.skipSpaces(p);
    const c = q < this.len ? t.charCodeAt(q) : NL;
    if (c === NL || c === HASH) {
      if (c === HASH && q === p) throw FALLBACK;
      const s = this.nextContent(this.nextLine(q));
      if (s < this.len && this.ind > n) {
        if (this.isSeqDash(s)) return this.blockSeq(s, this.ind, depth, trie, pointer, path);
        return this.blockMap(s, this.ind, depth, trie, pointer, path);
      }
      if (inMap && s < this.len && this.ind === n && this.isSeqDash(s)) {
        return this.blockSeq(s, n, depth, trie, pointer, path);
      }
      this.mark(trie, path, pointer, q);
      this.pos = s;
      return null;
    }
    if (q === p) throw FALLBACK;
    this.mark(trie, path, pointer, q);
    let value: JsonValue;
    let lineEnd: number;
    if (c === 0x7c || c === 0x3e) {
      return this.blockScalar(q, n, c === 0x3e);
    } else if (c === DQUOTE || c === SQUOTE) {
      value = (c === DQUOTE ? this.doubleQuoted(q, false) : this.singleQuoted(q, false)) as string;
      const r = this.skipSpaces(this.end);
      this.restOfLine(r, this.end);
      lineEnd = r;
    } else if (c === 0x5b || c === 0x7b) {
      value = this.flow(q, depth, trie, pointer, path);
      const r = this.skipSpaces(this.end);
      this.restOfLine(r, this.end);
      lineEnd = r;
    } else {
      if (isIndicator(c)) throw FALLBACK;
      if (c === DASH) {
        const next = t.charCodeAt(q + 1);
        if (q + 1 >= this.len || next === SPACE || next === NL) throw FALLBACK;
      }
      let e = t.indexOf('\n', q);
      if (e < 0) e = this.len;
      lineEnd = e;
      let raw = t.slice(q, e);
      const comment = raw.indexOf(' #');
      if (comment >= 0) e = q + comment;
      while (t.charCodeAt(e - 1) === SPACE) e--;
      raw = t.slice(q, e);
      if (raw.includes(': ') || raw.charCodeAt(raw.length - 1) === COLON) throw FALLBACK;
      value = resolvePlain(raw);
    }
    this.pos = this.nextContent(this.nextLine(lineEnd));
    if (this.pos < this.len && this.ind > n) throw FALLBACK; // a continuation line
    return value;
  }

  /** A double-quoted scalar on one line from `q`; sets `end` past the closing quote. */
  private doubleQuoted(q: number, probe: boolean): string | undefined {
    const t = this.text;
    let out = '';
    let from = q + 1;
    let i = from;
    for (;;) {
      const c = t.charCodeAt(i);
      if (i >= this.len || c === NL) {
        if (probe) return undefined;
        throw FALLBACK;
      }
      if (c === DQUOTE) break;
      if (c === 0x5c) {
        out += t.slice(from, i);
        const e = t[i + 1] ?? '';
        const simple = ESCAPES[e];
        if (simple !== undefined) {
          out += simple;
          i += 2;
        } else {
          const size = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
          const hex = t.slice(i + 2, i + 2 + size);
          if (size === 0 || hex.length !== size || !HEX_DIGITS.test(hex)) throw FALLBACK;
          const code = Number.parseInt(hex, 16);
          if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw FALLBACK;
          out += String.fromCodePoint(code);
          i += 2 + size;
        }
        from = i;
        continue;
      }
      i++;
    }
    this.end = i + 1;
    return out + t.slice(from, i);
  }

  /** A single-quoted scalar on one line from `q`; sets `end` past the closing quote. */
  private singleQuoted(q: number, probe: boolean): string | undefined {
    const t = this.text;
    let out = '';
    let from = q + 1;
    for (;;) {
      const close = t.indexOf("'", from);
      const nl = t.indexOf('\n', from);
      if (close < 0 || (nl >= 0 && nl < close)) {
        if (probe) return undefined;
        throw FALLBACK;
      }
      if (t.charCodeAt(close + 1) === SQUOTE) {
        out += t.slice(from, close + 1);
        from = close + 2;
        continue;
      }
      this.end = close + 1;
      return out + t.slice(from, close);
    }
  }

  /** A literal (`|`) or folded (`>`) block scalar whose header is at `q`, in a collection at `n`. */
  private blockScalar(q: number, n: number, folded: boolean): string {
    const t = this.text;
    const len = this.len;
    let p = q + 1;
    let strip = false;
    const chomp = t.charCodeAt(p);
    if (chomp === DASH) {
      strip = true;
      p++;
    } else if (chomp === 0x2b || (chomp >= 0x30 && chomp <= 0x39)) {
      throw FALLBACK; // keep chomping or an indentation indicator
    }
    const r = this.skipSpaces(p);
    if (r >= len) throw FALLBACK;
    this.restOfLine(r, p);
    let line = this.nextLine(r);
    // The content's indentation is the first non-blank line's.
    let m = -1;
    let leading = false;
    let leadingSpaces = 0;
    for (let i = line; i < len; ) {
      const s = this.skipSpaces(i);
      if (s >= len) break;
      if (t.charCodeAt(s) !== NL) {
        m = s - i;
        break;
      }
      leading = true;
      leadingSpaces = Math.max(leadingSpaces, s - i);
      i = s + 1;
    }
    // An empty scalar, leading blank lines longer than the content's indentation (an error)
    // or before folded text: the library's path.
    if (m <= n || (leading && (folded || leadingSpaces > m))) throw FALLBACK;
    const lines: string[] = [];
    while (line < len) {
      const s = this.skipSpaces(line);
      if (s >= len) {
        if (s - line > m) throw FALLBACK; // spaces past the indentation are content
        break; // trailing spaces at the end of the text
      }
      if (t.charCodeAt(s) === NL) {
        if (s - line > m) throw FALLBACK;
        lines.push('');
        line = s + 1;
        continue;
      }
      if (s - line < m) break;
      if (folded && s - line > m) throw FALLBACK; // more-indented lines are not folded
      const nl = t.indexOf('\n', s);
      if (nl < 0) throw FALLBACK; // no final line break
      lines.push(t.slice(line + m, nl));
      line = nl + 1;
    }
    let last = lines.length - 1;
    while (last >= 0 && lines[last] === '') last--;
    let body: string;
    if (!folded) {
      body = lines.slice(0, last + 1).join('\n');
    } else {
      body = lines[0]!;
      let empty = 0;
      for (let i = 1; i <= last; i++) {
        const l = lines[i]!;
        if (l === '') {
          empty++;
          continue;
        }
        body += empty === 0 ? ` ${l}` : `${'\n'.repeat(empty)}${l}`;
        empty = 0;
      }
    }
    this.pos = this.nextContent(line);
    if (this.pos < len && this.ind > n) throw FALLBACK;
    return strip ? body : `${body}\n`;
  }

  /** A flow sequence or mapping on one line from `q`; sets `end` past its closing bracket. */
  private flow(
    q: number,
    depth: number,
    trie: PositionTrie | undefined,
    pointer: string,
    path: string[],
  ): JsonValue {
    if (depth > FAST_MAX_DEPTH) throw FALLBACK;
    const t = this.text;
    const isSeq = t.charCodeAt(q) === 0x5b;
    const close = isSeq ? 0x5d : 0x7d;
    const seq: JsonValue[] = [];
    const map: JsonObject = {};
    let p = this.skipSpaces(q + 1);
    if (t.charCodeAt(p) === close) {
      this.end = p + 1;
      return isSeq ? seq : map;
    }
    for (let i = 0; ; i++) {
      let key = '';
      if (!isSeq) {
        const k = this.flowItem(p, undefined, '', path, depth + 1, true);
        if (typeof k !== 'string') throw FALLBACK;
        key = k;
        p = this.skipSpaces(this.end);
        if (t.charCodeAt(p) !== COLON || t.charCodeAt(p + 1) !== SPACE) throw FALLBACK;
        p = this.skipSpaces(p + 1);
      }
      const seg = isSeq ? String(i) : key;
      const child = trie ? (trie.children.get(seg) ?? trie.star) : undefined;
      const childPointer = child ? `${pointer}/${escapePointer(seg)}` : '';
      const childPath = child ? [...path, seg] : path;
      const item = this.flowItem(p, child, childPointer, childPath, depth + 1, false);
      if (isSeq) seq.push(item);
      else setKey(map, key, item);
      p = this.skipSpaces(this.end);
      const c = t.charCodeAt(p);
      if (c === close) break;
      if (c !== 0x2c) throw FALLBACK;
      p = this.skipSpaces(p + 1);
      if (t.charCodeAt(p) === close) throw FALLBACK; // a trailing comma
    }
    this.end = p + 1;
    return isSeq ? seq : map;
  }

  /** One scalar or nested collection inside a flow collection at `p`; sets `end` after it. */
  private flowItem(
    p: number,
    trie: PositionTrie | undefined,
    pointer: string,
    path: string[],
    depth: number,
    isKey: boolean,
  ): JsonValue {
    const t = this.text;
    const c = t.charCodeAt(p);
    if (!isKey) this.mark(trie, path, pointer, p);
    if (c === DQUOTE) return this.doubleQuoted(p, false) as string;
    if (c === SQUOTE) return this.singleQuoted(p, false) as string;
    if (c === 0x5b || c === 0x7b) {
      if (isKey) throw FALLBACK;
      return this.flow(p, depth, trie, pointer, path);
    }
    if (c === SPACE || !isSimpleChar(c)) throw FALLBACK;
    if (c === DASH) {
      const next = t.charCodeAt(p + 1);
      if (next === SPACE || !isSimpleChar(next)) throw FALLBACK; // `- ` is a block entry
    }
    let e = p;
    while (e < this.len && isSimpleChar(t.charCodeAt(e))) e++;
    this.end = e;
    while (t.charCodeAt(e - 1) === SPACE) e--;
    const value = resolvePlain(t.slice(p, e));
    if (isKey && typeof value !== 'string') throw FALLBACK;
    return value;
  }
}
