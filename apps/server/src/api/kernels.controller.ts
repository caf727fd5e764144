import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { authorize, NotebookAccess } from '@palimpsest/auth';
import { KernelGateway } from '@palimpsest/kernels';
import type { Response } from 'express';
import { CompleteDto, ExecuteCodeDto, HistoryDto, InputReplyDto, InspectDto, StartKernelDto } from './dto/kernels.dto.js';
import { ExecutionRequests } from './execution-requests.js';
import { principalOf, type PrincipalRequest } from './principal.js';

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
    const { kernel, started } = await this.kernels.startNotebookKernel(id, principal.user, body.name);
    response.status(started ? 201 : 200);
    return { kernel };
  }

  /** The notebook's running kernel and the input() it waits for, so that a client joining late can answer it; 404 when none runs. */
  @Get('kernel')
  @ApiOperation({ summary: "The notebook's running kernel: state and pending input() (404 when none runs)" })
  async describe(@Param('id') id: string, @Req() request: PrincipalRequest) {
    authorize(this.access, principalOf(request), id, 'read');
    return { kernel: await this.kernels.notebookKernel(id) };
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
    await this.kernels.answerNotebookInput(id, principal.user, body.value);
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

  // The execute right is checked before anything reaches the kernel: a viewer's request sends nothing.
  private async operate(id: string, request: PrincipalRequest, operation: 'shutdown' | 'interrupt' | 'restart'): Promise<void> {
    const principal = principalOf(request);
    authorize(this.access, principal, id, 'execute');
    await this.kernels.operateNotebookKernel(id, principal.user, operation);
  }

  private relay(id: string, request: PrincipalRequest, msgType: string, content: Record<string, unknown>) {
    const principal = principalOf(request);
    authorize(this.access, principal, id, 'execute');
    return this.kernels.requestNotebookKernel(id, principal.user, msgType, content);
  }
}
