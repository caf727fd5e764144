import { discoverKernelSpecs, jupyterDataDirs } from '@palimpsest/kernels';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

describe(discoverKernelSpecs.name, () => {
  const dir = mkdtempSync(join(tmpdir(), 'palimpsest-jupyter-path-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the installed python3 kernelspec in the /api/kernelspecs shape, as the default', () => {
    const found = discoverKernelSpecs();
    expect(found.default).toBe('python3');
    expect(found.kernelspecs.python3).toMatchObject({
      name: 'python3',
      spec: { argv: expect.arrayContaining(['-m', 'ipykernel_launcher', '{connection_file}']), language: 'python', interrupt_mode: 'signal', env: {} },
      resources: expect.any(Object),
    });
  });

  it('searches JUPYTER_PATH first, then the user dir, then the system dirs; the first spec of a name wins', () => {
    const env = { JUPYTER_PATH: dir, HOME: '/nonexistent' };
    expect(jupyterDataDirs(env)).toEqual([dir, join('/nonexistent', '.local', 'share', 'jupyter'), '/usr/local/share/jupyter', '/usr/share/jupyter']);
    const write = (name: string, body: unknown) => {
      mkdirSync(join(dir, 'kernels', name), { recursive: true });
      writeFileSync(join(dir, 'kernels', name, 'kernel.json'), JSON.stringify(body));
    };
    write('python3', { argv: ['python', '-m', 'custom', '-f', '{connection_file}'], display_name: 'Shadow', language: 'python', interrupt_mode: 'message' });
    write('broken', { display_name: 'no argv' });
    const problems: string[] = [];
    const found = discoverKernelSpecs({ env, onProblem: (path) => problems.push(path) });
    expect(found.kernelspecs.python3.spec).toMatchObject({ display_name: 'Shadow', interrupt_mode: 'message' });
    expect(found.kernelspecs.broken).toBeUndefined();
    expect(problems).toEqual([join(dir, 'kernels', 'broken', 'kernel.json')]);
  });
});
