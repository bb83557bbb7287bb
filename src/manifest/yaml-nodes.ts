/**
 * Between the `yaml` node tree and plain JSON: converts a parsed document to a JSON value
 * (with the alias-bomb guard, string keys only, finite numbers only, `__proto__` kept as an
 * ordinary key), finds the node at a JSON pointer, and records the source positions that
 * later checks point at. Lines and columns are 1-based.
 */
import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Pair,
  type ParsedNode,
  type Scalar,
  type YAMLMap,
} from 'yaml';
import type { JsonObject, JsonValue } from '../types.js';
import type { RefPos } from './types.js';

/** Alias expansions allowed per document; a few are legitimate, an alias bomb needs millions. */
export const MAX_ALIAS_EXPANSIONS = 50;
/** Nesting depth allowed in a document; manifests are a handful of levels deep. */
export const MAX_DEPTH = 64;

/** A document that cannot be turned into JSON, located at the node that caused it. */
export class ConvertError extends Error {
  constructor(
    readonly node: Node | undefined,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ConvertError';
  }
}

type AnyDoc = Document.Parsed | Document;

/**
 * Paths whose positions to record, as a trie over path segments (`*` = any key or index).
 * Built once per pattern list by `positionTrie`.
 */
export interface PositionTrie {
  terminal: boolean;
  children: Map<string, PositionTrie>;
  star: PositionTrie | undefined;
}

/** Compiles path patterns into a trie; an exact child also carries what `*` matches there. */
export function positionTrie(patterns: readonly (readonly string[])[]): PositionTrie {
  const root = emptyTrie();
  for (const pattern of patterns) {
    let node = root;
    for (const seg of pattern) {
      if (seg === '*') {
        node.star = node.star ?? emptyTrie();
        node = node.star;
      } else {
        const next = node.children.get(seg) ?? emptyTrie();
        node.children.set(seg, next);
        node = next;
      }
    }
    node.terminal = true;
  }
  foldStars(root);
  return root;
}

function emptyTrie(): PositionTrie {
  return { terminal: false, children: new Map(), star: undefined };
}

function mergeTries(a: PositionTrie, b: PositionTrie): PositionTrie {
  const out: PositionTrie = {
    terminal: a.terminal || b.terminal,
    children: new Map(a.children),
    star: a.star,
  };
  for (const [k, v] of b.children) {
    const mine = out.children.get(k);
    out.children.set(k, mine ? mergeTries(mine, v) : v);
  }
  if (b.star) out.star = out.star ? mergeTries(out.star, b.star) : b.star;
  return out;
}

function foldStars(node: PositionTrie): void {
  if (node.star) {
    for (const [k, child] of node.children) node.children.set(k, mergeTries(child, node.star));
    foldStars(node.star);
  }
  for (const child of node.children.values()) foldStars(child);
}

export interface ConvertOptions {
  lineCounter: LineCounter;
  /** Paths whose positions to record into `positions`, keyed by JSON pointer. */
  record: PositionTrie;
  positions: Record<string, RefPos>;
  /**
   * Receives the key nodes that repeat an earlier key of their mapping (as `duplicateKeys`
   * finds them, in no particular order), found in the same pass; when absent, a repeated key
   * is not looked for (the later value wins).
   */
  duplicates?: Set<Node>;
}

interface ConvertState {
  doc: AnyDoc;
  aliases: number;
  options: ConvertOptions | undefined;
}

/**
 * Converts the document's contents to JSON, recording the positions `options.record` asks
 * for (and the repeated keys, into `options.duplicates`) in the same pass. Throws ConvertError.
 */
export function documentToJson(doc: AnyDoc, options?: ConvertOptions): JsonValue {
  const state: ConvertState = { doc, aliases: 0, options };
  return convert(state, doc.contents as Node | null, 0, options?.record, '');
}

/** Scalar key values already seen in one mapping: an array for a few keys, a Set for more. */
function repeatedKeyChecker(size: number): (value: unknown) => boolean {
  if (size > 8) {
    const seen = new Set<unknown>();
    return (v) => {
      if (seen.has(v)) return true;
      seen.add(v);
      return false;
    };
  }
  const seen: unknown[] = [];
  return (v) => {
    if (seen.includes(v)) return true;
    seen.push(v);
    return false;
  };
}

function convert(
  state: ConvertState,
  node: Node | null | undefined,
  depth: number,
  trie: PositionTrie | undefined,
  pointer: string,
): JsonValue {
  if (node === null || node === undefined) return null;
  if (depth > MAX_DEPTH)
    throw new ConvertError(node, `document is nested more than ${MAX_DEPTH} levels deep`);
  if (isAlias(node)) {
    state.aliases += 1;
    if (state.aliases > MAX_ALIAS_EXPANSIONS) {
      throw new ConvertError(
        node,
        `too many alias expansions (more than ${MAX_ALIAS_EXPANSIONS}) in one document`,
        'this looks like an alias bomb ("billion laughs"); write the values out instead of nesting aliases',
      );
    }
    const target = node.resolve(state.doc as Document);
    if (!target)
      throw new ConvertError(
        node,
        `unknown alias *${node.source}`,
        'define the anchor (&name) before using it',
      );
    return convert(state, target, depth + 1, trie, pointer);
  }
  if (trie?.terminal && state.options)
    state.options.positions[pointer] = positionOf(state.options.lineCounter, node);
  if (isScalar(node)) return scalarValue(node);
  if (isMap(node)) {
    const out: JsonObject = {};
    const duplicates = state.options?.duplicates;
    const repeated = duplicates ? repeatedKeyChecker(node.items.length) : undefined;
    for (const pair of node.items) {
      if (repeated && isScalar(pair.key)) {
        // Compared by value, as duplicateKeys and the library's uniqueKeys check do.
        const v = pair.key.value;
        if (!Number.isNaN(v) && repeated(v)) duplicates?.add(pair.key as Node);
      }
      const key = keyString(pair.key as Node | null, node);
      const child = trie ? (trie.children.get(key) ?? trie.star) : undefined;
      const childPointer = child ? `${pointer}/${escapePointer(key)}` : '';
      let valueNode = pair.value as Node | null;
      if (valueNode === null && child?.terminal && state.options) {
        // `key:` with no value has no node of its own: point at the key.
        state.options.positions[childPointer] = positionOf(state.options.lineCounter, pair.key as Node);
        valueNode = null;
      }
      const value = convert(state, valueNode, depth + 1, child, childPointer);
      if (key === '__proto__') {
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      } else {
        out[key] = value;
      }
    }
    return out;
  }
  if (isSeq(node)) {
    const out: JsonValue[] = new Array(node.items.length);
    for (let i = 0; i < node.items.length; i++) {
      const child = trie ? (trie.children.get(String(i)) ?? trie.star) : undefined;
      out[i] = convert(state, node.items[i] as Node | null, depth + 1, child, child ? `${pointer}/${i}` : '');
    }
    return out;
  }
  throw new ConvertError(node, 'unsupported YAML node');
}

function scalarValue(node: Scalar): JsonValue {
  const v = node.value;
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) {
      throw new ConvertError(
        node,
        `${String(node.source ?? v)} is not a finite number`,
        'quote it to make it a string',
      );
    }
    return v;
  }
  if (typeof v === 'bigint') {
    throw new ConvertError(node, 'integer is too large', 'quote it to make it a string');
  }
  throw new ConvertError(node, `unsupported value of type ${typeof v}`, 'quote it to make it a string');
}

function keyString(key: Node | null, map: Node): string {
  if (key === null) throw new ConvertError(map, 'mapping key is empty');
  if (isScalar(key)) {
    const v = key.value;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(key.source ?? v);
    throw new ConvertError(key, 'mapping keys must be strings');
  }
  throw new ConvertError(key, 'mapping keys must be strings, not collections or aliases');
}

/**
 * Each map's first pair per scalar key, built on first lookup. A document with thousands of
 * keys (or thousands of diagnostics) would otherwise cost a linear scan per lookup: quadratic.
 */
const pairIndexes = new WeakMap<YAMLMap, Map<string, Pair>>();

function pairByKey(map: YAMLMap, key: string): Pair | undefined {
  let index = pairIndexes.get(map);
  if (!index) {
    index = new Map();
    for (const p of map.items) {
      if (!isPair(p) || !isScalar(p.key)) continue;
      const k = String(p.key.value);
      if (!index.has(k)) index.set(k, p as Pair);
    }
    pairIndexes.set(map, index);
  }
  return index.get(key);
}

/**
 * Key nodes that repeat an earlier key of the same mapping (scalar keys equal by value, as the
 * `yaml` library's `uniqueKeys` check compares them), in document order. Linear in the size of
 * the document, where the library's own check is quadratic in the number of keys of a mapping;
 * the parser runs with `uniqueKeys: false` and calls this instead. Iterative: no recursion
 * limit on nesting depth. Aliases are not followed (their targets are checked where defined).
 */
export function duplicateKeys(doc: AnyDoc): Node[] {
  const found: Node[] = [];
  const stack: unknown[] = [];
  if (isCollection(doc.contents)) stack.push(doc.contents);
  // Most mappings have a handful of keys: a linear scan of those beats building a Set.
  const small: unknown[] = [];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const items = node.items;
      const seen = items.length > 8 ? new Set<unknown>() : undefined;
      small.length = 0;
      for (const pair of items) {
        const key = pair.key;
        if (isScalar(key)) {
          const v = key.value;
          if (!Number.isNaN(v)) {
            if (seen ? seen.has(v) : small.includes(v)) found.push(key as Node);
            else if (seen) seen.add(v);
            else small.push(v);
          }
        } else if (isCollection(key)) {
          stack.push(key);
        }
        if (isCollection(pair.value)) stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) if (isCollection(item)) stack.push(item);
    }
  }
  return found.length < 2
    ? found
    : found.sort((a, b) => ((a as ParsedNode).range?.[0] ?? 0) - ((b as ParsedNode).range?.[0] ?? 0));
}

/** The node at `path` (JSON pointer segments), following aliases; `atKey` gives the key node. */
export function nodeAt(doc: AnyDoc, path: readonly string[], atKey = false): Node | undefined {
  let node = deref(doc, doc.contents as Node | null);
  for (let i = 0; i < path.length; i++) {
    if (!node) return undefined;
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = pairByKey(node, seg);
      if (!pair) return node;
      if (last && atKey) return pair.key as Node;
      const value = deref(doc, pair.value as Node | null);
      // `key:` with no value has no node of its own: point at the key.
      node = value ?? (pair.key as Node);
    } else if (isSeq(node)) {
      const item = deref(doc, node.items[Number(seg)] as Node | null);
      if (!item) return node;
      node = item;
    } else {
      return node;
    }
  }
  return node ?? undefined;
}

function deref(doc: AnyDoc, node: Node | null | undefined): Node | undefined {
  let n = node ?? undefined;
  for (let i = 0; n && isAlias(n) && i < 8; i++) n = n.resolve(doc as Document);
  return n;
}

/** 1-based line and column of a node's start (the document start if there is no node). */
export function positionOf(lineCounter: LineCounter, node: Node | undefined, fallback = 0): RefPos {
  const offset = (node as ParsedNode | undefined)?.range?.[0] ?? fallback;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** JSON pointer for path segments. */
export function toPointer(path: readonly string[]): string {
  return path.map((s) => `/${escapePointer(s)}`).join('');
}
