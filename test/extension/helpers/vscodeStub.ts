// A stand-in for the `vscode` module, for unit tests of the extension's adapter logic. Importing
// this file makes `require("vscode")` return the stub (only that module is replaced), so it must be
// imported before any module of src/extension. The stub implements the subset of the API the
// extension uses, records what the extension does (messages, context keys, tree views, status bar
// items, clipboard) and lets a test script the user's answers (input boxes, message choices).
import * as fs from "node:fs";
import * as nodePath from "node:path";
import Module = require("node:module");

type Listener<T> = (e: T) => unknown;

export class Disposable {
  private fn: (() => unknown) | undefined;
  constructor(fn: () => unknown) {
    this.fn = fn;
  }
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((d) => d.dispose()));
  }
  dispose(): void {
    const fn = this.fn;
    this.fn = undefined;
    fn?.();
  }
}

export class EventEmitter<T> {
  private listeners = new Set<Listener<T>>();
  disposed = false;
  readonly event = (listener: Listener<T>, thisArg?: unknown, disposables?: { dispose(): unknown }[]) => {
    const bound: Listener<T> = (e) => listener.call(thisArg, e);
    this.listeners.add(bound);
    const d = new Disposable(() => this.listeners.delete(bound));
    disposables?.push(d);
    return d;
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  get listenerCount(): number {
    return this.listeners.size;
  }
  dispose(): void {
    this.disposed = true;
    this.listeners.clear();
  }
}

export enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}
export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}
export enum FileType {
  Unknown = 0,
  File = 1,
  Directory = 2,
  SymbolicLink = 64,
}
export enum LogLevel {
  Off = 0,
  Trace = 1,
  Debug = 2,
  Info = 3,
  Warning = 4,
  Error = 5,
}

export class ThemeColor {
  constructor(readonly id: string) {}
}
export class ThemeIcon {
  constructor(readonly id: string, readonly color?: ThemeColor) {}
}
export class MarkdownString {
  constructor(public value = "") {}
  appendMarkdown(v: string): this {
    this.value += v;
    return this;
  }
}
export class TreeItem {
  id?: string;
  description?: string | boolean;
  tooltip?: string | MarkdownString;
  iconPath?: unknown;
  contextValue?: string;
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(public label: string, public collapsibleState: TreeItemCollapsibleState = TreeItemCollapsibleState.None) {}
}
export class Position {
  constructor(readonly line: number, readonly character: number) {}
}
export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
    if (typeof a === "number") {
      this.start = new Position(a, b as number);
      this.end = new Position(c!, d!);
    } else {
      this.start = a;
      this.end = b as Position;
    }
  }
}

export class CodeLens {
  constructor(public range: Range, public command?: { title: string; command: string; arguments?: unknown[] }) {}
  get isResolved(): boolean {
    return !!this.command;
  }
}

export enum DiagnosticSeverity {
  Error = 0,
  Warning = 1,
  Information = 2,
  Hint = 3,
}
export class Diagnostic {
  source?: string;
  code?: string | number | { value: string | number; target: Uri };
  relatedInformation?: unknown[];
  constructor(public range: Range, public message: string, public severity: DiagnosticSeverity = DiagnosticSeverity.Error) {}
}
export class Hover {
  readonly contents: MarkdownString[];
  constructor(contents: MarkdownString | MarkdownString[], public range?: Range) {
    this.contents = Array.isArray(contents) ? contents : [contents];
  }
}
export enum CompletionItemKind {
  Text = 0,
  Method = 1,
  Function = 2,
  Constructor = 3,
  Field = 4,
  Variable = 5,
  Class = 6,
  Interface = 7,
  Module = 8,
  Property = 9,
  Unit = 10,
  Value = 11,
  Enum = 12,
  Keyword = 13,
  Snippet = 14,
  Color = 15,
  File = 16,
  Reference = 17,
  Folder = 18,
  EnumMember = 19,
}
export class CompletionItem {
  detail?: string;
  documentation?: string | MarkdownString;
  sortText?: string;
  filterText?: string;
  insertText?: string;
  range?: Range;
  keepWhitespace?: boolean;
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(public label: string, public kind?: CompletionItemKind) {}
}
export class CodeActionKind {
  static readonly QuickFix = new CodeActionKind("quickfix");
  constructor(readonly value: string) {}
}
export type WorkspaceEditEntry =
  | { kind: "replace"; uri: Uri; range: Range; newText: string }
  | { kind: "rename"; from: Uri; to: Uri };
export class WorkspaceEdit {
  readonly entries: WorkspaceEditEntry[] = [];
  replace(uri: Uri, range: Range, newText: string): void {
    this.entries.push({ kind: "replace", uri, range, newText });
  }
  insert(uri: Uri, position: Position, newText: string): void {
    this.entries.push({ kind: "replace", uri, range: new Range(position, position), newText });
  }
  renameFile(from: Uri, to: Uri): void {
    this.entries.push({ kind: "rename", from, to });
  }
}
export class CodeAction {
  edit?: WorkspaceEdit;
  diagnostics?: Diagnostic[];
  isPreferred?: boolean;
  constructor(public title: string, public kind?: CodeActionKind) {}
}

export class Uri {
  private constructor(readonly scheme: string, readonly path: string) {}
  static file(p: string): Uri {
    return new Uri("file", nodePath.resolve(p));
  }
  static joinPath(base: Uri, ...segments: string[]): Uri {
    return new Uri(base.scheme, nodePath.posix.normalize(nodePath.posix.join(base.path, ...segments)));
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
  with(change: { path?: string }): Uri {
    return new Uri(this.scheme, change.path ?? this.path);
  }
}

/** l10n.t: `{0}`-style positional arguments, or one object of named ones. */
function format(message: string, args: unknown[]): string {
  const named = args.length === 1 && typeof args[0] === "object" && args[0] !== null ? (args[0] as Record<string, unknown>) : undefined;
  return message.replace(/\{(\w+)\}/g, (m, key: string) => {
    const v = named ? named[key] : args[Number(key)];
    return v === undefined ? m : String(v);
  });
}

// ---------------------------------------------------------------------------------------------
// Recorded state

export interface FakeLogChannel {
  name: string;
  lines: { level: string; message: string }[];
  shown: number;
  disposed: boolean;
  logLevel: LogLevel;
  trace(m: string): void;
  debug(m: string): void;
  info(m: string): void;
  warn(m: string): void;
  error(m: string | Error): void;
  append(v: string): void;
  appendLine(v: string): void;
  replace(v: string): void;
  clear(): void;
  show(): void;
  hide(): void;
  dispose(): void;
  onDidChangeLogLevel: EventEmitter<LogLevel>["event"];
}

export interface FakeTreeView {
  viewId: string;
  options: { treeDataProvider: any; showCollapseAll?: boolean };
  visible: boolean;
  badge: { value: number; tooltip: string } | undefined;
  disposed: boolean;
  visibility: EventEmitter<{ visible: boolean }>;
  onDidChangeVisibility: EventEmitter<{ visible: boolean }>["event"];
  setVisible(v: boolean): void;
  dispose(): void;
}

export interface FakeStatusBarItem {
  id: string;
  alignment: StatusBarAlignment;
  priority: number;
  name?: string;
  text: string;
  tooltip?: string;
  command?: string;
  backgroundColor?: ThemeColor;
  visible: boolean;
  disposed: boolean;
  show(): void;
  hide(): void;
  dispose(): void;
}

export interface FakeDiagnosticCollection {
  name: string;
  entries: Map<string, { uri: Uri; diagnostics: Diagnostic[] }>;
  disposed: boolean;
  set(uri: Uri, diagnostics: readonly Diagnostic[] | undefined): void;
  delete(uri: Uri): void;
  clear(): void;
  get(uri: Uri): readonly Diagnostic[] | undefined;
  has(uri: Uri): boolean;
  forEach(cb: (uri: Uri, diagnostics: readonly Diagnostic[]) => unknown): void;
  dispose(): void;
}

export interface FakeFileSystemWatcher {
  pattern: unknown;
  created: EventEmitter<Uri>;
  changed: EventEmitter<Uri>;
  deleted: EventEmitter<Uri>;
  onDidCreate: EventEmitter<Uri>["event"];
  onDidChange: EventEmitter<Uri>["event"];
  onDidDelete: EventEmitter<Uri>["event"];
  disposed: boolean;
  dispose(): void;
}

/** A text document: enough of vscode.TextDocument for the language features. */
export class FakeTextDocument {
  version = 1;
  isClosed = false;
  constructor(readonly uri: Uri, private text: string, readonly languageId = "yaml") {}
  get fileName(): string {
    return this.uri.fsPath;
  }
  getText(): string {
    return this.text;
  }
  setText(text: string): void {
    this.text = text;
    this.version++;
  }
  get lineCount(): number {
    return this.text.split("\n").length;
  }
  lineAt(line: number) {
    const text = this.text.split("\n")[line] ?? "";
    return { lineNumber: line, text, range: new Range(line, 0, line, text.length) };
  }
  offsetAt(p: Position): number {
    const lines = this.text.split("\n");
    let offset = 0;
    for (let i = 0; i < p.line && i < lines.length; i++) offset += lines[i].length + 1;
    return Math.min(offset + p.character, this.text.length);
  }
  positionAt(offset: number): Position {
    const before = this.text.slice(0, Math.max(0, offset));
    const lines = before.split("\n");
    return new Position(lines.length - 1, lines[lines.length - 1].length);
  }
}

interface State {
  commands: Map<string, (...args: any[]) => unknown>;
  executed: { id: string; args: unknown[] }[];
  context: Map<string, unknown>;
  messages: { level: "info" | "warning" | "error"; message: string; items: string[] }[];
  statusMessages: string[];
  /** Answer of the next message with buttons (by message substring), default undefined. */
  messageChoices: { match: string; choice: string }[];
  inputBoxes: { options: any; validation?: string | undefined }[];
  /** Answers for the next showInputBox calls: a string, undefined (cancel), or a function of the options. */
  inputAnswers: (string | undefined | ((options: any) => string | undefined))[];
  opened: { uri: Uri; options: unknown }[];
  channels: FakeLogChannel[];
  codeLensProviders: { selector: unknown; provider: any; disposed: boolean }[];
  /** Hover, completion and code action providers, by kind. */
  languageProviders: { kind: "hover" | "completion" | "codeActions"; selector: unknown; provider: any; extra: unknown[]; disposed: boolean }[];
  diagnosticCollections: FakeDiagnosticCollection[];
  fileWatchers: FakeFileSystemWatcher[];
  /** What workspace.findFiles answers (absolute paths). */
  files: string[];
  treeViews: FakeTreeView[];
  statusBarItems: FakeStatusBarItem[];
  clipboard: string;
  folderPicks: number;
}

function freshState(): State {
  return {
    commands: new Map(),
    executed: [],
    context: new Map(),
    messages: [],
    statusMessages: [],
    messageChoices: [],
    inputBoxes: [],
    inputAnswers: [],
    opened: [],
    channels: [],
    codeLensProviders: [],
    languageProviders: [],
    diagnosticCollections: [],
    fileWatchers: [],
    files: [],
    treeViews: [],
    statusBarItems: [],
    clipboard: "",
    folderPicks: 0,
  };
}

export let state: State = freshState();
const trustEmitter = new EventEmitter<void>();

export interface FakeWorkspaceFolder {
  uri: Uri;
  name: string;
  index: number;
}

function message(level: "info" | "warning" | "error") {
  return async (text: string, ...items: unknown[]) => {
    const labels = items.filter((i): i is string => typeof i === "string");
    state.messages.push({ level, message: text, items: labels });
    return state.messageChoices.find((c) => text.includes(c.match))?.choice;
  };
}

export const commands = {
  registerCommand(id: string, handler: (...args: any[]) => unknown) {
    if (state.commands.has(id)) throw new Error(`command '${id}' already exists`);
    state.commands.set(id, handler);
    return new Disposable(() => state.commands.delete(id));
  },
  async executeCommand(id: string, ...args: unknown[]) {
    state.executed.push({ id, args });
    if (id === "setContext") {
      state.context.set(args[0] as string, args[1]);
      return undefined;
    }
    const handler = state.commands.get(id);
    return handler ? handler(...args) : undefined;
  },
  async getCommands() {
    return [...state.commands.keys()];
  },
};

export const window = {
  /** The Sluice panel's serializer (webview/vscodePlatform.ts): recorded, never called here. */
  registerWebviewPanelSerializer(viewType: string, _serializer: unknown) {
    webviewSerializers.push(viewType);
    return new Disposable(() => webviewSerializers.splice(webviewSerializers.indexOf(viewType), 1));
  },
  createOutputChannel(name: string, options?: { log: true }): FakeLogChannel {
    if (!options?.log) throw new Error("the stub only makes LogOutputChannels");
    const lines: FakeLogChannel["lines"] = [];
    const rec = (level: string) => (m: string | Error) => lines.push({ level, message: String(m) });
    const ch: FakeLogChannel = {
      name,
      lines,
      shown: 0,
      disposed: false,
      logLevel: LogLevel.Info,
      trace: rec("trace"),
      debug: rec("debug"),
      info: rec("info"),
      warn: rec("warn"),
      error: rec("error"),
      append: rec("append"),
      appendLine: rec("append"),
      replace: rec("replace"),
      clear: () => (lines.length = 0),
      show: () => void ch.shown++,
      hide: () => {},
      dispose: () => void (ch.disposed = true),
      onDidChangeLogLevel: new EventEmitter<LogLevel>().event,
    };
    state.channels.push(ch);
    return ch;
  },
  createTreeView(viewId: string, options: FakeTreeView["options"]): FakeTreeView {
    const visibility = new EventEmitter<{ visible: boolean }>();
    const view: FakeTreeView = {
      viewId,
      options,
      visible: false,
      badge: undefined,
      disposed: false,
      visibility,
      onDidChangeVisibility: visibility.event,
      setVisible(v) {
        view.visible = v;
        visibility.fire({ visible: v });
      },
      dispose: () => void (view.disposed = true),
    };
    state.treeViews.push(view);
    return view;
  },
  createStatusBarItem(id: string, alignment: StatusBarAlignment, priority: number): FakeStatusBarItem {
    const item: FakeStatusBarItem = {
      id,
      alignment,
      priority,
      text: "",
      visible: false,
      disposed: false,
      show: () => void (item.visible = true),
      hide: () => void (item.visible = false),
      dispose: () => void (item.disposed = true),
    };
    state.statusBarItems.push(item);
    return item;
  },
  showInformationMessage: message("info"),
  showWarningMessage: message("warning"),
  showErrorMessage: message("error"),
  async showInputBox(options: any) {
    const record: State["inputBoxes"][number] = { options };
    state.inputBoxes.push(record);
    if (options?.validateInput && options.value !== undefined) record.validation = (await options.validateInput(options.value)) ?? undefined;
    const answer = state.inputAnswers.shift();
    return typeof answer === "function" ? answer(options) : answer;
  },
  async showWorkspaceFolderPick() {
    state.folderPicks++;
    return workspace.workspaceFolders?.[0];
  },
  async showTextDocument(doc: Uri | { uri: Uri }, options?: unknown) {
    const uri = doc instanceof Uri ? doc : doc.uri;
    state.opened.push({ uri, options });
    return { document: { uri } };
  },
  setStatusBarMessage(text: string) {
    state.statusMessages.push(text);
    return new Disposable(() => {});
  },
};

const documentEvents = {
  open: new EventEmitter<FakeTextDocument>(),
  change: new EventEmitter<{ document: FakeTextDocument; contentChanges: unknown[] }>(),
  save: new EventEmitter<FakeTextDocument>(),
  close: new EventEmitter<FakeTextDocument>(),
};

export const workspace = {
  workspaceFolders: undefined as FakeWorkspaceFolder[] | undefined,
  isTrusted: true,
  onDidGrantWorkspaceTrust: trustEmitter.event,
  textDocuments: [] as FakeTextDocument[],
  onDidOpenTextDocument: documentEvents.open.event,
  onDidChangeTextDocument: documentEvents.change.event,
  onDidSaveTextDocument: documentEvents.save.event,
  onDidCloseTextDocument: documentEvents.close.event,
  async findFiles(include: string) {
    const glob = include.replace(/^\*\*\//, "");
    const names = /^\*\.run\.\{(.+)\}$/.exec(glob);
    const match = (f: string) => (names ? names[1].split(",").some((ext) => f.endsWith(`.run.${ext}`)) : nodePath.basename(f) === glob);
    return state.files.filter(match).map((f) => Uri.file(f));
  },
  createFileSystemWatcher(pattern: unknown): FakeFileSystemWatcher {
    const created = new EventEmitter<Uri>();
    const changed = new EventEmitter<Uri>();
    const deleted = new EventEmitter<Uri>();
    const w: FakeFileSystemWatcher = {
      pattern, created, changed, deleted,
      onDidCreate: created.event, onDidChange: changed.event, onDidDelete: deleted.event,
      disposed: false,
      dispose: () => void (w.disposed = true),
    };
    state.fileWatchers.push(w);
    return w;
  },
  getWorkspaceFolder(uri: Uri) {
    return workspace.workspaceFolders?.find((f) => uri.path === f.uri.path || uri.path.startsWith(f.uri.path + "/"));
  },
  fs: {
    async stat(uri: Uri) {
      try {
        const st = fs.statSync(uri.fsPath);
        return { type: st.isDirectory() ? FileType.Directory : FileType.File, size: st.size, ctime: st.ctimeMs, mtime: st.mtimeMs };
      } catch {
        throw Object.assign(new Error(`EntryNotFound (FileSystemError): ${uri}`), { code: "FileNotFound" });
      }
    },
    async readFile(uri: Uri): Promise<Uint8Array> {
      try {
        return fs.readFileSync(uri.fsPath);
      } catch {
        throw Object.assign(new Error(`EntryNotFound (FileSystemError): ${uri}`), { code: "FileNotFound" });
      }
    },
    async writeFile(uri: Uri, content: Uint8Array) {
      fs.mkdirSync(nodePath.dirname(uri.fsPath), { recursive: true });
      fs.writeFileSync(uri.fsPath, content);
    },
  },
};

function languageProvider(kind: State["languageProviders"][number]["kind"]) {
  return (selector: unknown, provider: unknown, ...extra: unknown[]) => {
    const entry = { kind, selector, provider, extra, disposed: false };
    state.languageProviders.push(entry);
    return new Disposable(() => void (entry.disposed = true));
  };
}

export const languages = {
  registerCodeLensProvider(selector: unknown, provider: unknown) {
    const entry = { selector, provider, disposed: false };
    state.codeLensProviders.push(entry);
    return new Disposable(() => void (entry.disposed = true));
  },
  registerHoverProvider: languageProvider("hover"),
  registerCompletionItemProvider: languageProvider("completion"),
  registerCodeActionsProvider: languageProvider("codeActions"),
  createDiagnosticCollection(name: string): FakeDiagnosticCollection {
    const entries = new Map<string, { uri: Uri; diagnostics: Diagnostic[] }>();
    const c: FakeDiagnosticCollection = {
      name,
      entries,
      disposed: false,
      set: (uri, diagnostics) => (diagnostics?.length ? entries.set(uri.toString(), { uri, diagnostics: [...diagnostics] }) : entries.delete(uri.toString())),
      delete: (uri) => void entries.delete(uri.toString()),
      clear: () => entries.clear(),
      get: (uri) => entries.get(uri.toString())?.diagnostics,
      has: (uri) => entries.has(uri.toString()),
      forEach: (cb) => entries.forEach((e) => cb(e.uri, e.diagnostics)),
      dispose: () => {
        c.disposed = true;
        entries.clear();
      },
    };
    state.diagnosticCollections.push(c);
    return c;
  },
};

export const env = {
  clipboard: {
    async writeText(text: string) {
      state.clipboard = text;
    },
    async readText() {
      return state.clipboard;
    },
  },
};

export const l10n = {
  t(message: string | { message: string; args?: unknown[] }, ...args: unknown[]): string {
    return typeof message === "string" ? format(message, args) : format(message.message, message.args ?? []);
  },
};

export const version = "1.100.0-stub";

// ---------------------------------------------------------------------------------------------
// Test helpers

/** Forgets everything recorded and resets the workspace to `folders` (trusted). */
export function reset(folders: string[] = []): void {
  state = freshState();
  workspace.isTrusted = true;
  workspace.textDocuments = [];
  workspace.workspaceFolders = folders.length
    ? folders.map((f, index) => ({ uri: Uri.file(f), name: nodePath.basename(f), index }))
    : undefined;
}

/** Opens a document (fires onDidOpenTextDocument); `text` defaults to the file's content on disk. */
export function openDocument(path: string, text?: string): FakeTextDocument {
  const doc = new FakeTextDocument(Uri.file(path), text ?? fs.readFileSync(path, "utf8"));
  workspace.textDocuments.push(doc);
  documentEvents.open.fire(doc);
  return doc;
}

/** Replaces a document's text (fires onDidChangeTextDocument). */
export function changeDocument(doc: FakeTextDocument, text: string): void {
  doc.setText(text);
  documentEvents.change.fire({ document: doc, contentChanges: [] });
}

/** Writes the document's text to disk (fires onDidSaveTextDocument). */
export function saveDocument(doc: FakeTextDocument): void {
  fs.writeFileSync(doc.uri.fsPath, doc.getText());
  documentEvents.save.fire(doc);
}

export function closeDocument(doc: FakeTextDocument): void {
  doc.isClosed = true;
  workspace.textDocuments.splice(workspace.textDocuments.indexOf(doc), 1);
  documentEvents.close.fire(doc);
}

export function grantWorkspaceTrust(): void {
  workspace.isTrusted = true;
  trustEmitter.fire();
}

/** viewTypes of the registered webview panel serializers. */
export const webviewSerializers: string[] = [];

export function fakeExtensionContext(packageJSON: unknown) {
  const store = new Map<string, unknown>();
  return {
    subscriptions: [] as { dispose(): unknown }[],
    workspaceState: {
      get: <T>(key: string, fallback?: T) => (store.has(key) ? (store.get(key) as T) : fallback),
      update: async (key: string, value: unknown) => void store.set(key, value),
      keys: () => [...store.keys()],
    },
    extension: { id: "sluice.sluice", packageJSON },
    extensionUri: Uri.file("/ext/sluice"),
  };
}

export const vscodeStub = {
  Disposable,
  EventEmitter,
  TreeItem,
  TreeItemCollapsibleState,
  StatusBarAlignment,
  FileType,
  LogLevel,
  ThemeColor,
  ThemeIcon,
  MarkdownString,
  Position,
  Range,
  Uri,
  CodeLens,
  Diagnostic,
  DiagnosticSeverity,
  Hover,
  CompletionItem,
  CompletionItemKind,
  CodeAction,
  CodeActionKind,
  WorkspaceEdit,
  commands,
  languages,
  window,
  workspace,
  env,
  l10n,
  version,
};

// Route `require("vscode")` to the stub.
const moduleInternals = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
const originalLoad = moduleInternals._load;
moduleInternals._load = function (request: string, parent: unknown, isMain: boolean) {
  if (request === "vscode") return vscodeStub;
  return originalLoad.call(this, request, parent, isMain);
};

// The engine-backed features' part of the stub (virtual documents, links, input boxes, reveal):
// loaded last, once everything above is defined.
require("./vscodeStubExtras");
