/** Small pieces every tab uses: re-render on a signal, markdown, code, one-line errors. */
import type { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import type { ISignal } from '@lumino/signaling';
import React from 'react';

import { oneLine } from '../errors';
import { renderMarkdown } from '../markdown';

/** Re-render the calling component whenever `signal` fires. */
export function useSignal(signal: ISignal<unknown, unknown> | null | undefined): void {
  const [, setTick] = React.useState(0);
  React.useEffect(() => {
    if (!signal) {
      return;
    }
    const slot = (): void => setTick(tick => tick + 1);
    signal.connect(slot);
    return () => {
      signal.disconnect(slot);
    };
  }, [signal]);
}

/** Untrusted markdown, rendered by the sanitising renderer only. */
export function Markdown(props: { text: string; className?: string }): JSX.Element {
  const html = React.useMemo(() => renderMarkdown(props.text), [props.text]);
  return (
    <div
      className={`jp-DSAgent-markdown ${props.className ?? ''}`}
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}

/** Read-only code with the editor's syntax colours (text nodes only, never HTML). */
export function CodeBlock(props: {
  code: string;
  language: string;
  languages: IEditorLanguageRegistry | null;
}): JSX.Element {
  const ref = React.useRef<HTMLElement>(null);
  const { code, language, languages } = props;
  React.useEffect(() => {
    const element = ref.current;
    if (element === null) {
      return;
    }
    element.textContent = '';
    if (languages === null) {
      element.textContent = code;
      return;
    }
    const spec = languages.findBest(language);
    languages.highlight(code, spec, element).catch(() => {
      element.textContent = code;
    });
  }, [code, language, languages]);
  return (
    <pre className="jp-DSAgent-code">
      <code ref={ref} className="cm-s-jupyter" />
    </pre>
  );
}

/** An error as one line: the sentence and what to do. */
export function ErrorLine(props: { error: { code: string; message: string } }): JSX.Element {
  return (
    <div className="jp-DSAgent-error" role="alert" data-code={props.error.code}>
      {oneLine(props.error)}
    </div>
  );
}
