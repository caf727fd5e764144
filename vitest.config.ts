import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const libs = ['contracts', 'event-store', 'bus', 'notebook', 'kernels', 'auth'];
const alias = Object.fromEntries(
  libs.map((lib) => [`@palimpsest/${lib}`, fileURLToPath(new URL(`./libs/${lib}/src/index.ts`, import.meta.url))]),
);
// SWC compiles the tests so that Nest's decorator metadata (emitDecoratorMetadata) is kept.
const plugins = [swc.vite({ module: { type: 'es6' } })];

export default defineConfig({
  plugins,
  resolve: { alias },
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      { plugins, resolve: { alias }, test: { name: 'unit', include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts'] } },
      {
        plugins,
        resolve: { alias },
        test: { name: 'integration', include: ['test/integration/**/*.int-spec.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
      },
      {
        plugins,
        resolve: { alias },
        test: { name: 'e2e', include: ['test/e2e/**/*.e2e-spec.ts'], testTimeout: 120_000, hookTimeout: 60_000 },
      },
    ],
  },
});
