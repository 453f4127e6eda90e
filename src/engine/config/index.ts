// Config: sluice.yaml (instance) and run config, validated with positions.
export type { ConfigIssue, ConfigPath, ParsedYaml, NodeAt } from "./yamlPositions";
export { ConfigError, formatIssue, keyPathOf, nodeAt, parseYaml, rangeOf } from "./yamlPositions";
export type { KeyInfo } from "./fields";
export { describeKey, suggest } from "./fields";
export type {
  InstanceConfigInput, InstanceConfigResult, LoadedInstanceConfig, MinimalFs, ResolvedInstanceConfig, TagConcurrencyLimit,
} from "./instanceSchema";
export {
  INSTANCE_FILE, MAX_POOL_LIMIT, describeSources, instanceConfigSchema, instanceKeyInfo, loadInstanceConfig,
  resolveInstanceConfig, validateInstanceConfig, validateInstanceYaml,
} from "./instanceSchema";
export type { ResolvedExecutorConfig, RunConfig, RunConfigJob, RunConfigResult, StartMethod } from "./runConfigSchema";
export {
  resolveExecutorConfig, runConfigKeyInfo, runConfigSchema, validateRunConfig, validateRunConfigObject,
} from "./runConfigSchema";
export { instanceJsonSchema, runConfigJsonSchema } from "./jsonSchema";
