// Runs mocha (tdd ui) inside the VS Code extension host. The suites are plain functions that call
// `suite`/`test` from "mocha"; they are registered after mocha's pre-require, so the bundle needs no
// file loading. Output goes to the console, which the test driver reads from the browser page.
import Mocha from "mocha";

export function runSuites(name: string, register: (() => void)[]): Promise<void> {
  const mocha = new Mocha({ ui: "tdd", color: false, timeout: 90_000, reporter: "spec" });
  mocha.suite.emit("pre-require", globalThis, name, mocha);
  for (const r of register) r();
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const { passes = 0, failures: failed = 0, pending = 0 } = runner.stats ?? {};
      console.log(`[exthost] ${name}: ${passes} passed, ${failed} failed, ${pending} skipped`);
      if (failures > 0) reject(new Error(`${failures} tests failed.`));
      else resolve();
    });
  });
}
