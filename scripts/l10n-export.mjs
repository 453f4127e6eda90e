// Writes l10n/bundle.l10n.json, the English source bundle for translators, from the `l10n.t("...")`
// calls in src/extension (see src/extension/common/localize.ts). test/extension/l10n.test.ts fails
// when the bundle is out of date. usage: node scripts/l10n-export.mjs [--check]
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const BUNDLE = path.join(ROOT, "l10n", "bundle.l10n.json");

function walk(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.ts$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Messages of `l10n.t("...")` calls with a string literal first argument (double quotes). */
export function extractMessages(srcDir = path.join(ROOT, "src", "extension")) {
  const messages = new Set();
  const problems = [];
  for (const file of walk(srcDir)) {
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(/\bl10n\.t\(\s*("(?:[^"\\\n]|\\.)*")?/g)) {
      if (!m[1]) {
        const line = text.slice(0, m.index).split("\n").length;
        problems.push(`${path.relative(ROOT, file)}:${line}: l10n.t(...) needs a double-quoted literal message`);
        continue;
      }
      messages.add(JSON.parse(m[1]));
    }
  }
  return { messages: [...messages].sort(), problems };
}

export function bundleText(messages) {
  return JSON.stringify(Object.fromEntries(messages.map((m) => [m, m])), null, 2) + "\n";
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { messages, problems } = extractMessages();
  if (problems.length) {
    console.error(problems.join("\n"));
    process.exit(1);
  }
  const text = bundleText(messages);
  if (process.argv.includes("--check")) {
    const current = fs.existsSync(BUNDLE) ? fs.readFileSync(BUNDLE, "utf8") : "";
    if (current !== text) {
      console.error(`${path.relative(ROOT, BUNDLE)} is out of date: run node scripts/l10n-export.mjs`);
      process.exit(1);
    }
  } else {
    fs.mkdirSync(path.dirname(BUNDLE), { recursive: true });
    fs.writeFileSync(BUNDLE, text);
    console.log(`${messages.length} messages -> ${path.relative(ROOT, BUNDLE)}`);
  }
}
