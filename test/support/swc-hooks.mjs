// Module customization hooks (node:module `register`): compile .ts with @swc/core, resolve tsconfig path
// aliases, and map the `.js` of relative TypeScript imports (nodenext style) back to the `.ts` source.
import { transform } from '@swc/core';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { URL, fileURLToPath, pathToFileURL } from 'node:url';

/** @typedef {{ url: string; format?: string | null; shortCircuit?: boolean }} ResolveResult */
/** @typedef {{ format?: string | null; source?: string | ArrayBuffer | Uint8Array | null; shortCircuit?: boolean }} LoadResult */

const root = resolvePath(dirname(fileURLToPath(import.meta.url)), '../..');
// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- a JSDoc cast of JSON.parse; ESTree drops the parentheses
const tsconfig = /** @type {{ compilerOptions?: { paths?: Record<string, string[]> } }} */ (
  JSON.parse(readFileSync(resolvePath(root, 'tsconfig.json'), 'utf8'))
);
/** `@palimpsest/<lib>` -> absolute file URL of its index.ts, from tsconfig's exact (non-wildcard) paths. */
const aliases = new Map(
  Object.entries(tsconfig.compilerOptions?.paths ?? {})
    .filter(([name]) => !name.includes('*'))
    .map(([name, [target]]) => [name, pathToFileURL(resolvePath(root, target)).href]),
);

/**
 * Resolves path aliases and `./x.js` -> `./x.ts` when only the TypeScript source exists.
 * @param {string} specifier
 * @param {{ parentURL?: string }} context
 * @param {(specifier: string, context: { parentURL?: string }) => Promise<ResolveResult>} nextResolve
 * @returns {Promise<ResolveResult>}
 */
export async function resolve(specifier, context, nextResolve) {
  const alias = aliases.get(specifier);
  if (alias) return { url: alias, shortCircuit: true, format: 'module' };
  const parent = context.parentURL;
  if (parent?.endsWith('.ts') && (specifier.startsWith('./') || specifier.startsWith('../')) && specifier.endsWith('.js')) {
    const jsUrl = new URL(specifier, parent);
    const tsUrl = new URL(specifier.replace(/\.js$/, '.ts'), parent);
    if (!existsSync(fileURLToPath(jsUrl)) && existsSync(fileURLToPath(tsUrl))) {
      return { url: tsUrl.href, shortCircuit: true, format: 'module' };
    }
  }
  return nextResolve(specifier, context);
}

/**
 * Compiles TypeScript sources to ES modules; everything else loads as usual.
 * @param {string} url
 * @param {object} context
 * @param {(url: string, context: object) => Promise<LoadResult>} nextLoad
 * @returns {Promise<LoadResult>}
 */
export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const filename = fileURLToPath(url);
  const source = await readFile(filename, 'utf8');
  const { code } = await transform(source, {
    filename,
    sourceMaps: 'inline',
    module: { type: 'es6' },
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
      // Keep `with { type: 'json' }` on JSON imports (the nbformat schema); Node needs it.
      experimental: { keepImportAttributes: true },
    },
  });
  return { format: 'module', source: code, shortCircuit: true };
}
