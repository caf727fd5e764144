import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { authorize, NotebookAccess } from '@palimpsest/auth';
import { DomainError, notebookStream, type ForkOrigin } from '@palimpsest/contracts';
import { EventStore, type VerifyResult } from '@palimpsest/event-store';
import { NotebookService, type NotebookSnapshot } from '@palimpsest/notebook';
import type { Response } from 'express';
import { CreateNotebookDto, SetMemberDto } from './dto/notebook.dto.js';
import { parseHistoryPoint } from './history-point.js';
import { principalOf, type PrincipalRequest } from './principal.js';

/** Notebooks: create, list, read (now or at a past point), delete, members, verify. */
@ApiTags('notebooks')
@ApiBearerAuth()
@Controller('api/notebooks')
export class NotebooksController {
  constructor(
    private readonly notebooks: NotebookService,
    private readonly access: NotebookAccess,
    private readonly store: EventStore,
  ) {}

  /** Creates a notebook, empty or from nbformat v4 content; the caller becomes its owner. */
  @Post()
  @ApiOperation({ summary: 'Create a notebook (422 for invalid or non-v4 content)' })
  create(@Body() body: CreateNotebookDto, @Req() request: PrincipalRequest) {
    const principal = principalOf(request);
    if (principal.scope === 'read') throw new DomainError('FORBIDDEN', 'this token is read-only');
    return this.notebooks.create(principal.user, body.name, body.content);
  }

  /** The notebooks the caller holds a role in. */
  @Get()
  list(@Req() request: PrincipalRequest) {
    return { notebooks: this.notebooks.list(principalOf(request).user) };
  }

  /** The notebook now, or `?at=<version|ISO time>` as it was then. */
  @Get(':id')
  @ApiQuery({ name: 'at', required: false, description: 'a version or an ISO-8601 time' })
  async get(@Param('id') id: string, @Query('at') at: unknown, @Req() request: PrincipalRequest): Promise<NotebookSnapshot & { forked_from?: ForkOrigin }> {
    authorize(this.access, principalOf(request), id, 'read');
    const snapshot = await this.notebooks.get(id, parseHistoryPoint('at', at));
    const { forkedFrom } = this.notebooks.entry(id);
    return forkedFrom ? { ...snapshot, forked_from: forkedFrom } : snapshot;
  }

  /** The notebook as a downloadable `.ipynb` file (same `?at=`). */
  @Get(':id/ipynb')
  @ApiQuery({ name: 'at', required: false })
  async ipynb(@Param('id') id: string, @Query('at') at: unknown, @Req() request: PrincipalRequest, @Res() response: Response): Promise<void> {
    authorize(this.access, principalOf(request), id, 'read');
    const snapshot = await this.notebooks.exportFile(id, parseHistoryPoint('at', at));
    const filename = snapshot.name.endsWith('.ipynb') ? snapshot.name : `${snapshot.name}.ipynb`;
    response
      .status(200)
      .type('application/x-ipynb+json')
      .attachment(filename)
      .send(`${JSON.stringify(snapshot.content, null, 1)}\n`);
  }

  /** Deletes the notebook (owner); its history stays in the log. */
  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string, @Req() request: PrincipalRequest): Promise<void> {
    const principal = principalOf(request);
    authorize(this.access, principal, id, 'manage');
    await this.notebooks.delete(id, principal.user);
  }

  /** The owner and members of a notebook. */
  @Get(':id/members')
  members(@Param('id') id: string, @Req() request: PrincipalRequest) {
    authorize(this.access, principalOf(request), id, 'read');
    const entry = this.notebooks.entry(id);
    return { owner: entry.owner, members: [...entry.members].map(([user, role]) => ({ user, role })) };
  }

  /** Grants a user the editor or viewer role (owner). */
  @Put(':id/members/:user')
  setMember(@Param('id') id: string, @Param('user') user: string, @Body() body: SetMemberDto, @Req() request: PrincipalRequest) {
    const principal = principalOf(request);
    authorize(this.access, principal, id, 'manage');
    return this.notebooks.setMember(id, principal.user, user, body.role);
  }

  /** Revokes a user's role (owner). */
  @Delete(':id/members/:user')
  @HttpCode(204)
  async removeMember(@Param('id') id: string, @Param('user') user: string, @Req() request: PrincipalRequest): Promise<void> {
    const principal = principalOf(request);
    authorize(this.access, principal, id, 'manage');
    await this.notebooks.removeMember(id, principal.user, user);
  }

  /** Recomputes the notebook stream's hash chain. */
  @Get(':id/verify')
  async verify(@Param('id') id: string, @Req() request: PrincipalRequest): Promise<VerifyResult> {
    authorize(this.access, principalOf(request), id, 'read');
    return this.store.verify(notebookStream(id));
  }
}
