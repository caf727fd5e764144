import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { InterruptMode, KernelSpec, KernelSpecModel, KernelSpecsModel } from './kernelspec.types.js';

/** Where to look for kernelspecs; every field defaults to what Jupyter would use. */
export interface KernelSpecSearchOptions {
  /** The environment read for JUPYTER_PATH, JUPYTER_DATA_DIR, XDG_DATA_HOME, VIRTUAL_ENV, CONDA_PREFIX. */
  env?: NodeJS.ProcessEnv;
  /** Data directories (each holding `kernels/`), highest precedence first; replaces the default list. */
  dataDirs?: string[];
  /** Called for each kernel.json that is skipped because it is unreadable or invalid. */
  onProblem?: (path: string, reason: string) => void;
}

const KERNEL_NAME = /^[a-z0-9._-]+$/i;
const RESOURCE_FILES = ['logo-32x32.png', 'logo-64x64.png', 'logo-svg.svg', 'kernel.js', 'kernel.css'];

/** Jupyter's data path, highest precedence first: JUPYTER_PATH, the user data dir, env prefixes, system dirs. */
export function jupyterDataDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.JUPYTER_PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  const user = env.JUPYTER_DATA_DIR ?? join(env.XDG_DATA_HOME ?? join(env.HOME ?? homedir(), '.local', 'share'), 'jupyter');
  const prefixes = [env.VIRTUAL_ENV, env.CONDA_PREFIX].filter((p): p is string => !!p).map((p) => join(p, 'share', 'jupyter'));
  return [...new Set([...fromEnv, user, ...prefixes, '/usr/local/share/jupyter', '/usr/share/jupyter'])];
}

/** Finds every kernelspec as Jupyter does (the first directory that has a name wins), in the `/api/kernelspecs` shape. */
export function discoverKernelSpecs(options: KernelSpecSearchOptions = {}): KernelSpecsModel {
  const kernelspecs: Record<string, KernelSpecModel> = {};
  for (const dataDir of options.dataDirs ?? jupyterDataDirs(options.env)) {
    const kernelsDir = join(dataDir, 'kernels');
    if (!existsSync(kernelsDir)) continue;
    for (const entry of readdirSync(kernelsDir, { withFileTypes: true })) {
      const name = entry.name.toLowerCase();
      if (!entry.isDirectory() || !KERNEL_NAME.test(name) || kernelspecs[name]) continue;
      const dir = join(kernelsDir, entry.name);
      const spec = readKernelJson(join(dir, 'kernel.json'), options.onProblem);
      if (spec) kernelspecs[name] = { name, spec, resources: resourcesOf(name, dir) };
    }
  }
  const names = Object.keys(kernelspecs).sort();
  return { default: kernelspecs.python3 ? 'python3' : (names[0] ?? null), kernelspecs };
}

function readKernelJson(path: string, onProblem: KernelSpecSearchOptions['onProblem']): KernelSpec | null {
  if (!existsSync(path)) return null;
  try {
    const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    if (!Array.isArray(raw.argv) || raw.argv.length === 0 || !raw.argv.every((a) => typeof a === 'string')) {
      throw new Error('argv must be a non-empty array of strings');
    }
    const interrupt: InterruptMode = raw.interrupt_mode === 'message' ? 'message' : 'signal';
    return {
      argv: raw.argv,
      display_name: typeof raw.display_name === 'string' ? raw.display_name : '',
      language: typeof raw.language === 'string' ? raw.language : '',
      interrupt_mode: interrupt,
      env: isStringRecord(raw.env) ? raw.env : {},
      metadata: isRecord(raw.metadata) ? raw.metadata : {},
    };
  } catch (error) {
    onProblem?.(path, (error as Error).message);
    return null;
  }
}

function resourcesOf(name: string, dir: string): Record<string, string> {
  const found = RESOURCE_FILES.filter((file) => existsSync(join(dir, file)));
  return Object.fromEntries(found.map((file) => [file.replace(/\.(png|svg)$/, ''), `kernelspecs/${name}/${file}`]));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return isRecord(value) && Object.values(value).every((v) => typeof v === 'string');
}
