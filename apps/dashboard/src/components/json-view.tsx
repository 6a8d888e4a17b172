import { useState, type ReactNode } from 'react';

/** Strings longer than this show their start, and the rest on a click (a step's result may hold whole documents). */
const LONG_TEXT = 240;

/** Copies text to the clipboard: the Clipboard API where the page may use it, else a selected text area. */
async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // not allowed here (an insecure origin, say): the old way below
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}

function LongText({ text }: { text: string }) {
  const [whole, setWhole] = useState(false);
  if (text.length <= LONG_TEXT || whole) return <span className="json-string">{JSON.stringify(text)}</span>;
  return (
    <span className="json-string">
      {JSON.stringify(text.slice(0, LONG_TEXT)).slice(0, -1)}…&quot;{' '}
      <button type="button" className="link json-more" onClick={() => setWhole(true)}>
        {text.length.toLocaleString()} characters: show all
      </button>
    </span>
  );
}

function Scalar({ value }: { value: string | number | boolean | null }) {
  if (typeof value === 'string') return <LongText text={value} />;
  if (value === null) return <span className="json-null">null</span>;
  return <span className={`json-${typeof value}`}>{String(value)}</span>;
}

/** One object or array, folded or not; its fields one per line, nested ones folded below `openDepth`. */
function Branch(props: { value: object; label: ReactNode; depth: number; openDepth: number; path: string; folded: readonly string[] }) {
  const { value, depth, openDepth, path, folded } = props;
  const [open, setOpen] = useState(depth < openDepth && !folded.includes(path));
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((item, i) => [String(i), item]) : Object.entries(value);
  const [start, end] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  const summary = `${entries.length} ${Array.isArray(value) ? (entries.length === 1 ? 'item' : 'items') : entries.length === 1 ? 'field' : 'fields'}`;
  if (entries.length === 0) return <div className="json-line">{props.label}{`${start}${end}`}</div>;
  return (
    <div className="json-branch" data-json-path={path} data-open={open}>
      <div className="json-line">
        <button type="button" className="json-toggle" aria-expanded={open} aria-label={`${open ? 'fold' : 'unfold'} ${path || 'all'}`} onClick={() => setOpen((o) => !o)}>
          {open ? '▾' : '▸'}
        </button>
        {props.label}
        {start}
        {!open && (
          <>
            <span className="json-summary"> {summary} </span>
            {end}
          </>
        )}
      </div>
      {open && (
        <>
          <div className="json-children">
            {entries.map(([key, child]) => (
              <Node key={key} name={Array.isArray(value) ? null : key} value={child} depth={depth + 1} openDepth={openDepth} path={path === '' ? key : `${path}.${key}`} folded={folded} />
            ))}
          </div>
          <div className="json-line">{end}</div>
        </>
      )}
    </div>
  );
}

function Node(props: { name: string | null; value: unknown; depth: number; openDepth: number; path: string; folded: readonly string[] }) {
  const label = props.name === null ? null : <span className="json-key">{JSON.stringify(props.name)}: </span>;
  if (props.value !== null && typeof props.value === 'object') return <Branch {...props} value={props.value} label={label} />;
  return (
    <div className="json-line">
      {label}
      <Scalar value={props.value as string | number | boolean | null} />
    </div>
  );
}

/**
 * JSON to read: objects and arrays fold and unfold (those deeper than `openDepth`, and the paths
 * in `folded`, start folded), long strings show their start, and Copy puts the whole of it,
 * indented, on the clipboard.
 */
export function JsonView({ value, label, openDepth = 2, folded = [] }: { value: unknown; label?: string; openDepth?: number; folded?: readonly string[] }) {
  const [copied, setCopied] = useState(false);
  const copy = () => {
    void copyText(JSON.stringify(value, null, 2) ?? 'null').then(() => {
      setCopied(true);
      window.setTimeout(() => setCopied(false), 1500);
    });
  };
  return (
    <div className="json-view" data-role="json" aria-label={label}>
      <button type="button" className="json-copy" onClick={copy} aria-label={`copy ${label ?? 'JSON'}`}>
        {copied ? 'copied' : 'copy'}
      </button>
      <Node name={null} value={value} depth={0} openDepth={openDepth} path="" folded={folded} />
    </div>
  );
}
