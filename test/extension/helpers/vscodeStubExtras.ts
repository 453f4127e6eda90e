// More of the stubbed `vscode` module, for the engine-backed features: virtual documents (the run
// log documents and their content provider), document links, input boxes (Run op selection…) and
// TreeView.reveal. Loaded by vscodeStub.ts itself, so importing the stub is enough.
import * as nodePath from "node:path";
import { EventEmitter, Range, Uri, vscodeStub } from "./vscodeStub";

type Provider = { provideTextDocumentContent(uri: Uri): string | Promise<string>; onDidChange?: (l: (u: Uri) => unknown) => { dispose(): unknown } };

export enum InputBoxValidationSeverity {
  Info = 1,
  Warning = 2,
  Error = 3,
}

export class DocumentLink {
  tooltip?: string;
  constructor(public range: Range, public target?: Uri) {}
}

/** A read-only document of a virtual scheme (what openTextDocument returns for it). */
export class VirtualDocument {
  isClosed = false;
  constructor(readonly uri: Uri, public text: string, public languageId = "plaintext") {}
  getText(): string {
    return this.text;
  }
  get lineCount(): number {
    return this.text.split("\n").length;
  }
  lineAt(line: number) {
    const text = this.text.split("\n")[line] ?? "";
    return { lineNumber: line, text, range: new Range(line, 0, line, text.length) };
  }
}

export interface FakeInputBox {
  title?: string;
  placeholder?: string;
  prompt?: string;
  value: string;
  ignoreFocusOut: boolean;
  validationMessage: string | { message: string; severity: InputBoxValidationSeverity } | undefined;
  visible: boolean;
  disposed: boolean;
  onDidChangeValue: EventEmitter<string>["event"];
  onDidAccept: EventEmitter<void>["event"];
  onDidHide: EventEmitter<void>["event"];
  show(): void;
  hide(): void;
  dispose(): void;
  /** Test helpers: type a value (fires onDidChangeValue), press Enter, press Escape. */
  type(value: string): void;
  accept(): void;
}

export const extras = {
  contentProviders: new Map<string, Provider>(),
  linkProviders: [] as { selector: unknown; provider: any; disposed: boolean }[],
  inputBoxes: [] as FakeInputBox[],
  /** Run against each input box when it is shown (in order); without one the box stays open. */
  inputBoxScripts: [] as ((box: FakeInputBox) => void)[],
  revealed: [] as { viewId: string; element: unknown; options: unknown }[],
  languageChanges: [] as { uri: Uri; languageId: string }[],
};

const closeEmitter = new EventEmitter<VirtualDocument>();
const stub = vscodeStub as Record<string, any>;
const { workspace, window, languages } = stub;

stub.InputBoxValidationSeverity = InputBoxValidationSeverity;
stub.DocumentLink = DocumentLink;
const UriClass = Uri as unknown as { from?: (c: { scheme: string; path: string }) => Uri; new (scheme: string, path: string): Uri };
UriClass.from ??= ({ scheme, path }: { scheme: string; path: string }) => new (Uri as any)(scheme, nodePath.posix.normalize(path));

workspace.textDocuments ??= [];
workspace.onDidCloseTextDocument ??= closeEmitter.event;
workspace.registerTextDocumentContentProvider = (scheme: string, provider: Provider) => {
  extras.contentProviders.set(scheme, provider);
  return new stub.Disposable(() => extras.contentProviders.get(scheme) === provider && extras.contentProviders.delete(scheme));
};
workspace.openTextDocument = async (uri: Uri) => {
  const provider = extras.contentProviders.get(uri.scheme);
  if (!provider) throw new Error(`the stub opens only virtual documents; no provider for ${uri.scheme}`);
  const doc = new VirtualDocument(uri, await provider.provideTextDocumentContent(uri));
  provider.onDidChange?.(async (changed) => {
    if (changed.toString() === uri.toString() && !doc.isClosed) doc.text = await provider.provideTextDocumentContent(uri);
  });
  workspace.textDocuments.push(doc);
  return doc;
};

/** Closes a virtual document (fires onDidCloseTextDocument when the base stub has no emitter of its own). */
export function closeVirtualDocument(doc: VirtualDocument): void {
  doc.isClosed = true;
  const i = workspace.textDocuments.indexOf(doc);
  if (i >= 0) workspace.textDocuments.splice(i, 1);
  closeEmitter.fire(doc);
}

languages.registerDocumentLinkProvider = (selector: unknown, provider: unknown) => {
  const entry = { selector, provider, disposed: false };
  extras.linkProviders.push(entry);
  return new stub.Disposable(() => void (entry.disposed = true));
};
languages.setTextDocumentLanguage = async (doc: VirtualDocument, languageId: string) => {
  doc.languageId = languageId;
  extras.languageChanges.push({ uri: doc.uri, languageId });
  return doc;
};

window.createInputBox = (): FakeInputBox => {
  const change = new EventEmitter<string>();
  const accept = new EventEmitter<void>();
  const hide = new EventEmitter<void>();
  const box: FakeInputBox = {
    value: "",
    ignoreFocusOut: false,
    validationMessage: undefined,
    visible: false,
    disposed: false,
    onDidChangeValue: change.event,
    onDidAccept: accept.event,
    onDidHide: hide.event,
    show() {
      box.visible = true;
      extras.inputBoxScripts.shift()?.(box);
    },
    hide() {
      if (!box.visible) return;
      box.visible = false;
      hide.fire();
    },
    dispose() {
      box.disposed = true;
      box.hide();
    },
    type(value: string) {
      box.value = value;
      change.fire(value);
    },
    accept() {
      accept.fire();
    },
  };
  extras.inputBoxes.push(box);
  return box;
};

const createTreeView = window.createTreeView;
window.createTreeView = (viewId: string, options: unknown) => {
  const view = createTreeView(viewId, options);
  view.reveal = async (element: unknown, revealOptions: unknown) => {
    extras.revealed.push({ viewId, element, options: revealOptions });
  };
  return view;
};

/** Forgets what the extras recorded (the base stub's reset() does not know them). */
export function resetExtras(): void {
  extras.linkProviders.length = 0;
  extras.inputBoxes.length = 0;
  extras.inputBoxScripts.length = 0;
  extras.revealed.length = 0;
  extras.languageChanges.length = 0;
  workspace.textDocuments = [];
}
