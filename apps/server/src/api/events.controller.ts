import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { authorize, NotebookAccess } from '@palimpsest/auth';
import { EventStore, toApiEvent } from '@palimpsest/event-store';
import type { ApiEvent } from '@palimpsest/contracts';
import { principalOf, type PrincipalRequest } from './principal.js';
import { parseEventsQuery } from './events-query.js';

/** The audit log of a notebook: its own events and those of its kernels, filtered and paged. */
@ApiTags('history')
@ApiBearerAuth()
@Controller('api/notebooks/:id')
export class EventsController {
  constructor(
    private readonly store: EventStore,
    private readonly access: NotebookAccess,
  ) {}

  /** One page of events after a position; `next` is the `after` of the following page, null on the last. */
  @Get('events')
  @ApiOperation({ summary: 'Audit events of a notebook, filtered, with cursor pagination' })
  @ApiQuery({ name: 'after', required: false, type: Number })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: '1-1000, default 100' })
  @ApiQuery({ name: 'type', required: false, description: 'comma-separated event types' })
  @ApiQuery({ name: 'actor', required: false })
  @ApiQuery({ name: 'cell_id', required: false })
  @ApiQuery({ name: 'since', required: false, description: 'ISO-8601 time' })
  @ApiQuery({ name: 'until', required: false, description: 'ISO-8601 time' })
  async events(@Param('id') id: string, @Query() raw: Record<string, unknown>, @Req() request: PrincipalRequest): Promise<{ events: ApiEvent[]; next: number | null }> {
    authorize(this.access, principalOf(request), id, 'read');
    const query = parseEventsQuery(raw, id);
    const page = await this.store.read({ ...query, limit: query.limit + 1 });
    const events = page.slice(0, query.limit);
    const next = page.length > query.limit ? events[events.length - 1].position : null;
    return { events: events.map(toApiEvent), next };
  }
}
