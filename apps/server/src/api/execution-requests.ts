import { Injectable } from '@nestjs/common';
import { authorize, NotebookAccess, type Principal } from '@palimpsest/auth';
import { DomainError } from '@palimpsest/contracts';
import { KernelGateway } from '@palimpsest/kernels';
import { NotebookService } from '@palimpsest/notebook';

/** Longest scratch code accepted (REST and Socket.IO alike). */
export const MAX_CODE_LENGTH = 1024 * 1024;

/**
 * Execution requests shared by REST (`POST .../execute`, `.../cells/:id/execute`) and Socket.IO
 * (`/kernels` `execute`): the execute right is checked, then the code is queued on the notebook's
 * kernel (the default one is started when none runs). Each resolves with the execution id.
 */
@Injectable()
export class ExecutionRequests {
  constructor(
    private readonly kernels: KernelGateway,
    private readonly notebooks: NotebookService,
    private readonly access: NotebookAccess,
  ) {}

  /** Queues a code cell's current source; its outputs land in the cell. */
  async executeCell(principal: Principal, notebookId: string, cellId: string): Promise<string> {
    authorize(this.access, principal, notebookId, 'execute');
    const { cellType, source } = await this.notebooks.cellToExecute(notebookId, cellId);
    if (cellType !== 'code') throw new DomainError('UNPROCESSABLE', `cell ${cellId} is a ${String(cellType)} cell; only code cells execute`);
    return this.kernels.executeCell(notebookId, cellId, source, principal.user);
  }

  /** Queues scratch code outside any cell (its messages are in the kernel's log; no cell changes). */
  executeCode(principal: Principal, notebookId: string, code: string): Promise<string> {
    authorize(this.access, principal, notebookId, 'execute');
    return this.kernels.executeCode(notebookId, code, principal.user);
  }
}
