// Tiny DOM helpers. Everything is built with createElement/textContent (no HTML strings from data),
// except the graph's SVG, which escapes with `esc`. No inline style attributes (CSP): styles that
// depend on data are set through the CSSOM (element.style.x = ...), which the CSP allows.
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
      else if (k === "class") el.className = String(v);
      else if (v === true) el.setAttribute(k, "");
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function replace(el: Element, ...children: (Child | Child[])[]): void {
  clear(el);
  append(el, children);
}

/** A codicon (shipped locally: dist/webview/codicon.css + .ttf). */
export function icon(name: string, extra = ""): HTMLElement {
  const el = document.createElement("span");
  el.className = `codicon codicon-${name}${extra ? " " + extra : ""}`;
  el.setAttribute("aria-hidden", "true");
  return el;
}

export function button(label: string, opts: { icon?: string; onClick: () => void; title?: string; kind?: "primary" | "secondary" | "icon"; disabled?: boolean; testid?: string }): HTMLButtonElement {
  const b = h("button", {
    class: `btn ${opts.kind ?? "secondary"}`,
    title: opts.title ?? (opts.kind === "icon" ? label : undefined),
    "aria-label": opts.kind === "icon" ? label : undefined,
    disabled: opts.disabled,
    "data-testid": opts.testid,
    type: "button",
  });
  if (opts.icon) b.append(icon(opts.icon));
  if (opts.kind !== "icon") b.append(h("span", null, label));
  b.addEventListener("click", (e) => {
    e.stopPropagation();
    opts.onClick();
  });
  return b;
}

export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

export function select(options: { value: string; label: string }[], value: string, onChange: (v: string) => void, attrs: Attrs = {}): HTMLSelectElement {
  const s = h("select", attrs);
  for (const o of options) s.append(h("option", { value: o.value, selected: o.value === value }, o.label));
  s.value = value;
  s.addEventListener("change", () => onChange(s.value));
  return s;
}

export function debounce<A extends unknown[]>(fn: (...a: A) => void, ms: number): (...a: A) => void {
  let t: ReturnType<typeof setTimeout> | undefined;
  return (...a: A) => {
    if (t) clearTimeout(t);
    t = setTimeout(() => fn(...a), ms);
  };
}
