import type { INotebookContent } from '@jupyterlab/nbformat';
import type { LoggedEvent } from '@palimpsest/contracts';
import * as Y from 'yjs';
import { exportNotebook } from '../model/export-notebook.js';
import { cellsOf, metaOf } from '../model/notebook-doc.js';
import { REPLAY_ORIGIN } from '../replay/rebuild-doc.js';

/** Deleted clocks `[clock, clock + len)` of one client, deleted by the event at `version`. */
interface Deletion {
  clock: number;
  len: number;
  version: number;
}

/** A client's deletions sorted by clock, packed for fast search: deletion i covers `[starts[i], ends[i])`, done by event `versions[i]`. */
interface PackedDeletions {
  starts: Float64Array;
  ends: Float64Array;
  versions: Float64Array;
}

/** A client's deletions: those already packed, and the ones recorded since (packed before the next read). */
interface ClientDeletions {
  packed: PackedDeletions;
  recent: Deletion[];
}

/** A client's state after each event that advanced it: its clocks below `ends[i]` were integrated by event `versions[i]`. */
interface ClientStates {
  ends: number[];
  versions: number[];
}

/**
 * A Y.Text's whole history in document order, as pieces of string each added by one event and
 * removed by one (or never): the text at a version is the pieces with `added <= version < removed`.
 */
interface TextTimeline {
  pieces: string[];
  added: Float64Array;
  removed: Float64Array;
}

/** What the readers use of a Y.Array or Y.Text (and of the roots): its items in document order. */
interface ItemList {
  _start: Y.Item | null;
}

/** What the readers use of a Y.Map: per key, its latest item. */
interface ItemMap {
  _map: Map<string, Y.Item>;
}

const NO_DELETIONS: PackedDeletions = { starts: new Float64Array(0), ends: new Float64Array(0), versions: new Float64Array(0) };

/** Estimated heap bytes per byte of update applied (decoded JSON and strings take ~1.5x their encoding). */
const HEAP_PER_UPDATE_BYTE = 1.5;
/** Estimated heap bytes per Yjs struct kept in a history document (item object, id, content wrapper), beyond its content. */
const BYTES_PER_STRUCT = 200;
/** Estimated heap bytes per recorded deletion, state change or text piece. */
const BYTES_PER_RECORD = 64;

/** Thrown when the document holds something the snapshot export does not read (XML types, subdocuments): the caller rebuilds instead. */
export class UnsupportedHistoryContent extends Error {}

/**
 * A notebook's whole history in one gc-free Y.Doc: every update of the stream applied in order,
 * nothing ever garbage collected, and for each struct the version that integrated it and the version
 * that deleted it. The content at any version it has reached is then read straight from the
 * document (what was integrated by then and not yet deleted), without decoding a checkpoint.
 */
export class HistoryDocument {
  private readonly doc = new Y.Doc({ gc: false });
  private readonly states = new Map<number, ClientStates>();
  private readonly deletions = new Map<number, ClientDeletions>();
  /** Timelines of the texts read so far; a text's is dropped when an event changes the text. */
  private readonly timelines = new Map<object, TextTimeline>();
  private records = 0;
  private timelinePieces = 0;
  /** The event whose update is being applied (0 outside `apply`). */
  private applying = 0;
  /** Every event of the stream up to this version has been applied. */
  version = 0;
  /** Bytes of the Yjs updates applied so far. */
  updateBytes = 0;

  constructor() {
    // Type the roots the export reads before any update reaches them.
    cellsOf(this.doc);
    metaOf(this.doc);
    this.doc.on('afterTransaction', (transaction: Y.Transaction) => this.record(transaction));
  }

  /** Applies the next event of the stream (versions must follow each other). */
  apply(event: LoggedEvent): void {
    if (event.version !== this.version + 1) throw new Error(`history document at version ${this.version} cannot apply version ${event.version}`);
    if (event.payload.encoding === 'yjs') {
      this.applying = event.version;
      try {
        Y.applyUpdate(this.doc, event.payload.bytes, REPLAY_ORIGIN);
      } finally {
        this.applying = 0;
      }
      this.updateBytes += event.payload.bytes.byteLength;
    }
    this.version = event.version;
  }

  /** Estimated heap bytes the document and its records hold. */
  estimatedBytes(): number {
    let structs = 0;
    for (const list of this.doc.store.clients.values()) structs += list.length;
    return this.updateBytes * HEAP_PER_UPDATE_BYTE + structs * BYTES_PER_STRUCT + (this.records + this.timelinePieces) * BYTES_PER_RECORD;
  }

  /** The notebook as it was at a version this document has reached: equal to `exportNotebook` of the rebuilt document (map keys in this document's order). */
  contentAt(version: number): INotebookContent {
    if (version < 0 || version > this.version) throw new RangeError(`history document at version ${this.version} has no version ${version}`);
    const view = new VersionView(this.stateVectorAt(version), this.packedDeletions(), version, (text) => this.timeline(text));
    const cells = view.listAt(cellsOf(this.doc)).map((cell) => view.materialize(cell));
    const meta = view.mapAt(metaOf(this.doc)).map(([key, value]): [string, unknown] => [key, view.materialize(value)]);
    // A small document holding just that content (one item per text), exported by the one exporter there is.
    const doc = new Y.Doc();
    try {
      doc.transact(() => {
        // `cells` normally holds maps only; whatever it holds is exported as the rebuild would.
        doc.getArray<unknown>('cells').insert(0, cells);
        for (const [key, value] of meta) metaOf(doc).set(key, value);
      });
      return exportNotebook(doc);
    } finally {
      doc.destroy();
    }
  }

  /** Frees the document. */
  destroy(): void {
    this.timelines.clear();
    this.doc.destroy();
  }

  /** Records which clocks a transaction integrated and deleted, under the event being applied, and drops the timelines of the texts it changed. */
  private record(transaction: Y.Transaction): void {
    const version = this.applying;
    if (version === 0) return;
    for (const [client, after] of transaction.afterState) {
      if (after <= (transaction.beforeState.get(client) ?? 0)) continue;
      let states = this.states.get(client);
      if (!states) this.states.set(client, (states = { ends: [], versions: [] }));
      states.ends.push(after);
      states.versions.push(version);
      this.records += 1;
    }
    for (const [client, items] of transaction.deleteSet.clients) {
      let deletions = this.deletions.get(client);
      if (!deletions) this.deletions.set(client, (deletions = { packed: NO_DELETIONS, recent: [] }));
      for (const { clock, len } of items) deletions.recent.push({ clock, len, version });
      this.records += items.length;
    }
    // Yjs leaves out of `changed` a type whose own item is deleted: its later changes are never read
    // at a version where it is visible (they come after its deletion), so its timeline stays right.
    for (const type of transaction.changed.keys()) {
      const timeline = this.timelines.get(type);
      if (!timeline) continue;
      this.timelinePieces -= timeline.pieces.length;
      this.timelines.delete(type);
    }
  }

  /** Each client's state (next clock) right after the event at `version`. */
  private stateVectorAt(version: number): Map<number, number> {
    const vector = new Map<number, number>();
    for (const [client, { ends, versions }] of this.states) {
      // The runs up to the version are those before the first one above it.
      const runs = firstAbove(versions, version);
      if (runs > 0) vector.set(client, ends[runs - 1]);
    }
    return vector;
  }

  /** The deletions by client, packed (merging in the ones recorded since the last read). */
  private packedDeletions(): Map<number, PackedDeletions> {
    const packed = new Map<number, PackedDeletions>();
    for (const [client, deletions] of this.deletions) {
      if (deletions.recent.length > 0) {
        deletions.packed = mergeDeletions(deletions.packed, deletions.recent);
        deletions.recent = [];
      }
      packed.set(client, deletions.packed);
    }
    return packed;
  }

  /** The text's timeline, built from its items once and kept until an event changes the text. */
  private timeline(text: ItemList): TextTimeline {
    const kept = this.timelines.get(text);
    if (kept) return kept;
    const deletions = this.packedDeletions();
    const pieces: string[] = [];
    const added: number[] = [];
    const removed: number[] = [];
    for (let item = text._start; item !== null; item = item.right) {
      if (item.content.constructor !== Y.ContentString) continue;
      const { str } = item.content as Y.ContentString;
      const { client, clock } = item.id;
      const { ends: stateEnds, versions: stateVersions } = this.states.get(client) ?? { ends: [], versions: [] };
      const { starts, ends, versions } = deletions.get(client) ?? NO_DELETIONS;
      // Cut the item where the event that integrated its clocks changes, and where a deletion starts or ends.
      let run = firstAbove(stateEnds, clock);
      if (run >= stateEnds.length) throw new UnsupportedHistoryContent(`no recorded event integrated ${client}:${clock}`);
      let deletion = item.deleted ? firstAbove(ends, clock) : ends.length;
      for (let at = 0; at < str.length; ) {
        const integratedUntil = stateEnds[run] - clock;
        const inDeletion = deletion < ends.length && starts[deletion] <= clock + at;
        const deletionBound = deletion < ends.length ? (inDeletion ? ends[deletion] : starts[deletion]) - clock : str.length;
        const to = Math.min(str.length, integratedUntil, deletionBound);
        pieces.push(at === 0 && to === str.length ? str : str.slice(at, to));
        added.push(stateVersions[run]);
        removed.push(inDeletion ? versions[deletion] : Infinity);
        at = to;
        if (at >= integratedUntil) run += 1;
        if (inDeletion && at >= deletionBound) deletion += 1;
      }
    }
    const timeline: TextTimeline = { pieces, added: Float64Array.from(added), removed: Float64Array.from(removed) };
    this.timelines.set(text, timeline);
    this.timelinePieces += pieces.length;
    return timeline;
  }
}

/**
 * Reads the history document as it was at one version: an item's clock is visible when the version
 * had integrated it (below the client's state then) and no event up to the version had deleted it.
 * Items may have been split or merged since, so visibility is worked out per clock range.
 */
class VersionView {
  constructor(
    private readonly stateVector: ReadonlyMap<number, number>,
    private readonly deletions: ReadonlyMap<number, PackedDeletions>,
    private readonly version: number,
    private readonly timeline: (text: ItemList) => TextTimeline,
  ) {}

  /** The values of a Y.Array (or the cells root) at the version, unmaterialized. */
  listAt(type: ItemList): unknown[] {
    const values: unknown[] = [];
    const spans: number[] = [];
    for (let item = type._start; item !== null; item = item.right) {
      if (!item.countable) continue;
      const end = this.integrated(item);
      if (end <= 0) continue;
      spans.length = 0;
      // Never deleted up to the document's head, so not deleted at any earlier version either.
      if (item.deleted) this.undeleted(item, end, spans);
      else spans.push(0, end);
      if (spans.length === 0) continue;
      const content = item.content.getContent();
      for (let s = 0; s < spans.length; s += 2) for (let i = spans[s]; i < spans[s + 1]; i++) values.push(content[i]);
    }
    return values;
  }

  /** A Y.Text's string at the version (its string content only, as `Y.Text#toString`). */
  textAt(text: ItemList): string {
    const { pieces, added, removed } = this.timeline(text);
    const version = this.version;
    const visible: string[] = [];
    for (let i = 0; i < pieces.length; i++) if (added[i] <= version && removed[i] > version) visible.push(pieces[i]);
    return visible.join('');
  }

  /**
   * A Y.Map's entries at the version, in the map's key order: per key, the rightmost value the version
   * had integrated (a later set sits to the right of the one it overwrote), unless deleted by then.
   */
  mapAt(map: ItemMap): Array<[string, unknown]> {
    const entries: Array<[string, unknown]> = [];
    for (const [key, last] of map._map) {
      let item: Y.Item | null = last;
      while (item !== null && this.integrated(item) <= 0) item = item.left;
      if (item === null) continue;
      // Consecutive values of one key may have been merged into one item: the last one integrated counts.
      const index = this.integrated(item) - 1;
      if (item.deleted && this.deletedAt(item.id.client, item.id.clock + index)) continue;
      entries.push([key, item.content.getContent()[index]]);
    }
    return entries;
  }

  /** A fresh copy of a value as it was at the version: shared types as new preliminary types, plain values cloned. */
  materialize(value: unknown): unknown {
    if (value instanceof Y.AbstractType) {
      if (value.constructor === Y.Map) return new Y.Map(this.mapAt(value).map(([key, entry]): [string, unknown] => [key, this.materialize(entry)]));
      if (value.constructor === Y.Array) {
        const array = new Y.Array<unknown>();
        array.push(this.listAt(value).map((entry) => this.materialize(entry)));
        return array;
      }
      if (value.constructor === Y.Text) return new Y.Text(this.textAt(value));
      throw new UnsupportedHistoryContent(`no snapshot export for ${value.constructor.name}`);
    }
    if (value instanceof Y.Doc) throw new UnsupportedHistoryContent('no snapshot export for subdocuments');
    return structuredClone(value);
  }

  /** How many of an item's clocks the version had integrated (0 when none). */
  private integrated(item: Y.Item): number {
    return Math.min(item.length, (this.stateVector.get(item.id.client) ?? 0) - item.id.clock);
  }

  /** Pushes onto `spans` (as start, end pairs) the parts of a deleted item's first `end` clocks not yet deleted at the version. */
  private undeleted(item: Y.Item, end: number, spans: number[]): void {
    const { client, clock } = item.id;
    const { starts, ends, versions } = this.deletions.get(client) ?? NO_DELETIONS;
    let at = 0;
    for (let i = firstAbove(ends, clock); i < starts.length && starts[i] < clock + end; i++) {
      if (versions[i] > this.version) continue;
      const from = Math.max(0, starts[i] - clock);
      if (from > at) spans.push(at, from);
      at = Math.max(at, Math.min(end, ends[i] - clock));
    }
    if (at < end) spans.push(at, end);
  }

  /** True when an event up to the version deleted this clock of the client. */
  private deletedAt(client: number, clock: number): boolean {
    const { starts, ends, versions } = this.deletions.get(client) ?? NO_DELETIONS;
    const i = firstAbove(ends, clock);
    return i < starts.length && starts[i] <= clock && versions[i] <= this.version;
  }
}

/** Packed deletions plus unsorted new ones, packed (no clock is deleted twice, so the ranges stay disjoint). */
function mergeDeletions(packed: PackedDeletions, recent: Deletion[]): PackedDeletions {
  recent.sort((a, b) => a.clock - b.clock);
  const size = packed.starts.length + recent.length;
  const merged: PackedDeletions = { starts: new Float64Array(size), ends: new Float64Array(size), versions: new Float64Array(size) };
  let i = 0;
  let j = 0;
  for (let k = 0; k < size; k++) {
    if (j >= recent.length || (i < packed.starts.length && packed.starts[i] < recent[j].clock)) {
      merged.starts[k] = packed.starts[i];
      merged.ends[k] = packed.ends[i];
      merged.versions[k] = packed.versions[i++];
    } else {
      const { clock, len, version } = recent[j++];
      merged.starts[k] = clock;
      merged.ends[k] = clock + len;
      merged.versions[k] = version;
    }
  }
  return merged;
}

/** Index of the first element above `value` in an ascending array (its length when none). */
function firstAbove(sorted: ArrayLike<number>, value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}
