import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { NotebookAccess } from '@palimpsest/auth';
import { DomainError } from '@palimpsest/contracts';
import { EventStore } from '@palimpsest/event-store';
import { KernelGateway, MAX_THREAD_PAGE, readThread, toKernelModel, type KernelModel, type KernelSpecsModel, type ThreadPage } from '@palimpsest/kernels';
import type { Response } from 'express';
import { StartKernelDto } from './dto/kernels.dto.js';
import { parsePage } from './events-query.js';
import { authorizeKernel, maySeeKernel } from './kernels.access.js';
import { principalOf, type PrincipalRequest } from './principal.js';

/** Jupyter Server's kernel REST API (`/api/kernelspecs`, `/api/kernels`), plus the threaded message view. */
@ApiTags('kernels')
@ApiBearerAuth()
@Controller('api')
export class JupyterKernelsController {
  constructor(
    private readonly kernels: KernelGateway,
    private readonly access: NotebookAccess,
    private readonly store: EventStore,
  ) {}

  /** The installed kernelspecs: `{default, kernelspecs: {name: {name, spec, resources}}}`. */
  @Get('kernelspecs')
  kernelspecs(): KernelSpecsModel {
    return this.kernels.kernelspecs();
  }

  /** The running kernels, on every node, that the caller may see: standalone ones they started and those of their notebooks. */
  @Get('kernels')
  async list(@Req() request: PrincipalRequest): Promise<KernelModel[]> {
    const principal = principalOf(request);
    const listed = await this.kernels.listEverywhere();
    return listed.filter((kernel) => maySeeKernel(this.access, principal, kernel)).map((kernel) => kernel.model);
  }

  /** Starts a standalone kernel, owned by the caller. */
  @Post('kernels')
  @ApiOperation({ summary: 'Start a standalone kernel (only its starter may see or use it)' })
  async start(@Body() body: StartKernelDto, @Req() request: PrincipalRequest, @Res({ passthrough: true }) response: Response): Promise<KernelModel> {
    const principal = principalOf(request);
    if (principal.scope === 'read') throw new DomainError('FORBIDDEN', 'this token is read-only');
    const managed = await this.kernels.startStandalone(principal.user, body.name);
    response.status(201).location(`/api/kernels/${managed.kernel.id}`);
    return toKernelModel(managed);
  }

  /** One running kernel's model, wherever it runs. */
  @Get('kernels/:kernel_id')
  async get(@Param('kernel_id') kernelId: string, @Req() request: PrincipalRequest): Promise<KernelModel> {
    await this.authorize(kernelId, request, 'read');
    return this.kernels.kernelModel(kernelId);
  }

  /** Shuts a kernel down, wherever it runs. */
  @Delete('kernels/:kernel_id')
  @HttpCode(204)
  async remove(@Param('kernel_id') kernelId: string, @Req() request: PrincipalRequest): Promise<void> {
    await this.operate(kernelId, request, 'shutdown');
  }

  /** Interrupts a kernel, wherever it runs. */
  @Post('kernels/:kernel_id/interrupt')
  @HttpCode(204)
  async interrupt(@Param('kernel_id') kernelId: string, @Req() request: PrincipalRequest): Promise<void> {
    await this.operate(kernelId, request, 'interrupt');
  }

  /** Restarts a kernel, wherever it runs; answers its model, as Jupyter Server does. */
  @Post('kernels/:kernel_id/restart')
  @HttpCode(200)
  async restart(@Param('kernel_id') kernelId: string, @Req() request: PrincipalRequest): Promise<KernelModel> {
    await this.operate(kernelId, request, 'restart');
    return this.kernels.kernelModel(kernelId);
  }

  /**
   * The threaded view from the log: the request with msg_id `parent` and every message whose parent it is, in
   * order, a page at a time; `next` is the `after` of the following page, null on the last.
   */
  @Get('kernels/:kernel_id/messages')
  @ApiQuery({ name: 'parent', required: true, description: 'msg_id of the request' })
  @ApiQuery({ name: 'after', required: false, type: Number, description: 'the `next` of the previous page' })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: `1-${MAX_THREAD_PAGE}, default ${MAX_THREAD_PAGE}` })
  async messages(@Param('kernel_id') kernelId: string, @Query() raw: Record<string, unknown>, @Req() request: PrincipalRequest): Promise<ThreadPage> {
    const { parent } = raw;
    if (typeof parent !== 'string' || parent === '') throw new DomainError('BAD_REQUEST', 'parent (a msg_id) is required');
    const page = parsePage(raw, MAX_THREAD_PAGE, MAX_THREAD_PAGE);
    await this.authorize(kernelId, request, 'read');
    const running = this.kernels.running(kernelId);
    if (running) await this.kernels.flushed(running);
    return readThread(this.store, kernelId, parent, page);
  }

  // The execute right is checked before anything reaches the kernel: a viewer's request sends nothing.
  private async operate(kernelId: string, request: PrincipalRequest, operation: 'shutdown' | 'interrupt' | 'restart'): Promise<void> {
    await this.authorize(kernelId, request, 'execute');
    await this.kernels.operateKernel(kernelId, principalOf(request).user, operation);
  }

  // Whose the kernel is comes from this node or the log: the kernel may run on another node, or no longer run.
  private async authorize(kernelId: string, request: PrincipalRequest, action: 'read' | 'execute'): Promise<void> {
    const ownership = await this.kernels.kernelOwnership(kernelId);
    if (!ownership) throw new DomainError('NOT_FOUND', `no kernel ${kernelId}`);
    authorizeKernel(this.access, principalOf(request), ownership, action);
  }
}
