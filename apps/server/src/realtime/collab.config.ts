/** Live collaboration settings, merged over documented defaults. */
export interface CollabConfig {
  /** Unload a notebook's live document this long after its last client left. Env `COLLAB_UNLOAD_DELAY_MS`, default 30 s. */
  unloadDelayMs: number;
  /** Largest accepted Yjs update from a collaborator. Env `COLLAB_MAX_UPDATE_BYTES`, default 1 MiB. */
  maxUpdateBytes: number;
}

/** The documented defaults. */
export const DEFAULT_COLLAB_CONFIG: CollabConfig = { unloadDelayMs: 30_000, maxUpdateBytes: 1024 * 1024 };

function nonNegative(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be an integer >= 0, got ${JSON.stringify(raw)}`);
  return value;
}

/** Reads the collaboration settings from the environment over the defaults. */
export function collabConfigFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<CollabConfig> = {}): CollabConfig {
  return {
    unloadDelayMs: nonNegative('COLLAB_UNLOAD_DELAY_MS', env.COLLAB_UNLOAD_DELAY_MS, DEFAULT_COLLAB_CONFIG.unloadDelayMs),
    maxUpdateBytes: nonNegative('COLLAB_MAX_UPDATE_BYTES', env.COLLAB_MAX_UPDATE_BYTES, DEFAULT_COLLAB_CONFIG.maxUpdateBytes),
    ...overrides,
  };
}
