/**
 * The runner's side of a JavaScript action, following the conventions of GitHub's toolkit
 * (`@actions/core`, not bundled: it drags in an HTTP stack the Action never uses): inputs from
 * `INPUT_*`, outputs appended to `$GITHUB_OUTPUT` as heredocs with a random delimiter, the job
 * summary appended to `$GITHUB_STEP_SUMMARY`, and workflow commands on stdout (`::add-mask::`,
 * `::error file=…,line=…,col=…::`, `::warning::`, `::group::`) with the toolkit's escaping.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { EOL } from 'node:os';
import { StigmerError } from '../errors.js';

export type Env = Record<string, string | undefined>;

/** The value of input `name` (`INPUT_NAME`, spaces as `_`), trimmed; '' when unset. */
export function getInput(env: Env, name: string): string {
  return (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

/** A YAML 1.2 core-schema boolean input (`true`/`false` in any case); `fallback` when unset. */
export function getBooleanInput(env: Env, name: string, fallback: boolean): boolean {
  const value = getInput(env, name);
  if (value === '') return fallback;
  if (/^(true|True|TRUE)$/.test(value)) return true;
  if (/^(false|False|FALSE)$/.test(value)) return false;
  throw new StigmerError('USAGE', `input ${name} must be true or false, got "${value}"`);
}

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** Where a diagnostic annotation points. */
export interface AnnotationPosition {
  file?: string;
  line?: number;
  col?: number;
  title?: string;
}

/** Writes workflow commands and files for one run; `write` is stdout by default. */
export class Workflow {
  private readonly masked = new Set<string>();

  constructor(
    private readonly env: Env,
    private readonly write: (text: string) => void = (text) => process.stdout.write(text),
  ) {}

  private command(name: string, properties: Record<string, string | number | undefined>, message: string) {
    const props = Object.entries(properties)
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
      .join(',');
    this.write(`::${name}${props ? ` ${props}` : ''}::${escapeData(message)}${EOL}`);
  }

  /** A line of the job log. */
  info(line: string): void {
    this.write(`${line}${EOL}`);
  }

  /** `::add-mask::VALUE` (once per value): the runner replaces it with *** in the log from now on. */
  mask(value: string): void {
    if (value === '' || this.masked.has(value)) return;
    this.masked.add(value);
    this.command('add-mask', {}, value);
  }

  error(message: string, at: AnnotationPosition = {}): void {
    this.command('error', { title: at.title, file: at.file, line: at.line, col: at.col }, message);
  }

  warning(message: string, at: AnnotationPosition = {}): void {
    this.command('warning', { title: at.title, file: at.file, line: at.line, col: at.col }, message);
  }

  notice(message: string): void {
    this.command('notice', {}, message);
  }

  /** Runs `fn` inside a collapsible group of the log. */
  async group<T>(title: string, fn: () => Promise<T> | T): Promise<T> {
    this.write(`::group::${escapeData(title)}${EOL}`);
    try {
      return await fn();
    } finally {
      this.write(`::endgroup::${EOL}`);
    }
  }

  /**
   * Sets an output: `name<<DELIMITER\nvalue\nDELIMITER` appended to `$GITHUB_OUTPUT`, the
   * delimiter random so no value can end the heredoc early.
   */
  setOutput(name: string, value: string): void {
    const file = this.env.GITHUB_OUTPUT;
    if (!file) {
      // Outside a runner (or an old one): the deprecated command still sets it.
      this.command('set-output', { name }, value);
      return;
    }
    const delimiter = `ghadelimiter_${randomUUID()}`;
    if (name.includes(delimiter) || value.includes(delimiter)) {
      throw new StigmerError('INTERNAL', `output ${name} contains its delimiter`, { userFixable: false });
    }
    appendFileSync(file, `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}${EOL}`, 'utf8');
  }

  /** Appends markdown to the job summary (`$GITHUB_STEP_SUMMARY`); false when there is none. */
  appendSummary(markdown: string): boolean {
    const file = this.env.GITHUB_STEP_SUMMARY;
    if (!file) return false;
    appendFileSync(file, markdown.endsWith('\n') ? markdown : `${markdown}\n`, 'utf8');
    return true;
  }
}
