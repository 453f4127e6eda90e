// Completion in sluice.yaml and run config files: the keys valid at the cursor that are not there
// yet (sections, settings, op names under `ops:`, input names under `inputs:`, op config keys from
// the op's JSON Schema), and values: enum values (`granularity: op|run`), true/false, a selector's
// choices (`start_method:` spawn or forkserver) and the default.
import {
  CompletionItem,
  CompletionItemKind,
  MarkdownString,
  Range,
  type CancellationToken,
  type CompletionItemProvider,
  type Position,
  type TextDocument,
} from "vscode";
import type { ConfigPath } from "../../engine/config/fields";
import { keyPathOf } from "../../engine/config/yamlPositions";
import { LanguageMessages } from "../common/localize";
import type { SluiceDefinitionsLookup } from "../diagnostics/controller";
import type { SluiceDocumentKind } from "../diagnostics/documents";
import { yamlScalar } from "../../engine/config/jsonSchemaCheck";
import { hoverMarkdown } from "./hover";
import { keyDocs, type KeyDocs } from "./schemaInfo";
import { cursorContext, type CursorContext } from "./yamlContext";

const TRIGGER_SUGGEST = { command: "editor.action.triggerSuggest", title: "" };

/** Characters that open completion besides typing a word. */
export const COMPLETION_TRIGGERS = [":"];

function yamlKey(k: string): string {
  return /^[A-Za-z_][\w.-]*$/.test(k) ? k : JSON.stringify(k);
}

function sortKey(i: number): string {
  return String(i).padStart(4, "0");
}

export class SluiceCompletionProvider implements CompletionItemProvider {
  constructor(private readonly lookup: SluiceDefinitionsLookup) {}

  provideCompletionItems(document: TextDocument, position: Position, _token?: CancellationToken): CompletionItem[] | undefined {
    const kind = this.lookup.classify(document.uri);
    if (!kind) return undefined;
    const ctx = cursorContext(document.getText(), position.line, position.character);
    if (!ctx) return undefined;
    return ctx.on === "key" ? this.keys(kind, ctx, position.line) : this.values(kind, ctx, position.line);
  }

  private docsOf(kind: SluiceDocumentKind, path: ConfigPath): KeyDocs | undefined {
    return keyDocs(kind, this.lookup, path);
  }

  private keys(kind: SluiceDocumentKind, ctx: CursorContext, line: number): CompletionItem[] {
    const parent = this.docsOf(kind, ctx.path);
    if (!parent) return [];
    const range = new Range(line, ctx.replaceStart, line, ctx.replaceEnd);
    const isOps = kind.kind === "runConfig" && ctx.path.length === 1 && ctx.path[0] === "ops";
    const isInputs = kind.kind === "runConfig" && ctx.path.length === 3 && ctx.path[0] === "ops" && ctx.path[2] === "inputs";
    const items: CompletionItem[] = [];
    parent.keys.forEach((key, i) => {
      if (ctx.present.has(key)) return;
      const path = [...ctx.path, key];
      const docs = this.docsOf(kind, path);
      const item = new CompletionItem(key, isOps ? CompletionItemKind.Module : isInputs ? CompletionItemKind.Variable : CompletionItemKind.Property);
      item.range = range;
      item.sortText = sortKey(i);
      item.detail = docs?.expect;
      if (docs) item.documentation = new MarkdownString(hoverMarkdown(keyPathOf(path), docs));
      // what follows the key: a block below it for maps and lists, a space for a scalar value
      // (absolute indentation: keepWhitespace stops VS Code from re-indenting the new lines)
      const below = " ".repeat(ctx.keyCol + 2);
      if (docs?.isList && !docs.isMap) {
        item.insertText = `${yamlKey(key)}:\n${below}- `;
        item.keepWhitespace = true;
      } else if (docs?.isMap || docs?.selector) {
        item.insertText = `${yamlKey(key)}:\n${below}`;
        item.keepWhitespace = true;
        item.command = TRIGGER_SUGGEST;
      } else {
        item.insertText = `${yamlKey(key)}: `;
        if (docs?.allowed?.length || docs?.isBoolean) item.command = TRIGGER_SUGGEST;
      }
      items.push(item);
    });
    return items;
  }

  private values(kind: SluiceDocumentKind, ctx: CursorContext, line: number): CompletionItem[] {
    const docs = this.docsOf(kind, ctx.path);
    if (!docs) return [];
    // right after the colon a space must come first
    const space = ctx.replaceStart === ctx.colonEnd ? " " : "";
    const range = new Range(line, ctx.replaceStart, line, ctx.replaceEnd);
    const items: CompletionItem[] = [];
    const add = (label: string, insert: string, kindOf: CompletionItemKind, detail?: string) => {
      if (items.some((i) => i.label === label)) return;
      const item = new CompletionItem(label, kindOf);
      item.range = range;
      item.insertText = insert;
      item.sortText = sortKey(items.length);
      if (detail) item.detail = detail;
      items.push(item);
      return item;
    };
    if (docs.selector) {
      // `start_method:` → a block with the chosen key below
      const afterColon = new Range(line, ctx.colonEnd ?? ctx.replaceStart, line, ctx.replaceEnd);
      for (const choice of docs.keys) {
        const sub = this.docsOf(kind, [...ctx.path, choice]);
        const item = add(choice, `\n${" ".repeat(ctx.keyCol + 2)}${yamlKey(choice)}: {}`, CompletionItemKind.EnumMember, sub?.description);
        if (!item) continue;
        item.range = afterColon;
        item.keepWhitespace = true;
        item.filterText = `${" ".repeat(Math.max(0, ctx.replaceStart - (ctx.colonEnd ?? ctx.replaceStart)))}${choice}`;
      }
      return items;
    }
    for (const v of docs.allowed ?? []) add(v, space + v, CompletionItemKind.EnumMember);
    if (docs.isBoolean) for (const v of ["true", "false"]) add(v, space + v, CompletionItemKind.Value);
    if (docs.hasDefault && (docs.default === null || typeof docs.default !== "object")) {
      const text = yamlScalar(docs.default);
      const existing = items.find((i) => i.label === text);
      if (existing) existing.detail = LanguageMessages.completionDefault();
      else add(text, space + text, CompletionItemKind.Value, LanguageMessages.completionDefault());
    }
    return items;
  }
}
