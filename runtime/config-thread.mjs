// Parses the wrangler config off the main thread: importing wrangler costs ~1 s of CPU,
// which would otherwise serialise with Pyodide's boot.
import { parentPort, workerData } from "node:worker_threads";

try {
  const { experimental_readRawConfig } = await import("wrangler");
  const { rawConfig } = experimental_readRawConfig({ config: workerData.configPath });
  parentPort.postMessage({ rawConfig: JSON.parse(JSON.stringify(rawConfig)) });
} catch (e) {
  parentPort.postMessage({ error: e?.message ?? String(e) });
}
