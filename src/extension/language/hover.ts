// Hover on a key (or its value) of sluice.yaml or a run config file: the key's description, what
// its value must be, the allowed values and the default.
import { Hover, MarkdownString, Range, type CancellationToken, type HoverProvider, type Position, type TextDocument } from "vscode";
import { keyPathOf, nodeAt, parseYaml } from "../../engine/config/yamlPositions";
import { LanguageMessages } from "../common/localize";
import type { SluiceDefinitionsLookup } from "../diagnostics/controller";
import { yamlScalar } from "../../engine/config/jsonSchemaCheck";
import { keyDocs, type KeyDocs } from "./schemaInfo";

const code = (s: string) => "`" + s.replace(/`/g, "'") + "`";

function defaultText(v: unknown): string {
  if (v === null || typeof v !== "object") return yamlScalar(v);
  return JSON.stringify(v);
}

/** The hover's markdown: title, description, then value, allowed values and default. */
export function hoverMarkdown(keyPath: string, docs: KeyDocs): string {
  const parts = [`**${code(keyPath || "(document)")}**`];
  if (docs.description) parts.push(docs.description);
  const facts: string[] = [];
  // enum values say it all; otherwise what the value must be
  if (docs.expect && !docs.selector && !docs.allowed?.length) facts.push(LanguageMessages.hoverValue(docs.expect));
  if (docs.allowed?.length) {
    const list = docs.allowed.map(code).join(" · ");
    facts.push(docs.selector ? LanguageMessages.hoverChoices(list) : LanguageMessages.hoverAllowed(list));
  }
  if (docs.hasDefault) facts.push(LanguageMessages.hoverDefault(code(defaultText(docs.default))));
  if (facts.length) parts.push(facts.join("  \n"));
  return parts.join("\n\n");
}

export class SluiceHoverProvider implements HoverProvider {
  constructor(private readonly lookup: SluiceDefinitionsLookup) {}

  provideHover(document: TextDocument, position: Position, _token?: CancellationToken): Hover | undefined {
    const kind = this.lookup.classify(document.uri);
    if (!kind) return undefined;
    const parsed = parseYaml(document.getText(), document.uri.fsPath);
    const at = nodeAt(parsed, document.offsetAt(position));
    if (!at || at.path.length === 0) return undefined;
    // a list item's value: describe the list's key
    let path = at.path;
    while (path.length && typeof path[path.length - 1] === "number") path = path.slice(0, -1);
    if (path.length === 0) return undefined;
    const docs = keyDocs(kind, this.lookup, path);
    if (!docs) return undefined;
    const range = new Range(document.positionAt(at.range[0]), document.positionAt(at.range[1]));
    return new Hover(new MarkdownString(hoverMarkdown(keyPathOf(path), docs)), range);
  }
}
