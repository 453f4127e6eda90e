// "Run op selection…": an input box that checks the Dagster query as the user types with the
// engine's own parser (previewOpSelection, pure, on the job's graph from the last definitions
// snapshot), says how many and which ops it selects, and returns the clauses to launch.
import { InputBoxValidationSeverity } from "vscode";
import type { JobSnapshot } from "../../engine/definitions/snapshot";
import { previewOpSelection, splitCliSelection } from "../../engine/selection";
import { OpSelectionMessages } from "../common/localize";
import { createInputBox } from "../common/documentApis";

export interface SelectionPreview {
  ok: boolean;
  /** The clauses to launch with (empty text = the whole job = undefined). */
  clauses?: string[];
  selected: string[];
  /** What the input box says under the query. */
  message: string;
}

/** At most this many op names are listed in the preview. */
const LISTED = 12;

export function describeSelection(job: Pick<JobSnapshot, "name" | "nodes">, text: string): SelectionPreview {
  const total = job.nodes.length;
  const trimmed = text.trim();
  const r = previewOpSelection({ nodes: job.nodes }, trimmed);
  if (!r.ok) return { ok: false, selected: [], message: r.error };
  const names = r.selected.length > LISTED ? [...r.selected.slice(0, LISTED), "…"] : r.selected;
  if (r.selected.length === 0) return { ok: false, selected: [], message: OpSelectionMessages.nothingSelected() };
  return {
    ok: true,
    clauses: trimmed === "" ? undefined : splitCliSelection(trimmed),
    selected: r.selected,
    message: trimmed === "" ? OpSelectionMessages.wholeJob(total) : OpSelectionMessages.selects(r.selected.length, total, names.join(", ")),
  };
}

/** Asks for an op selection of `job`; resolves with the preview to launch, or undefined when cancelled. */
export function askOpSelection(job: Pick<JobSnapshot, "name" | "nodes">, initial = ""): Promise<SelectionPreview | undefined> {
  return new Promise((resolve) => {
    const box = createInputBox();
    box.title = OpSelectionMessages.title(job.name);
    box.placeholder = OpSelectionMessages.placeholder();
    box.value = initial;
    box.ignoreFocusOut = true;
    let current = describeSelection(job, initial);
    const show = () => {
      if (current.ok) {
        box.validationMessage = undefined;
        box.prompt = current.message;
      } else {
        box.prompt = OpSelectionMessages.help();
        box.validationMessage = { message: current.message, severity: InputBoxValidationSeverity.Error };
      }
    };
    show();
    let settled = false;
    const finish = (value: SelectionPreview | undefined) => {
      if (settled) return;
      settled = true;
      resolve(value);
      box.dispose();
    };
    box.onDidChangeValue((text) => {
      current = describeSelection(job, text);
      show();
    });
    box.onDidAccept(() => {
      current = describeSelection(job, box.value);
      if (current.ok) finish(current);
      else show();
    });
    box.onDidHide(() => finish(undefined));
    box.show();
  });
}
