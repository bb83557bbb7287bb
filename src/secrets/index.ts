/**
 * Secrets for Environment specs (issue 6): the master key, sealing single values
 * (AES-256-GCM + keyed hash), and the spec transforms the pipeline applies between
 * validation and planning and on the way out. See docs/secrets.md.
 */

export { revealExecutionContext } from './context.js';
export {
  collectSecretValues,
  comparableSecretSpec,
  type EnvironmentDataEntry,
  type EnvironmentRef,
  isSecretEntry,
  type PatchOperationLike,
  type ResolvedEnvironment,
  type ResolveSecretsContext,
  redactSecretPatch,
  redactSpec,
  resolveEnvironmentSecrets,
  revealSpec,
  SECRET_FILE_MAX_BYTES,
  SENSITIVE,
  SENSITIVE_CHANGED,
  type SecretResolveError,
  type SecretSource,
  secretDataKeys,
  type ValueFrom,
} from './environment.js';
export {
  decodeSecretKeyText,
  generateSecretKeyText,
  type LoadSecretKeyOptions,
  loadSecretKey,
  MASTER_KEY_FILE,
  SECRET_KEY_BYTES,
  SECRET_KEY_ENV,
  SecretKey,
  type SecretKeySource,
} from './key.js';
export {
  openSecret,
  planFileMac,
  type SealedSecret,
  type SecretRef,
  sealedKeyId,
  sealSecret,
  secretAad,
  secretHash,
  verifyPlanFileMac,
} from './seal.js';
