import type { ApiEvent } from '../../shared/api/contract';

/** Fan-out of pushed events to every transport subscriber (SSE clients, the Electron window). */
export class EventHub {
  private readonly listeners = new Set<(event: ApiEvent) => void>();

  subscribe(listener: (event: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ApiEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // One broken subscriber (a closed socket) must not starve the others.
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
