// The extension's log: one LogOutputChannel named "Sluice" (the engine's own log goes there too
// once it is wired). Modules log through these functions; activation registers the channel.
import type { LogOutputChannel } from "vscode";

let channel: LogOutputChannel | undefined;

export function registerLogChannel(c: LogOutputChannel | undefined): void {
  channel = c;
}

export function getLogChannel(): LogOutputChannel | undefined {
  return channel;
}

function format(args: unknown[]): string {
  return args
    .map((a) => (a instanceof Error ? (a.stack ?? `${a.name}: ${a.message}`) : typeof a === "string" ? a : JSON.stringify(a)))
    .join(" ");
}

export function traceTrace(...args: unknown[]): void {
  channel?.trace(format(args));
}
export function traceDebug(...args: unknown[]): void {
  channel?.debug(format(args));
}
export function traceInfo(...args: unknown[]): void {
  channel?.info(format(args));
}
export function traceWarn(...args: unknown[]): void {
  channel?.warn(format(args));
}
export function traceError(...args: unknown[]): void {
  channel?.error(format(args));
}
