// Worker-thread entry of the CPU pool. Plain JavaScript on purpose: it runs tasks sent by the
// pool one at a time. A task module given as TypeScript (the sources, under tests and tsx)
// needs tsx's hooks, registered on the first such task; compiled code (dist/, the image) sends
// .js modules and never loads tsx, which production installs do not have.
import { parentPort } from 'node:worker_threads';

const modules = new Map();
let tsxRegistered = false;

async function load(moduleUrl) {
  if (!tsxRegistered && moduleUrl.endsWith('.ts')) {
    const { register } = await import('tsx/esm/api');
    register();
    tsxRegistered = true;
  }
  return import(moduleUrl);
}

parentPort.on('message', async (message) => {
  const { id, moduleUrl, exportName, input } = message;
  try {
    let module = modules.get(moduleUrl);
    if (module === undefined) {
      module = await load(moduleUrl);
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
