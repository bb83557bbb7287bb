/** Colour only on a TTY, never with NO_COLOR (https://no-color.org). */
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

export function colorEnabled(stream: NodeJS.WriteStream = process.stdout, env = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

export function colors(enabled: boolean): Colors {
  return pc.createColors(enabled);
}
