import { DomainError } from '@palimpsest/contracts';

/** A kernel could not be started: its process exited, failed to spawn, or never answered kernel_info. */
export class KernelStartupError extends DomainError {
  constructor(message: string) {
    super('KERNEL_ERROR', message);
    this.name = 'KernelStartupError';
  }
}

/** An operation needs a running kernel, and this one is dead or shut down. */
export class KernelNotRunningError extends DomainError {
  constructor(kernelId: string) {
    super('CONFLICT', `kernel ${kernelId} is not running`);
    this.name = 'KernelNotRunningError';
  }
}

/** `answerInput` was called while the kernel is not waiting for input. */
export class NoPendingInputError extends DomainError {
  constructor(kernelId: string) {
    super('CONFLICT', `kernel ${kernelId} is not waiting for input`);
    this.name = 'NoPendingInputError';
  }
}
