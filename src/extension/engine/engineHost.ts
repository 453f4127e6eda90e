// Owns the engine's lifecycle in the extension host: starts it only in a trusted workspace (Sluice
// executes workspace code), reports its state through an event and the `sluice.engineState`
// context key, and forwards its change events to the views. Until the engine is wired, no factory
// is given and the state settles on "unavailable".
import { EventEmitter, type Disposable, type Event } from "vscode";
import { setContext } from "../common/commandApis";
import { traceError, traceInfo } from "../common/log";
import { getWorkspaceFolders, isWorkspaceTrusted, onDidGrantWorkspaceTrust } from "../common/workspaceApis";
import { ContextKeys } from "../constants";
import {
  EMPTY_DEFINITIONS,
  type DefinitionsModel,
  type DefinitionsUpdate,
  type EngineFactory,
  type EngineState,
  type RunSummary,
  type SluiceEngine,
} from "./port";

export interface RunsSource {
  readonly onDidChangeRuns: Event<void>;
  getRuns(): readonly RunSummary[];
}

export interface DefinitionsSource {
  readonly onDidChangeDefinitions: Event<void>;
  getDefinitions(): DefinitionsModel;
}

export class EngineHost implements RunsSource, DefinitionsSource, Disposable {
  private _state: EngineState = "starting";
  private _engine: SluiceEngine | undefined;
  private readonly disposables: Disposable[] = [];
  private readonly engineListeners: { dispose(): unknown }[] = [];
  private readonly stateEmitter = new EventEmitter<EngineState>();
  private readonly runsEmitter = new EventEmitter<void>();
  private readonly definitionsEmitter = new EventEmitter<void>();
  private readonly updateEmitter = new EventEmitter<DefinitionsUpdate>();
  private readonly activityEmitter = new EventEmitter<string[]>();
  private lastError: unknown;
  private lastUpdate: DefinitionsUpdate | undefined;
  private disposed = false;

  readonly onDidChangeState: Event<EngineState> = this.stateEmitter.event;
  readonly onDidChangeRuns: Event<void> = this.runsEmitter.event;
  readonly onDidChangeDefinitions: Event<void> = this.definitionsEmitter.event;
  /**
   * Every definitions load of the engine (snapshot with load errors, run config files, sluice.yaml
   * state): the hook the diagnostics attach to. `definitionsUpdate` holds the latest one.
   */
  readonly onDefinitions: Event<DefinitionsUpdate> = this.updateEmitter.event;
  /** Runs whose events grew (log documents follow them). */
  readonly onRunActivity: Event<string[]> = this.activityEmitter.event;

  constructor(private readonly createEngine: EngineFactory | undefined) {
    this.disposables.push(this.stateEmitter, this.runsEmitter, this.definitionsEmitter, this.updateEmitter, this.activityEmitter);
  }

  get definitionsUpdate(): DefinitionsUpdate | undefined {
    return this.lastUpdate;
  }

  get state(): EngineState {
    return this._state;
  }

  get engine(): SluiceEngine | undefined {
    return this._engine;
  }

  get error(): unknown {
    return this.lastError;
  }

  /** Starts the engine now if the workspace is trusted, otherwise as soon as it is. */
  async start(): Promise<void> {
    void setContext(ContextKeys.engineState, this._state);
    if (!isWorkspaceTrusted()) {
      traceInfo("Workspace is not trusted: the Sluice engine stays off until it is.");
      this.setState("untrusted");
      await new Promise<void>((resolve) => {
        const sub = onDidGrantWorkspaceTrust(() => {
          sub.dispose();
          resolve();
        });
        // resolve on dispose too, so that a deactivated extension leaves nothing pending
        this.disposables.push(sub, { dispose: () => resolve() });
      });
      if (this.disposed) return;
      traceInfo("Workspace trust granted.");
    }
    await this.connect();
  }

  getRuns(): readonly RunSummary[] {
    return this._engine?.getRuns() ?? [];
  }

  getDefinitions(): DefinitionsModel {
    return this._engine?.getDefinitions() ?? EMPTY_DEFINITIONS;
  }

  private async connect(): Promise<void> {
    if (!this.createEngine) {
      traceInfo("The Sluice engine is not wired into this build: views and commands run without it.");
      this.setState("unavailable");
      return;
    }
    const root = getWorkspaceFolders()[0]?.uri.fsPath;
    if (!root) {
      traceInfo("No workspace folder is open: the Sluice engine is not started.");
      this.setState("unavailable");
      return;
    }
    this.setState("starting");
    try {
      const engine = await this.createEngine(root);
      if (this.disposed) {
        await engine.dispose();
        return;
      }
      this._engine = engine;
      this.engineListeners.push(
        engine.onDidChangeRuns(() => this.runsEmitter.fire()),
        engine.onDidChangeDefinitions(() => this.definitionsEmitter.fire()),
      );
      if (engine.onDefinitions) {
        this.engineListeners.push(
          engine.onDefinitions((u) => {
            this.lastUpdate = u;
            this.updateEmitter.fire(u);
          }),
        );
      }
      if (engine.onRunActivity) this.engineListeners.push(engine.onRunActivity((ids) => this.activityEmitter.fire(ids)));
      if (engine.onDidFail) this.engineListeners.push(engine.onDidFail((message) => void this.failed(engine, message)));
      this.setState("ready");
      this.runsEmitter.fire();
      this.definitionsEmitter.fire();
    } catch (e) {
      this.lastError = e;
      traceError("The Sluice engine failed to start:", e);
      this.setState("unavailable");
    }
  }

  /** The engine stopped after it had started: report it unavailable (Refresh starts it again). */
  private async failed(engine: SluiceEngine, message: string): Promise<void> {
    if (this._engine !== engine || this.disposed) return;
    this.lastError = new Error(message);
    traceError(`The Sluice engine stopped: ${message}`);
    for (const l of this.engineListeners.splice(0)) l.dispose();
    this._engine = undefined;
    this.setState("unavailable");
    this.runsEmitter.fire();
    this.definitionsEmitter.fire();
    try {
      await engine.dispose();
    } catch {
      // already gone
    }
  }

  /** Starts the engine again after it stopped or failed to start (the Refresh command). */
  async restart(): Promise<void> {
    if (this.disposed || this.state === "untrusted" || this.state === "starting") return;
    const old = this._engine;
    for (const l of this.engineListeners.splice(0)) l.dispose();
    this._engine = undefined;
    if (old) await old.dispose();
    await this.connect();
  }

  private setState(state: EngineState): void {
    if (this._state === state) {
      void setContext(ContextKeys.engineState, state);
      return;
    }
    this._state = state;
    void setContext(ContextKeys.engineState, state);
    this.stateEmitter.fire(state);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const l of this.engineListeners.splice(0)) l.dispose();
    const engine = this._engine;
    this._engine = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    if (engine) await engine.dispose();
  }
}
