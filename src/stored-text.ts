/**
 * Objects whose JSON members are decoded from their JSON text on first read (performance at
 * 100,000 resources, docs/performance.md). A no-op plan compares every live resource with its
 * manifest; decoding every stored spec into objects cost most of the live read and held a
 * second full object copy of the stack in memory. With a lazy spec the planner first compares
 * the stored text with the desired spec's JSON (`storedSpecText`): equal texts mean equal
 * specs, and only a difference (or a resource whose spec was read) decodes it.
 *
 * A lazy member is an own, enumerable accessor, so spreading, JSON.stringify and structured
 * cloning see plain values; assigning replaces the value. Its text (then its value) lives in a
 * private slot of the object (LazyHolder), and every object shares the same getter and setter
 * functions: an accessor made of per-object closures cost about 1.2 KB per resource and turned
 * the object into a dictionary (slow to read), against about 180 bytes and a fast object here
 * (items 22 and 52 of docs/performance.md).
 */
import type { StoredResource } from './types.js';

/**
 * A member's JSON text kept in another form and written out on demand: the cloud client keeps
 * a listed spec as its wire bytes (a Struct, or the JSON text of `json_specs`; outside the JS
 * heap), because 100,000 spec
 * texts made while the manifests are parsed survive every young-generation collection of the
 * parse, which copies them each time (docs/performance.md item 38).
 */
export abstract class DeferredJson {
  /** The member's JSON text, written anew at each call (it is not kept). */
  abstract text(): string;
}

/** A member decoded from JSON text on first read; see `lazyJsonMember`. */
export interface LazyJsonMember {
  /** Defines the member on `target` (in property order: call it where the member belongs). */
  define(target: object, text: string | DeferredJson): void;
  /** The text of the member while it was neither read nor replaced; else undefined. */
  text(target: object): string | undefined;
}

/** What a lazy member's slot holds: its text (or a DeferredJson) until read or set, then `{ value }`. */
type Held = string | DeferredJson | { value: unknown };

/**
 * The private slots of a LazyHolder. Two members of one object never share one: `spec` takes
 * 0; `status` (of stored resources) and `positions` (of documents, which have no status) 1.
 */
type HolderSlot = 0 | 1;

/**
 * An object whose lazy members keep their slots in private fields (issue 17, docs/performance.md
 * item 52): invisible to keys, spreading, JSON and structured cloning like a non-enumerable
 * property, but set by a plain store instead of `Object.defineProperty`, which cost about half a
 * microsecond per slot (five per resource of a warm plan: 0.2 s at 100,000). Stored resources,
 * unpacked documents and their resources are made as instances (`new LazyHolder()`, then their
 * members in order); to everything else they read like plain objects.
 */
export class LazyHolder {
  #first: Held | undefined = undefined;
  #second: Held | undefined = undefined;
  #extra: unknown = undefined;

  /** True for an object made by `new LazyHolder()`. */
  static holds(target: object): target is LazyHolder {
    return #first in target;
  }

  static slot(target: LazyHolder, slot: HolderSlot): Held | undefined {
    return slot === 0 ? target.#first : target.#second;
  }

  static setSlot(target: LazyHolder, slot: HolderSlot, held: Held): void {
    if (slot === 0) target.#first = held;
    else target.#second = held;
  }

  /** A value kept with the object out of sight of its members (the facts of src/manifest/links.ts). */
  static extra(target: LazyHolder): unknown {
    return target.#extra;
  }

  static setExtra(target: LazyHolder, value: unknown): void {
    target.#extra = value;
  }
}

/**
 * A lazily decoded JSON member named `key`, kept in private slot `slot` of a LazyHolder (no
 * two members of one object share a slot): one pair of accessor functions shared by every
 * object, so objects built the same way share one hidden class.
 */
export function lazyJsonMember(key: string, slot: HolderSlot): LazyJsonMember {
  return lazyMember(key, JSON.parse, slot);
}

/** Like lazyJsonMember, with the text decoded by `decode` instead of JSON.parse. */
export function lazyMember(key: string, decode: (text: string) => unknown, slot: HolderSlot): LazyJsonMember {
  const descriptor: PropertyDescriptor = {
    get(this: LazyHolder): unknown {
      const held = LazyHolder.slot(this, slot) as Held;
      if (typeof held !== 'string' && !(held instanceof DeferredJson)) return held.value;
      // Whoever reads it may change it in place: from now on the text vouches for nothing.
      const value: unknown = decode(typeof held === 'string' ? held : held.text());
      LazyHolder.setSlot(this, slot, { value });
      return value;
    },
    set(this: LazyHolder, value: unknown) {
      LazyHolder.setSlot(this, slot, { value });
    },
    enumerable: true,
    configurable: true,
  };
  return {
    define(target, text) {
      if (!LazyHolder.holds(target)) throw new TypeError(`lazy member "${key}" needs a LazyHolder`);
      Object.defineProperty(target, key, descriptor);
      LazyHolder.setSlot(target, slot, text);
    },
    text(target) {
      // Only this member's define and setter fill its slot; any other object has no text.
      if (!LazyHolder.holds(target)) return undefined;
      const held = LazyHolder.slot(target, slot);
      if (typeof held === 'string') return held;
      return held instanceof DeferredJson ? held.text() : undefined;
    },
  };
}

/** `spec` of lazy stored resources and of unpacked manifest documents (src/manifest/packed.ts). */
export const specMember = lazyJsonMember('spec', 0);
const statusMember = lazyJsonMember('status', 1);

/** Fields of a stored resource other than the lazily decoded ones. */
export type EagerFields = Omit<StoredResource, 'spec' | 'status'>;

/**
 * A StoredResource whose `spec` and `status` are parsed from `specText` / `statusText` when
 * first read. The texts must be JSON objects as the store wrote them (JSON.stringify).
 */
export function lazyStoredResource(
  fields: EagerFields,
  specText: string | DeferredJson,
  statusText: string | DeferredJson,
): StoredResource {
  // Built member by member, in StoredResource's order (what `get -o json` prints).
  const resource = new LazyHolder() as unknown as StoredResource;
  resource.id = fields.id;
  resource.kind = fields.kind;
  resource.name = fields.name;
  resource.labels = fields.labels;
  resource.annotations = fields.annotations;
  specMember.define(resource, specText);
  statusMember.define(resource, statusText);
  resource.version = fields.version;
  resource.createdAt = fields.createdAt;
  resource.updatedAt = fields.updatedAt;
  return resource;
}

/**
 * The JSON text `resource.spec` was stored as, when it is a lazy resource whose spec has not
 * been read or replaced since; undefined otherwise (compare the decoded spec then).
 */
export function storedSpecText(resource: StoredResource): string | undefined {
  return specMember.text(resource);
}

/** Like storedSpecText, for `status`. */
export function storedStatusText(resource: StoredResource): string | undefined {
  return statusMember.text(resource);
}

/**
 * The JSON text of a lazy spec (a stored resource's or an unpacked document's) that was neither
 * read nor replaced; undefined otherwise.
 */
export function specTextOf(resource: { spec: unknown }): string | undefined {
  return specMember.text(resource);
}

/**
 * The value of a spec without keeping it decoded: a lazy spec still held as text is parsed
 * into a fresh object that the caller may read but must not change (it is not kept); any
 * other spec is returned as is. For checks that read every resource once (references).
 */
export function peekSpec<T>(resource: { spec: T }): T {
  const text = specMember.text(resource);
  return text === undefined ? resource.spec : (JSON.parse(text) as T);
}
