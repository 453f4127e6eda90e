// Quick fixes for Sluice's diagnostics in sluice.yaml and run config files:
// - an invalid enum value → one fix per allowed value (the closest one preferred);
// - an unknown key with a "did you mean" → replace it with the suggestion;
// - a run config file named after an unknown job → rename the file to the closest job's name.
import * as path from "node:path";
import {
  CodeAction,
  CodeActionKind,
  Range,
  Uri,
  WorkspaceEdit,
  type CancellationToken,
  type CodeActionContext,
  type CodeActionProvider,
  type CodeActionProviderMetadata,
  type Diagnostic,
  type TextDocument,
} from "vscode";
import { suggest } from "../../engine/config/fields";
import { parseYaml, rangeOf, type ParsedYaml } from "../../engine/config/yamlPositions";
import { LanguageMessages } from "../common/localize";
import { DIAGNOSTIC_SOURCE, UNKNOWN_JOB_CODE, type ProblemEntry, type SluiceDefinitionsLookup } from "../diagnostics/controller";
import type { SluiceDocumentKind } from "../diagnostics/documents";
import { yamlScalar } from "../../engine/config/jsonSchemaCheck";
import { OpConfigCodes, type ConfigProblem } from "../diagnostics/runConfig";
import { keyDocs } from "./schemaInfo";

const VALUE_CODES = new Set<string>(["invalid-value", OpConfigCodes.invalid]);
const KEY_CODES = new Set<string>(["unknown-key", OpConfigCodes.unknownKey]);
/** More allowed values than this: no fix per value (completion offers them). */
const MAX_VALUE_FIXES = 12;

function sameRange(a: Range, b: Range): boolean {
  return a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;
}

function codeOf(d: Diagnostic): string | undefined {
  const c = d.code;
  return typeof c === "object" && c !== null ? String(c.value) : c === undefined ? undefined : String(c);
}

/** The stored problem behind a diagnostic VS Code hands back (a copy of ours in a real host). */
function entryFor(entries: readonly ProblemEntry[], d: Diagnostic): ProblemEntry | undefined {
  return (
    entries.find((e) => e.diagnostic === d) ??
    entries.find((e) => codeOf(d) === e.problem.code && d.message === e.diagnostic.message && sameRange(d.range, e.diagnostic.range)) ??
    entries.find((e) => codeOf(d) === e.problem.code && d.message === e.diagnostic.message)
  );
}

export class SluiceCodeActionProvider implements CodeActionProvider {
  static readonly metadata: CodeActionProviderMetadata = { providedCodeActionKinds: [CodeActionKind.QuickFix] };

  constructor(private readonly lookup: SluiceDefinitionsLookup) {}

  provideCodeActions(document: TextDocument, _range: Range, context: CodeActionContext, _token?: CancellationToken): CodeAction[] {
    const kind = this.lookup.classify(document.uri);
    if (!kind) return [];
    const entries = this.lookup.problemsFor(document.uri);
    let parsed: ParsedYaml | undefined;
    const actions: CodeAction[] = [];
    for (const d of context.diagnostics) {
      if (d.source !== DIAGNOSTIC_SOURCE) continue;
      const entry = entryFor(entries, d);
      if (!entry) continue;
      parsed ??= parseYaml(document.getText(), document.uri.fsPath);
      actions.push(...this.fixes(document, kind, parsed, entry.problem, d));
    }
    return actions;
  }

  private fixes(document: TextDocument, kind: SluiceDocumentKind, parsed: ParsedYaml, p: ConfigProblem, d: Diagnostic): CodeAction[] {
    const action = (title: string, edit: WorkspaceEdit, preferred = false) => {
      const a = new CodeAction(title, CodeActionKind.QuickFix);
      a.edit = edit;
      a.diagnostics = [d];
      if (preferred) a.isPreferred = true;
      return a;
    };
    const range = (r: [number, number]) => new Range(document.positionAt(r[0]), document.positionAt(r[1]));

    if (p.code === UNKNOWN_JOB_CODE && p.suggestion) {
      // The job is the file name up to its first dot: keep the variant and the extension after it.
      const base = path.basename(document.uri.fsPath);
      const name = p.suggestion + base.slice(base.indexOf("."));
      const edit = new WorkspaceEdit();
      edit.renameFile(document.uri, Uri.file(path.join(path.dirname(document.uri.fsPath), name)));
      return [action(LanguageMessages.renameFileTo(name), edit, true)];
    }

    if (KEY_CODES.has(p.code) && p.suggestion) {
      const edit = new WorkspaceEdit();
      edit.replace(document.uri, range(rangeOf(parsed, p.path, "key")), yamlScalar(p.suggestion));
      return [action(LanguageMessages.replaceWith(`\`${p.suggestion}\``), edit, true)];
    }

    if (VALUE_CODES.has(p.code) && p.allowed?.length && p.allowed.length <= MAX_VALUE_FIXES) {
      // a selector (`start_method: spawn`) takes a map with the choice as its key
      const selector = keyDocs(kind, this.lookup, p.path)?.selector ?? false;
      const texts = p.allowed.map((v) => (selector ? `{ ${yamlScalar(v)}: {} }` : p.code === OpConfigCodes.invalid ? v : yamlScalar(v)));
      const valueRange = rangeOf(parsed, p.path, "value");
      const keyRange = rangeOf(parsed, p.path, "key");
      const hasValue = valueRange[0] !== keyRange[0] || valueRange[1] !== keyRange[1];
      let target: [number, number];
      let prefix = "";
      if (hasValue) target = valueRange;
      else {
        // `granularity:` with nothing after the colon: insert after it
        const colon = parsed.text.indexOf(":", keyRange[1]);
        if (colon < 0) return [];
        let end = colon + 1;
        while (parsed.text[end] === " " || parsed.text[end] === "\t") end++;
        target = [colon + 1, end];
        prefix = " ";
      }
      const current = parsed.text.slice(target[0], target[1]).trim();
      const closest = current ? suggest(current, p.allowed) : undefined;
      return texts.map((t, i) => {
        const edit = new WorkspaceEdit();
        edit.replace(document.uri, range(target), prefix + t);
        return action(LanguageMessages.replaceWith(`\`${t}\``), edit, p.allowed![i] === closest || texts.length === 1);
      });
    }
    return [];
  }
}
