export type StoreErrorCode =
  | "READ_ONLY"
  | "CLOSED"
  | "SCHEMA_TOO_NEW"
  | "MIGRATION_FAILED"
  /** The snapshot is not a readable SQLite database. */
  | "UNREADABLE"
  | "NO_SUCH_RUN"
  | "RUN_EXISTS"
  | "INVALID_ARGUMENT"
  /** A failed write could not be undone: the in-memory database no longer matches the journal. */
  | "BROKEN";

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "StoreError";
  }
}
