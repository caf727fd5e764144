import { InMemoryMessageBus } from '@palimpsest/bus';
import { kernelStream, notebookStream } from '@palimpsest/contracts';
import { KernelClaims, KernelGateway } from '@palimpsest/kernels';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestStore, type TestStore } from '../../support/test-store.js';

/**
 * FAULT DOUBLE: claims whose database is slow to confirm a release, a fault we cannot cause on demand with a
 * real PostgreSQL (an advisory unlock never waits). Each release stays pending until `confirmReleases()`.
 */
class SlowToReleaseClaims extends KernelClaims {
  readonly held = new Set<string>();
  private readonly unconfirmed: Array<() => void> = [];
  private releaseAsked: () => void = () => undefined;

  /** Resolves once `count` releases are waiting for confirmation. */
  releasesAsked(count: number): Promise<void> {
    return new Promise((resolve) => {
      this.releaseAsked = () => {
        if (this.unconfirmed.length >= count) resolve();
      };
      this.releaseAsked();
    });
  }

  claim(subject: string): Promise<boolean> {
    this.held.add(subject);
    return Promise.resolve(true);
  }

  release(subject: string): Promise<void> {
    const confirmed = new Promise<void>((resolve) =>
      this.unconfirmed.push(() => {
        this.held.delete(subject);
        resolve();
      }),
    );
    this.releaseAsked();
    return confirmed;
  }

  heldElsewhere(): Promise<boolean> {
    return Promise.resolve(false);
  }

  close(): Promise<void> {
    this.confirmReleases();
    return Promise.resolve();
  }

  confirmReleases(): void {
    for (const confirm of this.unconfirmed.splice(0)) confirm();
  }
}

describe(`${KernelGateway.name} and its claims`, () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'palimpsest-gateway-claims-'));
  const claims = new SlowToReleaseClaims();
  let test: TestStore;
  let gateway: KernelGateway;

  beforeAll(async () => {
    test = await openTestStore('sqlite');
    gateway = new KernelGateway(test.store, new InMemoryMessageBus(), { stateDir, claims });
  });
  afterAll(async () => {
    await gateway.shutdownAll();
    await test.cleanup();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("answers a shutdown only once the kernel's claims are given up, so another node may start it at once", async () => {
    const notebookId = randomUUID();
    const { kernel } = await gateway.startNotebookKernel(notebookId, 'user:alice');
    expect([...claims.held].sort()).toEqual([kernelStream(kernel.id), notebookStream(notebookId)].sort());

    let answered = false;
    const shutdown = gateway.operateNotebookKernel(notebookId, 'user:alice', 'shutdown').then(() => (answered = true));
    await claims.releasesAsked(2);
    // The process is gone and both releases are asked for; the answer waits for the database to confirm them.
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);

    claims.confirmReleases();
    await shutdown;
    expect(claims.held.size).toBe(0);
  });
});
