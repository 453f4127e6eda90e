import type { RunRecord, RunsFilter } from "../engine/events";

export interface OpLogger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warning(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/** Read-only questions an op, schedule or sensor may ask the instance. */
export interface InstanceView {
  getRunRecords(filter?: RunsFilter, options?: { limit?: number }): Promise<RunRecord[]>;
}

/** The first argument of every op and asset function. */
export interface OpContext<Config = any> {
  readonly runId: string;
  readonly jobName: string;
  readonly stepKey: string;
  readonly opName: string;
  /** The op's config from run config `ops.<op>.config`, parsed (defaults applied) by the op's zod schema. */
  readonly config: Config;
  /** The op's tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** The run's tags. */
  readonly runTags: Readonly<Record<string, string>>;
  readonly log: OpLogger;
  /** 0 on the first attempt, 1 on the first retry, ... */
  readonly retryNumber: number;
  readonly instance: InstanceView;
  /** For assets: the key being materialised. */
  readonly assetKey?: string;
}
