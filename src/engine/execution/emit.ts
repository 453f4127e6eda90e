import type { WireEvent } from "../../protocol/worker";
import type { ErrorSource, EventType, LogLevel, SerializedError, SluiceEvent } from "../events";

export type EventSink = (event: SluiceEvent) => void;

/** The level of an event emitted without one. */
export function defaultLevel(type: EventType): LogLevel {
  return type === "STEP_FAILURE" || type === "RUN_FAILURE" ? "ERROR" : "INFO";
}

/** Builds events for one run; everything an executor reports goes through here. */
export class RunEvents {
  constructor(readonly runId: string, private readonly sink: EventSink) {}

  emit(type: EventType, message: string, options: { stepKey?: string | null; level?: LogLevel; data?: Record<string, unknown> } = {}): SluiceEvent {
    const event: SluiceEvent = {
      runId: this.runId,
      type,
      stepKey: options.stepKey ?? null,
      timestamp: Date.now(),
      level: options.level ?? defaultLevel(type),
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

/** A step's event as a step worker sends it (see WireEvent). */
export function toWireEvent(e: SluiceEvent): WireEvent {
  const data = e.data ?? null;
  return e.level === defaultLevel(e.type) ? [e.type, e.timestamp, e.message, data] : [e.type, e.timestamp, e.message, data, e.level];
}

/** An event a step worker sent, for the run and step it was handed. */
export function fromWireEvent(w: WireEvent, runId: string, stepKey: string): SluiceEvent {
  const event: SluiceEvent = { runId, type: w[0], stepKey, timestamp: w[1], level: w[4] ?? defaultLevel(w[0]), message: w[2] };
  if (w[3] !== null) event.data = w[3];
  return event;
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
