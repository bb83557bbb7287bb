/**
 * How renderers paint text. The core renderers (plan text, apply events, watch lines) take a
 * `Style` from their caller instead of deciding about colour themselves: the CLI passes
 * picocolors' colours when standard output is a terminal (src/cli/color.ts), everyone else
 * gets plain text. Any object with these functions will do (picocolors' `createColors` result
 * is one).
 */
export interface Style {
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

const same = (text: string): string => text;

/** No colour, no emphasis: text as it is. */
export const PLAIN_STYLE: Style = { green: same, red: same, yellow: same, bold: same, dim: same };
