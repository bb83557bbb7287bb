/**
 * The standard gRPC health service (grpc.health.v1.Health, proto/grpc/health/v1/health.proto):
 * a map of service name → serving status, `""` being the server as a whole. Check of an unknown
 * name is NOT_FOUND; Watch sends the current status and then every change. It answers without a
 * token (the auth interceptor exempts it), so load balancers and `grpc_health_probe` can use it.
 * Shutdown sets every status to NOT_SERVING first.
 */
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { type Health, HealthCheckResponse_ServingStatus as Status } from '../gen/grpc/health/v1/health_pb.js';

export { Status as ServingStatus };

export class HealthStatus {
  private readonly statuses = new Map<string, Status>();
  private readonly listeners = new Set<() => void>();

  constructor(services: string[]) {
    this.statuses.set('', Status.SERVING);
    for (const s of services) this.statuses.set(s, Status.SERVING);
  }

  get(service: string): Status | undefined {
    return this.statuses.get(service);
  }

  /** Sets the status of every known service (shutdown: NOT_SERVING). */
  setAll(status: Status): void {
    for (const key of this.statuses.keys()) this.statuses.set(key, status);
    for (const l of [...this.listeners]) l();
  }

  all(): Map<string, Status> {
    return new Map(this.statuses);
  }

  /** Resolves on the next change, or when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.listeners.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.listeners.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

export function healthServiceImpl(health: HealthStatus): ServiceImpl<typeof Health> {
  return {
    check(req) {
      const status = health.get(req.service);
      if (status === undefined) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      return { status };
    },
    list() {
      const statuses: Record<string, { status: Status }> = {};
      for (const [name, status] of health.all()) statuses[name] = { status };
      return { statuses };
    },
    async *watch(req, ctx) {
      let last: Status | undefined;
      while (!ctx.signal.aborted) {
        const status = health.get(req.service) ?? Status.SERVICE_UNKNOWN;
        if (status !== last) {
          last = status;
          yield { status };
        }
        await health.changed(ctx.signal);
      }
    },
  };
}
