/** The element with this id; the page's markup is fixed, so a missing one is a bug worth failing loudly on. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from index.html`);
  return element as T;
}

/** A new element with a class and text. Text always goes in as text, never as HTML (chat content is user input). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Adds a listener and returns the function that removes it. */
export function listen<K extends keyof HTMLElementEventMap>(target: HTMLElement, type: K, handler: (event: HTMLElementEventMap[K]) => void): () => void {
  target.addEventListener(type, handler as EventListener);
  return () => target.removeEventListener(type, handler as EventListener);
}

/** Shows a one-line result under a form. */
export function setStatus(target: HTMLElement, text: string, tone: 'ok' | 'bad' | '' = ''): void {
  target.textContent = text;
  target.className = `status small ${tone}`.trim();
}

export const CHANNEL_LABELS = { sse: 'SSE', 'socket.io': 'Socket.IO', polling: 'polling' } as const;

/** `socket.io` → `socket-io`, for class names. */
export function channelClass(channel: string): string {
  return `channel channel-${channel.replace(/\./g, '-')}`;
}

/** 12 ms, 1.3 s, 4 min. */
export function formatLatency(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}
