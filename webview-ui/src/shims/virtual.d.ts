// The layout worker's bundled source, provided by the build (webview-ui/build.mjs).
declare module "virtual:layout-worker" {
  const source: string;
  export default source;
}
