/**
 * SIGINT / SIGTERM abort `controller` (the command then ends with CANCELLED, exit 130); a
 * second signal exits at once. Returns the function that removes the handlers.
 *
 * `process.on`, not `once`: node-llama-cpp's dependencies load signal-exit, which re-sends
 * a signal to kill the process when it finds itself the only listener left, and a `once`
 * listener is removed before the others run, so the command would die (exit 143) instead
 * of cancelling.
 */
export function cancelOnSignals(controller: AbortController): () => void {
  let received = 0;
  const onSignal = () => {
    received++;
    if (received > 1) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
