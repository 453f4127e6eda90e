import type { ErrorSource, EventType, LogLevel, SerializedError, SluiceEvent } from "../events";

export type EventSink = (event: SluiceEvent) => void;

/** Builds events for one run; everything an executor reports goes through here. */
export class RunEvents {
  constructor(readonly runId: string, private readonly sink: EventSink) {}

  emit(type: EventType, message: string, options: { stepKey?: string | null; level?: LogLevel; data?: Record<string, unknown> } = {}): SluiceEvent {
    const event: SluiceEvent = {
      runId: this.runId,
      type,
      stepKey: options.stepKey ?? null,
      timestamp: Date.now(),
      level: options.level ?? (type === "STEP_FAILURE" || type === "RUN_FAILURE" ? "ERROR" : "INFO"),
      message,
      data: options.data,
    };
    this.sink(event);
    return event;
  }

  /** Passes on an event made elsewhere (a step worker), keeping its own timestamp. */
  forward(event: SluiceEvent): void {
    this.sink(event);
  }

  engine(message: string, options: { stepKey?: string | null; level?: LogLevel; data?: Record<string, unknown> } = {}): SluiceEvent {
    return this.emit("ENGINE_EVENT", message, options);
  }
}

export function serializeError(e: unknown, source?: ErrorSource): SerializedError {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return {
      name: e.name,
      message: e.message,
      stack: e.stack,
      cause: cause !== undefined ? serializeError(cause) : undefined,
      source,
    };
  }
  return { name: "Error", message: typeof e === "string" ? e : safeString(e), source };
}

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
