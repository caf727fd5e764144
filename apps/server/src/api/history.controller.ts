import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { authorize, NotebookAccess } from '@palimpsest/auth';
import { DomainError } from '@palimpsest/contracts';
import { EventStore } from '@palimpsest/event-store';
import { forkNotebook, NotebookHistory, NotebookService, restoreNotebook, type HistoryPoint } from '@palimpsest/notebook';
import type { Response } from 'express';
import { writeAuditExport } from './audit-export.js';
import { AUDIT_CONTENT_TYPE, type AuditFormat } from './audit-format.js';
import { ForkNotebookDto, RestoreNotebookDto } from './dto/history.dto.js';
import { parseEventsQuery } from './events-query.js';
import { parseHistoryPoint } from './history-point.js';
import { principalOf, type PrincipalRequest } from './principal.js';

/** A required history point of a JSON body (numbers are versions). */
function bodyPoint(name: string, raw: number | string): HistoryPoint {
  return parseHistoryPoint(name, String(raw)) ?? { version: 0 };
}

/** History of a notebook: diffs, cell histories, restore, fork and the streamed audit export. */
@ApiTags('history')
@ApiBearerAuth()
@Controller('api/notebooks/:id')
export class HistoryController {
  private readonly history: NotebookHistory;

  constructor(
    private readonly store: EventStore,
    private readonly notebooks: NotebookService,
    private readonly access: NotebookAccess,
  ) {
    this.history = new NotebookHistory(store, notebooks);
  }

  /** What changed per cell between two points, with the actors who changed it. */
  @Get('diff')
  @ApiOperation({ summary: 'Per-cell diff between two points (inserted, deleted, moved, edited with a line diff, outputs changed) with actors' })
  @ApiQuery({ name: 'from', required: true, description: 'a version or an ISO-8601 time' })
  @ApiQuery({ name: 'to', required: false, description: 'a version or an ISO-8601 time; now when omitted' })
  diff(@Param('id') id: string, @Query('from') from: unknown, @Query('to') to: unknown, @Req() request: PrincipalRequest) {
    authorize(this.access, principalOf(request), id, 'read');
    const fromPoint = parseHistoryPoint('from', from);
    if (!fromPoint) throw new DomainError('BAD_REQUEST', 'from is required: a version or an ISO-8601 time');
    return this.history.diff(id, fromPoint, parseHistoryPoint('to', to));
  }

  /** The cell's source after each change that touched it. */
  @Get('cells/:cell_id/history')
  @ApiOperation({ summary: "A cell's source after each change that touched it, with version, time, actor and event type" })
  cellHistory(@Param('id') id: string, @Param('cell_id') cellId: string, @Req() request: PrincipalRequest) {
    authorize(this.access, principalOf(request), id, 'read');
    return this.history.cellHistory(id, cellId);
  }

  /** Restores the notebook's content to an earlier point as a new change (`notebook.restored`); owner or editor. */
  @Post('restore')
  @HttpCode(200)
  @ApiOperation({ summary: 'Restore the content of an earlier point as a new version (history is never rewritten)' })
  restore(@Param('id') id: string, @Body() body: RestoreNotebookDto, @Req() request: PrincipalRequest) {
    const principal = principalOf(request);
    authorize(this.access, principal, id, 'edit');
    return restoreNotebook(this.store, this.notebooks, id, { actor: principal.user }, bodyPoint('at', body.at), body.expected_version);
  }

  /** Forks the notebook at a point into a new notebook owned by the caller, linked to its origin. */
  @Post('fork')
  @ApiOperation({ summary: 'Fork the notebook (now or at a point) into a new notebook owned by the caller; 201 {id, name, version, forked_from}' })
  fork(@Param('id') id: string, @Body() body: ForkNotebookDto, @Req() request: PrincipalRequest) {
    const principal = principalOf(request);
    authorize(this.access, principal, id, 'read');
    if (principal.scope === 'read') throw new DomainError('FORBIDDEN', 'this token is read-only');
    const at = body.at === undefined ? undefined : bodyPoint('at', body.at);
    return forkNotebook(this.store, this.notebooks, id, principal.user, { at, name: body.name });
  }

  /** The whole filtered audit as NDJSON or CSV, streamed page by page; `X-Total-Events` announces the count. */
  @Get('events/export')
  @ApiOperation({ summary: 'Export the audit (same filters as /events) as NDJSON or CSV, streamed' })
  @ApiQuery({ name: 'format', required: false, enum: ['ndjson', 'csv'], description: 'default ndjson' })
  async export(@Param('id') id: string, @Query() raw: Record<string, unknown>, @Req() request: PrincipalRequest, @Res() response: Response): Promise<void> {
    authorize(this.access, principalOf(request), id, 'read');
    const format = (raw.format ?? 'ndjson') as AuditFormat;
    if (format !== 'ndjson' && format !== 'csv') throw new DomainError('BAD_REQUEST', 'format must be ndjson or csv');
    const { limit: _limit, ...query } = parseEventsQuery({ ...raw, limit: undefined }, id);
    const total = await this.store.count(query);
    response
      .status(200)
      // attachment() sets a type from the file extension: the explicit type goes after it.
      .attachment(`notebook-${id}-events.${format}`)
      .type(AUDIT_CONTENT_TYPE[format])
      .setHeader('X-Total-Events', String(total));
    try {
      await writeAuditExport(this.store, query, format, response);
      response.end();
    } catch (error) {
      // The status line is gone: the only honest signal left is an aborted body.
      response.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
