/**
 * `stigmer backend use`: records the default backend in $STIGMER_HOME/config.yaml, keeping the
 * file's other settings. Cloud needs an endpoint (given now or already in the file).
 */
import { configPath, type Env, readConfigFile, stigmerHome, writeConfigFile } from '../backend/config.js';
import type { BackendType } from '../backend/types.js';
import { StigmerError } from '../errors.js';

export interface UseBackendOptions {
  type: BackendType;
  endpoint?: string;
  token?: string;
  env?: Env;
}

export interface UseBackendResult {
  type: BackendType;
  configPath: string;
  endpoint?: string;
  /** An environment variable that overrides the file (e.g. STIGMER_BACKEND), if set. */
  overriddenBy?: string;
}

export function useBackend(options: UseBackendOptions): UseBackendResult {
  const env = options.env ?? process.env;
  const home = stigmerHome(env);
  const file = readConfigFile(home);
  const next = { ...file, backend: options.type };
  if (options.type === 'cloud') {
    const endpoint = options.endpoint ?? file.cloud?.endpoint;
    if (!endpoint) {
      throw new StigmerError('USAGE', 'the cloud backend needs an endpoint', {
        hint: 'stigmer backend use cloud --endpoint URL --token TOKEN',
      });
    }
    try {
      new URL(endpoint);
    } catch {
      throw new StigmerError('USAGE', `--endpoint "${endpoint}" is not a URL`, {
        hint: 'e.g. https://stigmer.example.com or http://127.0.0.1:7233',
      });
    }
    next.cloud = {
      ...file.cloud,
      endpoint,
      ...(options.token !== undefined ? { token: options.token } : {}),
    };
  }
  writeConfigFile(home, next);
  const result: UseBackendResult = { type: options.type, configPath: configPath(home) };
  if (next.cloud?.endpoint && options.type === 'cloud') result.endpoint = next.cloud.endpoint;
  if (env.STIGMER_BACKEND && env.STIGMER_BACKEND !== options.type) result.overriddenBy = 'STIGMER_BACKEND';
  return result;
}
