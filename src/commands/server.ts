import { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';

export default class Server extends Command {
  static override summary = 'Serve a store over gRPC for the cloud backend: shared state for a team.';
  static override description =
    'Serves BackendService (proto/stigmer/backend/v1/backend.proto) over HTTP/2 with the gRPC protocol — Connect ' +
    'and gRPC-Web too — and the standard grpc.health.v1 health service. Every call except health needs ' +
    '`authorization: Bearer TOKEN`. The first line on stderr is `listening on http://HOST:PORT`; then one access-log ' +
    'line per call. SIGTERM or SIGINT: stop accepting, let in-flight calls finish, close the store, exit 0. ' +
    "The server reads only its own settings, never the client's STIGMER_TOKEN.";
  static override examples = [
    'STIGMER_SERVER_TOKEN="$(openssl rand -base64 32)" <%= config.bin %> server --db /var/lib/stigmer/state.db',
    '<%= config.bin %> server --host 0.0.0.0 --token-file /etc/stigmer/token --tls-cert cert.pem --tls-key key.pem',
    '<%= config.bin %> server --port 0 --token dev-token --log-format json',
  ];
  static override flags = {
    host: Flags.string({ description: 'Address to bind. [default: 127.0.0.1]' }),
    port: Flags.integer({ description: 'Port; 0 picks a free one. [default: 7234]', min: 0, max: 65535 }),
    db: Flags.string({
      description:
        'The store: a SQLite file path or a postgres:// URL. [env: STIGMER_DATABASE_URL, then STIGMER_DB; default: $STIGMER_HOME/server.db]',
    }),
    'db-pool-size': Flags.integer({
      description:
        'PostgreSQL only: connections this server keeps open at most. [env: STIGMER_DB_POOL_SIZE; default: 10]',
    }),
    token: Flags.string({ description: 'Bearer token clients must send. [env: STIGMER_SERVER_TOKEN]' }),
    'token-file': Flags.string({
      description: 'File holding the bearer token (a trailing newline is fine).',
    }),
    'tls-cert': Flags.string({ description: 'PEM certificate (chain): serve TLS. Needs --tls-key.' }),
    'tls-key': Flags.string({ description: 'PEM private key of --tls-cert.' }),
    'log-format': Flags.string({
      description: 'Access-log format.',
      options: ['text', 'json'],
      default: 'text',
    }),
    'shutdown-timeout': Flags.integer({
      description: 'How long shutdown waits for in-flight calls, in ms. [default: 10000]',
      min: 0,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Server);
    const { resolveServerConfig } = await import('../server/config.js');
    const { openStore } = await import('../server/store.js');
    const { startServer } = await import('../server/server.js');
    const config = resolveServerConfig(flags);
    const store = await openStore(config.db, {
      ...(config.dbPoolSize !== undefined ? { poolSize: config.dbPoolSize } : {}),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    const write = (line: string) => process.stderr.write(line);
    let running: Awaited<ReturnType<typeof startServer>>;
    try {
      running = await startServer({
        store,
        token: config.token,
        host: config.host,
        port: config.port,
        logFormat: config.logFormat,
        ...(config.tls ? { tls: config.tls } : {}),
        ...(config.shutdownGraceMs !== undefined ? { shutdownGraceMs: config.shutdownGraceMs } : {}),
        log: write,
      });
    } catch (err) {
      await store.close();
      const { listenError } = await import('../server/errors.js');
      throw listenError(err, config.host, config.port);
    }
    // Handlers first: a signal that arrives right after the listening line is a clean stop too.
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        write(`${signal}: shutting down\n`);
        running.close().then(resolve, (err) => {
          write(`error while shutting down: ${err instanceof Error ? err.message : String(err)}\n`);
          resolve();
        });
      };
      const onTerm = () => stop('SIGTERM');
      const onInt = () => stop('SIGINT');
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
    });
    write(`listening on ${running.url}\n`);
    for (const w of config.warnings) write(`${w}\n`);
    write(`store: ${store.info.location} (token from ${config.tokenSource})\n`);
    await stopped;
    write('stopped\n');
  }
}
