// Types of vscode-server.mjs, for the TypeScript tests that drive it.
import type { BrowserContext, Page } from "playwright-core";

export const ROOT: string;
export const CODE_SERVER_VERSION: string;
export const TEST_DIR: string;
export const CHROMIUM: string;

export function ensureVscodeServer(): void;

export interface InstalledVsix {
  extensionsDir: string;
  dir: string;
  installMs: number;
  cleanup(): void;
}
export function installVsix(vsix: string): InstalledVsix;

export interface StartOptions {
  workspace?: string;
  extensionsDir?: string;
  trusted?: boolean;
  settings?: Record<string, unknown>;
}
export interface Server {
  base: string;
  port: number;
  workspace: string;
  tmp: string;
  logFile: string;
  startMs: number;
  userData: string;
  url(payload?: [string, string][]): string;
  remoteUri(p: string): string;
  logs(): string[];
  stop(): Promise<void>;
}
export function startServer(options?: StartOptions): Promise<Server>;

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}
export function launchBrowser(): Promise<Browser>;

export function formatLog(args: unknown[]): string;
