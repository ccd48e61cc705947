// Worker-thread entry of the CPU pool. Plain JavaScript on purpose: it registers tsx so the
// task modules (TypeScript) can be imported, then runs tasks sent by the pool one at a time.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();

const modules = new Map();

parentPort.on('message', async (message) => {
  const { id, moduleUrl, exportName, input } = message;
  try {
    let module = modules.get(moduleUrl);
    if (module === undefined) {
      module = await import(moduleUrl);
      modules.set(moduleUrl, module);
    }
    const fn = module[exportName];
    if (typeof fn !== 'function') throw new Error(`${moduleUrl} has no exported function ${exportName}`);
    const output = await fn(input);
    parentPort.postMessage({ id, ok: true, output });
  } catch (error) {
    parentPort.postMessage({
      id,
      ok: false,
      error: { name: error?.name ?? 'Error', message: error?.message ?? String(error), stack: error?.stack },
    });
  }
});
