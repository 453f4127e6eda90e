// TypeScript server plugin "sluice-ts-plugin": makes `import { op, job } from "sluice"` resolve in
// the editor without `npm install sluice`. It runs inside tsserver (never in the extension host and
// never imports `vscode`). VS Code loads it because the manifest lists it under
// `contributes.typescriptServerPlugins`; tsserver finds it as the package
// `<extension>/node_modules/sluice-ts-plugin`, a two-line shim that requires `dist/ts-plugin.js`
// (this file, bundled). The SDK's declarations are `dist/sdk/index.d.ts`, beside this bundle.
//
// Only unresolved imports of exactly "sluice" are redirected: a workspace that installs the SDK
// itself keeps its own copy.
import * as fs from "node:fs";
import * as path from "node:path";
import type * as ts from "typescript/lib/tsserverlibrary";

const SDK_MODULE = "sluice";

interface PluginConfig {
  /** Absolute path of the SDK's index.d.ts (default: `sdk/index.d.ts` next to this bundle). */
  sdkTypesPath?: string;
  /** false turns the redirection off. */
  enabled?: boolean;
}

type ResolveLiterals = NonNullable<ts.LanguageServiceHost["resolveModuleNameLiterals"]>;
type ResolveNames = NonNullable<ts.LanguageServiceHost["resolveModuleNames"]>;

const PATCHED = Symbol.for("sluice-ts-plugin.patched");

function init(modules: { typescript: typeof ts }): ts.server.PluginModule {
  const typescript = modules.typescript;
  const config: Required<PluginConfig> = { sdkTypesPath: path.join(__dirname, "sdk", "index.d.ts"), enabled: true };
  let log: (message: string) => void = () => {};

  function sdkResolution(): ts.ResolvedModuleFull | undefined {
    if (!config.enabled || !fs.existsSync(config.sdkTypesPath)) return undefined;
    return {
      resolvedFileName: config.sdkTypesPath,
      extension: typescript.Extension.Dts,
      isExternalLibraryImport: true,
      resolvedUsingTsExtension: false,
    };
  }

  function patchHost(host: ts.LanguageServiceHost): void {
    const patched = host as ts.LanguageServiceHost & { [PATCHED]?: boolean };
    if (patched[PATCHED]) return;
    patched[PATCHED] = true;

    if (host.resolveModuleNameLiterals || !host.resolveModuleNames) {
      const original: ResolveLiterals =
        host.resolveModuleNameLiterals?.bind(host) ??
        ((literals, containingFile, redirectedReference, options, containingSourceFile) =>
          literals.map((literal) =>
            typescript.resolveModuleName(
              literal.text,
              containingFile,
              options,
              host as ts.ModuleResolutionHost,
              undefined,
              redirectedReference,
              typescript.getModeForUsageLocation(containingSourceFile, literal, options),
            ),
          ));
      host.resolveModuleNameLiterals = (literals, containingFile, ...rest) => {
        const results = original(literals, containingFile, ...rest);
        return results.map((result, i) => {
          if (result.resolvedModule || literals[i].text !== SDK_MODULE) return result;
          const resolvedModule = sdkResolution();
          if (!resolvedModule) return result;
          log(`resolved "${SDK_MODULE}" in ${containingFile} to ${resolvedModule.resolvedFileName}`);
          return { ...result, resolvedModule };
        });
      };
    } else {
      // hosts of TypeScript < 5.0
      const original: ResolveNames = host.resolveModuleNames.bind(host);
      host.resolveModuleNames = (moduleNames, containingFile, ...rest) => {
        const results = original(moduleNames, containingFile, ...rest);
        return results.map((result, i) => (result || moduleNames[i] !== SDK_MODULE ? result : sdkResolution()));
      };
    }
  }

  return {
    create(info) {
      const logger = info.project?.projectService?.logger;
      log = (message) => logger?.info(`[sluice-ts-plugin] ${message}`);
      Object.assign(config, pickConfig(info.config));
      log(`enabled=${config.enabled} sdk types: ${config.sdkTypesPath} (exists: ${fs.existsSync(config.sdkTypesPath)})`);
      patchHost(info.languageServiceHost);
      return info.languageService;
    },
    onConfigurationChanged(next: unknown) {
      Object.assign(config, pickConfig(next));
      log(`configuration changed: enabled=${config.enabled} sdk types: ${config.sdkTypesPath}`);
    },
  };
}

function pickConfig(raw: unknown): PluginConfig {
  const out: PluginConfig = {};
  if (typeof raw !== "object" || raw === null) return out;
  const c = raw as Record<string, unknown>;
  if (typeof c.sdkTypesPath === "string" && c.sdkTypesPath) out.sdkTypesPath = c.sdkTypesPath;
  if (typeof c.enabled === "boolean") out.enabled = c.enabled;
  return out;
}

export = init;
