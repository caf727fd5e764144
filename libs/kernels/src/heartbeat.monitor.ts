import { Request } from 'zeromq';

/** Heartbeat settings: how often to ping, and how many silent intervals mean the kernel is gone. */
export interface HeartbeatOptions {
  intervalMs: number;
  maxMissed: number;
}

/** Pings a kernel's hb channel (REQ, the kernel echoes) and reports when replies stop for too long. */
export class HeartbeatMonitor {
  // relaxed + correlate: a new ping may go out while the last one is unanswered; stale echoes are discarded.
  private readonly socket = new Request({ linger: 0, relaxed: true, correlate: true });
  private readonly timer: NodeJS.Timeout;
  private missed = 0;
  private answered = true;

  constructor(address: string, options: HeartbeatOptions, onLost: (missed: number) => void) {
    this.socket.connect(address);
    void this.listen();
    this.timer = setInterval(() => {
      this.missed = this.answered ? 0 : this.missed + 1;
      if (this.missed >= options.maxMissed) {
        this.stop();
        onLost(this.missed);
        return;
      }
      this.answered = false;
      this.socket.send('ping').catch(() => undefined);
    }, options.intervalMs);
  }

  /** Stops pinging and closes the socket. */
  stop(): void {
    clearInterval(this.timer);
    if (!this.socket.closed) this.socket.close();
  }

  private async listen(): Promise<void> {
    try {
      for await (const _echo of this.socket) this.answered = true;
    } catch {
      // Ends when the socket closes; a lost kernel is reported by the timer, not here.
    }
  }
}
