// Op / step / asset selection with Dagster's legacy clause syntax (reference §1).
export { depGraph, parseClause, traverse, clauseToSubset } from "./clause";
export type { SelectableNode, SelectableGraph, DepGraph, Clause } from "./clause";
export {
  SelectionError,
  resolveOpSelection,
  resolveStepSelection,
  resolveAssetSelection,
  splitCliSelection,
  previewOpSelection,
} from "./resolve";
export type { SelectionErrorCode } from "./resolve";
