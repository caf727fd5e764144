import type { StreamSeal, StreamVerdict, VerifyOptions, VerifyResult } from './event-store.js';
import { chainHash } from './hash-chain.js';
import type { ChainRow, LogDialect } from './log-dialect.js';
import { sealIsAuthentic, type SealTable } from './stream-seals.js';

const PAGE = 2000;

/** What the verifier reads: chain rows in (stream, version) order, event counts and seals. */
export interface ChainSource {
  chainRows: LogDialect['chainRows'];
  countEvents(stream?: string): Promise<number>;
  seals: Pick<SealTable, 'latest' | 'firstAfter'>;
  /** The key seals are signed with; without it, seals are compared but their signatures are not checked. */
  sealKey?: Uint8Array;
}

/** The running state of one stream while its rows go by. */
interface StreamWalk {
  stream: string;
  version: number;
  hash: Buffer | null;
  checked: number;
  bad: { position: number; reason: string } | null;
}

function equalOrBothNull(a: Buffer | null, b: Buffer | null): boolean {
  if (a === null || b === null) return a === b || (a?.length === 0 && b === null);
  return a.equals(b);
}

/** Why a row breaks its stream's chain (or contradicts the stream's seal), or null when it is sound. */
function rowProblem(walk: StreamWalk, row: ChainRow, seal: StreamSeal | undefined): string | null {
  if (row.version !== walk.version + 1) return `stream ${row.stream} jumps from version ${walk.version} to ${row.version}`;
  if (!equalOrBothNull(row.prevHash, walk.hash)) return `prev_hash of ${row.stream}@${row.version} does not match the previous event`;
  if (!chainHash(walk.hash, { ...row, eventId: row.id }).equals(row.hash)) return `hash of ${row.stream}@${row.version} does not match its stored columns`;
  const metadata = JSON.parse(row.metadata.toString('utf8')) as { actor?: unknown; notebook_id?: unknown };
  if (metadata.actor !== row.actor || (metadata.notebook_id ?? null) !== row.notebookId) {
    return `the actor or notebook_id column of ${row.stream}@${row.version} disagrees with its hashed metadata`;
  }
  if (seal?.version === row.version && !seal.headHash.equals(row.hash)) return `${row.stream}@${row.version} differs from the head sealed at ${new Date(seal.sealedAt).toISOString()}`;
  return null;
}

/**
 * Recomputes every stream's hash chain and checks it against the stream's newest signed seal: a
 * rewritten row breaks the chain; a cut-off end (the last events deleted, which leaves a valid but
 * shorter chain) falls short of the sealed version. Goes on past a bad stream so each gets a verdict.
 */
export async function verifyChains(source: ChainSource, options: VerifyOptions = {}): Promise<VerifyResult> {
  const { stream: only, onProgress, onStream } = options;
  const seals = await source.seals.latest(only);
  const total = await source.countEvents(only);
  let checked = 0;
  let firstBad: StreamVerdict | null = null;
  let walk = null as StreamWalk | null;
  const seen = new Set<string>();

  const finish = async (done: StreamWalk): Promise<void> => {
    const verdict = await streamVerdict(source, done, seals.get(done.stream));
    if (!verdict.ok && firstBad === null) firstBad = { ...verdict, checked };
    onStream?.(verdict);
  };

  let cursor: { stream: string; version: number } | null = null;
  for (;;) {
    const rows = await source.chainRows(only, cursor, PAGE);
    for (const row of rows) {
      if (walk?.stream !== row.stream) {
        if (walk) await finish(walk);
        walk = { stream: row.stream, version: 0, hash: null, checked: 0, bad: null };
        seen.add(row.stream);
      }
      if (walk.bad) continue;
      const problem = rowProblem(walk, row, seals.get(row.stream));
      if (problem) {
        walk.bad = { position: row.position, reason: problem };
        continue;
      }
      walk.version = row.version;
      walk.hash = row.hash;
      walk.checked += 1;
      checked += 1;
    }
    onProgress?.(checked, total);
    if (rows.length < PAGE) break;
    const last = rows[rows.length - 1];
    // A broken stream needs no more reading: skip to the next one.
    cursor = { stream: last.stream, version: walk?.bad ? Number.MAX_SAFE_INTEGER : last.version };
  }
  if (walk) await finish(walk);
  // A stream whose every event was deleted has seals but no rows.
  for (const [stream] of seals) {
    if (!seen.has(stream)) await finish({ stream, version: 0, hash: null, checked: 0, bad: null });
  }
  const bad = firstBad as StreamVerdict | null;
  if (bad) return { ok: false, checked: bad.checked, first_bad_position: bad.first_bad_position, stream: bad.stream, reason: bad.reason, first_missing_version: bad.first_missing_version };
  return { ok: true, checked, first_bad_position: null, stream: null, reason: null };
}

/** The verdict on a walked stream: its chain break, a forged seal, or a truncation below its newest seal. */
async function streamVerdict(source: ChainSource, walk: StreamWalk, seal: StreamSeal | undefined): Promise<StreamVerdict> {
  const base = { stream: walk.stream, checked: walk.checked };
  if (walk.bad) return { ...base, ok: false, first_bad_position: walk.bad.position, reason: walk.bad.reason };
  if (seal && source.sealKey && !sealIsAuthentic(source.sealKey, seal)) {
    return { ...base, ok: false, first_bad_position: seal.position, reason: `the seal of ${walk.stream}@${seal.version} has an invalid signature` };
  }
  if (seal && seal.version > walk.version) {
    // The oldest seal past the surviving head names the earliest missing event whose position is known.
    const missing = (await source.seals.firstAfter(walk.stream, walk.version)) ?? seal;
    const exact = missing.version === walk.version + 1;
    return {
      ...base,
      ok: false,
      first_bad_position: missing.position,
      first_missing_version: walk.version + 1,
      reason:
        `stream ${walk.stream} ends at version ${walk.version} but was sealed at version ${seal.version}: its last events were deleted` +
        (exact ? '' : ` (version ${missing.version}, sealed at position ${missing.position}, is the first missing event whose position is known)`),
    };
  }
  return { ...base, ok: true, first_bad_position: null, reason: null };
}
