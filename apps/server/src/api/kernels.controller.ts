import { Body, Controller, Delete, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { authorize, NotebookAccess } from '@palimpsest/auth';
import { DomainError } from '@palimpsest/contracts';
import { KernelGateway, type ManagedKernel } from '@palimpsest/kernels';
import type { Response } from 'express';
import { CompleteDto, ExecuteCodeDto, HistoryDto, InputReplyDto, InspectDto, StartKernelDto } from './dto/kernels.dto.js';
import { ExecutionRequests } from './execution-requests.js';
import { principalOf, type PrincipalRequest } from './principal.js';

/** The kernel model of the notebook endpoints: `{id, name, execution_state}`. */
function notebookKernelBody(managed: ManagedKernel) {
  return { kernel: { id: managed.kernel.id, name: managed.kernel.name, execution_state: managed.kernel.executionState } };
}

/** A notebook's kernel: start, execute cells and scratch code, interrupt, restart, stop, answer input, relay requests. */
@ApiTags('kernels')
@ApiBearerAuth()
@Controller('api/notebooks/:id')
export class NotebookKernelsController {
  constructor(
    private readonly kernels: KernelGateway,
    private readonly access: NotebookAccess,
    private readonly executions: ExecutionRequests,
  ) {}

  /** Starts the notebook's kernel: 201 when started, 200 when one already runs. */
  @Post('kernel')
  @ApiOperation({ summary: "Start the notebook's kernel (201), or return the running one (200)" })
  async start(@Param('id') id: string, @Body() body: StartKernelDto, @Req() request: PrincipalRequest, @Res({ passthrough: true }) response: Response) {
    const principal = principalOf(request);
    authorize(this.access, principal, id, 'execute');
    const { managed, started } = await this.kernels.startForNotebook(id, principal.user, body.name);
    response.status(started ? 201 : 200);
    return notebookKernelBody(managed);
  }

  /** Shuts the notebook's kernel down. */
  @Delete('kernel')
  @HttpCode(204)
  stop(@Param('id') id: string, @Req() request: PrincipalRequest): Promise<void> {
    return this.operate(id, request, 'shutdown');
  }

  /** Interrupts what the notebook's kernel runs. */
  @Post('kernel/interrupt')
  @HttpCode(204)
  interrupt(@Param('id') id: string, @Req() request: PrincipalRequest): Promise<void> {
    return this.operate(id, request, 'interrupt');
  }

  /** Restarts the notebook's kernel; outputs stay, counts start again at 1. */
  @Post('kernel/restart')
  @HttpCode(204)
  restart(@Param('id') id: string, @Req() request: PrincipalRequest): Promise<void> {
    return this.operate(id, request, 'restart');
  }

  /** Queues a code cell; its outputs land in the notebook. Starts the default kernel when none runs. */
  @Post('cells/:cell_id/execute')
  @HttpCode(202)
  @ApiOperation({ summary: "Execute a code cell (starts the notebook's default kernel if none runs); 202 {execution_id}" })
  async executeCell(@Param('id') id: string, @Param('cell_id') cellId: string, @Req() request: PrincipalRequest) {
    return { execution_id: await this.executions.executeCell(principalOf(request), id, cellId) };
  }

  /** Queues scratch code outside any cell (its messages are in the kernel's log; no cell changes). */
  @Post('execute')
  @HttpCode(202)
  async execute(@Param('id') id: string, @Body() body: ExecuteCodeDto, @Req() request: PrincipalRequest) {
    return { execution_id: await this.executions.executeCode(principalOf(request), id, body.code) };
  }

  /** Answers the pending input(); 409 when the notebook's kernel is not waiting for input. */
  @Post('input')
  @HttpCode(204)
  async input(@Param('id') id: string, @Body() body: InputReplyDto, @Req() request: PrincipalRequest): Promise<void> {
    const principal = principalOf(request);
    authorize(this.access, principal, id, 'execute');
    const managed = await this.kernels.ofNotebook(id);
    if (!managed) throw new DomainError('CONFLICT', `notebook ${id} has no running kernel, so no input is pending`);
    await this.kernels.answerInput(managed, body.value, principal.user);
  }

  /** Relays complete_request; answers the reply's content. */
  @Post('kernel/complete')
  @HttpCode(200)
  async complete(@Param('id') id: string, @Body() body: CompleteDto, @Req() request: PrincipalRequest) {
    return this.relay(id, request, 'complete_request', { ...body });
  }

  /** Relays inspect_request; answers the reply's content. */
  @Post('kernel/inspect')
  @HttpCode(200)
  async inspect(@Param('id') id: string, @Body() body: InspectDto, @Req() request: PrincipalRequest) {
    return this.relay(id, request, 'inspect_request', { detail_level: 0, ...body });
  }

  /** Relays history_request; answers the reply's content. */
  @Post('kernel/history')
  @HttpCode(200)
  async history(@Param('id') id: string, @Body() body: HistoryDto, @Req() request: PrincipalRequest) {
    return this.relay(id, request, 'history_request', { hist_access_type: 'tail', n: 10, output: false, raw: true, ...body });
  }

  private async operate(id: string, request: PrincipalRequest, operation: 'shutdown' | 'interrupt' | 'restart'): Promise<void> {
    const managed = await this.authorized(id, request);
    await this.kernels[operation](managed, principalOf(request).user);
  }

  private async relay(id: string, request: PrincipalRequest, msgType: string, content: Record<string, unknown>) {
    const managed = await this.authorized(id, request);
    return this.kernels.request(managed, msgType, content, principalOf(request).user);
  }

  // Checked before anything reaches the kernel: a viewer's request sends nothing.
  private async authorized(id: string, request: PrincipalRequest): Promise<ManagedKernel> {
    authorize(this.access, principalOf(request), id, 'execute');
    return this.kernels.requireNotebookKernel(id);
  }
}
