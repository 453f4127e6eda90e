// Types the engine's config module mentions (src/engine/config, bundled into the webview for run
// config validation). Only `process.env` as a default parameter of a function the webview never
// calls; declared here so that the browser project type-checks without Node's types.
declare namespace NodeJS {
  interface ErrnoException extends Error {
    code?: string;
  }
  interface ProcessEnv {
    [key: string]: string | undefined;
  }
}
declare const process: { env: NodeJS.ProcessEnv };
