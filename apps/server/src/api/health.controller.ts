import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthCheckResult, type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { Public } from '@palimpsest/auth';
import { EventStore } from '@palimpsest/event-store';

/** Liveness and readiness: 200 once the server accepts requests and its store answers. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly store: EventStore,
  ) {}

  /** `{"status": "ok", "info": {"event_store": {"status": "up", "head_position": n}}}`. */
  @Public()
  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.storeIsUp()]);
  }

  private async storeIsUp(): Promise<HealthIndicatorResult> {
    const check = this.indicator.check('event_store');
    try {
      return check.up({ head_position: await this.store.headPosition() });
    } catch (error) {
      return check.down({ message: String(error) });
    }
  }
}
