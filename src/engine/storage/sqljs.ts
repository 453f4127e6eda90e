// Loads the sql.js WebAssembly module once per process.
import * as fs from "node:fs";
import * as path from "node:path";
import initSqlJs, { type SqlJsStatic } from "sql.js";

let sqlJs: Promise<SqlJsStatic> | undefined;

/**
 * The production build copies `sql-wasm.wasm` next to the bundled cli.js / worker.js, where
 * node_modules is not shipped; from source (tsx, tests) the copy in node_modules is used.
 */
export function sqlWasmPath(): string {
  const besideBundle = path.join(__dirname, "sql-wasm.wasm");
  if (fs.existsSync(besideBundle)) return besideBundle;
  return require.resolve("sql.js/dist/sql-wasm.wasm");
}

export function loadSqlJs(): Promise<SqlJsStatic> {
  sqlJs ??= (async () => {
    // Hand sql.js the bytes: left alone it locates the wasm relative to its own script, which is
    // wrong once bundled.
    const wasm = await fs.promises.readFile(sqlWasmPath());
    const wasmBinary = wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer;
    return initSqlJs({ wasmBinary });
  })().catch((err: unknown) => {
    sqlJs = undefined; // let a later call retry instead of caching the failure for the process' life
    throw err;
  });
  return sqlJs;
}
