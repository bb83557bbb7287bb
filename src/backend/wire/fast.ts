/**
 * A hand-written protobuf codec for the bulk messages of the reconciler — `Resource` (ListResources
 * pages), `ResourceChange` (ApplyChanges batches) and `AppliedChange` (their results) — because
 * the reflective codec of protobuf-es spends most of a 10,000-resource plan or apply on them
 * (google.protobuf.Struct above all). The bytes are the proto's own wire format: a stock gRPC
 * client sees ordinary messages, and fast.test.ts proves both codecs read each other's output.
 *
 * How it plugs into connect: a bulk repeated field travels as the message's unknown fields
 * (`$unknown`, one entry per element, written as they are by protobuf-es), and the side that
 * reads it uses a *view* of the message without that field (VIEWS), so protobuf-es hands the
 * elements over undecoded. Encoding is two passes: sizes first (pre-order, one slot per nested
 * message), then one write into a single buffer.
 */
import { clone, createFileRegistry, type DescMessage, type DescMethod } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { StigmerError } from '../../errors.js';
import {
  BackendService,
  ChangeOperation,
  file_stigmer_backend_v1_backend,
} from '../../gen/stigmer/backend/v1/backend_pb.js';
import {
  DeferredJson,
  type EagerFields,
  lazyStoredResource,
  storedSpecText,
  storedStatusText,
} from '../../stored-text.js';
import {
  DECLARED_KINDS,
  type DeclaredKind,
  type JsonObject,
  type JsonValue,
  type StoredResource,
} from '../../types.js';
import type { AppliedChange, ResourceChange } from '../types.js';

type UnknownField = { no: number; wireType: number; data: Uint8Array };

const LEN = 2;
const VARINT = 0;
const BIT64 = 1;
const BIT32 = 5;

// --- encoding ------------------------------------------------------------------------------

function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 5;
  for (let v = Math.floor(n / 0x800000000); v > 0; v = Math.floor(v / 128)) size++;
  return size;
}

const OPERATIONS: Record<ResourceChange['op'], ChangeOperation> = {
  create: ChangeOperation.CREATE,
  update: ChangeOperation.UPDATE,
  delete: ChangeOperation.DELETE,
  assert: ChangeOperation.ASSERT,
};

/** UTF-8 length of a string, as Buffer counts it (a lone surrogate is 3 bytes, U+FFFD). */
function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, 'utf8');
  let size = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) size += 1;
    else if (c < 0x800) size += 2;
    else if ((c & 0xfc00) === 0xd800 && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      i++;
      size += 4;
    } else size += 3;
  }
  return size;
}

/** Pass one: body sizes of every nested message, in the order pass two writes them. */
class Sizer {
  readonly sizes: number[] = [];

  /** Reserves the size slot of a nested message (pre-order). */
  private open(): number {
    return this.sizes.push(0) - 1;
  }

  /** Fills the slot; returns the size of the field holding the message (tag, length, body). */
  private close(slot: number, body: number): number {
    this.sizes[slot] = body;
    return 1 + varintSize(body) + body;
  }

  string(s: string): number {
    const n = utf8Length(s);
    return 1 + varintSize(n) + n;
  }

  stringMap(map: Record<string, string>): number {
    let size = 0;
    for (const k in map) {
      const slot = this.open();
      size += this.close(slot, this.string(k) + this.string(map[k] as string));
    }
    return size;
  }

  struct(o: JsonObject): number {
    const slot = this.open();
    return this.close(slot, this.structBody(o));
  }

  private structBody(o: JsonObject): number {
    let size = 0;
    for (const k in o) {
      const v = o[k];
      if (v === undefined) continue;
      const slot = this.open();
      size += this.close(slot, this.string(k) + this.value(v));
    }
    return size;
  }

  private value(v: JsonValue): number {
    const slot = this.open();
    let body: number;
    if (v === null) body = 2;
    else if (typeof v === 'number') body = 9;
    else if (typeof v === 'string') body = this.string(v);
    else if (typeof v === 'boolean') body = 2;
    else if (Array.isArray(v)) {
      const list = this.open();
      let n = 0;
      for (const e of v) n += this.value(e);
      body = this.close(list, n);
    } else body = this.struct(v);
    return this.close(slot, body);
  }

  timestamp(ms: number): number {
    const slot = this.open();
    return this.close(slot, timestampBody(ms));
  }

  resource(r: StoredResource, json?: JsonTexts): number {
    const slot = this.open();
    const body =
      this.string(r.id) +
      this.string(r.kind) +
      this.string(r.name) +
      this.stringMap(r.labels) +
      this.stringMap(r.annotations) +
      (json
        ? this.string(json.spec) + this.string(json.status)
        : this.struct(r.spec) + this.struct(r.status)) +
      1 +
      varintSize(r.version) +
      this.timestamp(Date.parse(r.createdAt)) +
      this.timestamp(Date.parse(r.updatedAt));
    return this.close(slot, body);
  }

  change(c: ResourceChange): number {
    const slot = this.open();
    let body = 2 + this.string(c.kind) + this.string(c.name);
    if (c.op === 'create' || c.op === 'update') {
      body +=
        this.stringMap(c.labels ?? {}) + this.stringMap(c.annotations ?? {}) + this.struct(c.spec ?? {});
    }
    if (c.expectedVersion === null) body += 2;
    else if (c.expectedVersion !== undefined) body += 1 + varintSize(c.expectedVersion);
    return this.close(slot, body);
  }

  applied(a: AppliedChange): number {
    const slot = this.open();
    return this.close(
      slot,
      2 + this.string(a.kind) + this.string(a.name) + this.string(a.id) + 1 + varintSize(a.version),
    );
  }
}

function timestampBody(ms: number): number {
  const t = Number.isNaN(ms) ? 0 : ms;
  const seconds = Math.floor(t / 1000);
  const nanos = (t - seconds * 1000) * 1_000_000;
  return (seconds !== 0 ? 1 + varintSize(seconds) : 0) + (nanos !== 0 ? 1 + varintSize(nanos) : 0);
}

/** Pass two: writes into one buffer, taking nested sizes from the Sizer in the same order. */
class Writer {
  private pos = 0;
  private next = 0;

  constructor(
    readonly buf: Buffer,
    private readonly sizes: number[],
  ) {}

  get offset(): number {
    return this.pos;
  }

  private byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  varint(n: number): void {
    while (n >= 0x80) {
      this.byte((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    this.byte(n);
  }

  private tag(no: number, wireType: number): void {
    this.byte((no << 3) | wireType);
  }

  /** Starts a nested message field and returns its size (the Sizer computed it). */
  private open(no: number): void {
    this.tag(no, LEN);
    this.varint(this.sizes[this.next++] as number);
  }

  string(no: number, s: string): void {
    this.tag(no, LEN);
    const n = s.length;
    if (n > 64) {
      this.varint(Buffer.byteLength(s, 'utf8'));
      this.pos += this.buf.write(s, this.pos, 'utf8');
      return;
    }
    this.varint(utf8Length(s));
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        buf[pos++] = c;
      } else if (c < 0x800) {
        buf[pos++] = 0xc0 | (c >> 6);
        buf[pos++] = 0x80 | (c & 63);
      } else if ((c & 0xfc00) === 0xd800 && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        c = 0x10000 + ((c & 0x3ff) << 10) + (s.charCodeAt(++i) & 0x3ff);
        buf[pos++] = 0xf0 | (c >> 18);
        buf[pos++] = 0x80 | ((c >> 12) & 63);
        buf[pos++] = 0x80 | ((c >> 6) & 63);
        buf[pos++] = 0x80 | (c & 63);
      } else {
        // A lone surrogate becomes U+FFFD, as Buffer and TextEncoder write it.
        if ((c & 0xf800) === 0xd800) c = 0xfffd;
        buf[pos++] = 0xe0 | (c >> 12);
        buf[pos++] = 0x80 | ((c >> 6) & 63);
        buf[pos++] = 0x80 | (c & 63);
      }
    }
    this.pos = pos;
  }

  stringMap(no: number, map: Record<string, string>): void {
    for (const k in map) {
      this.open(no);
      this.string(1, k);
      this.string(2, map[k] as string);
    }
  }

  struct(no: number, o: JsonObject): void {
    this.open(no);
    this.structBody(o);
  }

  private structBody(o: JsonObject): void {
    for (const k in o) {
      const v = o[k];
      if (v === undefined) continue;
      this.open(1);
      this.string(1, k);
      this.value(2, v);
    }
  }

  private value(no: number, v: JsonValue): void {
    this.open(no);
    if (v === null) {
      this.tag(1, VARINT);
      this.byte(0);
      return;
    }
    switch (typeof v) {
      case 'number':
        this.tag(2, BIT64);
        this.buf.writeDoubleLE(v, this.pos);
        this.pos += 8;
        return;
      case 'string':
        this.string(3, v);
        return;
      case 'boolean':
        this.tag(4, VARINT);
        this.byte(v ? 1 : 0);
        return;
      default:
        if (Array.isArray(v)) {
          this.open(6);
          for (const e of v) this.value(1, e);
        } else {
          this.open(5);
          this.structBody(v);
        }
    }
  }

  timestamp(no: number, iso: string): void {
    this.open(no);
    const ms = Date.parse(iso);
    const t = Number.isNaN(ms) ? 0 : ms;
    const seconds = Math.floor(t / 1000);
    const nanos = (t - seconds * 1000) * 1_000_000;
    if (seconds !== 0) {
      this.tag(1, VARINT);
      this.varint(seconds);
    }
    if (nanos !== 0) {
      this.tag(2, VARINT);
      this.varint(nanos);
    }
  }

  /** A top-level element: its length prefix, then its body (what an unknown-field entry holds). */
  resource(r: StoredResource, json?: JsonTexts): void {
    this.varint(this.sizes[this.next++] as number);
    this.string(1, r.id);
    this.string(2, r.kind);
    this.string(3, r.name);
    this.stringMap(4, r.labels);
    this.stringMap(5, r.annotations);
    if (json) {
      this.string(11, json.spec);
      this.string(12, json.status);
    } else {
      this.struct(6, r.spec);
      this.struct(7, r.status);
    }
    this.tag(8, VARINT);
    this.varint(r.version);
    this.timestamp(9, r.createdAt);
    this.timestamp(10, r.updatedAt);
  }

  change(c: ResourceChange): void {
    this.varint(this.sizes[this.next++] as number);
    this.tag(1, VARINT);
    this.varint(OPERATIONS[c.op]);
    this.string(2, c.kind);
    this.string(3, c.name);
    if (c.op === 'create' || c.op === 'update') {
      this.stringMap(4, c.labels ?? {});
      this.stringMap(5, c.annotations ?? {});
      this.struct(6, c.spec ?? {});
    }
    if (c.expectedVersion === null) {
      this.tag(8, VARINT);
      this.byte(1);
    } else if (c.expectedVersion !== undefined) {
      this.tag(7, VARINT);
      this.varint(c.expectedVersion);
    }
  }

  applied(a: AppliedChange): void {
    this.varint(this.sizes[this.next++] as number);
    this.tag(1, VARINT);
    this.varint(OPERATIONS[a.op]);
    this.string(2, a.kind);
    this.string(3, a.name);
    this.string(4, a.id);
    this.tag(5, VARINT);
    this.varint(a.version);
  }
}

/**
 * Encodes `items` as the unknown-field entries of repeated message field `no`: one entry per
 * item, each a view into one shared buffer.
 */
function encodeRepeated<T>(
  no: number,
  items: readonly T[],
  size: (s: Sizer, item: T) => number,
  write: (w: Writer, item: T) => void,
): UnknownField[] {
  const sizer = new Sizer();
  let total = 0;
  for (const item of items) total += size(sizer, item) - 1; // no tag byte: the entry's tag is written by protobuf-es
  const writer = new Writer(Buffer.allocUnsafe(total), sizer.sizes);
  const out: UnknownField[] = [];
  for (const item of items) {
    const start = writer.offset;
    write(writer, item);
    out.push({ no, wireType: LEN, data: writer.buf.subarray(start, writer.offset) });
  }
  return out;
}

/** A resource's spec and status as the JSON text that `json_specs` sends instead of Structs. */
interface JsonTexts {
  spec: string;
  status: string;
}

/**
 * `json`: the resources' spec and status go out as JSON text (Resource.spec_json and
 * status_json, what ListResourcesRequest.json_specs asks for): the store's own text when it
 * still holds it, so the server neither decodes nor re-encodes a stored spec.
 */
export function encodeResources(
  no: number,
  resources: readonly StoredResource[],
  options: { json?: boolean } = {},
): UnknownField[] {
  if (!options.json) {
    return encodeRepeated(
      no,
      resources,
      (s, r) => s.resource(r),
      (w, r) => w.resource(r),
    );
  }
  const items = resources.map((r) => ({
    r,
    json: {
      spec: storedSpecText(r) ?? JSON.stringify(r.spec),
      status: storedStatusText(r) ?? JSON.stringify(r.status),
    },
  }));
  return encodeRepeated(
    no,
    items,
    (s, i) => s.resource(i.r, i.json),
    (w, i) => w.resource(i.r, i.json),
  );
}

export function encodeChanges(no: number, changes: readonly ResourceChange[]): UnknownField[] {
  return encodeRepeated(
    no,
    changes,
    (s, c) => s.change(c),
    (w, c) => w.change(c),
  );
}

export function encodeApplied(no: number, results: readonly AppliedChange[]): UnknownField[] {
  return encodeRepeated(
    no,
    results,
    (s, a) => s.applied(a),
    (w, a) => w.applied(a),
  );
}

// --- decoding ------------------------------------------------------------------------------

class Reader {
  pos: number;
  private readonly buf: Buffer;

  constructor(
    data: Uint8Array,
    start = 0,
    readonly end = data.length,
  ) {
    this.buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw malformed();
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw malformed();
  }

  /** A length prefix; returns the end of the delimited part. */
  length(): number {
    const n = this.varint();
    const end = this.pos + n;
    if (end > this.end) throw malformed();
    return end;
  }

  string(): string {
    const end = this.length();
    const buf = this.buf;
    let start = this.pos;
    this.pos = end;
    if (end - start <= 32) {
      // Short ASCII strings (names, keys, annotations) without a call into the runtime.
      let out = '';
      for (; start < end; start++) {
        const b = buf[start] as number;
        if (b >= 0x80) return out + buf.toString('utf8', start, end);
        out += String.fromCharCode(b);
      }
      return out;
    }
    return buf.toString('utf8', start, end);
  }

  double(): number {
    if (this.pos + 8 > this.end) throw malformed();
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.varint();
        return;
      case BIT64:
        this.pos += 8;
        break;
      case LEN:
        this.pos = this.length();
        return;
      case BIT32:
        this.pos += 4;
        break;
      default:
        throw malformed();
    }
    if (this.pos > this.end) throw malformed();
  }

  /** Calls `field(no, wireType)` for each field up to `end`; it must consume the field or return false. */
  fields(end: number, field: (no: number, wireType: number) => boolean): void {
    while (this.pos < end) {
      const tag = this.varint();
      const no = Math.floor(tag / 8);
      const wireType = tag & 7;
      if (!field(no, wireType)) this.skip(wireType);
    }
    if (this.pos !== end) throw malformed();
  }

  stringEntry(into: Record<string, string>): void {
    const end = this.length();
    let key = '';
    let value = '';
    this.fields(end, (no, wt) => {
      if (wt !== LEN) return false;
      if (no === 1) key = this.string();
      else if (no === 2) value = this.string();
      else return false;
      return true;
    });
    setOwn(into, key, value);
  }

  struct(): JsonObject {
    return this.structBody(this.length());
  }

  /**
   * Set by structText when its text may differ from JSON.stringify of what struct() decodes:
   * a key repeated in one Struct (the object keeps the last value at the first key's place),
   * or an array-index key such as "1" (an object lists those first, in numeric order).
   */
  textUnsafe = false;

  /**
   * The JSON text of a Struct without building its objects: exactly `JSON.stringify` of what
   * struct() returns, unless `textUnsafe` was set (then read it again with struct()). Same
   * rules as struct() and value() for absent, repeated and unknown fields.
   */
  structText(): string {
    const end = this.length();
    let out = '{';
    // The keys seen, to notice a repeated one: an array while the Struct is small (most are),
    // a Set past 16 keys so that a large one stays linear.
    let keys: string[] | Set<string> | undefined;
    this.fields(end, (no, wt) => {
      if (no !== 1 || wt !== LEN) return false;
      const entryEnd = this.length();
      let key = '';
      let value = 'null';
      this.fields(entryEnd, (eno, ewt) => {
        if (ewt !== LEN) return false;
        if (eno === 1) key = this.string();
        else if (eno === 2) value = this.valueText();
        else return false;
        return true;
      });
      if (keys === undefined) keys = [key];
      else if (Array.isArray(keys)) {
        if (keys.includes(key)) this.textUnsafe = true;
        keys.push(key);
        if (keys.length > 16) keys = new Set(keys);
      } else {
        if (keys.has(key)) this.textUnsafe = true;
        keys.add(key);
      }
      if (isArrayIndex(key)) this.textUnsafe = true;
      out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${value}`;
      return true;
    });
    return `${out}}`;
  }

  /** The JSON text of a google.protobuf.Value, as JSON.stringify writes what value() returns. */
  private valueText(): string {
    const end = this.length();
    let text = 'null';
    this.fields(end, (no, wt) => {
      switch (no) {
        case 1:
          if (wt !== VARINT) return false;
          this.varint();
          text = 'null';
          return true;
        case 2:
          if (wt !== BIT64) return false;
          // JSON.stringify writes NaN and the infinities as null, like any number otherwise.
          text = JSON.stringify(this.double());
          return true;
        case 3:
          if (wt !== LEN) return false;
          text = JSON.stringify(this.string());
          return true;
        case 4:
          if (wt !== VARINT) return false;
          text = this.varint() !== 0 ? 'true' : 'false';
          return true;
        case 5:
          if (wt !== LEN) return false;
          text = this.structText();
          return true;
        case 6: {
          if (wt !== LEN) return false;
          const listEnd = this.length();
          let list = '[';
          this.fields(listEnd, (lno, lwt) => {
            if (lno !== 1 || lwt !== LEN) return false;
            list += `${list.length === 1 ? '' : ','}${this.valueText()}`;
            return true;
          });
          text = `${list}]`;
          return true;
        }
        default:
          return false;
      }
    });
    return text;
  }

  private structBody(end: number): JsonObject {
    const out: JsonObject = {};
    this.fields(end, (no, wt) => {
      if (no !== 1 || wt !== LEN) return false;
      const entryEnd = this.length();
      let key = '';
      let value: JsonValue = null;
      this.fields(entryEnd, (eno, ewt) => {
        if (ewt !== LEN) return false;
        if (eno === 1) key = this.string();
        else if (eno === 2) value = this.value();
        else return false;
        return true;
      });
      setOwn(out, key, value);
      return true;
    });
    return out;
  }

  private value(): JsonValue {
    const end = this.length();
    let value: JsonValue = null;
    this.fields(end, (no, wt) => {
      switch (no) {
        case 1:
          if (wt !== VARINT) return false;
          this.varint();
          value = null;
          return true;
        case 2:
          if (wt !== BIT64) return false;
          value = this.double();
          return true;
        case 3:
          if (wt !== LEN) return false;
          value = this.string();
          return true;
        case 4:
          if (wt !== VARINT) return false;
          value = this.varint() !== 0;
          return true;
        case 5:
          if (wt !== LEN) return false;
          value = this.struct();
          return true;
        case 6: {
          if (wt !== LEN) return false;
          const listEnd = this.length();
          const list: JsonValue[] = [];
          this.fields(listEnd, (lno, lwt) => {
            if (lno !== 1 || lwt !== LEN) return false;
            list.push(this.value());
            return true;
          });
          value = list;
          return true;
        }
        default:
          return false;
      }
    });
    return value;
  }

  timestamp(): string {
    const end = this.length();
    let seconds = 0;
    let nanos = 0;
    this.fields(end, (no, wt) => {
      if (wt !== VARINT) return false;
      if (no === 1) seconds = this.varint();
      else if (no === 2) nanos = this.varint();
      else return false;
      return true;
    });
    const ms = seconds * 1000 + Math.floor(nanos / 1_000_000);
    // Resources applied together share their timestamps: one ISO text per run of equal ones.
    if (ms !== lastTimestamp.ms) {
      lastTimestamp.ms = ms;
      lastTimestamp.iso = new Date(ms).toISOString();
    }
    return lastTimestamp.iso;
  }
}

const lastTimestamp = { ms: Number.NaN, iso: '' };

/** True for the keys a JS object orders first: array indices, "0" to "4294967294". */
function isArrayIndex(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57 && /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) < 4294967295;
}

/** `o[key] = value` as JSON.parse does it: `__proto__` stays an own property, never the prototype. */
function setOwn<T>(o: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

function malformed(): StigmerError {
  return new StigmerError('BACKEND', 'a message from the stigmer server is malformed', {
    hint: 'the client and the server may be of incompatible versions',
  });
}

/** The elements of repeated field `no` from a view's unknown fields. */
function decodeRepeated<T>(
  no: number,
  unknown: readonly UnknownField[] | undefined,
  read: (r: Reader, data: Uint8Array) => T,
): T[] {
  const out: T[] = [];
  for (const u of unknown ?? []) {
    if (u.no !== no || u.wireType !== LEN) continue;
    const r = new Reader(u.data);
    const end = r.length();
    out.push(read(new Reader(u.data, r.pos, end), u.data));
  }
  return out;
}

const EPOCH = new Date(0).toISOString();

/**
 * Reads a Resource's fields other than spec and status into `fields`; those (numbers 6, 7, 11
 * and 12) go to `specField`, which consumes one and returns true, or returns false to skip it.
 */
function readResourceFields(r: Reader, fields: EagerFields, specField: (no: number) => boolean): void {
  r.fields(r.end, (no, wt) => {
    if (no === 8) {
      if (wt !== VARINT) return false;
      fields.version = r.varint();
      return true;
    }
    if (wt !== LEN) return false;
    switch (no) {
      case 1:
        fields.id = r.string();
        return true;
      case 2: {
        const kind = r.string();
        fields.kind = KIND_NAMES.get(kind) ?? (kind as DeclaredKind);
        return true;
      }
      case 3:
        fields.name = r.string();
        return true;
      case 4:
        r.stringEntry(fields.labels);
        return true;
      case 5:
        r.stringEntry(fields.annotations);
        return true;
      case 9:
        fields.createdAt = r.timestamp();
        return true;
      case 10:
        fields.updatedAt = r.timestamp();
        return true;
      default:
        return specField(no);
    }
  });
}

/** Kind names as constants: one string per kind instead of one per listed resource. */
const KIND_NAMES = new Map<string, DeclaredKind>(DECLARED_KINDS.map((k) => [k, k]));

function emptyFields(): EagerFields {
  return {
    id: '',
    kind: '' as DeclaredKind,
    name: '',
    labels: {},
    annotations: {},
    version: 0,
    createdAt: EPOCH,
    updatedAt: EPOCH,
  };
}

function readResource(r: Reader): StoredResource {
  const f = emptyFields();
  let spec: JsonObject = {};
  let status: JsonObject = {};
  readResourceFields(r, f, (no) => {
    if (no === 6) spec = r.struct();
    else if (no === 7) status = r.struct();
    else return false;
    return true;
  });
  return {
    id: f.id,
    kind: f.kind,
    name: f.name,
    labels: f.labels,
    annotations: f.annotations,
    spec,
    status,
    version: f.version,
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
  };
}

/**
 * The JSON text of the Struct at the reader: structText, or JSON.stringify of the decoded
 * Struct when the text alone could differ from it (Reader.textUnsafe).
 */
function structTextAt(r: Reader): string {
  const start = r.pos;
  r.textUnsafe = false;
  const text = r.structText();
  if (!r.textUnsafe) return text;
  r.pos = start;
  return JSON.stringify(r.struct());
}

/**
 * A listed spec or status kept as its wire bytes (a view of the response, outside the JS heap),
 * its JSON text written when asked for: a Struct written out (`struct`), or the JSON text
 * field of `json_specs` decoded. See DeferredJson.
 */
class WireBytes extends DeferredJson {
  constructor(
    private readonly data: Uint8Array,
    private readonly start: number,
    private readonly end: number,
    private readonly struct: boolean,
  ) {
    super();
  }

  text(): string {
    const r = new Reader(this.data, this.start, this.end);
    return this.struct ? structTextAt(r) : r.string();
  }
}

const EMPTY_STRUCT_TEXT = '{}';

/**
 * The Struct (`struct`) or JSON text field at the reader, skipped and kept as bytes; an empty
 * one (most statuses) is `{}` at once.
 */
function deferred(r: Reader, data: Uint8Array, struct: boolean): WireBytes | string {
  const start = r.pos;
  r.pos = r.length();
  return r.pos === start + 1 ? EMPTY_STRUCT_TEXT : new WireBytes(data, start, r.pos, struct);
}

/**
 * readResource with `spec` and `status` kept as their wire bytes and read as JSON text or
 * decoded only when asked for (lazyStoredResource, WireBytes): the same resource once read,
 * without building the objects of every listed spec, or keeping 100,000 texts on the JS heap
 * while the manifests are parsed (the planner compares texts; docs/performance.md item 38).
 */
function readLazyResource(r: Reader, data: Uint8Array): StoredResource {
  const fields = emptyFields();
  let spec: DeferredJson | string = EMPTY_STRUCT_TEXT;
  let status: DeferredJson | string = EMPTY_STRUCT_TEXT;
  readResourceFields(r, fields, (no) => {
    if (no === 6 || no === 11) spec = deferred(r, data, no === 6);
    else if (no === 7 || no === 12) status = deferred(r, data, no === 7);
    else return false;
    return true;
  });
  return lazyStoredResource(fields, spec, status);
}

const OPERATION_NAMES: Record<number, ResourceChange['op']> = {
  [ChangeOperation.CREATE]: 'create',
  [ChangeOperation.UPDATE]: 'update',
  [ChangeOperation.DELETE]: 'delete',
  [ChangeOperation.ASSERT]: 'assert',
};

function readChange(r: Reader, index: number): ResourceChange {
  let operation = 0;
  let kind = '';
  let name = '';
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  let spec: JsonObject = {};
  let expected: number | null | undefined;
  r.fields(r.end, (no, wt) => {
    switch (no) {
      case 1:
        if (wt !== VARINT) return false;
        operation = r.varint();
        return true;
      case 7:
        if (wt !== VARINT) return false;
        expected = r.varint();
        return true;
      case 8:
        if (wt !== VARINT) return false;
        expected = r.varint() !== 0 ? null : undefined;
        return true;
    }
    if (wt !== LEN) return false;
    switch (no) {
      case 2:
        kind = r.string();
        return true;
      case 3:
        name = r.string();
        return true;
      case 4:
        r.stringEntry(labels);
        return true;
      case 5:
        r.stringEntry(annotations);
        return true;
      case 6:
        spec = r.struct();
        return true;
      default:
        return false;
    }
  });
  const op = OPERATION_NAMES[operation];
  const where = `change ${index + 1}`;
  const k = kind as DeclaredKind;
  switch (op) {
    case 'create':
    case 'update': {
      const change = { op, kind: k, name, labels, annotations, spec } as ResourceChange & {
        expectedVersion?: number | null;
      };
      if (expected !== undefined) change.expectedVersion = expected;
      return change;
    }
    case 'delete':
      if (expected === null)
        throw new StigmerError('USAGE', `${where}: a delete cannot expect the resource to be absent`);
      return expected === undefined
        ? { op, kind: k, name }
        : { op, kind: k, name, expectedVersion: expected };
    case 'assert':
      if (expected === undefined) {
        throw new StigmerError('USAGE', `${where}: an assert needs expected_version or expect_absent`);
      }
      return { op, kind: k, name, expectedVersion: expected };
    default:
      throw new StigmerError('USAGE', `${where}: the operation is not set`, {
        hint: 'set operation to CREATE, UPDATE, DELETE or ASSERT',
      });
  }
}

function readApplied(r: Reader): AppliedChange {
  const a: AppliedChange = { op: 'create', kind: '' as DeclaredKind, name: '', id: '', version: 0 };
  r.fields(r.end, (no, wt) => {
    if (no === 1 || no === 5) {
      if (wt !== VARINT) return false;
      const v = r.varint();
      if (no === 1) a.op = (OPERATION_NAMES[v] ?? 'create') as AppliedChange['op'];
      else a.version = v;
      return true;
    }
    if (wt !== LEN) return false;
    if (no === 2) a.kind = r.string() as DeclaredKind;
    else if (no === 3) a.name = r.string();
    else if (no === 4) a.id = r.string();
    else return false;
    return true;
  });
  return a;
}

export function decodeResources(no: number, unknown: readonly UnknownField[] | undefined): StoredResource[] {
  return decodeRepeated(no, unknown, readResource);
}

/**
 * Like decodeResources, with each resource's spec and status kept as JSON text, decoded when
 * first read (src/stored-text.ts).
 */
export function decodeLazyResources(
  no: number,
  unknown: readonly UnknownField[] | undefined,
): StoredResource[] {
  return decodeRepeated(no, unknown, readLazyResource);
}

export function decodeChanges(no: number, unknown: readonly UnknownField[] | undefined): ResourceChange[] {
  let i = 0;
  return decodeRepeated(no, unknown, (r) => readChange(r, i++));
}

export function decodeApplied(no: number, unknown: readonly UnknownField[] | undefined): AppliedChange[] {
  return decodeRepeated(no, unknown, readApplied);
}

/** Decodes one serialized message of the given kind (tests, and single messages). */
export function decodeResourceBytes(bytes: Uint8Array): StoredResource {
  return readResource(new Reader(bytes));
}

export function decodeChangeBytes(bytes: Uint8Array): ResourceChange {
  return readChange(new Reader(bytes), 0);
}

// --- views ---------------------------------------------------------------------------------

/**
 * Views of the bulk messages without their bulk field, built at run time from the generated
 * file descriptor (same package, same field numbers), so protobuf-es leaves that field's bytes
 * in `$unknown` for the codec above.
 */
function buildViews() {
  const file = clone(FileDescriptorProtoSchema, file_stigmer_backend_v1_backend.proto);
  const drop = new Map([
    ['ListResourcesResponse', 1],
    ['ApplyChangesRequest', 1],
    ['ApplyChangesResponse', 1],
  ]);
  file.name = 'stigmer/backend/v1/backend_views.proto';
  file.package = 'stigmer.backend.v1.views';
  file.service = [];
  file.messageType = file.messageType
    .filter((m) => drop.has(m.name ?? ''))
    .map((m) => ({ ...m, field: m.field.filter((f) => f.number !== drop.get(m.name ?? '')) }));
  file.dependency = [];
  file.enumType = [];
  const registry = createFileRegistry(file, () => undefined);
  const get = (name: string): DescMessage => {
    const desc = registry.getMessage(`stigmer.backend.v1.views.${name}`);
    if (!desc) throw new Error(`missing view ${name}`);
    return desc;
  };
  return {
    ListResourcesResponse: get('ListResourcesResponse'),
    ApplyChangesRequest: get('ApplyChangesRequest'),
    ApplyChangesResponse: get('ApplyChangesResponse'),
  };
}

let views: ReturnType<typeof buildViews> | undefined;

/** The views, built on first use. */
export function wireViews(): ReturnType<typeof buildViews> {
  views ??= buildViews();
  return views;
}

/** `method` with its input and/or output read through a view. */
export function withViews<M extends DescMethod>(method: M, input?: DescMessage, output?: DescMessage): M {
  return { ...method, ...(input ? { input } : {}), ...(output ? { output } : {}) } as M;
}

/** BackendService as the server decodes it: ApplyChanges requests through their view. */
export function serverService(): typeof BackendService {
  const v = wireViews();
  const methods = BackendService.methods.map((m) =>
    m.name === 'ApplyChanges' ? withViews(m, v.ApplyChangesRequest) : m,
  );
  return {
    ...BackendService,
    methods,
    method: Object.fromEntries(methods.map((m) => [m.localName, m])),
  } as unknown as typeof BackendService;
}
